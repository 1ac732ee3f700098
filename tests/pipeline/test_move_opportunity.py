from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from core.errors import ExitCriteriaNotMet, InvalidMove, NotVisible, OverrideNotAllowed, StaleVersion
from pipeline.models import Opportunity, StageChange
from pipeline.services.moves import move_opportunity
from pipeline.services.opportunities import update_opportunity
from tests.factories import OpportunityFactory, default_stage, satisfy_exit_criteria

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 14, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def opportunity_at(code: str, owner, **fields) -> Opportunity:
    return OpportunityFactory(owner=owner, stage=default_stage(code), **fields)


def assert_unchanged(opportunity: Opportunity, *, stage: str, version: int = 1) -> None:
    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert (fresh.stage.code, fresh.version) == (stage, version)
    assert not StageChange.objects.filter(opportunity=opportunity).exists()


def test_moves_forward_when_the_stage_criteria_are_met_and_records_the_change(org, time_machine):
    time_machine.move_to(NOW, tick=False)
    opportunity = satisfy_exit_criteria(opportunity_at("prep", org.rep_a1), "prep")

    moved = move_opportunity(opportunity=opportunity, to_stage_code="status", moved_by=org.rep_a1)

    assert moved is opportunity
    assert (moved.stage.code, moved.furthest_stage.code, moved.probability, moved.version) == (
        "status",
        "status",
        10,
        2,
    )
    assert moved.stage_entered_at == NOW
    change = StageChange.objects.get(opportunity=opportunity)
    assert (change.from_stage.code, change.to_stage.code, change.changed_by, change.changed_at) == (
        "prep",
        "status",
        org.rep_a1,
        NOW,
    )
    assert (change.override_reason, change.is_backfill) == ("", False)


def test_refuses_to_move_forward_with_unmet_criteria_and_writes_nothing(org):
    opportunity = opportunity_at("prep", org.rep_a1)

    with pytest.raises(ExitCriteriaNotMet) as refused:
        move_opportunity(opportunity=opportunity, to_stage_code="status", moved_by=org.rep_a1)

    assert [(u.stage_code, u.code) for u in refused.value.unmet] == [
        ("prep", "visit_purpose"),
        ("prep", "visit_planned"),
    ]
    assert (refused.value.status, refused.value.field) == (400, "stage")
    assert_unchanged(opportunity, stage="prep")


@pytest.mark.parametrize(
    ("language", "labels", "message"),
    [
        ("en", ["Visit purpose written", "A visit is planned"], "Visit purpose written; A visit is planned"),
        ("zh-hans", ["已写明拜访目的", "已计划拜访"], "已写明拜访目的; 已计划拜访"),
    ],
)
def test_a_refused_move_names_every_unmet_criterion_in_the_users_language(org, language, labels, message):
    org.rep_a1.language = language
    org.rep_a1.save()
    opportunity = opportunity_at("prep", org.rep_a1)

    with translation.override("en" if language != "en" else "zh-hans"):  # the request's language does not matter
        with pytest.raises(ExitCriteriaNotMet) as refused:
            move_opportunity(opportunity=opportunity, to_stage_code="status", moved_by=org.rep_a1)
        as_dict = refused.value.as_dict()

    assert [u["label"] for u in as_dict["unmet"]] == labels
    assert [u["code"] for u in as_dict["unmet"]] == ["visit_purpose", "visit_planned"]
    assert all(u["reason"] for u in as_dict["unmet"])
    assert message in as_dict["message"]
    assert (as_dict["field"], as_dict["code"]) == ("stage", "exit_criteria_not_met")


@pytest.mark.parametrize("overrider", ["manager_a", "director"])
def test_a_manager_or_director_overrides_unmet_criteria_with_a_reason_that_is_kept(org, overrider):
    opportunity = opportunity_at("prep", org.rep_a1)
    user = getattr(org, overrider)

    moved = move_opportunity(
        opportunity=opportunity, to_stage_code="status", moved_by=user, override_reason="  客户总经理已当面确认  "
    )

    assert (moved.stage.code, moved.version) == ("status", 2)
    change = StageChange.objects.get(opportunity=opportunity)
    assert (change.changed_by, change.override_reason) == (user, "客户总经理已当面确认")


