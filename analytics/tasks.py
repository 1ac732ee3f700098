"""Celery tasks of the nightly analytics: each only turns JSON arguments into values and calls one service."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from analytics import services


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
