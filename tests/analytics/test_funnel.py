"""Funnel snapshot, funnel flow, win rate and untouched losses (SPEC §4, §7)."""

from datetime import date
from decimal import Decimal

import pytest

from analytics.selectors.funnel import funnel_flow, funnel_flow_by_owner, funnel_snapshot, funnel_snapshot_by_owner
from analytics.selectors.outcomes import untouched_losses, win_rate, win_rate_by_owner
from pipeline.models import Opportunity
from tests.analytics.conftest import at, lost, won
from tests.factories import OpportunityFactory, StageChangeFactory, default_stage

pytestmark = pytest.mark.django_db


def by_code(rows) -> dict:
    return {row.stage.code: row for row in rows}


def test_snapshot_counts_open_opportunities_per_stage_with_weighted_amounts(org, default_pipeline, now):
    needs, propose = default_stage("needs"), default_stage("propose")
    OpportunityFactory.create_batch(2, owner=org.rep_a1, stage=needs, amount=Decimal("100000"))
    OpportunityFactory(owner=org.rep_a1, stage=propose, amount=Decimal("50000.50"), probability=65)
    lost(owner=org.rep_a1, stage=needs, closed_at=at(2026, 5, 1))
    OpportunityFactory(owner=org.rep_b1, stage=needs, amount=Decimal("7"))

    rows = funnel_snapshot(viewer=org.rep_a1, pipeline=default_pipeline)

    assert [r.stage.code for r in rows] == [s.code for s in default_pipeline.stages.order_by("order")]
    stages = by_code(rows)
    assert (stages["needs"].count, stages["needs"].amount, stages["needs"].weighted_amount) == (
        2,
        Decimal("200000.00"),
        Decimal("60000.00"),
    )
    assert (stages["propose"].count, stages["propose"].weighted_amount) == (1, Decimal("32500.33"))
    assert (stages["prep"].count, stages["prep"].amount, stages["prep"].weighted_amount) == (0, Decimal(0), Decimal(0))


def test_snapshot_narrows_to_an_owner_or_a_team(org, default_pipeline, now):
    needs = default_stage("needs")
    for rep in (org.rep_a1, org.rep_a2, org.rep_b1):
        OpportunityFactory(owner=rep, stage=needs)

    def needs_count(**scope) -> int:
        return by_code(funnel_snapshot(pipeline=default_pipeline, **scope))["needs"].count

    assert needs_count(viewer=org.director) == 3
    assert needs_count(viewer=org.director, team=org.team_a) == 2
    assert needs_count(viewer=org.director, owner=org.rep_b1) == 1
    assert needs_count(viewer=org.manager_a, team=org.team_b) == 0  # visibility still applies


@pytest.fixture
def flow(org, now):
    """Three opportunities created in 2026 (o1 open at needs, o2 won, o3 an untouched loss) and one from 2025."""
    o1 = OpportunityFactory(owner=org.rep_a1, created_at=at(2026, 1, 10), stage=default_stage("needs"))
    StageChangeFactory(opportunity=o1, to_stage=default_stage("prep"), changed_at=at(2026, 1, 10))
    for days, (src, dst) in [(12, ("prep", "status")), (15, ("status", "opportunity")), (25, ("opportunity", "needs"))]:
        StageChangeFactory(
            opportunity=o1, from_stage=default_stage(src), to_stage=default_stage(dst), changed_at=at(2026, 1, days)
        )
    o2 = won(owner=org.rep_a1, created_at=at(2026, 2, 1), closed_at=at(2026, 2, 20))
    StageChangeFactory(
        opportunity=o2, from_stage=default_stage("prep"), to_stage=default_stage("status"), changed_at=at(2026, 2, 2)
    )
    o3 = lost(
        owner=org.rep_a2,
        created_at=at(2026, 3, 1),
        closed_at=at(2026, 3, 10),
        stage=default_stage("status"),
        furthest_stage=default_stage("status"),
        untouched=True,
        cause="no_plan",
    )
    # no creation row: the stay in prep starts when the opportunity was created
    StageChangeFactory(
        opportunity=o3, from_stage=default_stage("prep"), to_stage=default_stage("status"), changed_at=at(2026, 3, 5)
    )
    o4 = OpportunityFactory(owner=org.rep_a1, created_at=at(2025, 12, 1), stage=default_stage("status"))
    StageChangeFactory(
        opportunity=o4, from_stage=default_stage("prep"), to_stage=default_stage("status"), changed_at=at(2026, 1, 30)
    )
    return o1, o2, o3


