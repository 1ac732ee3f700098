"""Import jobs (issue 14): upload dry-runs, confirm queues once, the run claims the job, writes all or nothing,
reports its progress, and a second run or a re-import changes nothing."""

import csv
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.utils import timezone, translation

from accounts.models import Account, AccountChange
from core.errors import NotVisible
from pipeline.models import ImportJob, Opportunity, Reassignment
from pipeline.services import imports as import_services
from pipeline.services.imports import ImportNotConfirmable, confirm_import, run_import, upload_import
from tests.factories import AccountFactory, OpportunityFactory

pytestmark = pytest.mark.django_db
HEADER = ["external_key", "name", "owner", "employee_count"]


@pytest.fixture(autouse=True)
def _in_english(org):
    """The messages are asserted in English: a job speaks its uploader's language."""
    for user in (org.director, org.manager_a):
        user.language = "en"
        user.save(update_fields=["language"])
    with translation.override("en"):
        yield


class SpyCache:
    """The cache, noting every value set."""

    def __init__(self, real):
        self.real, self.values = real, []

    def set(self, key, value, *args):
        self.values.append(value)
        self.real.set(key, value, *args)

    def get(self, key, default=None):
        return self.real.get(key, default)


def csv_bytes(rows) -> bytes:
    out = StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def accounts_file(count: int, *, owner: str = "rep_a1", bad_row: int | None = None) -> bytes:
    rows = [HEADER]
    for number in range(count):
        employees = "many" if number + 2 == bad_row else str(number)
        rows.append([f"K{number:05d}", f"客户{number}", owner, employees])
    return csv_bytes(rows)


def upload(org, content: bytes, *, kind="accounts", by=None) -> ImportJob:
    return upload_import(kind=kind, file_name="accounts.csv", content=content, uploaded_by=by or org.director)


def confirmed(job: ImportJob, by) -> ImportJob:
    queued = []
    return confirm_import(job=job, confirmed_by=by, enqueue=queued.append)


def test_an_upload_is_dry_run_and_writes_nothing_but_the_job(org):
    AccountFactory(external_key="K00000", name="客户0", owner=org.rep_a1, employee_count=0)

    job = upload(org, accounts_file(3))

    assert (job.status, job.total_rows, job.rows_done) == ("checked", 3, 3)
    assert (job.created_count, job.updated_count, job.unchanged_count, job.error_count) == (2, 0, 1, 0)
    assert Account.objects.count() == 1


def test_a_bad_row_among_ten_thousand_is_named_and_nothing_is_written(org):
    job = upload(org, accounts_file(10_000, bad_row=7_778))

    assert (job.status, job.total_rows, job.error_count) == ("rejected", 10_000, 1)
    assert job.errors == [{"row": 7_778, "column": "employee_count", "message": "Enter a whole number, not “many”."}]
    assert not Account.objects.exists()
    with pytest.raises(ImportNotConfirmable):
        confirmed(job, org.director)
    assert ImportJob.objects.get(pk=job.pk).status == "rejected"


def test_the_run_writes_ten_thousand_rows_and_reports_progress_on_the_way(org, monkeypatch):
    job = upload(org, accounts_file(10_000))
    confirmed(job, org.director)
    spy = SpyCache(import_services.cache)
    monkeypatch.setattr(import_services, "cache", spy)

    run_import(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.rows_done, job.total_rows, job.created_count) == ("done", 10_000, 10_000, 10_000)
    assert spy.values == [0, *range(500, 10_001, 500), 10_000]
    assert Account.objects.count() == 10_000
    assert job.started_at <= job.finished_at


def test_confirming_twice_queues_one_run_and_running_twice_has_one_effect(org):
    job = upload(org, accounts_file(2))
    queued = []

    confirm_import(job=job, confirmed_by=org.director, enqueue=queued.append)
    again = confirm_import(job=job, confirmed_by=org.director, enqueue=queued.append)
    first, second = run_import(job_id=job.pk), run_import(job_id=job.pk)

    assert again.status == "queued"
    assert first.status == "done"
    assert second is None
    assert Account.objects.count() == 2


