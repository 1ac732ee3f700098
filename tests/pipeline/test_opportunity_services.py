from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from core.errors import NotAllowed, NotVisible, StaleVersion, ValidationFailed
from pipeline.models import Opportunity, StageChange, Visit
from pipeline.services.opportunities import (
    create_opportunity,
    record_closed_opportunity,
    set_criterion_value,
    update_opportunity,
)
from tests.factories import AccountFactory, CompetitorFactory, OpportunityFactory, VisitFactory, default_stage

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 5, 20, 11, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def account(org):
    return AccountFactory(owner=org.rep_a1)


def path(opportunity) -> list[tuple[str | None, str, bool]]:
    return list(
        StageChange.objects.filter(opportunity=opportunity).values_list(
            "from_stage__code", "to_stage__code", "is_backfill"
        )
    )


# --- create ----------------------------------------------------------------------------------------------------------


def test_creates_an_open_opportunity_at_the_first_stage_with_its_first_stage_change(org, account):
    rival = CompetitorFactory()

    opportunity = create_opportunity(
        created_by=org.rep_a1,
        account=account,
        name=" 复印机更新 ",
        amount="120000.50",
        source="referral",
        competitors=[rival],
    )

    assert (opportunity.status, opportunity.stage.code, opportunity.furthest_stage.code) == ("open", "prep", "prep")
    assert (opportunity.name, opportunity.amount, opportunity.probability, opportunity.version) == (
        "复印机更新",
        Decimal("120000.50"),
        5,
        1,
    )
    assert (opportunity.owner, opportunity.pipeline.is_default, opportunity.created_at) == (org.rep_a1, True, NOW)
    assert (opportunity.stage_entered_at, opportunity.closed_at, opportunity.source) == (NOW, None, "referral")
    assert list(opportunity.competitors.all()) == [rival]
    change = StageChange.objects.get(opportunity=opportunity)
    assert (change.from_stage, change.to_stage.code, change.changed_by, change.changed_at) == (
        None,
        "prep",
        org.rep_a1,
        NOW,
    )


def test_creates_at_a_later_stage_with_that_stages_probability(org, account):
    opportunity = create_opportunity(created_by=org.manager_a, account=account, name="x", stage_code="needs")
    assert (opportunity.stage.code, opportunity.probability, opportunity.owner) == ("needs", 30, org.manager_a)
    assert path(opportunity) == [(None, "needs", False)]


@pytest.mark.parametrize("code", ["implement", "nowhere"])
def test_an_open_opportunity_is_not_created_past_the_closing_stage(org, account, code):
    with pytest.raises(ValidationFailed) as refused:
        create_opportunity(created_by=org.rep_a1, account=account, name="x", stage_code=code)
    assert refused.value.field == "stage"
    assert not Opportunity.objects.exists()


def test_a_rep_cannot_create_for_another_owner(org, account):
    with pytest.raises(ValidationFailed) as refused:
        create_opportunity(created_by=org.rep_a1, account=account, name="x", owner=org.rep_a2)
    assert refused.value.field == "owner"
    assert not Opportunity.objects.exists()


def test_a_manager_creates_for_a_rep_of_their_team(org, account):
    opportunity = create_opportunity(created_by=org.manager_a, account=account, name="x", owner=org.rep_a1)
    assert opportunity.owner == org.rep_a1


def test_creating_at_an_invisible_account_is_refused(org, account):
    with pytest.raises(NotVisible) as refused:
        create_opportunity(created_by=org.rep_b1, account=account, name="x")
    assert (refused.value.status, refused.value.field) == (404, "account")
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "  "}, "name"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"source": "aliens"}, "source"),
        ({"expected_close_date": "31/12/2025"}, "expected_close_date"),
        ({"competitors": [999999]}, "competitors"),
    ],
)
def test_bad_values_are_refused_by_field(org, account, fields, field):
    with pytest.raises(ValidationFailed) as refused:
        create_opportunity(created_by=org.rep_a1, account=account, **{"name": "x", **fields})
    assert refused.value.field == field
    assert not Opportunity.objects.exists()


