"""Nightly jobs: safe to run twice, a failed run keeps the previous snapshot, commands and tasks call the same
services, beat runs them at 01:00 Shanghai time."""

from datetime import timedelta
from decimal import Decimal

import pytest
from celery.schedules import crontab
from django.core.management import call_command
from django.db import connection

from accounts.models import AccountYear
from analytics import matrix, tasks
from analytics.models import AccountValue, JobRun, MatrixRun, StaleFlag, UntouchedFlag
from analytics.services import compute_matrix, flag_stale, flag_untouched, write_matrix_snapshot_portable
from salesflow.celery import app
from tests.analytics.conftest import NOW, at, won
from tests.factories import AccountFactory, AccountYearFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(now):
    """Accounts with values in 2025 and 2026, an untouched target and a stale opportunity."""
    accounts = []
    for i, name in enumerate(["a", "b", "c"]):
        account = AccountFactory(name=name, is_target=name == "a", target_since=NOW.date() if name == "a" else None)
        won(account=account, amount=str(1000 * (i + 1)), closed_at=at(2026, 2, 1))
        won(account=account, amount=str(500 * (i + 1)), closed_at=at(2025, 6, 1))
        AccountYearFactory(account=account, year=2026, potential_value=Decimal(10000 - 1000 * i))
        accounts.append(account)
    OpportunityFactory(
        account=accounts[0],
        owner=accounts[0].owner,
        created_at=NOW - timedelta(days=60),
        stage_entered_at=NOW - timedelta(days=60),
    )


def snapshot() -> dict:
    return {
        "runs": list(MatrixRun.objects.order_by("year").values_list("year", "cv_threshold", "pv_threshold")),
        "values": list(
            AccountValue.objects.order_by("year", "account").values_list(
                "account", "year", "cv", "pv", "pv_source", "share", "quadrant", "customer_type", "priority"
            )
        ),
        "untouched": list(UntouchedFlag.objects.order_by("account").values_list("account", "last_visit_at")),
        "stale": list(StaleFlag.objects.order_by("opportunity").values_list("opportunity", "last_activity_at")),
    }


def test_computing_a_matrix_twice_gives_the_same_rows_and_no_duplicates(company):
    first_run = compute_matrix(year=2026)
    first = snapshot()

    second_run = compute_matrix(year=2026)

    assert snapshot() == first
    assert (MatrixRun.objects.count(), AccountValue.objects.count()) == (1, 3)
    assert second_run.pk == first_run.pk
    assert set(AccountValue.objects.values_list("run", flat=True)) == {second_run.pk}


def test_a_rerun_replaces_rows_of_accounts_that_left_the_matrix(company):
    compute_matrix(year=2026)
    AccountValue.objects.filter(account__name="c").update(cv=123)  # a stale number from an older run
    AccountFactory(name="new", employee_count=10)

    compute_matrix(year=2026)

    assert AccountValue.objects.get(account__name="c").cv == Decimal("3000.00")
    assert AccountValue.objects.filter(year=2026).count() == 4


MATRIX_PATHS = pytest.mark.parametrize(
    "write", [compute_matrix, write_matrix_snapshot_portable], ids=["compute_matrix", "portable twin"]
)


def row_stamps(year: int) -> dict[str, object]:
    return dict(AccountValue.objects.filter(year=year).values_list("account__name", "computed_at"))


@MATRIX_PATHS
def test_a_rerun_on_unchanged_data_stamps_the_run_and_keeps_every_row_as_it_was(company, time_machine, write):
    write(year=2026)
    first = snapshot()
    later = NOW + timedelta(days=1, minutes=7)
    time_machine.move_to(later, tick=False)

    run = write(year=2026)

    assert snapshot() == first
    assert row_stamps(2026) == {"a": NOW, "b": NOW, "c": NOW}
    assert run.computed_at == later
    assert MatrixRun.objects.values_list("computed_at", flat=True).get() == later


@MATRIX_PATHS
def test_a_rerun_stamps_only_the_rows_whose_values_changed(company, time_machine, write):
    write(year=2026)
    later = NOW + timedelta(days=1)
    time_machine.move_to(later, tick=False)
    AccountYear.objects.filter(account__name="c", year=2026).update(other_revenue=Decimal(500))

    write(year=2026)

    # c: CV 3000 + 500; the medians (CV 2000, PV 9000) and so the others' quadrants stay
    assert row_stamps(2026) == {"a": NOW, "b": NOW, "c": later}
    assert AccountValue.objects.values_list("cv", "share", "quadrant").get(account__name="c") == (
        Decimal("3500.00"),
        3500 / 8000,
        "maintain",
    )
    assert MatrixRun.objects.values_list("computed_at", flat=True).get() == later


