from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import ExitCriteriaNotMet, InvalidMove, NotAllowed, StaleVersion, ValidationFailed
from pipeline.models import Opportunity, StageChange, Visit
from pipeline.services.moves import lose_opportunity, reopen_opportunity, win_opportunity
from tests.factories import CompetitorFactory, OpportunityFactory, VisitFactory, default_stage, satisfy_exit_criteria

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 2, 16, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def opportunity_at(code: str, owner, *, furthest: str | None = None, **fields) -> Opportunity:
    return OpportunityFactory(
        owner=owner, stage=default_stage(code), furthest_stage=default_stage(furthest or code), **fields
    )


def changes(opportunity) -> list[tuple[str | None, str]]:
    return list(StageChange.objects.filter(opportunity=opportunity).values_list("from_stage__code", "to_stage__code"))


def assert_still_open(opportunity, *, stage: str) -> None:
    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert (fresh.status, fresh.stage.code, fresh.version, fresh.closed_at) == ("open", stage, 1, None)
    assert (fresh.loss_reason, fresh.lost_to, fresh.is_untouched_loss, fresh.untouched_cause) == ("", None, False, "")
    assert changes(opportunity) == []
    assert not Visit.objects.filter(opportunity=opportunity, kind=Visit.Kind.FOLLOW_UP).exists()


# --- win -------------------------------------------------------------------------------------------------------------


def test_winning_from_the_closing_stage_moves_to_after_sales_and_plans_follow_ups(org, frozen):
    opportunity = satisfy_exit_criteria(opportunity_at("close", org.rep_a1, probability=90), "close")

    won = win_opportunity(opportunity=opportunity, won_by=org.rep_a1)

    assert (won.status, won.closed_at, won.stage.code, won.furthest_stage.code) == (
        "won",
        NOW,
        "implement",
        "implement",
    )
    assert (won.probability, won.version, won.stage_entered_at) == (100, 2, NOW)
    assert changes(opportunity) == [("close", "implement")]
    follow_ups = Visit.objects.filter(opportunity=opportunity).order_by("planned_at")
    assert [(v.kind, v.status, v.owner, v.account_id, v.planned_at) for v in follow_ups] == [
        ("follow_up", "planned", org.rep_a1, opportunity.account_id, NOW + timedelta(days=7)),
        ("follow_up", "planned", org.rep_a1, opportunity.account_id, NOW + timedelta(days=30)),
    ]
    assert all(v.purpose for v in follow_ups)


def test_follow_up_days_come_from_the_setting_at_run_time(org, frozen, settings):
    settings.SALESFLOW_FOLLOW_UP_DAYS = [3]
    opportunity = satisfy_exit_criteria(opportunity_at("close", org.rep_a1), "close")
    win_opportunity(opportunity=opportunity, won_by=org.rep_a1)
    assert list(Visit.objects.filter(opportunity=opportunity).values_list("planned_at", flat=True)) == [
        NOW + timedelta(days=3)
    ]


def test_winning_without_a_signed_contract_is_refused_and_writes_nothing(org):
    opportunity = opportunity_at("close", org.rep_a1)

    with pytest.raises(ExitCriteriaNotMet) as refused:
        win_opportunity(opportunity=opportunity, won_by=org.director)

    assert [(u.stage_code, u.code) for u in refused.value.unmet] == [("close", "contract_signed")]
    assert_still_open(opportunity, stage="close")
    assert not Visit.objects.filter(opportunity=opportunity).exists()


def test_winning_from_an_earlier_stage_needs_every_criterion_up_to_and_including_closing(org):
    opportunity = satisfy_exit_criteria(opportunity_at("commit", org.rep_a1), "close")

    with pytest.raises(ExitCriteriaNotMet) as refused:
        win_opportunity(opportunity=opportunity, won_by=org.rep_a1)

    assert [(u.stage_code, u.code) for u in refused.value.unmet] == [
        ("commit", "blocking_issues_resolved"),
        ("commit", "purchase_date_agreed"),
    ]
    assert_still_open(opportunity, stage="commit")


def test_winning_from_an_earlier_stage_records_the_path_through_closing(org, frozen):
    opportunity = satisfy_exit_criteria(opportunity_at("develop", org.rep_a1), "develop", "propose", "commit", "close")

    won = win_opportunity(opportunity=opportunity, won_by=org.rep_a1)

    assert (won.status, won.stage.code) == ("won", "implement")
    assert changes(opportunity) == [("develop", "close"), ("close", "implement")]


