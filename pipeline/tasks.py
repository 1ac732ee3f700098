"""Celery tasks of the pipeline app: the run of a confirmed import and the webhook deliveries (issue 14). Each turns
JSON arguments into values and calls one service; it is acknowledged when it ends (acks_late) and safe to repeat:
run_import and sending claim their row by compare-and-set, so a task redelivered after its worker died, or published
again by a sweeper or the catch-up tick, has one effect."""

from __future__ import annotations

from celery import group, shared_task
from django.utils import timezone

from pipeline.services.imports import run_import
from pipeline.webhooks.sending import due_deliveries, send_delivery


@shared_task(acks_late=True)
def run_import_task(job_id: int) -> None:
    run_import(job_id=job_id)


SWEEP_CHUNK = 200


@shared_task(acks_late=True)
def send_webhook_delivery_task(delivery_id: int) -> None:
    send_delivery(delivery_id=delivery_id)


def sweep_webhook_deliveries() -> int:
    """Publishes a send task per delivery due now (retries, and any lost from the broker), in chunks; returns how
    many. Run eagerly (no broker), it sends them itself, one after the other."""
    due = due_deliveries(now=timezone.now())
    for first in range(0, len(due), SWEEP_CHUNK):
        group(send_webhook_delivery_task.s(pk) for pk in due[first : first + SWEEP_CHUNK]).apply_async()
    return len(due)


@shared_task(acks_late=True)
def sweep_webhook_deliveries_task() -> None:
    """Beat's entry point, every minute."""
    sweep_webhook_deliveries()