def test_a_manager_without_a_reason_is_refused_like_anyone(org):
    opportunity = opportunity_at("prep", org.rep_a1)
    with pytest.raises(ExitCriteriaNotMet):
        move_opportunity(opportunity=opportunity, to_stage_code="status", moved_by=org.manager_a, override_reason=" ")
    assert_unchanged(opportunity, stage="prep")


def test_a_rep_may_not_override_and_nothing_is_written(org):
    opportunity = opportunity_at("prep", org.rep_a1)

    with pytest.raises(OverrideNotAllowed) as refused:
        move_opportunity(
            opportunity=opportunity, to_stage_code="status", moved_by=org.rep_a1, override_reason="trust me"
        )

    assert (refused.value.field, refused.value.status) == ("override_reason", 400)
    assert_unchanged(opportunity, stage="prep")


def test_an_override_reason_is_not_kept_when_nothing_needed_overriding(org):
    opportunity = satisfy_exit_criteria(opportunity_at("prep", org.rep_a1), "prep")
    move_opportunity(opportunity=opportunity, to_stage_code="status", moved_by=org.manager_a, override_reason="x")
    assert StageChange.objects.get(opportunity=opportunity).override_reason == ""


def test_moves_backward_without_criteria_and_keeps_the_furthest_stage(org):
    opportunity = opportunity_at("needs", org.rep_a1, probability=55)

    moved = move_opportunity(opportunity=opportunity, to_stage_code="status", moved_by=org.rep_a1)

    assert (moved.stage.code, moved.furthest_stage.code, moved.probability, moved.version) == (
        "status",
        "needs",
        10,
        2,
    )
    change = StageChange.objects.get(opportunity=opportunity)
    assert (change.from_stage.code, change.to_stage.code) == ("needs", "status")


def test_skipping_a_stage_needs_the_criteria_of_every_skipped_stage(org):
    opportunity = satisfy_exit_criteria(opportunity_at("prep", org.rep_a1), "prep", "opportunity")

    with pytest.raises(ExitCriteriaNotMet) as refused:
        move_opportunity(opportunity=opportunity, to_stage_code="needs", moved_by=org.rep_a1)

    assert [(u.stage_code, u.code) for u in refused.value.unmet] == [
        ("status", "visit_completed"),
        ("status", "current_situation"),
        ("status", "key_contact_named"),
    ]
    assert_unchanged(opportunity, stage="prep")


def test_skipping_stages_with_all_their_criteria_met_is_one_change(org):
    opportunity = satisfy_exit_criteria(opportunity_at("prep", org.rep_a1), "prep", "status", "opportunity")

    moved = move_opportunity(opportunity=opportunity, to_stage_code="needs", moved_by=org.rep_a1)

    assert (moved.stage.code, moved.furthest_stage.code, moved.probability) == ("needs", "needs", 30)
    assert list(
        StageChange.objects.filter(opportunity=opportunity).values_list("from_stage__code", "to_stage__code")
    ) == [("prep", "needs")]


def test_the_criteria_of_the_target_stage_are_not_needed_to_enter_it(org):
    opportunity = satisfy_exit_criteria(opportunity_at("commit", org.rep_a1), "commit")
    moved = move_opportunity(opportunity=opportunity, to_stage_code="close", moved_by=org.rep_a1)
    assert (moved.stage.code, moved.probability) == ("close", 100)


def test_a_stale_expected_version_is_refused_and_nothing_is_written(org):
    opportunity = satisfy_exit_criteria(opportunity_at("prep", org.rep_a1), "prep")

    with pytest.raises(StaleVersion) as refused:
        move_opportunity(opportunity=opportunity, to_stage_code="status", moved_by=org.rep_a1, expected_version=0)

    assert (refused.value.status, refused.value.field) == (409, "version")
    assert_unchanged(opportunity, stage="prep")


