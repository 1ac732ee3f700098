"""Each run of a scheduled job is recorded (JobAttempt), and a nightly job that has not succeeded since it was due
today is enqueued again by the catch-up tick (analytics.jobs); Celery settings redeliver a killed task within minutes.

The real-broker side (a Redis restart, a killed worker) is in test_task_loss.py and test_worker_killed.py.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.schedules import crontab

from analytics import jobs, tasks
from analytics.models import JobAttempt, MatrixRun, UntouchedFlag
from salesflow.celery import app
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHTLY = datetime(2026, 5, 18, 1, 0, tzinfo=SHANGHAI)
TICK = datetime(2026, 5, 18, 1, 20, tzinfo=SHANGHAI)
ALL_NIGHTLY = [
    ("compute_matrix", "2026"),
    ("compute_matrix", "2025"),
    ("flag_untouched", ""),
    ("flag_stale", ""),
    ("roll_up", ""),
]


def attempts() -> list[tuple[str, str, str]]:
    return sorted(JobAttempt.objects.values_list("job", "key", "status"))


def attempt(job: str, key: str = "", *, status: str, at: datetime, **fields) -> JobAttempt:
    started = at if status != "queued" else None
    finished = at if status in ("succeeded", "failed") else None
    return JobAttempt.objects.create(
        job=job, key=key, status=status, created_at=at, started_at=started, finished_at=finished, **fields
    )


# Recording ----------------------------------------------------------------------------------------------------------


def test_a_run_is_recorded_as_succeeded_with_its_start_and_end():
    with time_machine.travel(NIGHTLY, tick=False), jobs.recorded("flag_stale"):
        assert JobAttempt.objects.get().status == "running"

    recorded = JobAttempt.objects.get()
    assert (recorded.job, recorded.status, recorded.started_at, recorded.finished_at, recorded.error) == (
        "flag_stale",
        "succeeded",
        NIGHTLY,
        NIGHTLY,
        "",
    )


def test_a_failed_run_is_recorded_with_its_error_and_the_error_still_raised():
    with pytest.raises(ZeroDivisionError), jobs.recorded("compute_matrix", key="2026"):
        1 / 0  # noqa: B018

    assert JobAttempt.objects.values_list("job", "key", "status", "error").get() == (
        "compute_matrix",
        "2026",
        "failed",
        "ZeroDivisionError: division by zero",
    )


def test_a_run_takes_over_the_attempt_queued_for_it():
    queued = attempt("flag_untouched", status="queued", at=NIGHTLY)

    with jobs.recorded("flag_untouched", attempt_id=queued.pk):
        pass

    assert attempts() == [("flag_untouched", "", "succeeded")]


def test_the_tasks_record_their_runs_and_running_them_twice_records_two_runs_with_one_effect(celery_eager):
    AccountFactory(is_target=True)
    for _ in range(2):
        tasks.compute_matrix_task.delay(2026)
        tasks.flag_untouched_task.delay()

    assert attempts() == [("compute_matrix", "2026", "succeeded")] * 2 + [("flag_untouched", "", "succeeded")] * 2
    assert (MatrixRun.objects.count(), UntouchedFlag.objects.count()) == (1, 1)


def test_the_nightly_entry_queues_an_attempt_per_job_that_each_task_takes_over(celery_eager):
    with time_machine.travel(NIGHTLY, tick=False):
        tasks.enqueue_nightly_analytics_task.delay()

    assert attempts() == sorted(
        [("nightly_analytics", "", "succeeded"), *((j, k, "succeeded") for j, k in ALL_NIGHTLY)]
    )


# Catch-up -----------------------------------------------------------------------------------------------------------


def test_nothing_is_missed_before_the_due_time_and_its_grace():
    assert jobs.missed_nightly_jobs(now=datetime(2026, 5, 18, 0, 50, tzinfo=SHANGHAI)) == []
    assert jobs.missed_nightly_jobs(now=NIGHTLY + timedelta(minutes=9)) == []


def test_every_nightly_job_is_missed_when_none_ran_since_it_was_due():
    attempt("flag_stale", status="succeeded", at=NIGHTLY - timedelta(days=1))  # yesterday's

    assert jobs.missed_nightly_jobs(now=TICK) == ALL_NIGHTLY


def test_succeeded_just_queued_and_still_running_jobs_are_not_missed_but_interrupted_and_failed_ones_are():
    attempt("compute_matrix", "2026", status="succeeded", at=NIGHTLY + timedelta(minutes=1))
    attempt("compute_matrix", "2025", status="queued", at=TICK - timedelta(minutes=5))
    attempt("flag_untouched", status="running", at=TICK - timedelta(minutes=4))  # within the 5-minute time limit
    attempt("flag_stale", status="failed", at=NIGHTLY + timedelta(minutes=1), error="OperationalError: gone")
    attempt("roll_up", status="succeeded", at=NIGHTLY + timedelta(minutes=2))

    assert jobs.missed_nightly_jobs(now=TICK) == [("flag_stale", "")]
    # Six minutes on, the queued one has not started in ten minutes and the running one's worker must have died.
    assert jobs.missed_nightly_jobs(now=TICK + timedelta(minutes=6)) == [
        ("compute_matrix", "2025"),
        ("flag_untouched", ""),
        ("flag_stale", ""),
    ]


def test_a_queued_job_that_never_started_is_marked_lost_and_missed():
    lost = attempt("flag_stale", status="queued", at=NIGHTLY)
    for job, key in ALL_NIGHTLY:
        if job != "flag_stale":
            attempt(job, key, status="succeeded", at=NIGHTLY)

    assert jobs.missed_nightly_jobs(now=TICK) == [("flag_stale", "")]

    lost.refresh_from_db()
    assert (lost.status, lost.finished_at, lost.error) == ("failed", TICK, jobs.LOST)


def test_a_job_that_failed_three_times_today_is_left_for_tomorrow():
    for minutes in (5, 20, 35):
        attempt("flag_stale", status="failed", at=NIGHTLY + timedelta(minutes=minutes), error="ValueError: bad")
    for job, key in ALL_NIGHTLY:
        if job != "flag_stale":
            attempt(job, key, status="succeeded", at=NIGHTLY)

    assert jobs.missed_nightly_jobs(now=NIGHTLY + timedelta(hours=1)) == []


def test_the_catch_up_task_runs_what_was_missed_once_however_often_it_runs(celery_eager):
    AccountFactory(is_target=True)
    with time_machine.travel(TICK, tick=False):
        tasks.catch_up_nightly_analytics_task.delay()
        tasks.catch_up_nightly_analytics_task.delay()

    assert attempts() == sorted(
        [("catch_up", "", "succeeded")] * 2
        + [(job, key, "succeeded") for job, key in ALL_NIGHTLY]
        + [("forecast_snapshot", "", "succeeded")]  # a Monday: this week's snapshot was missed too
    )
    assert (MatrixRun.objects.count(), UntouchedFlag.objects.count()) == (2, 1)


def test_the_catch_up_task_forgets_attempts_older_than_thirty_days(celery_eager):
    attempt("weekly_digests", status="succeeded", at=TICK - timedelta(days=31))
    kept = attempt("weekly_digests", status="succeeded", at=TICK - timedelta(days=29))
    with time_machine.travel(NIGHTLY - timedelta(hours=1), tick=False):  # before the nightly jobs are due
        tasks.catch_up_nightly_analytics_task.delay()

    assert sorted(JobAttempt.objects.values_list("pk", flat=True))[0] == kept.pk
    assert attempts() == [("catch_up", "", "succeeded"), ("weekly_digests", "", "succeeded")]


def test_the_weekly_digest_tick_is_recorded(celery_eager):
    with time_machine.travel(TICK, tick=False):
        tasks.enqueue_weekly_digests_task.delay()

    assert attempts() == [("weekly_digests", "", "succeeded")]


# Settings -----------------------------------------------------------------------------------------------------------


def test_beat_runs_the_catch_up_every_fifteen_minutes_after_the_nightly_and_digest_ticks(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["catch-up"]

    assert entry["task"] == tasks.catch_up_nightly_analytics_task.name
    assert entry["task"] in app.tasks
    assert entry["schedule"] == crontab(minute="5-59/15")
    assert jobs.nightly_due_at(NIGHTLY.date()) == NIGHTLY


def test_a_killed_task_is_redelivered_within_minutes_and_never_while_it_may_still_run(settings):
    options = app.conf.broker_transport_options

    assert (app.conf.task_acks_late, app.conf.task_reject_on_worker_lost) == (True, True)
    assert (settings.CELERY_TASK_TIME_LIMIT, options["visibility_timeout"]) == (300, 360)
    assert options["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT
    assert (options["unacked_restore_interval"], options["unacked_restore_throttle"]) == (30, 1)
