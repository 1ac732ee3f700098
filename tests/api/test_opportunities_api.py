"""The opportunities endpoint: create, update under the optimistic lock, refused fields, and every action."""

from decimal import Decimal

import pytest

from pipeline.criteria import evaluate_stage_criteria
from pipeline.models import Opportunity, Reassignment, StageChange, Visit
from tests.factories import AccountFactory, CompetitorFactory, OpportunityFactory, VisitFactory

pytestmark = pytest.mark.django_db


def snapshot(opportunity: Opportunity) -> dict:
    """Everything stored about an opportunity, to show that a refused request wrote nothing."""
    return {
        "row": Opportunity.objects.filter(pk=opportunity.pk).values().get(),
        "competitors": sorted(opportunity.competitors.values_list("pk", flat=True)),
        "stage_changes": StageChange.objects.filter(opportunity=opportunity).count(),
        "visits": Visit.objects.filter(opportunity=opportunity).count(),
        "reassignments": Reassignment.objects.count(),
    }


# --- create ---------------------------------------------------------------------------------------------------------


def test_a_rep_creates_an_open_opportunity_at_the_first_stage_of_the_default_pipeline(api, org):
    account = AccountFactory(owner=org.rep_a1)
    competitor = CompetitorFactory()
    response = api(org.rep_a1).post(
        "/api/v1/opportunities/",
        {"account": account.pk, "name": "New plant", "amount": "250000.00", "competitors": [competitor.pk]},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    opportunity = Opportunity.objects.get()
    assert (body["id"], body["pipeline"], body["stage"], body["status"]) == (opportunity.pk, "b2b", "prep", "open")
    assert (body["owner"], body["amount"], body["version"], body["competitors"]) == (
        org.rep_a1.pk,
        "250000.00",
        1,
        [competitor.pk],
    )
    assert [c["code"] for c in body["unmet_criteria"]] == ["visit_purpose", "visit_planned"]
    assert StageChange.objects.filter(opportunity=opportunity, from_stage=None, is_backfill=False).count() == 1


def test_a_manager_creates_an_opportunity_for_a_rep_of_the_team_at_a_later_stage(api, org):
    account = AccountFactory(owner=org.rep_a1)
    response = api(org.manager_a).post(
        "/api/v1/opportunities/", {"account": account.pk, "name": "Upgrade", "owner": org.rep_a1.pk, "stage": "needs"}
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["owner"], response.json()["stage"], response.json()["probability"]) == (
        org.rep_a1.pk,
        "needs",
        30,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "-1.00"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "1234567890123.00"}, "amount"),
        ({"name": ""}, "name"),
        ({"name": ["a list"]}, "name"),
        ({"stage": "no-such-stage"}, "stage"),
        ({"stage": "implement"}, "stage"),
        ({"pipeline": "no-such-pipeline"}, "pipeline"),
        ({"expected_close_date": "next week"}, "expected_close_date"),
        ({"source": "gossip"}, "source"),
        ({"competitors": [999999]}, "competitors"),
        ({"competitors": "1"}, "competitors"),
        ({"owner": 999999}, "owner"),
        ({"account": 999999}, "account"),
        ({"account": "one"}, "account"),
        ({"lost_to": 999999}, "lost_to"),
        ({"closed_at": "2024-01-01T00:00:00+08:00"}, "closed_at"),
    ],
)
def test_bad_input_on_create_is_refused_naming_the_field_and_nothing_is_written(api, org, changes, field):
    account = AccountFactory(owner=org.rep_a1)
    response = api(org.rep_a1).post("/api/v1/opportunities/", {"account": account.pk, "name": "Deal", **changes})
    assert response.status_code == 400
    assert field in response.json()
    assert response.json()["detail"]
    assert (Opportunity.objects.count(), StageChange.objects.count()) == (0, 0)


