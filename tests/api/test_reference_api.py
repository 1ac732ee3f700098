"""Reference data, users, teams, targets and stages: who writes them and what input they refuse."""

from datetime import date

import pytest
from django.utils import timezone

from accounts.models import Competitor, Industry, Region, Team, User
from pipeline.models import SalesTarget, Stage
from tests.factories import RegionFactory, SalesTargetFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "body", "model"),
    [
        ("competitors", {"name": "Rival Co"}, Competitor),
        ("industries", {"code": "retail", "name": "零售", "spend_per_employee": "800.00"}, Industry),
        ("regions", {"code": "EAST", "name": "华东", "level": 1}, Region),
        ("teams", {"name": "C"}, Team),
        ("users", {"username": "rep_c1", "role": "rep"}, User),
    ],
)
@pytest.mark.parametrize(("user", "status"), [("rep_a1", 403), ("manager_a", 403), ("director", 201)])
def test_only_a_director_adds_reference_data_users_and_teams(api, org, path, body, model, user, status):
    before = model.objects.count()
    response = api(getattr(org, user)).post(f"/api/v1/{path}/", body)
    assert response.status_code == status, response.json()
    assert model.objects.count() == before + (status == 201)
    if status == 403:
        assert (response.json()["code"], list(response.json())) == ("permission_denied", ["detail", "code"])


def test_a_user_created_through_the_api_cannot_sign_in_until_a_password_is_set(api, org):
    response = api(org.director).post("/api/v1/users/", {"username": "rep_c1", "role": "rep", "team": org.team_a.pk})
    assert (response.status_code, response.json()["team"], response.json()["language"]) == (
        201,
        org.team_a.pk,
        "zh-hans",
    )
    assert not User.objects.get(username="rep_c1").has_usable_password()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "rep_a1"}, "username"),
        ({"username": "x", "role": "king"}, "role"),
        ({"username": "x", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"username": "x", "team": 999999}, "team"),
        ({"username": "x", "language": "fr"}, "language"),
    ],
)
def test_bad_user_input_is_refused_naming_the_field(api, org, body, field):
    before = User.objects.count()
    response = api(org.director).post("/api/v1/users/", body)
    assert (response.status_code, field in response.json()) == (400, True)
    assert User.objects.count() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "SH", "name": "上海", "level": 2}, "parent"),
        ({"code": "SH", "name": "上海", "level": 1, "parent": "area"}, "parent"),
        ({"code": "SH", "name": "上海", "level": 3, "parent": "area"}, "parent"),
        ({"code": "SH", "name": "上海", "level": 4}, "level"),
        ({"code": "EAST", "name": "华东", "level": 1}, "code_errors"),
    ],
)
def test_a_region_sits_one_level_below_its_parent(api, org, body, field):
    area = RegionFactory(code="EAST", level=1)
    before = Region.objects.count()
    body = {k: area.pk if v == "area" else v for k, v in body.items()}
    response = api(org.director).post("/api/v1/regions/", body)
    assert (response.status_code, field in response.json()) == (400, True)
    assert Region.objects.count() == before
    ok = api(org.director).post("/api/v1/regions/", {"code": "SH", "name": "上海", "level": 2, "parent": area.pk})
    assert (ok.status_code, ok.json()["parent"]) == (201, area.pk)


def test_a_field_named_code_reports_its_errors_under_code_errors(api, org):
    RegionFactory(code="EAST", level=1)
    response = api(org.director).post("/api/v1/regions/", {"code": "EAST", "name": "华东", "level": 1})
    body = response.json()
    assert (response.status_code, body["code"], body["detail"] == body["code_errors"][0]) == (400, "unique", True)


def test_a_user_sees_only_the_teams_they_belong_to_or_manage(api, org):
    Team.objects.create(name="C")
    assert [t["name"] for t in api(org.rep_b1).get("/api/v1/teams/").json()["results"]] == ["B"]
    assert [t["name"] for t in api(org.director).get("/api/v1/teams/").json()["results"]] == ["A", "B", "C"]
    team_a = api(org.manager_a).get(f"/api/v1/teams/{org.team_a.pk}/").json()
    assert (team_a["manager"], sorted(team_a["members"])) == (
        org.manager_a.pk,
        sorted([org.manager_a.pk, org.rep_a1.pk, org.rep_a2.pk]),
    )


# --- targets --------------------------------------------------------------------------------------------------------


