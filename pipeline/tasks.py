"""Celery tasks of the pipeline app: the run of a confirmed import (issue 14). A task only turns its JSON arguments
into values and calls one service; it is acknowledged when it ends and safe to repeat (run_import claims the job by
compare-and-set, so a redelivered task does nothing)."""

from __future__ import annotations

from celery import shared_task

from pipeline.services.imports import run_import


@shared_task(acks_late=True)
def run_import_task(job_id: int) -> None:
    run_import(job_id=job_id)
