"""Stale (rotting) opportunities (SPEC §7): open, no stage change and no completed visit on it for 21 days."""

from datetime import timedelta

import pytest

from analytics.models import JobRun, StaleFlag
from analytics.selectors.coverage import stale_opportunities
from analytics.services import flag_stale
from pipeline.models import Opportunity
from tests.analytics.conftest import NOW, at, done_visit, won
from tests.factories import OpportunityFactory, StageChangeFactory, VisitFactory

pytestmark = pytest.mark.django_db


def idle_since(moment, **fields) -> Opportunity:
    return OpportunityFactory(created_at=moment, stage_entered_at=moment, **fields)


def flagged() -> set[str]:
    return set(StaleFlag.objects.values_list("opportunity__name", flat=True))


def test_an_open_opportunity_idle_for_more_than_the_window_is_stale(now):
    idle_since(NOW - timedelta(days=30), name="idle")
    moved = idle_since(NOW - timedelta(days=30), name="moved")
    StageChangeFactory(opportunity=moved, changed_at=NOW - timedelta(days=10))
    visited = idle_since(NOW - timedelta(days=30), name="visited")
    done_visit(account=visited.account, opportunity=visited, done_at=NOW - timedelta(days=5))
    elsewhere = idle_since(NOW - timedelta(days=30), name="visited the account, not about it")
    done_visit(account=elsewhere.account, done_at=NOW - timedelta(days=5))
    planned = idle_since(NOW - timedelta(days=30), name="only planned")
    VisitFactory(account=planned.account, opportunity=planned, planned_at=NOW - timedelta(days=1))
    idle_since(NOW - timedelta(days=3), name="new")
    won(closed_at=NOW - timedelta(days=60), created_at=NOW - timedelta(days=90), name="won long ago")

    assert flag_stale() == 3

    assert flagged() == {"idle", "visited the account, not about it", "only planned"}
    assert StaleFlag.objects.get(opportunity__name="idle").last_activity_at == NOW - timedelta(days=30)


def test_activity_on_the_twenty_first_day_still_counts(now):
    # 15 May 2026 - 21 days = 24 April 2026
    idle_since(at(2026, 4, 24, 0, 0), name="edge")
    idle_since(at(2026, 4, 23, 23, 59), name="beyond")

    flag_stale()

    assert flagged() == {"beyond"}


def test_stale_opportunities_are_visible_to_their_owner_and_managers_only(org, now):
    idle_since(NOW - timedelta(days=40), owner=org.rep_a1, name="a1 older")
    idle_since(NOW - timedelta(days=25), owner=org.rep_a1, name="a1")
    idle_since(NOW - timedelta(days=40), owner=org.rep_b1, name="b1")
    flag_stale()

    assert [(s.opportunity.name, s.days_idle) for s in stale_opportunities(viewer=org.rep_a1)] == [
        ("a1 older", 40),
        ("a1", 25),
    ]
    assert [s.opportunity.name for s in stale_opportunities(viewer=org.manager_b)] == ["b1"]
    assert len(stale_opportunities(viewer=org.director)) == 3
    assert [s.opportunity.name for s in stale_opportunities(viewer=org.director, owner=org.rep_b1)] == ["b1"]


def test_an_opportunity_closed_since_the_run_is_no_longer_shown(org, now):
    opportunity = idle_since(NOW - timedelta(days=40), owner=org.rep_a1)
    flag_stale()
    Opportunity.objects.filter(pk=opportunity.pk).update(status="won", closed_at=NOW, stage=opportunity.stage)

    assert stale_opportunities(viewer=org.rep_a1) == []


def test_running_twice_leaves_one_flag_per_opportunity(now):
    idle_since(NOW - timedelta(days=30))
    idle_since(NOW - timedelta(days=40))

    flag_stale()
    first = list(StaleFlag.objects.order_by("opportunity").values_list("opportunity", "last_activity_at"))
    flag_stale()

    assert list(StaleFlag.objects.order_by("opportunity").values_list("opportunity", "last_activity_at")) == first
    assert len(first) == 2
    assert JobRun.objects.get(job=JobRun.STALE).computed_at == NOW