def test_a_stale_instance_is_refused_after_someone_else_moved_the_opportunity(org):
    opportunity = satisfy_exit_criteria(opportunity_at("prep", org.rep_a1), "prep", "status")
    loaded_by_the_manager = Opportunity.objects.get(pk=opportunity.pk)
    move_opportunity(opportunity=opportunity, to_stage_code="status", moved_by=org.rep_a1)

    with pytest.raises(StaleVersion):
        move_opportunity(opportunity=loaded_by_the_manager, to_stage_code="opportunity", moved_by=org.manager_a)

    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert (fresh.stage.code, fresh.version) == ("status", 2)
    assert StageChange.objects.filter(opportunity=opportunity).count() == 1


def test_the_current_version_as_expected_version_is_accepted(org):
    opportunity = satisfy_exit_criteria(opportunity_at("prep", org.rep_a1), "prep")
    moved = move_opportunity(opportunity=opportunity, to_stage_code="status", moved_by=org.rep_a1, expected_version=1)
    assert moved.version == 2


@pytest.mark.parametrize("status", ["won", "lost"])
def test_a_closed_opportunity_cannot_be_moved(org, status):
    opportunity = opportunity_at(
        "close", org.rep_a1, status=status, closed_at=NOW, loss_reason="price" if status == "lost" else ""
    )

    with pytest.raises(InvalidMove) as refused:
        move_opportunity(opportunity=opportunity, to_stage_code="commit", moved_by=org.manager_a)

    assert refused.value.field == "stage"
    assert_unchanged(opportunity, stage="close")


def test_an_open_opportunity_cannot_be_moved_to_after_sales_without_a_win(org):
    opportunity = satisfy_exit_criteria(opportunity_at("close", org.rep_a1), "close")
    with pytest.raises(InvalidMove):
        move_opportunity(opportunity=opportunity, to_stage_code="implement", moved_by=org.director, override_reason="x")
    assert_unchanged(opportunity, stage="close")


def test_an_unknown_stage_is_refused(org):
    opportunity = opportunity_at("prep", org.rep_a1)
    with pytest.raises(InvalidMove):
        move_opportunity(opportunity=opportunity, to_stage_code="nirvana", moved_by=org.rep_a1)
    assert_unchanged(opportunity, stage="prep")


def test_moving_to_the_current_stage_writes_nothing(org):
    opportunity = opportunity_at("status", org.rep_a1)
    moved = move_opportunity(opportunity=opportunity, to_stage_code="status", moved_by=org.rep_a1)
    assert moved.version == 1
    assert_unchanged(opportunity, stage="status")


def test_a_user_who_cannot_see_the_opportunity_gets_not_found(org):
    opportunity = satisfy_exit_criteria(opportunity_at("prep", org.rep_a1), "prep")
    for outsider in (org.rep_a2, org.manager_b):
        with pytest.raises(NotVisible) as refused:
            move_opportunity(opportunity=opportunity, to_stage_code="status", moved_by=outsider)
        assert refused.value.status == 404
    assert_unchanged(opportunity, stage="prep")


def test_a_probability_override_sticks_until_the_next_stage_change(org):
    opportunity = satisfy_exit_criteria(opportunity_at("prep", org.rep_a1), "prep", "status")

    update_opportunity(opportunity=opportunity, changed_by=org.rep_a1, probability=15)
    assert Opportunity.objects.get(pk=opportunity.pk).probability == 15
    update_opportunity(opportunity=opportunity, changed_by=org.rep_a1, name="换个名字")
    assert Opportunity.objects.get(pk=opportunity.pk).probability == 15

    moved = move_opportunity(opportunity=opportunity, to_stage_code="status", moved_by=org.rep_a1)
    assert (moved.probability, moved.version) == (10, 4)