def test_a_rep_cannot_create_an_opportunity_owned_by_someone_else(api, org):
    account = AccountFactory(owner=org.rep_a1)
    response = api(org.rep_a1).post(
        "/api/v1/opportunities/", {"account": account.pk, "name": "Deal", "owner": org.rep_a2.pk}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["owner", "detail", "code"]
    assert Opportunity.objects.count() == 0


def test_an_opportunity_at_an_account_you_cannot_see_is_refused_naming_the_account(api, org):
    account = AccountFactory(owner=org.rep_b1)
    response = api(org.rep_a1).post("/api/v1/opportunities/", {"account": account.pk, "name": "Deal"})
    assert response.status_code == 400
    assert response.json()["code"] == "does_not_exist"
    assert "account" in response.json()
    assert Opportunity.objects.count() == 0


# --- update ---------------------------------------------------------------------------------------------------------


def test_an_update_with_the_current_version_applies_and_bumps_the_version(api, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    response = api(org.rep_a1).patch(
        f"/api/v1/opportunities/{opportunity.pk}/", {"amount": "300000.00", "probability": 15, "version": 1}
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["amount"], response.json()["probability"], response.json()["version"]) == (
        "300000.00",
        15,
        2,
    )
    opportunity.refresh_from_db()
    assert (opportunity.amount, opportunity.version) == (Decimal("300000.00"), 2)


def test_an_update_without_a_version_applies_to_the_current_version(api, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, version=7)
    response = api(org.rep_a1).patch(f"/api/v1/opportunities/{opportunity.pk}/", {"name": "Renamed"})
    assert (response.status_code, response.json()["name"], response.json()["version"]) == (200, "Renamed", 8)


def test_a_stale_version_answers_409_and_writes_nothing(api, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, version=3)
    before = snapshot(opportunity)
    response = api(org.rep_a1).patch(
        f"/api/v1/opportunities/{opportunity.pk}/", {"amount": "1.00", "competitors": [], "version": 2}
    )
    assert response.status_code == 409
    assert (response.json()["code"], list(response.json())) == ("stale_version", ["version", "detail", "code"])
    assert snapshot(opportunity) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "won"),
        ("closed_at", "2025-01-01T00:00:00+08:00"),
        ("furthest_stage", "close"),
        ("is_untouched_loss", True),
        ("stage", "needs"),
        ("loss_reason", "price"),
        ("untouched_cause", "no_plan"),
        ("pipeline", "other"),
        ("criteria_values", {"visit_purpose": "x"}),
    ],
)
def test_a_plain_update_refuses_fields_that_only_actions_or_history_set(api, org, field, value):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    before = snapshot(opportunity)
    response = api(org.rep_a1).patch(f"/api/v1/opportunities/{opportunity.pk}/", {field: value, "amount": "1.00"})
    assert response.status_code == 400
    assert list(response.json()) == [field, "detail", "code"]
    assert snapshot(opportunity) == before


def test_sending_back_the_representation_unchanged_is_accepted(api, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    client = api(org.rep_a1)
    shown = client.get(f"/api/v1/opportunities/{opportunity.pk}/").json()
    response = client.put(f"/api/v1/opportunities/{opportunity.pk}/", {**shown, "name": "Same deal, new name"})
    assert response.status_code == 200, response.json()
    assert (response.json()["name"], response.json()["stage"], response.json()["version"]) == (
        "Same deal, new name",
        "prep",
        2,
    )


def test_a_rep_cannot_give_an_opportunity_to_someone_else_by_an_update(api, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    before = snapshot(opportunity)
    response = api(org.rep_a1).patch(f"/api/v1/opportunities/{opportunity.pk}/", {"owner": org.rep_a2.pk})
    assert response.status_code == 400
    assert "owner" in response.json()
    assert snapshot(opportunity) == before


def test_a_manager_reassigns_by_updating_the_owner(api, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    response = api(org.manager_a).patch(
        f"/api/v1/opportunities/{opportunity.pk}/", {"owner": org.rep_a2.pk, "version": 1}
    )
    assert (response.status_code, response.json()["owner"]) == (200, org.rep_a2.pk)
    assert Reassignment.objects.filter(opportunity=opportunity, to_owner=org.rep_a2).count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "-5.00"}, "amount"),
        ({"probability": 101}, "probability"),
        ({"probability": "high"}, "probability"),
        ({"version": "latest"}, "version"),
        ({"competitors": [123456]}, "competitors"),
        ({"expected_close_date": "2025-02-30"}, "expected_close_date"),
    ],
)
def test_bad_input_on_update_is_refused_naming_the_field_and_nothing_is_written(api, org, changes, field):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    before = snapshot(opportunity)
    response = api(org.rep_a1).patch(f"/api/v1/opportunities/{opportunity.pk}/", changes)
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot(opportunity) == before


