"""What the director's Jobs page shows: each scheduled job's last success and latest run, recent failures, and this
week's digest deliveries. Reads JobAttempt (analytics.jobs records them) and DigestDelivery; never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils.translation import gettext

from analytics.digests.sending import digest_recipients
from analytics.jobs import LOST, nightly_jobs
from analytics.models import DigestDelivery, JobAttempt
from core.calendar import local_date, period_start

Job = JobAttempt.Job
Status = JobAttempt.Status
FAILURES_SHOWN = 20
FAILURE_WINDOW_DAYS = 7
INTERRUPTED = "interrupted"  # a run that has not ended within the task time limit: its worker died


def job_label(job: str, key: str) -> str:
    """The job's name for people, with the year of a matrix."""
    label = str(Job(job).label) if job in Job.values else job
    return f"{label} {key}" if key else label


def _error_text(error: str) -> str:
    return gettext(LOST) if error == LOST else error


@dataclass(frozen=True)
class JobSummary:
    job: str
    key: str
    label: str
    last_success_at: datetime | None
    latest_status: str  # a JobAttempt.Status, or INTERRUPTED; empty when it has not run in JobAttempt.KEEP_DAYS
    latest_at: datetime | None  # when the latest run ended, or started, or was queued
    latest_error: str
    failures: int  # failed runs in the last FAILURE_WINDOW_DAYS days

    @property
    def latest_status_label(self) -> str:
        if self.latest_status == INTERRUPTED:
            return gettext("Interrupted (its worker stopped)")
        return str(Status(self.latest_status).label) if self.latest_status else ""


@dataclass(frozen=True)
class FailedRun:
    label: str
    at: datetime
    error: str


@dataclass(frozen=True)
class FailedDigest:
    username: str
    attempts: int
    error: str


@dataclass(frozen=True)
class DigestWeek:
    week_start: date
    sent: int
    sending: int  # claimed by a worker now
    failed: int  # the last try failed; the next tick tries again
    not_sent: int  # receivers who have not got it yet (due later, waiting, failed or lost)
    failures: list[FailedDigest]


@dataclass(frozen=True)
class JobsOverview:
    jobs: list[JobSummary]
    failures: list[FailedRun]
    digests: DigestWeek


def _job_summaries(*, now: datetime) -> list[JobSummary]:
    """Every job of the schedule, and any other that ran lately, in the schedule's order; two queries."""
    stats = {
        (row["job"], row["key"]): row
        for row in JobAttempt.objects.values("job", "key")
        .annotate(
            last_success_at=Max("finished_at", filter=Q(status=Status.SUCCEEDED)),
            failures=Count("pk", filter=Q(status=Status.FAILED, created_at__gte=now - timedelta(FAILURE_WINDOW_DAYS))),
            latest_id=Max("pk"),
        )
        .order_by()
    }
    latest = {
        attempt.pk: attempt
        for attempt in JobAttempt.objects.filter(pk__in=[row["latest_id"] for row in stats.values()]).only(
            "status", "created_at", "started_at", "finished_at", "error"
        )
    }
    scheduled = [(Job.NIGHTLY_ANALYTICS, ""), *nightly_jobs(on=local_date(now)), (Job.CATCH_UP, "")]
    scheduled += [(Job.WEEKLY_DIGESTS, ""), (Job.DAILY_REMINDERS, "")]
    order = {job: index for index, job in enumerate(Job.values)}
    others = sorted(set(stats) - set(scheduled), key=lambda pair: (order.get(pair[0], len(order)), pair[1]))
    live_since = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    summaries = []
    for job, key in [*scheduled, *others]:
        row = stats.get((job, key), {})
        attempt = latest.get(row.get("latest_id"))
        status, at, error = "", None, ""
        if attempt is not None:
            status, error = attempt.status, _error_text(attempt.error)
            at = attempt.finished_at or attempt.started_at or attempt.created_at
            if status == Status.RUNNING and attempt.started_at < live_since:
                status = INTERRUPTED
        summaries.append(
            JobSummary(
                job=job,
                key=key,
                label=job_label(job, key),
                last_success_at=row.get("last_success_at"),
                latest_status=status,
                latest_at=at,
                latest_error=error,
                failures=row.get("failures", 0),
            )
        )
    return summaries


def _recent_failures() -> list[FailedRun]:
    """The last FAILURES_SHOWN failed runs, newest first; one query."""
    failed = JobAttempt.objects.filter(status=Status.FAILED).order_by("-finished_at", "-pk")[:FAILURES_SHOWN]
    return [
        FailedRun(label=job_label(a.job, a.key), at=a.finished_at, error=_error_text(a.error))
        for a in failed.only("job", "key", "finished_at", "error")
    ]


def _digest_week(*, now: datetime) -> DigestWeek:
    """This week's digest deliveries by status, the failed ones by username, and who has not got it yet; three
    queries."""
    week_start = period_start("week", local_date(now))
    deliveries = DigestDelivery.objects.filter(week_start=week_start)
    counts = deliveries.aggregate(
        sent=Count("pk", filter=Q(status=DigestDelivery.Status.SENT)),
        sending=Count("pk", filter=Q(status=DigestDelivery.Status.SENDING)),
        failed=Count("pk", filter=Q(status=DigestDelivery.Status.FAILED)),
    )
    failed = (
        deliveries.filter(status=DigestDelivery.Status.FAILED)
        .order_by("user__username")
        .values_list("user__username", "attempts", "last_error")[:FAILURES_SHOWN]
    )
    return DigestWeek(
        week_start=week_start,
        not_sent=digest_recipients(week_start=week_start).count(),
        failures=[FailedDigest(username=u, attempts=attempts, error=error) for u, attempts, error in failed],
        **counts,
    )


def jobs_overview(*, now: datetime) -> JobsOverview:
    """The Jobs page: every scheduled job's last success, latest run and failures in the last week, the last failed
    runs, and this week's digests; six queries at most, whatever the number of runs."""
    return JobsOverview(jobs=_job_summaries(now=now), failures=_recent_failures(), digests=_digest_week(now=now))
