"""Every change of an opportunity or an account is recorded, field by field, with who, when, old and new value, in the
transaction of the change: plain edits, moves, wins, losses, reopenings, reassignments, bulk handovers and imports.
A closed opportunity's amount changes only by a director who says why."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, AccountChange
from accounts.services import create_account
from core.errors import NotAllowed, StaleVersion, ValidationFailed
from pipeline.importing.accounts import import_accounts
from pipeline.models import Opportunity, OpportunityChange
from pipeline.services.accounts import edit_account
from pipeline.services.moves import lose_opportunity, move_opportunity, reopen_opportunity, win_opportunity
from pipeline.services.opportunities import set_criterion_value, update_opportunity
from pipeline.services.reassignment import hand_over_accounts, reassign_opportunity
from tests.factories import (
    AccountFactory,
    CompetitorFactory,
    IndustryFactory,
    OpportunityFactory,
    RegionFactory,
    default_stage,
    satisfy_exit_criteria,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 5, 20, 11, 0, tzinfo=SHANGHAI)
NOW_UTC = "2025-05-20T03:00:00+00:00"


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def history(record) -> list[tuple]:
    """(field, old, new, by, reason) of each history row of an opportunity or account, oldest first."""
    rows = record.changes.order_by("at", "id")
    return [(row.field, row.old, row.new, row.by_id, row.reason) for row in rows]


def ref(row) -> dict:
    return {"id": row.pk, "label": str(row)}


def won(owner, **fields) -> Opportunity:
    return OpportunityFactory(owner=owner, stage=default_stage("implement"), status="won", closed_at=NOW, **fields)


# --- a closed opportunity's amount -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rep_a1", "manager_a"])
def test_only_a_director_may_change_a_won_opportunitys_amount_and_nothing_is_written(org, role):
    opportunity = won(org.rep_a1, amount=Decimal("500000.00"))

    with pytest.raises(NotAllowed) as refused:
        update_opportunity(opportunity=opportunity, changed_by=getattr(org, role), amount=Decimal("1.00"))

    assert (refused.value.status, refused.value.field) == (403, "amount" if role == "manager_a" else None)
    assert Opportunity.objects.values_list("amount", "version").get(pk=opportunity.pk) == (Decimal("500000.00"), 1)
    assert OpportunityChange.objects.count() == 0


def test_a_director_changes_a_won_opportunitys_amount_only_with_a_reason(org):
    opportunity = won(org.rep_a1, amount=Decimal("500000.00"))

    with pytest.raises(ValidationFailed) as refused:
        update_opportunity(
            opportunity=opportunity, changed_by=org.director, amount=Decimal("450000"), change_reason=" "
        )
    assert refused.value.field == "change_reason"
    assert (Opportunity.objects.get(pk=opportunity.pk).amount, OpportunityChange.objects.count()) == (
        Decimal("500000.00"),
        0,
    )

    update_opportunity(
        opportunity=opportunity, changed_by=org.director, amount=Decimal("450000"), change_reason="合同补充协议降价"
    )

    assert Opportunity.objects.get(pk=opportunity.pk).amount == Decimal("450000.00")
    change = OpportunityChange.objects.get()
    assert (change.field, change.old, change.new, change.by, change.reason, change.at) == (
        "amount",
        "500000.00",
        "450000.00",
        org.director,
        "合同补充协议降价",
        NOW,
    )


def test_a_manager_may_still_edit_a_closed_opportunitys_other_fields_sending_its_amount_back(org):
    opportunity = won(org.rep_a1, amount=Decimal("500000.00"), name="旧")

    update_opportunity(opportunity=opportunity, changed_by=org.manager_a, name="新", amount=Decimal("500000"))

    assert history(opportunity) == [("name", "旧", "新", org.manager_a.pk, "")]


# --- plain edits, moves and outcomes -----------------------------------------------------------------------------


def test_an_edit_records_one_row_per_changed_field_and_none_for_unchanged_ones(org):
    kept, added = CompetitorFactory(), CompetitorFactory()
    opportunity = OpportunityFactory(owner=org.rep_a1, name="打印机", amount=Decimal("100000"), source="referral")
    opportunity.competitors.set([kept])

    update_opportunity(
        opportunity=opportunity,
        changed_by=org.rep_a1,
        name="打印机",
        amount=Decimal("120000.5"),
        expected_close_date=date(2025, 9, 30),
        source="referral",
        probability=40,
        competitors=[added, kept],
    )

    assert history(opportunity) == [
        ("amount", "100000.00", "120000.50", org.rep_a1.pk, ""),
        ("expected_close_date", None, "2025-09-30", org.rep_a1.pk, ""),
        ("probability", default_stage("prep").probability, 40, org.rep_a1.pk, ""),
        ("competitors", [ref(kept)], sorted([ref(kept), ref(added)], key=lambda r: r["id"]), org.rep_a1.pk, ""),
    ]


def test_a_refused_write_records_nothing(org):
    opportunity = OpportunityFactory(owner=org.rep_a1, name="第一版")
    update_opportunity(opportunity=opportunity, changed_by=org.rep_a1, name="第二版")

    with pytest.raises(StaleVersion):
        update_opportunity(opportunity=opportunity, changed_by=org.rep_a1, expected_version=1, name="第三版")

    assert history(opportunity) == [("name", "第一版", "第二版", org.rep_a1.pk, "")]


def test_moving_winning_and_reopening_record_stage_status_probability_and_closing(org):
    opportunity = satisfy_exit_criteria(
        OpportunityFactory(owner=org.rep_a1),
        "prep",
        "status",
        "opportunity",
        "needs",
        "develop",
        "propose",
        "commit",
        "close",
    )
    prep, status, close, implement = (default_stage(code) for code in ("prep", "status", "close", "implement"))

    opportunity = move_opportunity(opportunity=opportunity, to_stage_code="status", moved_by=org.rep_a1)
    opportunity = move_opportunity(opportunity=opportunity, to_stage_code="close", moved_by=org.rep_a1)
    opportunity = win_opportunity(opportunity=opportunity, won_by=org.rep_a1)
    reopen_opportunity(opportunity=opportunity, reopened_by=org.manager_a)

    rep, manager = org.rep_a1.pk, org.manager_a.pk
    assert close.probability == 100  # so neither the win nor the reopening changes the probability
    assert history(opportunity) == [
        ("stage", ref(prep), ref(status), rep, ""),
        ("probability", prep.probability, status.probability, rep, ""),
        ("stage", ref(status), ref(close), rep, ""),
        ("probability", status.probability, 100, rep, ""),
        ("forecast_category", "pipeline", "commit", rep, ""),  # the closing stage's default
        ("status", "open", "won", rep, ""),
        ("closed_at", None, NOW_UTC, rep, ""),
        ("stage", ref(close), ref(implement), rep, ""),
        ("status", "won", "open", manager, ""),
        ("closed_at", NOW_UTC, None, manager, ""),
        ("stage", ref(implement), ref(close), manager, ""),
    ]


def test_losing_records_status_closing_and_the_loss_fields(org):
    competitor = CompetitorFactory()
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))

    lose_opportunity(opportunity=opportunity, lost_by=org.rep_a1, reason="price", note="  便宜15% ", lost_to=None)

    assert [row[:3] for row in history(opportunity)] == [
        ("status", "open", "lost"),
        ("closed_at", None, NOW_UTC),
        ("probability", default_stage("needs").probability, 0),
        ("loss_reason", "", "price"),
        ("loss_note", "", "便宜15%"),
    ]
    assert competitor.pk  # a competitor existed but was not named: lost_to stays empty and unrecorded


def test_a_manual_criterion_is_recorded_under_its_code(org):
    opportunity = OpportunityFactory(owner=org.rep_a1)

    opportunity = set_criterion_value(
        opportunity=opportunity, code="visit_purpose", value="介绍方案", changed_by=org.rep_a1
    )
    set_criterion_value(opportunity=opportunity, code="visit_purpose", value="", changed_by=org.rep_a1)

    assert [row[:3] for row in history(opportunity)] == [
        ("criteria_values.visit_purpose", None, "介绍方案"),
        ("criteria_values.visit_purpose", "介绍方案", None),
    ]


def test_reassigning_an_opportunity_records_its_owner_by_id_and_name(org):
    opportunity = OpportunityFactory(owner=org.rep_a1)

    reassign_opportunity(opportunity=opportunity, to_owner=org.rep_a2, reassigned_by=org.manager_a)

    assert history(opportunity) == [
        ("owner", ref(org.rep_a1), {"id": org.rep_a2.pk, "label": org.rep_a2.display_name}, org.manager_a.pk, "")
    ]


# --- accounts --------------------------------------------------------------------------------------------------------


def test_an_account_edit_records_every_changed_field_and_the_owner_with_its_open_opportunities(org):
    old_industry, new_industry, region = IndustryFactory(), IndustryFactory(), RegionFactory()
    account = AccountFactory(owner=org.rep_a1, industry=old_industry, region=region, notes="", employee_count=120)
    opportunity = OpportunityFactory(owner=org.rep_a1, account=account)

    edit_account(
        account=account,
        changed_by=org.manager_a,
        owner=org.rep_a2,
        name=account.name,
        industry=new_industry,
        region=region,
        employee_count=350,
        notes="总部在浦东",
        is_target=True,
    )

    manager = org.manager_a.pk
    assert history(account) == [
        ("industry", ref(old_industry), ref(new_industry), manager, ""),
        ("employee_count", 120, 350, manager, ""),
        ("notes", "", "总部在浦东", manager, ""),
        ("is_target", False, True, manager, ""),
        ("target_since", None, "2025-05-20", manager, ""),
        ("owner", ref(org.rep_a1), ref(org.rep_a2), manager, ""),
    ]
    assert history(opportunity) == [("owner", ref(org.rep_a1), ref(org.rep_a2), manager, "")]


def test_naming_a_headquarters_records_that_it_became_one(org):
    headquarters = AccountFactory(owner=org.rep_a1)

    create_account(created_by=org.rep_a1, name="分公司", parent=headquarters)

    assert history(headquarters) == [("is_headquarters", False, True, org.rep_a1.pk, "")]


def handed_over(count: int, org) -> tuple[int, dict]:
    """Hands `count` accounts (each with an open opportunity) from rep_a1 to rep_a2; returns the queries it ran."""
    accounts = AccountFactory.create_batch(count, owner=org.rep_a1)
    for account in accounts:
        OpportunityFactory(owner=org.rep_a1, account=account)
    Account.objects.filter(pk__in=[a.pk for a in accounts]).update(owner=org.rep_a2)
    moves = {account.pk: (org.rep_a1.pk, org.rep_a2.pk) for account in accounts}
    with CaptureQueriesContext(connection) as queries:
        hand_over_accounts(moves=moves, reassigned_by=org.director, at=NOW)
    return len(queries), moves


def test_a_bulk_handover_records_one_row_per_account_and_opportunity_in_a_fixed_number_of_queries(org):
    few, _ = handed_over(3, org)
    many, moves = handed_over(30, org)

    assert many == few
    rows = AccountChange.objects.filter(account__in=moves).values_list("account", "field", "old", "new", "by", "at")
    expected_old, expected_new = ref(org.rep_a1), ref(org.rep_a2)
    assert sorted(rows) == sorted((pk, "owner", expected_old, expected_new, org.director.pk, NOW) for pk in moves)
    assert OpportunityChange.objects.filter(opportunity__account__in=moves, field="owner").count() == 30


def test_an_import_records_each_field_it_changes_and_the_owner_it_hands_over(org):
    old_region, new_region = RegionFactory(code="SH-PD", level=1), RegionFactory(code="SH-MH", level=1)
    headquarters = AccountFactory(owner=org.rep_a1, external_key="HQ", is_headquarters=True)
    account = AccountFactory(owner=org.rep_a1, external_key="K1", name="甲", region=old_region, notes="x")
    untouched = AccountFactory(owner=org.rep_a1, external_key="K2", name="乙")

    import_accounts(
        rows=[
            {"external_key": "K1", "name": "甲公司", "region": "SH-MH", "owner": "rep_a2", "parent_external_key": "HQ"},
            {"external_key": "K2", "name": "乙"},
        ],
        dry_run=False,
        default_owner=None,
        imported_by=org.director,
    )

    director = org.director.pk
    assert history(account) == [
        ("owner", ref(org.rep_a1), ref(org.rep_a2), director, ""),
        ("name", "甲", "甲公司", director, ""),
        ("parent", None, {"id": headquarters.pk, "label": headquarters.name}, director, ""),
        ("region", ref(old_region), ref(new_region), director, ""),
    ]
    assert (history(untouched), history(headquarters)) == ([], [])
