"""Every analytics selector, job and endpoint runs a fixed number of queries, the same when the data grows tenfold."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Account
from analytics import services
from analytics.models import JobRun
from analytics.selectors._common import job_computed_at
from analytics.selectors.activity import visits_per_rep_week, visits_vs_won
from analytics.selectors.attainment import attainment, current_attainment, stability
from analytics.selectors.coverage import (
    stale_opportunities,
    stale_opportunities_shortlist,
    target_coverage,
    target_coverage_by_owner,
    untouched_accounts,
    untouched_accounts_shortlist,
)
from analytics.selectors.funnel import funnel_flow, funnel_flow_by_owner, funnel_snapshot, funnel_snapshot_by_owner
from analytics.selectors.matrix import account_value_history, cvpv_matrix
from analytics.selectors.outcomes import untouched_losses, win_rate, win_rate_by_owner
from analytics.selectors.territory import TERRITORY_DIMENSIONS, territory_analysis
from analytics.selectors.todo import todo_list
from pipeline.models import Visit
from tests.analytics.conftest import NOW, at, done_visit, lost, won
from tests.factories import (
    AccountYearFactory,
    CompetitorFactory,
    InstalledBaseFactory,
    OpportunityFactory,
    RegionFactory,
    SalesTargetFactory,
    StageChangeFactory,
    VisitFactory,
    default_stage,
)

pytestmark = pytest.mark.django_db
START, END = date(2026, 1, 1), date(2026, 5, 15)


@pytest.fixture(params=[1, 10], ids=["data x1", "data x10"])
def company(request, org, now):
    """`n` accounts per rep, each with every kind of row analytics reads, then the nightly snapshots."""
    n = request.param
    region = RegionFactory(code="EAST", level=1)
    competitor = CompetitorFactory(name="Canon")
    for rep in (org.rep_a1, org.rep_a2, org.rep_b1):
        for i in range(n):
            account = Account.objects.create(
                owner=rep, name=f"{rep.username}-{i}", region=region, employee_count=50 + i, is_target=True,
                target_since=date(2026, 1, 2), is_headquarters=i == 0,
            )  # fmt: skip
            InstalledBaseFactory(account=account, units=1)
            InstalledBaseFactory(account=account, is_ours=False, competitor=competitor, units=2)
            AccountYearFactory(account=account, year=2026, other_revenue=Decimal(i))
            AccountYearFactory(account=account, year=2025, potential_value=Decimal(1000 + i))
            won(account=account, amount=str(100 + i), closed_at=at(2026, 2, 1 + i), created_at=at(2026, 1, 3))
            lost(account=account, closed_at=at(2026, 3, 1 + i), created_at=at(2026, 1, 4), untouched=True)
            opportunity = OpportunityFactory(
                account=account, owner=rep, stage=default_stage("status"), created_at=at(2026, 1, 5),
                stage_entered_at=at(2026, 1, 6),
            )  # fmt: skip
            StageChangeFactory(opportunity=opportunity, to_stage=default_stage("prep"), changed_at=at(2026, 1, 5))
            StageChangeFactory(
                opportunity=opportunity, from_stage=default_stage("prep"), to_stage=default_stage("status"),
                changed_at=at(2026, 1, 6),
            )  # fmt: skip
            if i % 2:
                done_visit(account=account, done_at=NOW - timedelta(days=i))
            VisitFactory(account=account, status=Visit.Status.PLANNED, planned_at=NOW + timedelta(days=1))
            month = date(2025, 5, 1) + timedelta(days=31 * i)
            SalesTargetFactory(owner_user=rep, period_type="month", period_start=month.replace(day=1), amount=100)
    SalesTargetFactory(owner_user=None, owner_team=org.team_a, period_type="month", period_start=START, amount=100)
    services.compute_matrix(year=2025)
    services.compute_matrix(year=2026)
    services.flag_untouched()
    services.flag_stale()
    return n


SELECTORS = {
    "funnel_snapshot": (1, lambda v, p: funnel_snapshot(viewer=v, pipeline=p)),
    "funnel_flow": (3, lambda v, p: funnel_flow(viewer=v, pipeline=p, start=START, end=END)),
    "funnel_snapshot_by_owner": (2, lambda v, p: funnel_snapshot_by_owner(viewer=v, pipeline=p)),
    "funnel_flow_by_owner": (
        3,
        lambda v, p: funnel_flow_by_owner(viewer=v, pipeline=p, start=START, end=END),
    ),
    "win_rate": (1, lambda v, p: win_rate(viewer=v, start=START, end=END)),
    "win_rate_by_owner": (1, lambda v, p: win_rate_by_owner(viewer=v, start=START, end=END)),
    "untouched_losses": (1, lambda v, p: untouched_losses(viewer=v, start=START, end=END)),
    "visits_per_rep_week": (2, lambda v, p: visits_per_rep_week(viewer=v, start=START, end=END)),
    "visits_vs_won": (3, lambda v, p: visits_vs_won(viewer=v, start=START, end=END)),
    "cvpv_matrix": (2, lambda v, p: cvpv_matrix(viewer=v, year=2026)),
    "untouched_accounts": (1, lambda v, p: untouched_accounts(viewer=v)),
    "target_coverage": (1, lambda v, p: target_coverage(viewer=v)),
    "target_coverage_by_owner": (1, lambda v, p: target_coverage_by_owner(viewer=v)),
    "stale_opportunities": (1, lambda v, p: stale_opportunities(viewer=v)),
    "untouched_accounts_shortlist": (1, lambda v, p: untouched_accounts_shortlist(viewer=v, limit=2)),
    "stale_opportunities_shortlist": (1, lambda v, p: stale_opportunities_shortlist(viewer=v, limit=2)),
    "attainment month": (3, lambda v, p: attainment(viewer=v, period_type="month", year=2026)),
    "attainment week": (3, lambda v, p: attainment(viewer=v, period_type="week", year=2026)),
    "attainment of one month": (
        3,
        lambda v, p: attainment(viewer=v, period_type="month", year=2026, period=date(2026, 5, 1)),
    ),
    "current attainment": (2, lambda v, p: current_attainment(viewer=v)),
    "stability": (2, lambda v, p: stability(viewer=v)),
    "todo_list": (1, lambda v, p: todo_list(viewer=v)),
    "job_computed_at": (1, lambda v, p: job_computed_at(JobRun.UNTOUCHED)),
    # the three sums grouped in SQL (accounts with their stored values, installed base, open pipeline), and the
    # regions, industries or competitors naming the groups
    **{
        f"territory {d}": (
            4 if d in ("region", "industry_size", "competitor") else 3,
            lambda v, p, d=d: territory_analysis(viewer=v, dimension=d),
        )
        for d in TERRITORY_DIMENSIONS
    },
}
# A director's whole company also looks up the months rolled up (analytics.rollups) to read their sums, and today's
# territory and coverage snapshot (none here, so they are summed as for everyone).
DIRECTOR_EXTRA = {"visits_vs_won": 1, "target_coverage": 1, **{f"territory {d}": 1 for d in TERRITORY_DIMENSIONS}}
EXPECTED = [
    (viewer, name, expected + (DIRECTOR_EXTRA.get(name, 0) if viewer == "director" else 0))
    for viewer in ("rep_a1", "manager_a", "director")
    for name, (expected, _select) in SELECTORS.items()
]


def test_every_selector_runs_its_fixed_number_of_queries_for_every_role(org, default_pipeline, company):
    counts = {}
    for viewer in ("rep_a1", "manager_a", "director"):
        for name, (_expected, select) in SELECTORS.items():
            with CaptureQueriesContext(connection) as queries:
                select(getattr(org, viewer), default_pipeline)
            counts[name, viewer] = len(queries)

    assert counts == {(name, viewer): expected for viewer, name, expected in EXPECTED}


def test_account_value_history_runs_one_query(org, company, django_assert_num_queries):
    account = Account.objects.filter(owner=org.rep_a1).first()

    with django_assert_num_queries(1):
        history = account_value_history(viewer=org.rep_a1, account=account)

    assert [v.year for v in history] == [2025, 2026]


# Portable twins: reads, then one transaction: savepoint, delete, update_or_create (savepoint, select, update,
# release), one bulk insert per 2000 rows, release; compute_matrix's also reads the year's stored rows in it (unchanged
# rows keep their computed_at). On PostgreSQL every job reads nothing into Python: in a savepoint, the matrix upserts
# its run row (the lock) and then runs its statement, both sent at once; so does a flag job with its job row; then
# each analyzes the snapshot it rewrote.
ON_POSTGRESQL = connection.vendor == "postgresql"
JOBS = {
    "compute_matrix": (1 + 1 + 1 + 1 if ON_POSTGRESQL else 4 + 1 + 8, lambda: services.compute_matrix(year=2026)),
    "flag_untouched": (1 + 1 + 1 + 1 if ON_POSTGRESQL else 1 + 8, services.flag_untouched),
    "flag_stale": (1 + 1 + 1 + 1 if ON_POSTGRESQL else 1 + 8, services.flag_stale),
}


def test_every_job_runs_its_fixed_number_of_queries(company):
    counts = {}
    for name, (_expected, job) in JOBS.items():
        with CaptureQueriesContext(connection) as queries:
            job()
        counts[name] = len(queries)

    assert counts == {name: expected for name, (expected, _job) in JOBS.items()}


ENDPOINTS = {
    # each: the selectors it calls, plus owner/team/pipeline lookups
    "funnel/": 1 + 1 + 3 + 1,
    "cvpv/": 2 + 1,  # matrix_summary, then one page of matrix_accounts (counted by the summary)
    "untouched/": 1 + 1 + 2,  # coverage, job run, the page of flags and its count
    "attainment/": 2 + 3 + 2,  # the page of owners and its count, attainment's 3, stability's 2
    "territory/?dimension=region": 4,
}


def test_every_endpoint_runs_its_fixed_number_of_queries(org, company):
    client = APIClient()
    client.force_authenticate(org.manager_a)
    counts = {}
    for endpoint in ENDPOINTS:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/api/v1/analytics/{endpoint}").status_code == 200
        counts[endpoint] = len(queries)

    assert counts == ENDPOINTS
