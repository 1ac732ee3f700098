"""The visits endpoint: plan, log a done visit (back-fill windows), edit, complete and cancel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from pipeline.models import Visit
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, VisitFactory

pytestmark = pytest.mark.django_db


def snapshot() -> list[dict]:
    return list(Visit.objects.order_by("pk").values())


def iso(moment) -> str:
    return moment.isoformat()


def test_a_rep_plans_a_visit_at_their_account(api, org):
    account = AccountFactory(owner=org.rep_a1)
    contact = ContactFactory(account=account)
    when = timezone.now() + timedelta(days=2)
    response = api(org.rep_a1).post(
        "/api/v1/visits/",
        {"account": account.pk, "contact": contact.pk, "planned_at": iso(when), "purpose": "Present the offer"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["owner"], body["contact"], body["purpose"], body["done_at"]) == (
        "planned",
        org.rep_a1.pk,
        contact.pk,
        "Present the offer",
        None,
    )
    assert Visit.objects.get().planned_at == when


def test_a_manager_plans_a_visit_for_a_rep_of_the_team(api, org):
    account = AccountFactory(owner=org.rep_a1)
    response = api(org.manager_a).post(
        "/api/v1/visits/",
        {"account": account.pk, "owner": org.rep_a1.pk, "planned_at": iso(timezone.now() + timedelta(days=1))},
    )
    assert (response.status_code, response.json()["owner"]) == (201, org.rep_a1.pk)


def test_a_rep_logs_a_done_visit_up_to_30_days_back_with_the_opportunitys_stage(api, org, stage):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=stage("needs"))
    done_at = timezone.now() - timedelta(days=30)
    response = api(org.rep_a1).post(
        "/api/v1/visits/",
        {
            "account": opportunity.account_id,
            "opportunity": opportunity.pk,
            "status": "done",
            "kind": "demo",
            "done_at": iso(done_at),
            "summary": "Demo went well",
            "satisfaction": 9,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["kind"], body["stage_when_done"], body["satisfaction"]) == ("done", "demo", "needs", 9)


@pytest.mark.parametrize(
    ("user", "days_back", "status"),
    [("rep_a1", 31, 400), ("manager_a", 31, 400), ("director", 31, 201), ("director", 3650, 201)],
)
def test_only_a_director_logs_a_done_visit_further_back_than_30_days(api, org, user, days_back, status):
    account = AccountFactory(owner=org.rep_a1)
    response = api(getattr(org, user)).post(
        "/api/v1/visits/",
        {"account": account.pk, "status": "done", "done_at": iso(timezone.now() - timedelta(days=days_back))},
    )
    assert response.status_code == status, response.json()
    if status == 400:
        assert list(response.json()) == ["done_at", "detail", "code"]
        assert snapshot() == []
    else:
        assert Visit.objects.get().done_at.date() == (timezone.now() - timedelta(days=days_back)).date()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"satisfaction": 11, "status": "done", "done_at": "now"}, "satisfaction"),
        ({"satisfaction": -1, "status": "done", "done_at": "now"}, "satisfaction"),
        ({"satisfaction": "great", "status": "done", "done_at": "now"}, "satisfaction"),
        ({"kind": "lunch"}, "kind"),
        ({"status": "cancelled"}, "status"),
        ({"planned_at": "tomorrow"}, "planned_at"),
        ({"planned_at": None}, "planned_at"),
        ({"contact": 999999}, "contact"),
        ({"opportunity": 999999}, "opportunity"),
        ({"owner": 999999}, "owner"),
        ({"account": 999999}, "account"),
        ({"account": "first"}, "account"),
        ({"summary": "done before it happened"}, "summary"),
        ({"status": "done", "done_at": "future"}, "done_at"),
        ({"status": "done"}, "done_at"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(api, org, changes, field):
    account = AccountFactory(owner=org.rep_a1)
    changes = {
        key: iso(timezone.now() - timedelta(hours=1))
        if value == "now"
        else iso(timezone.now() + timedelta(days=1))
        if value == "future"
        else value
        for key, value in changes.items()
    }
    body = {"account": account.pk, "planned_at": iso(timezone.now() + timedelta(days=1)), **changes}
    if body.get("status") == "done":
        body.pop("planned_at")
    response = api(org.rep_a1).post("/api/v1/visits/", body)
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == []


def test_a_visit_on_an_account_you_cannot_see_is_refused_and_nothing_is_written(api, org):
    account = AccountFactory(owner=org.rep_b1)
    response = api(org.rep_a1).post(
        "/api/v1/visits/", {"account": account.pk, "planned_at": iso(timezone.now() + timedelta(days=1))}
    )
    assert (response.status_code, response.json()["code"], "account" in response.json()) == (
        400,
        "does_not_exist",
        True,
    )
    assert snapshot() == []


def test_a_contact_of_another_account_is_refused(api, org):
    account = AccountFactory(owner=org.rep_a1)
    elsewhere = ContactFactory(account=AccountFactory(owner=org.rep_a1))
    response = api(org.rep_a1).post(
        "/api/v1/visits/",
        {"account": account.pk, "contact": elsewhere.pk, "planned_at": iso(timezone.now() + timedelta(days=1))},
    )
    assert (response.status_code, list(response.json())) == (400, ["contact", "detail", "code"])
    assert snapshot() == []


def test_a_visit_in_the_past_cannot_be_planned(api, org):
    account = AccountFactory(owner=org.rep_a1)
    response = api(org.rep_a1).post(
        "/api/v1/visits/", {"account": account.pk, "planned_at": iso(timezone.now() - timedelta(days=2))}
    )
    assert (response.status_code, list(response.json())) == (400, ["planned_at", "detail", "code"])
    assert snapshot() == []


def test_completing_a_visit_records_the_outcome_and_plans_the_next_one(api, org):
    visit = VisitFactory(account=AccountFactory(owner=org.rep_a1))
    next_at = timezone.now() + timedelta(days=7)
    response = api(org.rep_a1).post(
        f"/api/v1/visits/{visit.pk}/complete/",
        {
            "summary": "Agreed on a demo",
            "next_step": "Send the agenda",
            "satisfaction": 8,
            "next_visit_at": iso(next_at),
            "next_visit_purpose": "Demo",
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["summary"], body["next_step"], body["satisfaction"]) == (
        "done",
        "Agreed on a demo",
        "Send the agenda",
        8,
    )
    assert Visit.objects.filter(status="planned", planned_at=next_at, purpose="Demo").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "summary"),
        ({"summary": "   "}, "summary"),
        ({"summary": "ok", "satisfaction": 11}, "satisfaction"),
        ({"summary": "ok", "done_at": "2000-01-01T00:00:00+08:00"}, "done_at"),
        ({"summary": "ok", "next_visit_at": "2000-01-01T00:00:00+08:00"}, "next_visit_at"),
    ],
)
def test_a_refused_completion_names_the_field_and_writes_nothing(api, org, body, field):
    visit = VisitFactory(account=AccountFactory(owner=org.rep_a1))
    before = snapshot()
    response = api(org.rep_a1).post(f"/api/v1/visits/{visit.pk}/complete/", body)
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


def test_a_visit_is_completed_only_once(api, org):
    visit = VisitFactory(account=AccountFactory(owner=org.rep_a1))
    client = api(org.rep_a1)
    assert client.post(f"/api/v1/visits/{visit.pk}/complete/", {"summary": "First"}).status_code == 200
    before = snapshot()
    again = client.post(f"/api/v1/visits/{visit.pk}/complete/", {"summary": "Second"})
    assert (again.status_code, list(again.json())) == (400, ["status", "detail", "code"])
    assert snapshot() == before


def test_cancelling_a_planned_visit(api, org):
    visit = VisitFactory(account=AccountFactory(owner=org.rep_a1))
    response = api(org.rep_a1).post(f"/api/v1/visits/{visit.pk}/cancel/")
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")


def test_a_plain_update_changes_the_text_and_refuses_the_status(api, org):
    visit = VisitFactory(account=AccountFactory(owner=org.rep_a1))
    client = api(org.rep_a1)
    response = client.patch(f"/api/v1/visits/{visit.pk}/", {"purpose": "Bring samples", "kind": "demo"})
    assert (response.status_code, response.json()["purpose"], response.json()["kind"]) == (200, "Bring samples", "demo")
    before = snapshot()
    for field, value in [("status", "done"), ("owner", org.rep_a2.pk), ("done_at", iso(timezone.now()))]:
        refused = client.patch(f"/api/v1/visits/{visit.pk}/", {field: value, "purpose": "Changed"})
        assert (refused.status_code, list(refused.json())) == (400, [field, "detail", "code"])
    assert client.patch(f"/api/v1/visits/{visit.pk}/", {"satisfaction": 11}).status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "done"}, ["done"]),
        ({"kind": "phone"}, ["planned"]),
        ({"ordering": "created_at"}, ["planned", "done"]),
    ],
)
def test_visits_filter_and_order(api, org, query, expected):
    account = AccountFactory(owner=org.rep_a1)
    VisitFactory(account=account, kind="phone")
    VisitFactory(account=account, status="done", planned_at=None, done_at=timezone.now())
    response = api(org.rep_a1).get("/api/v1/visits/", query)
    assert [row["status"] for row in response.json()["results"]] == expected


def test_moving_a_planned_visit_into_the_past_is_refused_like_planning_it(api, org):
    visit = VisitFactory(account=AccountFactory(owner=org.rep_a1))
    before = snapshot()
    response = api(org.rep_a1).patch(
        f"/api/v1/visits/{visit.pk}/", {"planned_at": iso(timezone.now() - timedelta(days=3))}
    )
    assert (response.status_code, next(iter(response.json()))) == (400, "planned_at")
    assert snapshot() == before


def test_a_director_back_fills_a_done_visit_for_a_rep(api, org):
    account = AccountFactory(owner=org.rep_a1)
    done_at = timezone.now() - timedelta(days=400)
    response = api(org.director).post(
        "/api/v1/visits/",
        {"account": account.pk, "owner": org.rep_a1.pk, "status": "done", "done_at": iso(done_at), "summary": "Old"},
    )
    assert (response.status_code, response.json()["owner"]) == (201, org.rep_a1.pk)
    assert Visit.objects.get().done_at == done_at


def test_a_rep_cannot_log_a_done_visit_for_someone_else(api, org):
    account = AccountFactory(owner=org.rep_a1)
    response = api(org.rep_a1).post(
        "/api/v1/visits/",
        {"account": account.pk, "owner": org.rep_a2.pk, "status": "done", "done_at": iso(timezone.now())},
    )
    assert (response.status_code, next(iter(response.json()))) == (400, "owner")
    assert not Visit.objects.exists()


# --- cost ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", ["own account", "account seen through an opportunity"])
def test_planning_a_visit_answers_what_reading_it_back_shows_in_few_queries(
    api, org, visibility, django_assert_num_queries
):
    """The account is looked up once through the visibility rule, the visit written and answered as written; the
    service asks the database again only when the account is not the planner's own (here: another rep's account,
    visible through the planner's opportunity at it)."""
    if visibility == "own account":
        account = AccountFactory(owner=org.rep_a1)
    else:
        account = AccountFactory(owner=org.rep_a2)
        OpportunityFactory(owner=org.rep_a1, account=account)
    client = api(org.rep_a1)
    body = {"account": account.pk, "planned_at": iso(timezone.now() + timedelta(days=2)), "purpose": "Demo"}

    # account lookup, savepoint, insert, release; plus the visibility check for someone else's account
    with django_assert_num_queries(4 if visibility == "own account" else 5):
        response = client.post("/api/v1/visits/", body)

    assert response.status_code == 201, response.json()
    assert response.json() == client.get(f"/api/v1/visits/{response.json()['id']}/").json()


def test_logging_a_done_visit_answers_what_reading_it_back_shows(api, org, stage):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=stage("needs"))
    client = api(org.rep_a1)

    response = client.post(
        "/api/v1/visits/",
        {
            "account": opportunity.account_id,
            "opportunity": opportunity.pk,
            "status": "done",
            "done_at": iso(timezone.now() - timedelta(days=1)),
            "summary": "Went well",
            "satisfaction": 8,
        },
    )

    assert response.status_code == 201, response.json()
    assert response.json() == client.get(f"/api/v1/visits/{response.json()['id']}/").json()
    assert response.json()["stage_when_done"] == "needs"