def test_only_the_uploader_confirms(org):
    job = upload(org, csv_bytes([["team", "period_type", "period_start", "amount"]]), kind="targets", by=org.manager_a)

    with pytest.raises(NotVisible):
        confirmed(job, org.director)


def test_a_claim_older_than_the_time_limit_is_taken_over(org, settings):
    job = upload(org, accounts_file(2))
    long_ago = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    ImportJob.objects.filter(pk=job.pk).update(status="running", started_at=long_ago)
    running = upload(org, accounts_file(1))
    ImportJob.objects.filter(pk=running.pk).update(status="running", started_at=timezone.now())

    assert run_import(job_id=job.pk).status == "done"
    assert run_import(job_id=running.pk) is None


def test_re_importing_the_same_file_changes_nothing_and_writes_no_history(org):
    content = accounts_file(5)
    run_import(job_id=confirmed(upload(org, content), org.director).pk)
    history = AccountChange.objects.count()

    again = run_import(job_id=confirmed(upload(org, content), org.director).pk)

    assert (again.status, again.created_count, again.updated_count, again.unchanged_count) == ("done", 0, 0, 5)
    assert AccountChange.objects.count() == history


def test_an_owner_change_is_a_handover_with_history(org):
    account = AccountFactory(external_key="K00000", name="客户0", owner=org.rep_a1, employee_count=0)
    opportunity = OpportunityFactory(account=account, owner=org.rep_a1)

    job = run_import(job_id=confirmed(upload(org, accounts_file(1, owner="rep_a2")), org.director).pk)

    assert (job.status, job.updated_count, job.reassigned_count) == ("done", 1, 1)
    assert Opportunity.objects.get(pk=opportunity.pk).owner == org.rep_a2
    assert Reassignment.objects.filter(account=account, to_owner=org.rep_a2, reassigned_by=org.director).count() == 1
    change = AccountChange.objects.get(account=account, field="owner")
    assert (change.old["id"], change.new["id"], change.by_id) == (org.rep_a1.pk, org.rep_a2.pk, org.director.pk)


def test_a_run_whose_data_changed_since_the_dry_run_fails_naming_the_row_and_writes_nothing(org):
    job = confirmed(upload(org, accounts_file(2)), org.director)
    org.rep_a1.is_active = False
    org.rep_a1.save()

    run = run_import(job_id=job.pk)

    assert (run.status, run.error_count) == ("failed", 2)
    assert [(error["row"], error["column"]) for error in run.errors] == [(2, "owner"), (3, "owner")]
    assert not Account.objects.exists()


def test_a_file_over_the_limit_is_refused_before_a_job_exists(org, settings):
    settings.IMPORT_MAX_BYTES = 10

    with pytest.raises(Exception, match="at most 10"):
        upload(org, accounts_file(2))

    assert not ImportJob.objects.exists()


def test_a_rep_may_not_import(org):
    with pytest.raises(NotVisible):
        upload(org, accounts_file(1), by=org.rep_a1)
    with pytest.raises(NotVisible):
        upload(org, accounts_file(1), by=org.manager_a)

    assert not ImportJob.objects.exists()


def test_the_task_run_twice_has_one_effect(org, celery_eager):
    from pipeline.tasks import run_import_task

    job = confirmed(upload(org, accounts_file(3)), org.director)

    run_import_task.delay(job.pk)
    run_import_task.delay(job.pk)

    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 3)
    assert Account.objects.count() == 3


def test_a_confirmed_import_lost_from_the_broker_is_run_by_the_catch_up_tick(org, celery_eager):
    from analytics.tasks import catch_up_nightly_analytics_task
    from pipeline.services.imports import stalled_import_ids

    job = confirmed(upload(org, accounts_file(2)), org.director)  # its task never reached a worker
    now = timezone.now()
    assert stalled_import_ids(now=now + timedelta(minutes=9)) == []
    assert stalled_import_ids(now=now + timedelta(minutes=11)) == [job.pk]

    with time_machine.travel(now + timedelta(minutes=11), tick=False):
        catch_up_nightly_analytics_task.delay()
        catch_up_nightly_analytics_task.delay()

    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 2)
    assert Account.objects.count() == 2
    assert stalled_import_ids(now=now + timedelta(minutes=30)) == []
