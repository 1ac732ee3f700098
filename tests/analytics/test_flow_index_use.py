"""A director's funnel flow reads the period's stays from the stays index alone, stage by stage, without joining the
opportunities or re-deriving each stay with a window, and reaches the middle of each stage by walking the stay length
index instead of sorting the stage's stays (issue 10): PostgreSQL's plan over a history of realistic size, after
ANALYZE. A manager's or a rep's flow and win rate start from their own opportunities of the period, found by owner.

The rows are committed (a transactional test) so that VACUUM can mark their pages all-visible, as autovacuum does in
production: on pages not yet vacuumed the planner may prefer the narrower foreign-key index, as it did in a full run
of the suite whose earlier tests had left the table's heap full of dead rows."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.selectors.funnel import funnel_flow
from analytics.selectors.outcomes import win_rate
from pipeline.models import Opportunity, StageChange
from pipeline.services.stage_changes import Step, stage_change_rows
from tests.analytics.conftest import at
from tests.e2e.helpers import install_default_pipeline
from tests.factories import OpportunityFactory, UserFactory, default_stage

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's query plans"),
]
OPPORTUNITIES = 3_000  # two years of opportunities, each with its creation and six moves; a third of them won
PATH = ["prep", "status", "opportunity", "needs", "develop", "propose", "commit"]


@pytest.fixture
def default_pipeline(transactional_db):
    return install_default_pipeline()  # a transactional test empties every table after it


@pytest.fixture
def history(org, default_pipeline):
    template = OpportunityFactory(owner=org.rep_a1, stage=default_stage("commit"))
    owners = [org.rep_a1, org.rep_b1, *UserFactory.create_batch(28, team=org.team_b)]  # a company of thirty reps
    stages = [default_stage(code) for code in PATH]
    opportunities = Opportunity.objects.bulk_create(
        Opportunity(
            pipeline=default_pipeline,
            stage=stages[-1],
            furthest_stage=stages[-1],
            account=template.account,
            owner=owners[i % len(owners)],
            name=f"商机 {i}",
            probability=template.probability,
            created_at=at(2025, 1, 1) + timedelta(hours=5 * i + i % 7),
            status=Opportunity.Status.WON if i % 3 == 0 else Opportunity.Status.OPEN,
            closed_at=at(2025, 1, 1) + timedelta(hours=5 * i + 500) if i % 3 == 0 else None,
        )
        for i in range(OPPORTUNITIES)
    )
    StageChange.objects.bulk_create(
        row
        for opportunity in opportunities
        for row in stage_change_rows(
            opportunity=opportunity,
            steps=[
                Step(
                    from_stage=stages[step - 1] if step else None,
                    to_stage=stages[step],
                    changed_at=opportunity.created_at + timedelta(days=step * 3, hours=opportunity.pk % 11),
                )
                for step in range(len(PATH))
            ],
            changed_by=None,
        )
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE pipeline_opportunity, pipeline_stagechange, accounts_user")


def flow_plans(viewer, pipeline) -> dict[str, str]:
    """The plans of the flow's stays and outcomes queries for the first half of 2026, and of the win rate's over the
    whole history (a thousand won opportunities: enough for the planner to tell a scope's from the company's)."""
    with CaptureQueriesContext(connection) as queries:
        flow = funnel_flow(viewer=viewer, pipeline=pipeline, start=date(2026, 1, 1), end=date(2026, 6, 30))
        rate = win_rate(viewer=viewer, pipeline=pipeline, start=date(2025, 1, 1), end=date(2026, 12, 31))
    assert flow.created > 0 and any(stage.median_days is not None for stage in flow.stages) and rate.won > 0
    marks = {"stays": "entered_at", "outcomes": '"furthest_stage_id"', "win rate": 'AS "lost"'}
    plans = {}
    for name, mark in marks.items():
        (sql,) = [q["sql"] for q in queries.captured_queries if mark in q["sql"]]
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}")
            plans[name] = "\n".join(row[0] for row in cursor.fetchall())
    return plans


def stays_plan(viewer, pipeline) -> str:
    return flow_plans(viewer, pipeline)["stays"]


def test_a_directors_median_days_read_the_stays_index_alone(org, default_pipeline, history):
    plan = stays_plan(org.director, default_pipeline)

    # The stays of the period are counted from this index's range, stage by stage ...
    assert "Index Only Scan using stagechange_stays_idx" in plan, plan
    # ... and the middle one or two reached by walking the stage's stays in order of length: nothing is sorted.
    assert "Index Only Scan using stagechange_stay_length_idx" in plan, plan
    assert "Sort" not in plan, plan
    assert "pipeline_opportunity" not in plan, plan
    assert "Seq Scan" not in plan, plan
    assert "WindowAgg" not in plan, plan


def test_a_reps_median_days_start_from_their_opportunities_of_the_period(org, default_pipeline, history):
    plan = stays_plan(org.rep_a1, default_pipeline)

    assert "Seq Scan on pipeline_stagechange" not in plan, plan
    assert "Index Cond: (opportunity_id = pipeline_opportunity.id)" in plan, plan


@pytest.mark.parametrize("viewer", ["manager_a", "rep_a1"])
def test_a_scopes_flow_and_win_rate_start_from_its_owners_opportunities(org, default_pipeline, history, viewer):
    plans = flow_plans(getattr(org, viewer), default_pipeline)

    # The scope's opportunities created in the period, by owner: not the company's, filtered owner by owner.
    assert "opp_owner_created_outcomes_idx" in plans["outcomes"], plans["outcomes"]
    assert "opp_owner_created_outcomes_idx" in plans["stays"], plans["stays"]
    # The scope's opportunities closed in the period, by owner, counted from the index alone.
    assert "Index Only Scan using opp_owner_closed_idx" in plans["win rate"], plans["win rate"]
    for plan in plans.values():
        assert "Seq Scan on pipeline_opportunity" not in plan, plan