# --- move -----------------------------------------------------------------------------------------------------------


def test_a_refused_move_lists_every_unmet_criterion_by_code_and_label_and_writes_nothing(api, org, stage):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    before = snapshot(opportunity)
    response = api(org.rep_a1).post(f"/api/v1/opportunities/{opportunity.pk}/move/", {"stage": "status"})
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], "stage" in body) == ("exit_criteria_not_met", True)
    expected = [
        {"stage": "prep", "code": r.code, "label": r.label, "reason": r.reason}
        for r in evaluate_stage_criteria(opportunity=opportunity, stage=stage("prep"))
        if not r.met
    ]
    assert body["unmet"] == expected
    assert [item["code"] for item in body["unmet"]] == ["visit_purpose", "visit_planned"]
    assert snapshot(opportunity) == before


def test_a_move_passes_once_the_criteria_are_met(api, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, criteria_values={"visit_purpose": "Introduce ourselves"})
    VisitFactory(account=opportunity.account)
    response = api(org.rep_a1).post(f"/api/v1/opportunities/{opportunity.pk}/move/", {"stage": "status", "version": 1})
    assert response.status_code == 200, response.json()
    assert (response.json()["stage"], response.json()["furthest_stage"], response.json()["version"]) == (
        "status",
        "status",
        2,
    )
    assert StageChange.objects.filter(opportunity=opportunity, to_stage__code="status").count() == 1


def test_a_manager_overrides_unmet_criteria_with_a_reason_that_is_kept(api, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    response = api(org.manager_a).post(
        f"/api/v1/opportunities/{opportunity.pk}/move/", {"stage": "status", "override_reason": "Met at the fair"}
    )
    assert (response.status_code, response.json()["stage"]) == (200, "status")
    assert StageChange.objects.get(opportunity=opportunity, to_stage__code="status").override_reason == (
        "Met at the fair"
    )


@pytest.mark.parametrize(
    ("user", "body", "field"),
    [
        ("rep_a1", {"stage": "status", "override_reason": "Trust me"}, "override_reason"),
        ("rep_a1", {"stage": "unknown"}, "stage"),
        ("rep_a1", {"stage": ""}, "stage"),
        ("rep_a1", {"stage": 12}, "stage"),
        ("manager_a", {}, "stage"),
        ("manager_a", {"stage": "status", "version": 0}, "version"),
    ],
)
def test_a_refused_move_names_the_field_and_writes_nothing(api, org, user, body, field):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    before = snapshot(opportunity)
    response = api(getattr(org, user)).post(f"/api/v1/opportunities/{opportunity.pk}/move/", body)
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot(opportunity) == before


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("move", {"stage": "status", "override_reason": "ok"}),
        ("win", {}),
        ("lose", {"reason": "price"}),
        ("criteria", {"code": "visit_purpose", "value": "x"}),
        ("reassign", {"owner": "rep_a2"}),
    ],
)
def test_an_action_with_a_stale_version_answers_409_and_writes_nothing(api, org, stage, name, body):
    opportunity = OpportunityFactory(
        owner=org.rep_a1, stage=stage("close"), criteria_values={"contract_signed": True}, version=5
    )
    before = snapshot(opportunity)
    body = {key: getattr(org, value).pk if key == "owner" else value for key, value in body.items()}
    response = api(org.manager_a).post(f"/api/v1/opportunities/{opportunity.pk}/{name}/", {**body, "version": 4})
    assert (response.status_code, response.json()["code"]) == (409, "stale_version")
    assert snapshot(opportunity) == before