def test_a_manager_sets_targets_for_a_rep_and_a_director_for_the_team(api, org):
    month = timezone.localdate().replace(day=1)
    team_target = {"owner_team": org.team_a.pk, "period_type": "year", "period_start": f"{month.year}-01-01"}
    rep = api(org.manager_a).post(
        "/api/v1/targets/",
        {"owner_user": org.rep_a1.pk, "period_type": "month", "period_start": month.isoformat(), "amount": "500000"},
    )
    refused = api(org.manager_a).post("/api/v1/targets/", {**team_target, "amount": "1"})
    team = api(org.director).post("/api/v1/targets/", {**team_target, "amount": "9e6"})
    assert (rep.status_code, refused.status_code, team.status_code) == (201, 403, 201), (rep.json(), team.json())
    assert (team.json()["owner_user"], team.json()["period_end"], team.json()["amount"]) == (
        None,
        f"{month.year + 1}-01-01",
        "9000000.00",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"owner_user": "rep_b1"}, "owner_user"),
        ({"owner_team": "team_b"}, "owner_team"),
        ({"owner_user": "rep_a1", "owner_team": "team_a"}, "owner_user"),
        ({}, "owner_user"),
        ({"owner_user": "rep_a1", "period_start": "2025-03-15"}, "period_start"),
        ({"owner_user": "rep_a1", "amount": "-1"}, "amount"),
        ({"owner_user": "rep_a1", "period_type": "decade"}, "period_type"),
        ({"owner_user": "rep_a1", "period_start": "2025-01-01"}, "period_start"),
    ],
)
def test_bad_target_input_is_refused_naming_the_field(api, org, body, field):
    SalesTargetFactory(owner_user=org.rep_a1, period_type="month", period_start=date(2025, 1, 1))
    before = list(SalesTarget.objects.values())
    resolve = {"rep_a1": org.rep_a1.pk, "rep_b1": org.rep_b1.pk, "team_a": org.team_a.pk, "team_b": org.team_b.pk}
    body = {"period_type": "month", "period_start": "2025-03-01", "amount": "100", **body}
    response = api(org.manager_a).post("/api/v1/targets/", {k: resolve.get(v, v) for k, v in body.items()})
    assert (response.status_code, field in response.json()) == (400, True), response.json()
    assert list(SalesTarget.objects.values()) == before


def test_a_rep_reads_their_targets_but_cannot_set_any(api, org):
    SalesTargetFactory(owner_user=org.rep_a1)
    client = api(org.rep_a1)
    assert client.get("/api/v1/targets/").json()["count"] == 1
    response = client.post(
        "/api/v1/targets/",
        {"owner_user": org.rep_a1.pk, "period_type": "year", "period_start": "2030-01-01", "amount": 1},
    )
    assert response.status_code == 403
    assert SalesTarget.objects.count() == 1


# --- stages ---------------------------------------------------------------------------------------------------------


def test_stages_come_with_their_exit_criteria_in_order(api, org):
    response = api(org.rep_a1).get("/api/v1/stages/", {"pipeline": "b2b", "code": "prep"})
    (prep,) = response.json()["results"]
    assert (prep["order"], prep["probability"], prep["is_closing"]) == (1, 5, False)
    assert [(c["code"], c["kind"], c["input_type"]) for c in prep["criteria"]] == [
        ("account_profile_complete", "automatic", ""),
        ("visit_purpose", "manual", "text"),
        ("visit_planned", "automatic", ""),
    ]


def test_a_director_edits_a_stage_and_bad_values_are_refused(api, org, stage):
    prep = stage("prep")
    client = api(org.director)
    response = client.patch(f"/api/v1/stages/{prep.pk}/", {"guidance_en": "Prepare well", "probability": 7})
    assert (response.status_code, response.json()["probability"]) == (200, 7)
    before = list(Stage.objects.values())
    assert client.patch(f"/api/v1/stages/{prep.pk}/", {"probability": 101}).status_code == 400
    assert client.patch(f"/api/v1/stages/{prep.pk}/", {"order": 2}).status_code == 400  # taken by "status"
    assert api(org.manager_a).patch(f"/api/v1/stages/{prep.pk}/", {"probability": 9}).status_code == 403
    assert list(Stage.objects.values()) == before


def test_a_region_parent_id_beyond_what_the_database_holds_is_refused(api, org):
    response = api(org.director).post("/api/v1/regions/", {"code": "SH", "name": "上海", "level": 2, "parent": 2**70})
    assert (response.status_code, response.json()["code"]) == (400, "does_not_exist")
    assert Region.objects.count() == 0