def test_a_closed_opportunity_cannot_be_won(org):
    opportunity = opportunity_at("close", org.rep_a1, status="lost", closed_at=NOW, loss_reason="price")
    with pytest.raises(InvalidMove):
        win_opportunity(opportunity=opportunity, won_by=org.rep_a1)
    assert Opportunity.objects.get(pk=opportunity.pk).status == "lost"


def test_a_stale_win_writes_nothing(org):
    opportunity = satisfy_exit_criteria(opportunity_at("close", org.rep_a1), "close")
    with pytest.raises(StaleVersion):
        win_opportunity(opportunity=opportunity, won_by=org.rep_a1, expected_version=7)
    assert_still_open(opportunity, stage="close")
    assert not Visit.objects.filter(opportunity=opportunity).exists()


# --- lose ------------------------------------------------------------------------------------------------------------


def test_losing_records_the_reason_and_closes_now(org, frozen):
    opportunity = opportunity_at("needs", org.rep_a1, probability=30)

    lost = lose_opportunity(opportunity=opportunity, lost_by=org.rep_a1, reason="budget", note="  明年再说 ")

    assert (lost.status, lost.closed_at, lost.stage.code, lost.probability, lost.version) == (
        "lost",
        NOW,
        "needs",
        0,
        2,
    )
    assert (lost.loss_reason, lost.loss_note, lost.lost_to, lost.is_untouched_loss) == (
        "budget",
        "明年再说",
        None,
        False,
    )


@pytest.mark.parametrize("reason", ["", "bad_luck"])
def test_a_loss_needs_a_reason_from_the_list(org, reason):
    opportunity = opportunity_at("needs", org.rep_a1)
    with pytest.raises(ValidationFailed) as refused:
        lose_opportunity(opportunity=opportunity, lost_by=org.rep_a1, reason=reason)
    assert refused.value.field == "reason"
    assert_still_open(opportunity, stage="needs")


def test_a_loss_never_engaged_and_lost_to_a_competitor_is_untouched_and_needs_a_cause(org, frozen):
    opportunity = opportunity_at("prep", org.rep_a1)
    VisitFactory(account=opportunity.account, status="done", done_at=NOW - timedelta(days=2), planned_at=None)
    rival = CompetitorFactory()

    with pytest.raises(ValidationFailed) as refused:
        lose_opportunity(opportunity=opportunity, lost_by=org.rep_a1, reason="relationship", lost_to=rival)
    assert (refused.value.field, refused.value.status) == ("untouched_cause", 400)
    assert_still_open(opportunity, stage="prep")

    lost = lose_opportunity(
        opportunity=opportunity, lost_by=org.rep_a1, reason="relationship", lost_to=rival, untouched_cause="no_plan"
    )
    assert (lost.is_untouched_loss, lost.untouched_cause, lost.lost_to) == (True, "no_plan", rival)


@pytest.mark.parametrize(("days_before", "untouched"), [(91, True), (90, False), (89, False)])
def test_an_engaged_loss_is_untouched_when_the_last_done_visit_is_beyond_the_lookback(
    org, frozen, days_before, untouched
):
    opportunity = opportunity_at("needs", org.rep_a1, furthest="needs")
    VisitFactory(account=opportunity.account, status="done", done_at=NOW - timedelta(days=days_before), planned_at=None)
    VisitFactory(account=opportunity.account, planned_at=NOW - timedelta(days=10))  # planned, never done
    VisitFactory(status="done", done_at=NOW - timedelta(days=1), planned_at=None)  # at another account
    cause = "visited_before" if untouched else ""

    lost = lose_opportunity(
        opportunity=opportunity, lost_by=org.rep_a1, reason="price", lost_to=CompetitorFactory(), untouched_cause=cause
    )

    assert (lost.is_untouched_loss, lost.untouched_cause) == (untouched, cause)


def test_the_lookback_comes_from_the_setting(org, frozen, settings):
    settings.SALESFLOW_UNTOUCHED_LOOKBACK_DAYS = 30
    opportunity = opportunity_at("needs", org.rep_a1)
    VisitFactory(account=opportunity.account, status="done", done_at=NOW - timedelta(days=31), planned_at=None)
    lost = lose_opportunity(
        opportunity=opportunity,
        lost_by=org.rep_a1,
        reason="price",
        lost_to=CompetitorFactory(),
        untouched_cause="no_plan",
    )
    assert lost.is_untouched_loss is True


