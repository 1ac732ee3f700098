"""`GET /api/v1/{opportunities,accounts,targets}/{id}/history/`: newest first, paginated, with the record's
visibility; and the writes the history is there for (a closed opportunity's amount, targets) through the API."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pipeline.models import Opportunity, OpportunityChange, SalesTarget, TargetChange
from pipeline.services.opportunities import update_opportunity
from tests.factories import OpportunityFactory, SalesTargetFactory, default_stage

pytestmark = pytest.mark.django_db

ROLE_USER = {
    "owner": "rep_a1",
    "other_rep": "rep_a2",
    "owners_manager": "manager_a",
    "other_manager": "manager_b",
    "director": "director",
}
VISIBLE_TO = {"owner", "owners_manager", "director"}
RESOURCES = {"opportunities": "opportunity", "accounts": "account", "targets": "target"}


def rename_many(opportunity, user, times: int) -> None:
    for n in range(times):
        opportunity = update_opportunity(opportunity=opportunity, changed_by=user, name=f"第{n}版")


def test_the_history_lists_each_changed_field_newest_first_in_the_documented_shape(api, org, owned):
    client = api(org.rep_a1)
    client.patch(f"/api/v1/opportunities/{owned.opportunity.pk}/", {"name": "新名称", "amount": "120000.00"})
    client.patch(f"/api/v1/opportunities/{owned.opportunity.pk}/", {"probability": 35})

    body = client.get(f"/api/v1/opportunities/{owned.opportunity.pk}/history/").json()

    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    assert [(row["field"], row["old"], row["new"]) for row in body["results"]] == [
        ("probability", default_stage("prep").probability, 35),
        ("amount", "100000.00", "120000.00"),
        ("name", owned.opportunity.name, "新名称"),
    ]
    first = body["results"][0]
    assert set(first) == {"at", "by", "by_name", "field", "old", "new", "reason"}
    assert (first["by"], first["by_name"], first["reason"]) == (org.rep_a1.pk, org.rep_a1.display_name, "")
    assert first["at"] >= body["results"][-1]["at"]


def test_the_history_is_paginated_like_every_list(api, org, owned):
    rename_many(owned.opportunity, org.rep_a1, 5)
    url = f"/api/v1/opportunities/{owned.opportunity.pk}/history/"

    first = api(org.rep_a1).get(url, {"page_size": 2}).json()
    last = api(org.rep_a1).get(url, {"page_size": 2, "page": 3}).json()

    assert (first["count"], len(first["results"]), first["previous"]) == (5, 2, None)
    assert "page=2" in first["next"]
    assert [row["new"] for row in first["results"]] == ["第4版", "第3版"]
    assert ([row["new"] for row in last["results"]], last["next"]) == (["第0版"], None)


@pytest.mark.parametrize("role", ROLE_USER)
@pytest.mark.parametrize("resource", RESOURCES)
def test_the_history_has_the_visibility_of_its_record(api, org, owned, resource, role):
    record = getattr(owned, RESOURCES[resource])

    response = api(getattr(org, ROLE_USER[role])).get(f"/api/v1/{resource}/{record.pk}/history/")

    if role in VISIBLE_TO:
        assert (response.status_code, response.json()["count"]) == (200, 0)
    else:
        assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("pk", ["0", "abc", "99999999", str(2**63)])
def test_the_history_of_no_record_answers_404(api, org, pk):
    assert api(org.director).get(f"/api/v1/opportunities/{pk}/history/").status_code == 404


def queries_for_history(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("resource", RESOURCES)
def test_the_history_runs_three_queries_however_long_it_is(api, org, owned, resource, django_assert_num_queries):
    record = getattr(owned, RESOURCES[resource])
    client = api(org.director)
    url = f"/api/v1/{resource}/{record.pk}/history/"
    change = {
        "opportunities": lambda n: client.patch(f"/api/v1/opportunities/{record.pk}/", {"name": f"v{n}"}),
        "accounts": lambda n: client.patch(f"/api/v1/accounts/{record.pk}/", {"notes": f"v{n}"}),
        "targets": lambda n: client.patch(f"/api/v1/targets/{record.pk}/", {"amount": f"{n + 1}.00"}),
    }[resource]
    change(0)
    # visibility of the record, the count, the page with who made each change
    with django_assert_num_queries(3):
        client.get(url)
    for n in range(1, 30):
        change(n)
    with django_assert_num_queries(3):
        assert client.get(url).json()["count"] == 30


# --- the writes the history records ---------------------------------------------------------------------------------


def test_a_manager_patching_a_won_opportunitys_amount_is_refused_and_nothing_is_written(api, org):
    opportunity = OpportunityFactory(
        owner=org.rep_a1, stage=default_stage("implement"), status="won", closed_at=timezone.now()
    )

    response = api(org.manager_a).patch(f"/api/v1/opportunities/{opportunity.pk}/", {"amount": "1.00"})

    # A refusal naming its field answers 400 through the one exception handler; the service refused with 403.
    assert (response.status_code, response.json()["code"], "amount" in response.json()) == (400, "not_allowed", True)
    assert Opportunity.objects.values_list("amount", "version").get(pk=opportunity.pk) == (Decimal("100000.00"), 1)
    assert OpportunityChange.objects.count() == 0


def test_a_director_patches_a_won_opportunitys_amount_with_a_reason_and_the_history_shows_it(api, org):
    opportunity = OpportunityFactory(
        owner=org.rep_a1, stage=default_stage("implement"), status="won", closed_at=timezone.now()
    )
    client = api(org.director)

    without = client.patch(f"/api/v1/opportunities/{opportunity.pk}/", {"amount": "90000.00"})
    with_reason = client.patch(
        f"/api/v1/opportunities/{opportunity.pk}/", {"amount": "90000.00", "change_reason": "客户退回一台设备"}
    )

    assert (without.status_code, "change_reason" in without.json()) == (400, True)
    assert (with_reason.status_code, with_reason.json()["amount"]) == (200, "90000.00")
    row = client.get(f"/api/v1/opportunities/{opportunity.pk}/history/").json()["results"][0]
    assert (row["field"], row["old"], row["new"], row["by"], row["reason"]) == (
        "amount",
        "100000.00",
        "90000.00",
        org.director.pk,
        "客户退回一台设备",
    )


@pytest.mark.parametrize(
    ("actor", "body", "expected"),
    [
        ("manager_a", {"owner_user": "manager_a"}, 403),  # their own
        ("manager_a", {"owner_team": "team_a"}, 403),  # their team's
        ("manager_a", {"owner_user": "rep_a1"}, 201),  # their rep's
        ("manager_a", {"owner_user": "rep_b1"}, 400),  # another team's rep: not a user they can see
        ("manager_a", {"owner_team": "team_b"}, 400),  # another team: not one they manage
        ("rep_a1", {"owner_user": "rep_a1"}, 403),
        ("director", {"owner_team": "team_a"}, 201),
        ("director", {"owner_user": "manager_a"}, 201),
    ],
)
def test_creating_a_target_through_the_api_follows_the_role_rule(api, org, actor, body, expected):
    body = {key: getattr(org, value).pk for key, value in body.items()}

    response = api(getattr(org, actor)).post(
        "/api/v1/targets/", {"period_type": "month", "period_start": "2025-06-01", "amount": "1.00", **body}
    )

    assert response.status_code == expected, response.json()
    assert SalesTarget.objects.count() == (1 if expected == 201 else 0)
    if expected == 403:  # the service's reason; a rep is turned away before it, by the role permission
        assert response.json()["code"] == ("permission_denied" if actor == "rep_a1" else "not_allowed")


@pytest.mark.parametrize(
    ("whose", "expected"),
    [({"owner_user": "manager_a"}, 403), ({"owner_team": "team_a"}, 403), ({"owner_user": "rep_a1"}, 200)],
)
def test_a_manager_lowers_only_their_reps_targets_and_the_change_is_recorded(api, org, whose, expected):
    target = SalesTargetFactory(**{"owner_user": None, **{k: getattr(org, v) for k, v in whose.items()}})

    response = api(org.manager_a).patch(f"/api/v1/targets/{target.pk}/", {"amount": "1.00"})

    assert response.status_code == expected, response.json()
    changes = list(TargetChange.objects.values_list("target", "field", "old", "new", "by"))
    if expected == 200:
        assert changes == [(target.pk, "amount", "1000000.00", "1.00", org.manager_a.pk)]
    else:
        assert (changes, SalesTarget.objects.get(pk=target.pk).amount) == ([], Decimal("1000000.00"))
