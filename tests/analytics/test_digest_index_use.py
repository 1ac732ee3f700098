"""A director's digest and funnel read only the rows of their period or state, each from a covering index, instead of
every opportunity (issue 10): PostgreSQL's plans over a company of realistic size, after ANALYZE. The week's stage
changes meet their opportunities' owners one by one, by id; the open funnel, the period's new opportunities and the
period's closed ones come from their own indexes.

The rows are committed (a transactional test) so that VACUUM can mark their pages all-visible, as autovacuum does in
production: only then does PostgreSQL count an index-only scan as the cheap read it is."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.digests.content import weekly_digest
from analytics.selectors.funnel import funnel_flow
from analytics.selectors.outcomes import win_rate
from pipeline.models import Opportunity, StageChange
from pipeline.services.stage_changes import Step, stage_change_rows
from tests.analytics.conftest import at
from tests.e2e.helpers import install_default_pipeline
from tests.factories import OpportunityFactory, default_stage

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's query plans"),
]
OPPORTUNITIES = 4_000  # two years of a company's opportunities, each with its creation and three moves
PATH = ["prep", "status", "opportunity", "needs"]
WEEK = date(2026, 5, 11)  # the digest's Monday; it reports on the week before


@pytest.fixture
def default_pipeline(transactional_db):
    return install_default_pipeline()  # a transactional test empties every table after it


@pytest.fixture
def company(org, default_pipeline):
    template = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))
    stages = [default_stage(code) for code in PATH]
    start = at(2024, 5, 12)
    opportunities = []
    for i in range(OPPORTUNITIES):
        created_at = start + timedelta(minutes=263 * i + i % 5)  # up to the digest's week
        status = [Opportunity.Status.OPEN, Opportunity.Status.WON, Opportunity.Status.LOST][i % 3]
        closed = status != Opportunity.Status.OPEN
        opportunities.append(
            Opportunity(
                pipeline=default_pipeline,
                stage=stages[-1],
                furthest_stage=stages[-1],
                account=template.account,
                owner=org.rep_a1 if i % 2 else org.rep_b1,
                name=f"商机 {i}",
                amount=Decimal(1000 + i),
                probability=template.probability,
                created_at=created_at,
                status=status,
                closed_at=created_at + timedelta(days=20) if closed else None,
                loss_reason=Opportunity.LossReason.PRICE if status == Opportunity.Status.LOST else "",
            )
        )
    Opportunity.objects.bulk_create(opportunities)
    StageChange.objects.bulk_create(
        row
        for opportunity in opportunities
        for row in stage_change_rows(
            opportunity=opportunity,
            steps=[
                Step(
                    from_stage=stages[step - 1] if step else None,
                    to_stage=stages[step],
                    changed_at=opportunity.created_at + timedelta(days=step * 3),
                )
                for step in range(len(PATH))
            ],
            changed_by=None,
        )
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE pipeline_opportunity, pipeline_stagechange, accounts_user")


def plan_of(queries: CaptureQueriesContext, marker: str) -> str:
    (sql,) = [q["sql"] for q in queries.captured_queries if marker in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def digest_queries(org, default_pipeline, company):
    with CaptureQueriesContext(connection) as queries:
        digest = weekly_digest(user=org.director, week_start=WEEK)
    assert digest.movements.total > 0 and digest.outcomes.won > 0 and digest.company.total.open_count > 0
    return queries


def test_the_weeks_movements_by_team_start_from_the_weeks_stage_changes(digest_queries):
    plan = plan_of(digest_queries, 'AS "forward"')

    assert "stagechange_at_moves_idx" in plan, plan
    assert "opp_id_owner_idx" in plan, plan  # each change's owner by its opportunity's id
    assert "Seq Scan on pipeline_opportunity" not in plan, plan
    assert "Seq Scan on pipeline_stagechange" not in plan, plan


def test_the_open_funnel_by_team_reads_the_open_funnel_index(digest_queries):
    plan = plan_of(digest_queries, 'AS "weighted"')

    assert "opp_open_funnel_idx" in plan, plan
    assert "Seq Scan on pipeline_opportunity" not in plan, plan


def test_the_latest_closed_opportunities_come_from_the_closed_index_in_its_order(digest_queries):
    plan = plan_of(digest_queries, 'ORDER BY "pipeline_opportunity"."closed_at" DESC, "pipeline_opportunity"."id" DESC')

    assert "Index Scan Backward using opp_closed_idx" in plan, plan
    assert "Sort" not in plan.split("Index Scan Backward")[0], plan  # no sort of the week's rows before the LIMIT


def test_the_weeks_outcomes_by_team_read_the_closed_index(digest_queries):
    plan = plan_of(digest_queries, 'AS "untouched" FROM "pipeline_opportunity"')

    assert "opp_closed_idx" in plan, plan
    assert "Seq Scan on pipeline_opportunity" not in plan, plan


def test_the_funnel_flows_outcomes_and_win_rate_read_their_period_from_an_index(org, default_pipeline, company):
    with CaptureQueriesContext(connection) as queries:
        flow = funnel_flow(viewer=org.director, pipeline=default_pipeline, start=date(2026, 1, 1), end=WEEK)
        rate = win_rate(viewer=org.director, pipeline=default_pipeline, start=date(2026, 1, 1), end=WEEK)
    assert flow.created > 0 and rate.won > 0

    outcomes = plan_of(queries, '"furthest_stage_id", "pipeline_opportunity"."status"')
    assert "opp_created_outcomes_idx" in outcomes, outcomes
    assert "Seq Scan on pipeline_opportunity" not in outcomes, outcomes
    closed = plan_of(queries, 'AS "lost" FROM "pipeline_opportunity"')
    assert "opp_closed_idx" in closed, closed
    assert "Seq Scan on pipeline_opportunity" not in closed, closed