def test_a_loss_without_lost_to_is_never_untouched(org):
    opportunity = opportunity_at("prep", org.rep_a1)
    lost = lose_opportunity(opportunity=opportunity, lost_by=org.rep_a1, reason="no_decision")
    assert (lost.is_untouched_loss, lost.untouched_cause) == (False, "")


def test_an_untouched_cause_on_a_touched_loss_is_refused(org, frozen):
    opportunity = opportunity_at("needs", org.rep_a1)
    VisitFactory(account=opportunity.account, status="done", done_at=NOW - timedelta(days=5), planned_at=None)
    with pytest.raises(ValidationFailed) as refused:
        lose_opportunity(
            opportunity=opportunity,
            lost_by=org.rep_a1,
            reason="price",
            lost_to=CompetitorFactory(),
            untouched_cause="no_plan",
        )
    assert refused.value.field == "untouched_cause"
    assert_still_open(opportunity, stage="needs")


def test_an_untouched_cause_must_come_from_the_list(org):
    opportunity = opportunity_at("prep", org.rep_a1)
    with pytest.raises(ValidationFailed) as refused:
        lose_opportunity(
            opportunity=opportunity,
            lost_by=org.rep_a1,
            reason="price",
            lost_to=CompetitorFactory(),
            untouched_cause="bad_weather",
        )
    assert refused.value.field == "untouched_cause"
    assert_still_open(opportunity, stage="prep")


def test_a_closed_opportunity_cannot_be_lost(org):
    opportunity = opportunity_at("close", org.rep_a1, status="won", closed_at=NOW)
    with pytest.raises(InvalidMove):
        lose_opportunity(opportunity=opportunity, lost_by=org.rep_a1, reason="price")
    assert Opportunity.objects.get(pk=opportunity.pk).status == "won"


# --- reopen ----------------------------------------------------------------------------------------------------------


def lost_opportunity(org) -> Opportunity:
    opportunity = opportunity_at("prep", org.rep_a1)
    return lose_opportunity(
        opportunity=opportunity,
        lost_by=org.rep_a1,
        reason="price",
        lost_to=CompetitorFactory(),
        untouched_cause="no_plan",
        note="贵",
    )


def test_a_rep_may_not_reopen_and_nothing_is_written(org):
    opportunity = lost_opportunity(org)

    with pytest.raises(NotAllowed) as refused:
        reopen_opportunity(opportunity=opportunity, reopened_by=org.rep_a1)

    assert refused.value.status == 403
    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert (fresh.status, fresh.version, fresh.is_untouched_loss) == ("lost", 2, True)
    assert changes(opportunity) == []


@pytest.mark.parametrize("reopener", ["manager_a", "director"])
def test_a_manager_or_director_reopens_a_loss_at_its_stage_clearing_the_loss(org, frozen, reopener):
    opportunity = lost_opportunity(org)
    user = getattr(org, reopener)

    reopened = reopen_opportunity(opportunity=opportunity, reopened_by=user)

    assert (reopened.status, reopened.stage.code, reopened.closed_at, reopened.probability, reopened.version) == (
        "open",
        "prep",
        None,
        5,
        3,
    )
    assert (reopened.loss_reason, reopened.lost_to, reopened.loss_note) == ("", None, "")
    assert (reopened.is_untouched_loss, reopened.untouched_cause) == (False, "")
    change = StageChange.objects.get(opportunity=opportunity)
    assert (change.from_stage.code, change.to_stage.code, change.changed_by, change.changed_at) == (
        "prep",
        "prep",
        user,
        NOW,
    )


def test_reopening_a_win_returns_to_the_closing_stage_and_cancels_planned_follow_ups(org, frozen):
    opportunity = satisfy_exit_criteria(opportunity_at("close", org.rep_a1), "close")
    win_opportunity(opportunity=opportunity, won_by=org.rep_a1)

    reopened = reopen_opportunity(opportunity=opportunity, reopened_by=org.manager_a)

    assert (reopened.status, reopened.stage.code, reopened.furthest_stage.code, reopened.closed_at) == (
        "open",
        "close",
        "implement",
        None,
    )
    assert changes(opportunity) == [("close", "implement"), ("implement", "close")]
    assert set(Visit.objects.filter(opportunity=opportunity).values_list("status", flat=True)) == {"cancelled"}


def test_an_open_opportunity_cannot_be_reopened(org):
    opportunity = opportunity_at("prep", org.rep_a1)
    with pytest.raises(InvalidMove):
        reopen_opportunity(opportunity=opportunity, reopened_by=org.director)
    assert_still_open(opportunity, stage="prep")