def test_a_failing_computation_keeps_the_previous_snapshot(company, monkeypatch):
    compute_matrix(year=2026)
    before = snapshot()

    def broken(*args, **kwargs):
        raise RuntimeError("fault injected into a pandas step")

    monkeypatch.setattr(matrix, "classify_accounts", broken)
    with pytest.raises(RuntimeError):
        write_matrix_snapshot_portable(year=2026)  # the pandas twin; on PostgreSQL compute_matrix runs no pandas step

    assert snapshot() == before


@pytest.mark.parametrize(
    ("job", "model"),
    [(lambda: compute_matrix(year=2026), AccountValue), (flag_untouched, UntouchedFlag), (flag_stale, StaleFlag)],
)
def test_a_job_that_fails_while_writing_leaves_the_previous_snapshot(company, job, model):
    compute_matrix(year=2026)
    flag_untouched()
    flag_stale()
    before = snapshot()
    jobs_before = list(JobRun.objects.values_list("job", "computed_at"))
    rows_before = sorted(model.objects.values_list("pk", "computed_at"))
    runs_before = list(MatrixRun.objects.values_list("year", "computed_at"))
    insert = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)}"

    def broken(execute, sql, params, many, context):
        # The statement that writes the new rows (a bulk insert, or on PostgreSQL the matrix's one statement) runs,
        # then the connection fails before the job's transaction ends.
        result = execute(sql, params, many, context)
        if insert in sql:
            raise RuntimeError("the database went away mid-write")
        return result

    with connection.execute_wrapper(broken), pytest.raises(RuntimeError, match="went away mid-write"):
        job()

    assert snapshot() == before
    assert list(JobRun.objects.values_list("job", "computed_at")) == jobs_before
    assert sorted(model.objects.values_list("pk", "computed_at")) == rows_before
    assert list(MatrixRun.objects.values_list("year", "computed_at")) == runs_before


def test_compute_analytics_without_a_year_runs_the_nightly_jobs_and_twice_changes_nothing(company):
    call_command("compute_analytics")
    first = snapshot()
    call_command("compute_analytics")

    assert snapshot() == first
    assert [year for year, *_ in first["runs"]] == [2025, 2026]
    assert len(first["untouched"]) == 1
    assert len(first["stale"]) == 1


def test_compute_analytics_with_a_year_computes_only_that_matrix(company):
    call_command("compute_analytics", "--year", "2025")

    assert list(MatrixRun.objects.values_list("year", flat=True)) == [2025]
    assert sorted(AccountValue.objects.values_list("cv", flat=True)) == [Decimal(500), Decimal(1000), Decimal(1500)]
    assert not UntouchedFlag.objects.exists()


def test_flag_untouched_command_flags_and_is_safe_to_repeat(company):
    call_command("flag_untouched")
    call_command("flag_untouched")

    assert list(UntouchedFlag.objects.values_list("account__name", flat=True)) == ["a"]
    assert not MatrixRun.objects.exists()


def test_tasks_call_the_services_and_running_them_twice_has_one_effect(company, celery_eager):
    for _ in range(2):
        tasks.compute_matrix_task.delay(2026)
        tasks.flag_untouched_task.delay()
        tasks.flag_stale_task.delay(NOW.date().isoformat())

    assert (MatrixRun.objects.count(), AccountValue.objects.count()) == (1, 3)
    assert (UntouchedFlag.objects.count(), StaleFlag.objects.count()) == (1, 1)


def test_the_nightly_entry_task_runs_every_job(company, celery_eager):
    tasks.enqueue_nightly_analytics_task.delay()
    first = snapshot()
    tasks.enqueue_nightly_analytics_task.delay()

    assert snapshot() == first
    assert [year for year, *_ in first["runs"]] == [2025, 2026]
    assert (len(first["untouched"]), len(first["stale"])) == (1, 1)


def test_beat_runs_the_nightly_analytics_at_one_in_the_morning_shanghai_time(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["nightly-analytics"]

    assert entry["task"] == tasks.enqueue_nightly_analytics_task.name
    assert entry["task"] in app.tasks
    assert entry["schedule"] == crontab(hour=1, minute=0)
    assert app.conf.timezone == "Asia/Shanghai"
    assert all(task.acks_late for task in (tasks.compute_matrix_task, tasks.flag_untouched_task, tasks.flag_stale_task))
