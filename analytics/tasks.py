"""Celery tasks of the nightly analytics and the weekly digest: each only turns JSON arguments into values and calls
one service, recorded as a JobAttempt (analytics.jobs) except the per-user digest sends (DigestDelivery records those).

Every task is acknowledged when it ends (acks_late) and is safe to repeat, so one redelivered after its worker died
(settings: visibility timeout, reject on worker lost) or enqueued again by a catch-up tick has one effect."""

from __future__ import annotations

import logging
from datetime import date, datetime
from smtplib import SMTPException

from celery import group, shared_task
from django.db import transaction
from django.utils import timezone

from analytics import forecast_snapshots, jobs, reminders, rollups, services
from analytics.digests import sending as digests
from analytics.models import JobAttempt
from core.calendar import today
from pipeline.services.imports import stalled_import_ids
from pipeline.tasks import run_import_task

logger = logging.getLogger(__name__)
Job = JobAttempt.Job


@shared_task(acks_late=True)
def compute_matrix_task(year: int, attempt_id: int | None = None) -> None:
    with jobs.recorded(Job.COMPUTE_MATRIX, key=str(year), attempt_id=attempt_id):
        services.compute_matrix(year=year)


@shared_task(acks_late=True)
def flag_untouched_task(on: str | None = None, attempt_id: int | None = None) -> None:
    with jobs.recorded(Job.FLAG_UNTOUCHED, attempt_id=attempt_id):
        services.flag_untouched(on=date.fromisoformat(on) if on else None)


@shared_task(acks_late=True)
def flag_stale_task(on: str | None = None, attempt_id: int | None = None) -> None:
    with jobs.recorded(Job.FLAG_STALE, attempt_id=attempt_id):
        services.flag_stale(on=date.fromisoformat(on) if on else None)


@shared_task(acks_late=True)
def roll_up_task(on: str | None = None, attempt_id: int | None = None) -> None:
    with jobs.recorded(Job.ROLL_UP, attempt_id=attempt_id):
        rollups.roll_up(on=date.fromisoformat(on) if on else None)


def _enqueue_nightly(due: list[tuple[str, str]]) -> None:
    """One worker task per nightly job, each with a queued attempt, so the jobs run side by side on the workers."""
    for attempt in jobs.queue_attempts(due):
        if attempt.job == Job.COMPUTE_MATRIX:
            compute_matrix_task.delay(int(attempt.key), attempt_id=attempt.pk)
        elif attempt.job == Job.FLAG_UNTOUCHED:
            flag_untouched_task.delay(attempt_id=attempt.pk)
        elif attempt.job == Job.ROLL_UP:
            roll_up_task.delay(attempt_id=attempt.pk)
        else:
            flag_stale_task.delay(attempt_id=attempt.pk)


@shared_task(acks_late=True)
def enqueue_nightly_analytics_task() -> None:
    """Beat's entry point at 01:00: every nightly job of today."""
    with jobs.recorded(Job.NIGHTLY_ANALYTICS):
        _enqueue_nightly(jobs.nightly_jobs(on=today()))


@shared_task(acks_late=True)
def take_forecast_snapshot_task(on: str | None = None) -> None:
    """Beat's entry point on Monday at 00:00: this week's forecast snapshot."""
    with jobs.recorded(Job.FORECAST_SNAPSHOT):
        forecast_snapshots.take_forecast_snapshot(on=date.fromisoformat(on) if on else today())


@shared_task(acks_late=True)
def catch_up_nightly_analytics_task() -> None:
    """Beat's entry point every 15 minutes: the nightly jobs that have not succeeded since they were due today (lost
    from the queue, killed, failed), enqueued again; this week's forecast snapshot when it was missed; confirmed
    imports no worker has, enqueued again; and attempts older than JobAttempt.KEEP_DAYS forgotten."""
    with jobs.recorded(Job.CATCH_UP):
        now = timezone.now()
        _enqueue_nightly(jobs.missed_nightly_jobs(now=now))
        if forecast_snapshots.snapshot_missed(now=now):
            take_forecast_snapshot_task.delay()
        for job_id in stalled_import_ids(now=now):
            run_import_task.delay(job_id)
        jobs.forget_old_attempts(now=now)


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
    """Beat's entry point, every 15 minutes: each user's digest goes out at Monday 08:00 in their own time zone, and
    one not sent yet that Monday (lost from the queue, its worker killed) is enqueued again by the next tick."""
    with jobs.recorded(Job.WEEKLY_DIGESTS):
        enqueue_weekly_digests(now=timezone.now())


# Daily reminder -------------------------------------------------------------------------------------------------------


@shared_task(acks_late=True, autoretry_for=(SMTPException, ConnectionError, OSError), retry_backoff=True, max_retries=5)
def send_daily_reminder_task(user_id: int, day: str) -> None:
    reminders.send_daily_reminder(user_id=user_id, day=date.fromisoformat(day))


def enqueue_daily_reminders(*, now: datetime) -> int:
    """Enqueues a send task per reminder due at `now` (picked in two queries), in chunks, once the surrounding
    transaction commits; returns how many. Sending is safe to repeat, so a reminder enqueued twice goes out once."""
    due = reminders.reminders_due(now=now)

    def publish() -> None:
        for first in range(0, len(due), DIGEST_ENQUEUE_CHUNK):
            chunk = group(
                send_daily_reminder_task.s(user_id, day.isoformat())
                for user_id, day in due[first : first + DIGEST_ENQUEUE_CHUNK]
            )
            try:
                chunk.apply_async()
            except Exception:
                logger.exception("Could not enqueue daily reminders %s to %s", first, first + len(chunk.tasks))

    transaction.on_commit(publish)
    return len(due)


@shared_task(acks_late=True)
def enqueue_daily_reminders_task() -> None:
    """Beat's entry point, every 15 minutes: each user's reminder goes out from 08:00 in their own time zone on days
    when something of theirs is due, and one not sent yet that day is enqueued again by the next tick."""
    with jobs.recorded(Job.DAILY_REMINDERS):
        enqueue_daily_reminders(now=timezone.now())