def test_flow_counts_reached_conversion_median_days_and_outcomes(org, default_pipeline, flow):
    result = funnel_flow(viewer=org.director, pipeline=default_pipeline, start=date(2026, 1, 1), end=date(2026, 5, 15))

    assert [(s.stage.code, s.reached, s.conversion) for s in result.stages] == [
        ("prep", 3, None),
        ("status", 3, 1.0),
        ("opportunity", 2, 2 / 3),
        ("needs", 2, 1.0),
        ("develop", 1, 0.5),
        ("propose", 1, 1.0),
        ("commit", 1, 1.0),
        ("close", 1, 1.0),
        ("implement", 1, 1.0),
    ]
    # prep stays: 2 (o1), 1 (o2), 4 (o3) days; status: 3; opportunity: 10; the 2025 opportunity is left out
    assert {s.stage.code: s.median_days for s in result.stages if s.median_days is not None} == {
        "prep": 2.0,
        "status": 3.0,
        "opportunity": 10.0,
    }
    assert (result.created, result.won, result.lost, result.untouched_losses) == (3, 1, 1, 1)


def test_flow_of_a_rep_only_counts_their_opportunities(org, default_pipeline, flow):
    result = funnel_flow(viewer=org.rep_a2, pipeline=default_pipeline, start=date(2026, 1, 1), end=date(2026, 5, 15))

    assert [s.reached for s in result.stages][:3] == [1, 1, 0]
    assert (result.created, result.won, result.lost, result.untouched_losses) == (1, 0, 1, 1)
    assert by_code(result.stages)["prep"].median_days == 4.0


def test_flow_of_an_empty_period_has_no_ratios(org, default_pipeline, flow):
    result = funnel_flow(viewer=org.director, pipeline=default_pipeline, start=date(2024, 1, 1), end=date(2024, 12, 31))

    assert {(s.reached, s.conversion, s.median_days) for s in result.stages} == {(0, None, None)}
    assert (result.created, result.won, result.lost, result.untouched_losses) == (0, 0, 0, 0)


def test_win_rate_is_won_over_won_and_lost_among_opportunities_closed_in_the_period(org, flow):
    won(owner=org.rep_a1, created_at=at(2025, 11, 1), closed_at=at(2026, 1, 1, 0, 0))
    lost(owner=org.rep_a1, closed_at=at(2025, 12, 31, 23, 59))

    rate = win_rate(viewer=org.director, start=date(2026, 1, 1), end=date(2026, 5, 15))

    assert (rate.won, rate.lost, rate.rate) == (2, 1, 2 / 3)
    assert win_rate(viewer=org.rep_a2, start=date(2026, 1, 1), end=date(2026, 5, 15)).rate == 0.0
    assert win_rate(viewer=org.rep_b1, start=date(2026, 1, 1), end=date(2026, 5, 15)).rate is None


def test_untouched_losses_come_with_a_count_per_cause(org, flow):
    lost(owner=org.rep_a1, closed_at=at(2026, 4, 2), untouched=True)
    lost(owner=org.rep_a1, closed_at=at(2026, 4, 3))  # a plain loss
    lost(owner=org.rep_a1, closed_at=at(2025, 4, 3), untouched=True, cause="no_plan")  # another year

    result = untouched_losses(viewer=org.director, start=date(2026, 1, 1), end=date(2026, 5, 15))

    assert [(o.owner, o.untouched_cause) for o in result.losses] == [(org.rep_a1, ""), (org.rep_a2, "no_plan")]
    assert result.causes[""] == 1
    assert result.causes["no_plan"] == 1
    assert sum(result.causes.values()) == 2
    assert set(result.causes) == {"", *Opportunity.UntouchedCause.values}
    assert untouched_losses(viewer=org.rep_b1, start=date(2026, 1, 1), end=date(2026, 5, 15)).losses == []


def test_per_owner_variants_give_each_owner_what_the_owner_filter_gives(org, default_pipeline, flow):
    OpportunityFactory(owner=org.rep_a2, stage=default_stage("needs"), amount=Decimal("10"))
    OpportunityFactory(owner=org.rep_b1, stage=default_stage("needs"), amount=Decimal("20"))
    period = {"start": date(2026, 1, 1), "end": date(2026, 5, 15)}

    snapshots = funnel_snapshot_by_owner(viewer=org.manager_a, pipeline=default_pipeline)
    flows = funnel_flow_by_owner(viewer=org.manager_a, pipeline=default_pipeline, **period)
    rates = win_rate_by_owner(viewer=org.manager_a, **period)

    assert set(snapshots) == set(flows) == {org.rep_a1.pk, org.rep_a2.pk}
    assert set(rates) == {org.rep_a1.pk, org.rep_a2.pk}
    for rep in (org.rep_a1, org.rep_a2):
        assert snapshots[rep.pk] == funnel_snapshot(viewer=org.manager_a, pipeline=default_pipeline, owner=rep)
        assert flows[rep.pk] == funnel_flow(viewer=org.manager_a, pipeline=default_pipeline, owner=rep, **period)
        assert rates[rep.pk] == win_rate(viewer=org.manager_a, owner=rep, **period)
    assert by_code(snapshots[org.rep_a1.pk])["needs"].count == 1
    assert [s.reached for s in flows[org.rep_a1.pk].stages][:4] == [2, 2, 2, 2]
    assert (rates[org.rep_a1.pk].rate, rates[org.rep_a2.pk].rate) == (1.0, 0.0)
