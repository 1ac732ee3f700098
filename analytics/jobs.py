"""Scheduled jobs as the director sees them: each run recorded (JobAttempt), and the nightly jobs caught up when missed.

A task runs its service inside `recorded(...)`: the attempt is running while the service runs, then succeeded, or
failed with the error. The nightly scheduler queues one attempt per job (`queue_attempts`) and passes its id to the
task, so a queued job that never starts (lost from a broker that did not persist it) is visible, and the catch-up
tick, every 15 minutes, enqueues each nightly job that has not succeeded since today's due time (`missed_nightly_jobs`).
Every job is safe to repeat, so the cost of enqueuing one that was only slow to start is one more run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop

from analytics.models import JobAttempt
from analytics.services import nightly_matrix_years
from core.calendar import company_tz, local_date

Job = JobAttempt.Job
Status = JobAttempt.Status

# A queued nightly job normally starts within seconds; one still queued after this is taken for lost. Shorter than
# the 15-minute tick, so the first tick after a loss enqueues it again.
QUEUED_GRACE = timedelta(minutes=10)
# A nightly job that failed this often since it was due is left for tomorrow (the Jobs page shows the errors).
MAX_FAILURES_PER_DAY = 3
# Stored in English; the Jobs page translates it.
LOST = gettext_noop("Never started: lost from the queue (was the broker restarted without persistence?)")


# --- recording a run -------------------------------------------------------------------------------------------------


@contextmanager
def recorded(job: str, *, key: str = "", attempt_id: int | None = None) -> Iterator[None]:
    """Records a run of `job`: running while the block runs, then succeeded, or failed with the error (re-raised).

    With `attempt_id` (queued by the scheduler) that attempt is taken over, also when a task is redelivered after its
    worker died; otherwise a new attempt is written. Each state is written at once (outside any transaction of the
    job), so the Jobs page sees a run while it runs.
    """
    started = timezone.now()
    running = {"status": Status.RUNNING, "started_at": started, "finished_at": None, "error": ""}
    if attempt_id is None or not JobAttempt.objects.filter(pk=attempt_id).update(**running):
        attempt_id = JobAttempt.objects.create(job=job, key=key, created_at=started, **running).pk
    try:
        yield
    except BaseException as error:
        JobAttempt.objects.filter(pk=attempt_id).update(
            status=Status.FAILED, finished_at=timezone.now(), error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    JobAttempt.objects.filter(pk=attempt_id).update(status=Status.SUCCEEDED, finished_at=timezone.now())


def queue_attempts(jobs: list[tuple[str, str]]) -> list[JobAttempt]:
    """Writes a queued attempt for each (job, key), in one query, for the scheduler to pass to its task."""
    now = timezone.now()
    return JobAttempt.objects.bulk_create(
        [JobAttempt(job=job, key=key, status=Status.QUEUED, created_at=now) for job, key in jobs]
    )


# --- the nightly jobs and their catch-up -----------------------------------------------------------------------------


def nightly_jobs(*, on: date) -> list[tuple[str, str]]:
    """(job, key) of every job the nightly analytics run on the company's day `on`."""
    matrices = [(Job.COMPUTE_MATRIX, str(year)) for year in nightly_matrix_years(on=on)]
    return [*matrices, (Job.FLAG_UNTOUCHED, ""), (Job.FLAG_STALE, ""), (Job.ROLL_UP, "")]


def nightly_due_at(day: date) -> datetime:
    """When the nightly analytics are due on the company's day `day`: the first time of day of the beat entry."""
    schedule = settings.CELERY_BEAT_SCHEDULE["nightly-analytics"]["schedule"]
    return datetime.combine(day, time(min(schedule.hour), min(schedule.minute)), tzinfo=company_tz())


def missed_nightly_jobs(*, now: datetime) -> list[tuple[str, str]]:
    """(job, key) of each nightly job due today that has not succeeded since it was due and is neither queued (for
    less than QUEUED_GRACE) nor running (for less than the task time limit), unless it failed MAX_FAILURES_PER_DAY
    times already; nothing before the due time plus QUEUED_GRACE. Marks the queued attempts taken for lost as failed.
    Two queries at most."""
    day = local_date(now)
    due = nightly_due_at(day)
    if now < due + QUEUED_GRACE:
        return []
    jobs = nightly_jobs(on=day)
    attempts = JobAttempt.objects.filter(job__in={job for job, _ in jobs}, created_at__gte=due).values_list(
        "pk", "job", "key", "status", "created_at", "started_at"
    )
    live_since = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    done, failures, lost = set(), {}, []
    for pk, job, key, status, created_at, started_at in attempts:
        if status == Status.SUCCEEDED:
            done.add((job, key))
        elif status == Status.QUEUED and created_at >= now - QUEUED_GRACE:
            done.add((job, key))  # just queued: give it time to start
        elif status == Status.QUEUED:
            lost.append(pk)
            failures[job, key] = failures.get((job, key), 0) + 1
        elif status == Status.RUNNING and started_at >= live_since:
            done.add((job, key))  # still running
        elif status == Status.FAILED:
            failures[job, key] = failures.get((job, key), 0) + 1
    if lost:
        JobAttempt.objects.filter(pk__in=lost, status=Status.QUEUED).update(
            status=Status.FAILED, finished_at=now, error=LOST
        )
    return [job for job in jobs if job not in done and failures.get(job, 0) < MAX_FAILURES_PER_DAY]


def forget_old_attempts(*, now: datetime) -> int:
    """Deletes the attempts queued more than JobAttempt.KEEP_DAYS ago; returns how many."""
    deleted, _ = JobAttempt.objects.filter(created_at__lt=now - timedelta(days=JobAttempt.KEEP_DAYS)).delete()
    return deleted