# --- win, lose, reopen, reassign, criteria --------------------------------------------------------------------------


def test_winning_closes_the_opportunity_moves_it_to_after_sales_and_plans_follow_ups(api, org, stage):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=stage("close"), criteria_values={"contract_signed": True})
    response = api(org.rep_a1).post(f"/api/v1/opportunities/{opportunity.pk}/win/", {"version": 1})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["stage"], body["probability"], body["closed_at"] is not None) == (
        "won",
        "implement",
        100,
        True,
    )
    assert Visit.objects.filter(opportunity=opportunity, kind="follow_up", status="planned").count() == 2


def test_winning_without_the_closing_criteria_lists_them_and_writes_nothing(api, org, stage):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=stage("close"))
    before = snapshot(opportunity)
    response = api(org.rep_a1).post(f"/api/v1/opportunities/{opportunity.pk}/win/")
    assert response.status_code == 400
    assert [(u["stage"], u["code"]) for u in response.json()["unmet"]] == [("close", "contract_signed")]
    assert snapshot(opportunity) == before


def test_losing_records_the_reason_competitor_and_note(api, org, stage):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=stage("needs"))
    VisitFactory(account=opportunity.account, status="done", planned_at=None, done_at=opportunity.created_at)
    competitor = CompetitorFactory()
    response = api(org.rep_a1).post(
        f"/api/v1/opportunities/{opportunity.pk}/lose/",
        {"reason": "price", "lost_to": competitor.pk, "note": "15% cheaper"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["loss_reason"], body["lost_to"], body["loss_note"], body["is_untouched_loss"]) == (
        "lost",
        "price",
        competitor.pk,
        "15% cheaper",
        False,
    )


def test_an_untouched_loss_needs_its_cause(api, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)  # still at prep: the customer was never engaged
    competitor = CompetitorFactory()
    url = f"/api/v1/opportunities/{opportunity.pk}/lose/"
    client = api(org.rep_a1)
    before = snapshot(opportunity)
    refused = client.post(url, {"reason": "relationship", "lost_to": competitor.pk})
    assert (refused.status_code, "untouched_cause" in refused.json()) == (400, True)
    assert snapshot(opportunity) == before
    response = client.post(url, {"reason": "relationship", "lost_to": competitor.pk, "untouched_cause": "no_plan"})
    assert (response.status_code, response.json()["is_untouched_loss"], response.json()["untouched_cause"]) == (
        200,
        True,
        "no_plan",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": "bad luck"}, "reason"),
        ({"reason": "price", "lost_to": 999999}, "lost_to"),
        ({"reason": "price", "untouched_cause": "laziness"}, "untouched_cause"),
        ({"reason": "price", "untouched_cause": "no_plan"}, "untouched_cause"),
    ],
)
def test_a_refused_loss_names_the_field_and_writes_nothing(api, org, body, field):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    before = snapshot(opportunity)
    response = api(org.rep_a1).post(f"/api/v1/opportunities/{opportunity.pk}/lose/", body)
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot(opportunity) == before


