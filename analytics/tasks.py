"""Celery tasks of the nightly analytics: each only turns JSON arguments into values and calls one service."""

from __future__ import annotations

import logging
from datetime import date, datetime
from smtplib import SMTPException

from celery import group, shared_task
from django.db import transaction
from django.utils import timezone

from analytics import services
from analytics.digests import sending as digests

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def compute_matrix_task(year: int) -> None:
    services.compute_matrix(year=year)


@shared_task(acks_late=True)
def flag_untouched_task(on: str | None = None) -> None:
    services.flag_untouched(on=date.fromisoformat(on) if on else None)


@shared_task(acks_late=True)
def flag_stale_task(on: str | None = None) -> None:
    services.flag_stale(on=date.fromisoformat(on) if on else None)


@shared_task(acks_late=True)
def enqueue_nightly_analytics_task() -> None:
    """Beat's entry point: one worker task per job, so the jobs run side by side on the workers."""
    for year in services.nightly_matrix_years():
        compute_matrix_task.delay(year)
    flag_untouched_task.delay()
    flag_stale_task.delay()


# Weekly digest (SPEC §8) --------------------------------------------------------------------------------------------
DIGEST_ENQUEUE_CHUNK = 200


@shared_task(acks_late=True, autoretry_for=(SMTPException, ConnectionError, OSError), retry_backoff=True, max_retries=5)
def send_weekly_digest_task(user_id: int, week_start: str) -> None:
    digests.send_weekly_digest(user_id=user_id, week_start=date.fromisoformat(week_start))


def enqueue_weekly_digests(*, now: datetime) -> int:
    """Enqueues a send task per digest due at `now` (picked in one query), in chunks, once the surrounding
    transaction commits; returns how many. Sending is safe to repeat, so a digest enqueued twice goes out once."""
    due = digests.digests_due(now=now)

    def publish() -> None:
        for first in range(0, len(due), DIGEST_ENQUEUE_CHUNK):
            chunk = group(
                send_weekly_digest_task.s(user_id, week_start.isoformat())
                for user_id, week_start in due[first : first + DIGEST_ENQUEUE_CHUNK]
            )
            try:
                chunk.apply_async()
            except Exception:
                # A chunk that cannot be published (or, run eagerly, fails) is picked again by the next run.
                logger.exception("Could not enqueue weekly digests %s to %s", first, first + len(chunk.tasks))

    transaction.on_commit(publish)
    return len(due)


@shared_task(acks_late=True)
def enqueue_weekly_digests_task() -> None:
    """Beat's entry point, every 15 minutes: each user's digest goes out at Monday 08:00 in their own time zone."""
    enqueue_weekly_digests(now=timezone.now())
