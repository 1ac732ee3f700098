"""flag_untouched and flag_stale on PostgreSQL, where one statement computes and writes the flags, store exactly the
flags of their portable twins (STYLE §5), update the flags that stay in place and stamp every flag with the run.

Each test runs both paths on the same PostgreSQL data with the clock pinned, and compares the flags (key and moment,
every row stamped with the run), the count returned and the job row.
"""

import random
from datetime import date, timedelta

import pytest
from django.db import connection

from accounts.models import Account
from analytics.models import JobRun, StaleFlag, UntouchedFlag
from analytics.services import (
    flag_stale,
    flag_stale_portable,
    flag_stale_postgresql,
    flag_untouched,
    flag_untouched_portable,
    flag_untouched_postgresql,
)
from pipeline.models import Visit
from tests.analytics.conftest import NOW, done_visit
from tests.factories import AccountFactory, OpportunityFactory, StageChangeFactory, VisitFactory, default_stage

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the statement is PostgreSQL's"),
]

JOBS = {
    "untouched": (flag_untouched_postgresql, flag_untouched_portable, UntouchedFlag, "account_id", JobRun.UNTOUCHED),
    "stale": (flag_stale_postgresql, flag_stale_portable, StaleFlag, "opportunity_id", JobRun.STALE),
}


@pytest.fixture
def varied_company(now):
    """Targets and open opportunities idle for every length around both windows (90 and 21 days), with and without
    visits and stage changes, done, planned or cancelled; non-targets and closed opportunities too."""
    rng = random.Random(42)
    for i in range(40):
        days = rng.choice([0, 1, 20, 21, 22, 89, 90, 91, 200])
        is_target = i % 5 != 0
        account = AccountFactory(is_target=is_target, target_since=date(2025, 1, 1) if is_target else None)
        if i % 3:
            done_visit(account=account, done_at=NOW - timedelta(days=days, hours=rng.randint(-3, 3)))
        if i % 4 == 0:
            VisitFactory(account=account, status=Visit.Status.CANCELLED, planned_at=NOW - timedelta(days=1))
        idle = NOW - timedelta(days=rng.choice([10, 21, 22, 40, 100]))
        opportunity = OpportunityFactory(
            account=account, owner=account.owner, created_at=idle, stage_entered_at=idle, stage=default_stage("needs")
        )
        if i % 2:
            StageChangeFactory(opportunity=opportunity, changed_at=NOW - timedelta(days=rng.choice([5, 21, 30])))
        if i % 7 == 1:
            VisitFactory(
                account=account,
                opportunity=opportunity,
                status=Visit.Status.DONE,
                planned_at=None,
                done_at=NOW - timedelta(days=rng.choice([3, 25])),
            )
        if i % 9 == 2:
            opportunity.status, opportunity.closed_at, opportunity.loss_reason = "lost", NOW, "price"
            opportunity.save()


def flags(model, key) -> list[tuple]:
    moment = "last_visit_at" if model is UntouchedFlag else "last_activity_at"
    return list(model.objects.order_by(key).values_list(key, moment, "computed_at"))


def job_row(job) -> tuple:
    return JobRun.objects.values_list("job", "computed_at").get(job=job)


@pytest.mark.parametrize("name", list(JOBS))
def test_both_paths_store_the_same_flags_and_stamp_the_job(varied_company, name):
    by_statement, by_twin, model, key, job = JOBS[name]

    counted = by_statement()
    stored = flags(model, key), job_row(job)
    twin_counted = by_twin()

    assert (counted, stored) == (twin_counted, (flags(model, key), job_row(job)))
    assert 0 < counted < 40
    assert {stamp for *_, stamp in stored[0]} == {NOW}


@pytest.mark.parametrize("name", list(JOBS))
def test_a_rerun_updates_flags_that_stay_in_place_adds_new_ones_drops_the_others(varied_company, time_machine, name):
    by_statement, by_twin, model, key, _job = JOBS[name]
    by_statement()
    before = dict(model.objects.values_list(key, "pk"))
    leaving, staying = sorted(before)[0], sorted(before)[1:]
    if model is UntouchedFlag:
        done_visit(account=Account.objects.get(pk=leaving), done_at=NOW)
        newcomer = AccountFactory(is_target=True, target_since=date(2025, 1, 1)).pk
    else:
        StageChangeFactory(opportunity_id=leaving, changed_at=NOW, to_stage=default_stage("needs"))
        newcomer = OpportunityFactory(created_at=NOW - timedelta(days=30), stage_entered_at=NOW - timedelta(days=30)).pk
    later = NOW + timedelta(hours=1)
    time_machine.move_to(later, tick=False)

    by_statement()

    after = dict(model.objects.values_list(key, "pk"))
    assert set(after) == set(staying) | {newcomer}
    assert {k: after[k] for k in staying} == {k: before[k] for k in staying}  # the same rows, updated
    assert {stamp for *_, stamp in flags(model, key)} == {later}
    statement_flags = flags(model, key)
    by_twin()
    assert flags(model, key) == statement_flags


@pytest.mark.parametrize(("job", "model"), [(flag_untouched, UntouchedFlag), (flag_stale, StaleFlag)])
def test_with_nothing_to_flag_the_statement_empties_the_snapshot(now, job, model):
    OpportunityFactory(created_at=NOW, stage_entered_at=NOW)
    model.objects.all().delete()

    assert job() == 0
    assert job() == 0
    assert not model.objects.exists()
