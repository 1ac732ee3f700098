"""The attainment endpoint reads the wins of the owners on its page, owner by owner, from the owners' closed index
alone, and asks each visible user whether they won in the year with one probe of that index, instead of reading every
win of the company's year (issue 10): PostgreSQL's plans over a company of realistic size, after ANALYZE.

The rows are committed (a transactional test) so that VACUUM can mark their pages all-visible, as autovacuum does in
production: only then does PostgreSQL count an index-only scan as the cheap read it is."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from pipeline.models import Opportunity, SalesTarget
from tests.analytics.conftest import at
from tests.e2e.helpers import install_default_pipeline
from tests.factories import OpportunityFactory, TeamFactory, UserFactory, default_stage

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's query plans"),
]
OPPORTUNITIES = 6_000  # a year and a half of a company's opportunities, a third won and a third lost
PAGE_SIZE = 4  # owners on a page: a team, then its people


@pytest.fixture
def default_pipeline(transactional_db):
    return install_default_pipeline()  # a transactional test empties every table after it


@pytest.fixture
def company(org, default_pipeline, now):
    """Thirty reps in six teams, each rep and team with a monthly target for every month of 2026."""
    teams = [org.team_a, org.team_b, *(TeamFactory(name=f"T{i}") for i in range(4))]
    reps = [org.rep_a1, org.rep_a2, org.rep_b1]
    reps += [UserFactory(username=f"rep{i:02}", team=teams[i % len(teams)]) for i in range(len(reps), 30)]
    months = [date(2026, month, 1) for month in range(1, 13)]
    monthly = {"period_type": SalesTarget.PeriodType.MONTH}
    SalesTarget.objects.bulk_create(
        [SalesTarget(owner_user=rep, period_start=m, amount=Decimal(50_000), **monthly) for rep in reps for m in months]
        + [SalesTarget(owner_team=t, period_start=m, amount=Decimal(200_000), **monthly) for t in teams for m in months]
    )
    template = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))
    opportunities = []
    for i in range(OPPORTUNITIES):
        created_at = at(2025, 1, 1) + timedelta(minutes=120 * i + i % 7)
        status = [Opportunity.Status.OPEN, Opportunity.Status.WON, Opportunity.Status.LOST][i % 3]
        opportunities.append(
            Opportunity(
                pipeline=default_pipeline,
                stage=template.stage,
                furthest_stage=template.stage,
                account=template.account,
                owner=reps[i % len(reps)],
                name=f"商机 {i}",
                amount=Decimal(1000 + i),
                probability=template.probability,
                created_at=created_at,
                status=status,
                closed_at=created_at + timedelta(days=20) if status != Opportunity.Status.OPEN else None,
                loss_reason=Opportunity.LossReason.PRICE if status == Opportunity.Status.LOST else "",
            )
        )
    Opportunity.objects.bulk_create(opportunities)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE pipeline_opportunity, pipeline_salestarget, accounts_user, accounts_team")


@pytest.fixture
def attainment_queries(org, company) -> CaptureQueriesContext:
    """The queries of the director's first page of monthly attainment for 2026."""
    client = APIClient()
    client.force_authenticate(org.director)
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/analytics/attainment/", {"year": 2026, "page_size": PAGE_SIZE}).json()
    assert body["count"] == 36 and len({(row["owner_type"], row["owner"]) for row in body["rows"]}) == PAGE_SIZE
    assert body["stability"]  # the page holds a team and some of its people
    assert any(Decimal(row["won_amount"]) > 0 for row in body["rows"])
    return queries


def plans_of(queries: CaptureQueriesContext, marker: str) -> list[str]:
    plans = []
    for sql in [q["sql"] for q in queries.captured_queries if marker in q["sql"]]:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


def test_the_pages_wins_are_summed_owner_by_owner_from_the_closed_index_alone(attainment_queries):
    # The year's wins per period of the page's owners, and stability's last twelve months of them.
    plans = plans_of(attainment_queries, 'SUM("pipeline_opportunity"."amount")')
    assert len(plans) == 2, plans
    for plan in plans:
        assert "Index Only Scan using opp_owner_closed_idx" in plan, plan
        assert "Index Cond: ((owner_id = ANY" in plan, plan
        assert "Seq Scan on pipeline_opportunity" not in plan, plan


def test_each_user_is_asked_for_a_win_of_the_year_with_one_probe_of_the_closed_index(attainment_queries):
    # The owners' count and their page: a user with a target or a win in the year.
    plans = plans_of(attainment_queries, '"kind"')
    assert len(plans) == 2, plans
    for plan in plans:
        assert "Index Cond: ((owner_id = accounts_user.id)" in plan, plan
        assert "opp_owner_closed_idx" in plan, plan
        assert "Seq Scan on pipeline_opportunity" not in plan, plan
