"""What changed since a day reads only the recent rows, from the `at` indexes of both history tables (PostgreSQL's
plan over a history of realistic size, after ANALYZE)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from analytics.selectors.changes import change_events
from core.calendar import today
from pipeline.models import OpportunityChange, StageChange
from pipeline.services.stage_changes import Step, stage_change_rows
from tests.e2e.helpers import install_default_pipeline
from tests.factories import OpportunityFactory, default_stage

pytestmark = [
    # Committed and vacuumed, as autovacuum leaves a production table (see tests/pipeline/test_index_use.py).
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's query plans"),
]
ROWS = 20_000  # two years of history, one row an hour each


@pytest.fixture
def default_pipeline(transactional_db):
    return install_default_pipeline()  # a transactional test empties every table after it


@pytest.mark.parametrize("viewer", ["director", "manager_a", "rep_a1"])
def test_the_changes_of_the_last_week_are_read_from_the_at_indexes(org, default_pipeline, viewer):
    opportunities = OpportunityFactory.create_batch(20, owner=org.rep_a1)
    prep, status = default_stage("prep"), default_stage("status")
    now = timezone.now()
    OpportunityChange.objects.bulk_create(
        OpportunityChange(
            opportunity=opportunities[i % 20], at=now - timedelta(hours=i), field="amount", old="1.00", new="2.00"
        )
        for i in range(ROWS)
    )
    StageChange.objects.bulk_create(
        row
        for n, opportunity in enumerate(opportunities)
        for row in stage_change_rows(
            opportunity=opportunity,
            steps=[Step(prep, status, now - timedelta(hours=i)) for i in reversed(range(n, ROWS, 20))],
            changed_by=None,
        )
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    plan = change_events(viewer=getattr(org, viewer), since=today() - timedelta(days=7))[:25].explain()

    assert "oppchange_at_idx" in plan, plan
    assert "stagechange_at_moves_idx" in plan, plan
    assert "Seq Scan on pipeline_opportunitychange" not in plan, plan
    assert "Seq Scan on pipeline_stagechange" not in plan, plan