def test_a_director_backfills_a_won_opportunity_through_every_stage(org, account):
    closed_at = NOW - timedelta(days=200)
    created_at = closed_at - timedelta(days=60)

    opportunity = record_closed_opportunity(
        created_by=org.director,
        account=account,
        owner=org.rep_a1,
        name="2024 项目",
        amount=Decimal("300000"),
        status="won",
        closed_at=closed_at,
        created_at=created_at,
    )

    assert (opportunity.status, opportunity.closed_at, opportunity.created_at, opportunity.probability) == (
        "won",
        closed_at,
        created_at,
        100,
    )
    assert (opportunity.stage.code, opportunity.furthest_stage.code) == ("implement", "implement")
    codes = ["prep", "status", "opportunity", "needs", "develop", "propose", "commit", "close", "implement"]
    assert path(opportunity) == [(None, "prep", True)] + [(a, b, True) for a, b in pairwise(codes)]
    times = list(StageChange.objects.filter(opportunity=opportunity).values_list("changed_at", flat=True))
    assert times == [created_at] + [closed_at] * 8
    assert not Visit.objects.exists()  # no follow-ups for history


def test_a_backfilled_loss_stops_at_its_stage_and_computes_the_untouched_flag(org, account):
    closed_at = NOW - timedelta(days=30)
    VisitFactory(account=account, status="done", done_at=closed_at - timedelta(days=100), planned_at=None)

    opportunity = record_closed_opportunity(
        created_by=org.director,
        account=account,
        name="丢单",
        stage_code="status",
        status="lost",
        closed_at=closed_at,
        loss_reason="relationship",
        lost_to=CompetitorFactory(),
    )

    assert (opportunity.status, opportunity.stage.code, opportunity.probability) == ("lost", "status", 0)
    assert (opportunity.is_untouched_loss, opportunity.untouched_cause, opportunity.loss_reason) == (
        True,
        "",
        "relationship",
    )
    assert opportunity.created_at == closed_at
    assert path(opportunity) == [(None, "prep", True), ("prep", "status", True)]


def test_a_backfilled_loss_needs_a_loss_reason(org, account):
    with pytest.raises(ValidationFailed) as refused:
        record_closed_opportunity(
            created_by=org.director, account=account, name="x", status="lost", closed_at=NOW - timedelta(1)
        )
    assert refused.value.field == "loss_reason"
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize("user", ["rep_a1", "manager_a"])
def test_only_a_director_backfills_history(org, account, user):
    with pytest.raises(ValidationFailed) as refused:
        record_closed_opportunity(
            created_by=getattr(org, user),
            account=account,
            name="x",
            status="won",
            closed_at=NOW - timedelta(days=10),
        )
    assert refused.value.field == "status"
    assert not Opportunity.objects.exists()
    assert not StageChange.objects.exists()


@pytest.mark.parametrize("closed_at", [None, NOW + timedelta(hours=1)])
def test_history_needs_a_past_closing_time(org, account, closed_at):
    with pytest.raises(ValidationFailed) as refused:
        record_closed_opportunity(created_by=org.director, account=account, name="x", status="won", closed_at=closed_at)
    assert refused.value.field == "closed_at"
    assert not Opportunity.objects.exists()


# --- update ----------------------------------------------------------------------------------------------------------


def test_updates_plain_fields_and_bumps_the_version(org, account):
    opportunity = OpportunityFactory(owner=org.rep_a1, account=account, stage=default_stage("needs"))
    rival = CompetitorFactory()

    updated = update_opportunity(
        opportunity=opportunity,
        changed_by=org.rep_a1,
        expected_version=1,
        name="新名字",
        amount=Decimal("88000"),
        expected_close_date="2025-09-30",
        source="event",
        competitors=[rival.pk],
        probability=35,
    )

    assert (updated.name, updated.amount, updated.expected_close_date, updated.source, updated.probability) == (
        "新名字",
        Decimal("88000"),
        date(2025, 9, 30),
        "event",
        35,
    )
    assert (updated.version, updated.stage.code, list(updated.competitors.all())) == (2, "needs", [rival])
    assert not StageChange.objects.filter(opportunity=opportunity).exists()