def test_a_manager_reopens_a_lost_opportunity_and_a_rep_may_not(api, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    api(org.rep_a1).post(f"/api/v1/opportunities/{opportunity.pk}/lose/", {"reason": "timing"})
    opportunity.refresh_from_db()
    before = snapshot(opportunity)
    refused = api(org.rep_a1).post(f"/api/v1/opportunities/{opportunity.pk}/reopen/")
    assert (refused.status_code, refused.json()["code"]) == (403, "not_allowed")
    assert snapshot(opportunity) == before
    response = api(org.manager_a).post(f"/api/v1/opportunities/{opportunity.pk}/reopen/")
    assert (response.status_code, response.json()["status"], response.json()["loss_reason"]) == (200, "open", "")


def test_a_manager_reassigns_to_a_rep_of_the_team_but_not_to_another_team(api, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    url = f"/api/v1/opportunities/{opportunity.pk}/reassign/"
    before = snapshot(opportunity)
    refused = api(org.manager_a).post(url, {"owner": org.rep_b1.pk})
    assert (refused.status_code, "owner" in refused.json()) == (400, True)
    assert snapshot(opportunity) == before
    response = api(org.manager_a).post(url, {"owner": org.rep_a2.pk})
    assert (response.status_code, response.json()["owner"]) == (200, org.rep_a2.pk)


def test_filling_in_a_manual_criterion_removes_it_from_the_unmet_list(api, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    response = api(org.rep_a1).post(
        f"/api/v1/opportunities/{opportunity.pk}/criteria/", {"code": "visit_purpose", "value": "Introduce the plan"}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["criteria_values"] == {"visit_purpose": "Introduce the plan"}
    assert [c["code"] for c in response.json()["unmet_criteria"]] == ["visit_planned"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "no_such_criterion", "value": True}, "code"),
        ({"code": "account_profile_complete", "value": True}, "code"),
        ({"code": "problem_acknowledged", "value": "yes"}, "value"),
        ({"code": "purchase_date_agreed", "value": "soon"}, "value"),
        ({"value": True}, "code"),
        ({"code": "visit_purpose"}, "value"),
    ],
)
def test_a_refused_criterion_value_names_the_field_and_writes_nothing(api, org, body, field):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    before = snapshot(opportunity)
    response = api(org.rep_a1).post(f"/api/v1/opportunities/{opportunity.pk}/criteria/", body)
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot(opportunity) == before


# --- reading --------------------------------------------------------------------------------------------------------


def test_the_list_shows_the_same_unmet_criteria_as_the_detail(api, org, stage):
    first = OpportunityFactory(owner=org.rep_a1, criteria_values={"visit_purpose": "Intro"})
    second = OpportunityFactory(owner=org.rep_a1, stage=stage("develop"), amount=Decimal(0))
    client = api(org.rep_a1)
    listed = {row["id"]: row["unmet_criteria"] for row in client.get("/api/v1/opportunities/").json()["results"]}
    for opportunity in (first, second):
        assert listed[opportunity.pk] == client.get(f"/api/v1/opportunities/{opportunity.pk}/").json()["unmet_criteria"]
    assert [c["code"] for c in listed[second.pk]] == ["budget_set", "close_date_set"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"stage": "needs"}, ["b"]),
        ({"status": "open", "amount_min": "150"}, ["b"]),
        ({"search": "Alpha"}, ["a"]),
        ({"ordering": "-amount"}, ["b", "a"]),
        ({"ordering": "amount"}, ["a", "b"]),
    ],
)
def test_opportunities_filter_search_and_order(api, org, stage, query, expected):
    OpportunityFactory(owner=org.rep_a1, name="Alpha", amount=Decimal(100))
    OpportunityFactory(owner=org.rep_a1, name="Beta", stage=stage("needs"), amount=Decimal(200))
    response = api(org.rep_a1).get("/api/v1/opportunities/", query)
    assert [row["name"][0].lower() for row in response.json()["results"]] == expected


def test_a_malformed_filter_answers_400_naming_it(api, org):
    response = api(org.rep_a1).get("/api/v1/opportunities/", {"amount_min": "lots", "owner": "99999999999999999999"})
    assert response.status_code == 400
    assert {"amount_min", "owner"} <= set(response.json())