def test_a_stale_update_writes_nothing(org, account):
    opportunity = OpportunityFactory(owner=org.rep_a1, account=account, name="旧")
    with pytest.raises(StaleVersion):
        update_opportunity(opportunity=opportunity, changed_by=org.rep_a1, expected_version=0, name="新")
    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert (fresh.name, fresh.version) == ("旧", 1)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"stage": "close"}, "stage"),
        ({"status": "won"}, "status"),
        ({"probability": 101}, "probability"),
        ({"probability": -1}, "probability"),
        ({"probability": "50"}, "probability"),
    ],
)
def test_only_plain_fields_with_valid_values_can_be_updated(org, account, fields, field):
    opportunity = OpportunityFactory(owner=org.rep_a1, account=account)
    with pytest.raises(ValidationFailed) as refused:
        update_opportunity(opportunity=opportunity, changed_by=org.rep_a1, **fields)
    assert refused.value.field == field
    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert (fresh.version, fresh.probability, fresh.status, fresh.stage.code) == (1, 5, "open", "prep")


def test_a_rep_may_not_edit_a_closed_opportunity_but_a_manager_may_edit_all_but_its_amount(org, account):
    opportunity = OpportunityFactory(
        owner=org.rep_a1, account=account, stage=default_stage("implement"), status="won", closed_at=NOW
    )
    with pytest.raises(NotAllowed):
        update_opportunity(opportunity=opportunity, changed_by=org.rep_a1, name="新名称")
    assert Opportunity.objects.get(pk=opportunity.pk).name == opportunity.name

    update_opportunity(opportunity=opportunity, changed_by=org.manager_a, name="新名称", amount=Decimal("100000"))
    assert Opportunity.objects.values_list("name", "amount").get(pk=opportunity.pk) == ("新名称", Decimal("100000"))


def test_an_invisible_opportunity_cannot_be_updated(org, account):
    opportunity = OpportunityFactory(owner=org.rep_a1, account=account, name="旧")
    with pytest.raises(NotVisible):
        update_opportunity(opportunity=opportunity, changed_by=org.rep_b1, name="新")
    assert Opportunity.objects.get(pk=opportunity.pk).name == "旧"


# --- manual criteria -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "value", "stored"),
    [
        ("problem_acknowledged", True, True),
        ("visit_purpose", "  介绍方案 ", "介绍方案"),
        ("purchase_date_agreed", date(2025, 7, 1), "2025-07-01"),
        ("purchase_date_agreed", "2025-07-01", "2025-07-01"),
    ],
)
def test_stores_a_manual_criterion_value_in_its_json_form(org, account, code, value, stored):
    opportunity = OpportunityFactory(owner=org.rep_a1, account=account)
    updated = set_criterion_value(opportunity=opportunity, code=code, value=value, changed_by=org.rep_a1)
    assert (updated.criteria_values, updated.version) == ({code: stored}, 2)


def test_clearing_a_manual_criterion_removes_its_value(org, account):
    opportunity = OpportunityFactory(owner=org.rep_a1, account=account, criteria_values={"visit_purpose": "x"})
    updated = set_criterion_value(opportunity=opportunity, code="visit_purpose", value="", changed_by=org.rep_a1)
    assert updated.criteria_values == {}


@pytest.mark.parametrize(
    ("code", "value", "field"),
    [
        ("problem_acknowledged", "yes", "problem_acknowledged"),
        ("visit_purpose", 3, "visit_purpose"),
        ("purchase_date_agreed", "next week", "purchase_date_agreed"),
        ("visit_planned", True, "code"),  # automatic: computed, never typed
        ("made_up", True, "code"),
    ],
)
def test_a_manual_criterion_value_of_the_wrong_kind_is_refused(org, account, code, value, field):
    opportunity = OpportunityFactory(owner=org.rep_a1, account=account)
    with pytest.raises(ValidationFailed) as refused:
        set_criterion_value(opportunity=opportunity, code=code, value=value, changed_by=org.rep_a1)
    assert refused.value.field == field
    fresh = Opportunity.objects.get(pk=opportunity.pk)
    assert (fresh.criteria_values, fresh.version) == ({}, 1)
