"""Who sees and changes what, generated over every endpoint × role for list, retrieve, update and each action.

The rows belong to rep_a1 (the owner). The other rep is rep_a2, in the same team: teammates do not see each other's
rows. A row someone cannot see answers 404 (never 403 with data); a row they can see but whose role may not change
it answers 403.
"""

from dataclasses import dataclass, field

import pytest

from pipeline.models import Opportunity, Visit

pytestmark = pytest.mark.django_db

ROLES = ["owner", "other_rep", "owners_manager", "other_manager", "director"]
ROLE_USER = {
    "owner": "rep_a1",
    "other_rep": "rep_a2",
    "owners_manager": "manager_a",
    "other_manager": "manager_b",
    "director": "director",
}
OWNER_SIDE = {"owner", "owners_manager", "director"}
EVERYONE = set(ROLES)


@dataclass(frozen=True)
class Endpoint:
    path: str
    row: str  # how to find the row in the `owned`/`org` fixtures
    patch: dict
    visible_to: set = field(default_factory=lambda: OWNER_SIDE)
    writers: set = field(default_factory=lambda: EVERYONE)


ENDPOINTS = [
    Endpoint("accounts", "account", {"notes": "Met the buyer"}),
    Endpoint("contacts", "contact", {"title": "CTO"}),
    Endpoint("installed-base", "installed_base", {"units": 3}),
    Endpoint("account-years", "account_year", {"other_revenue": "1000.00"}),
    Endpoint("opportunities", "opportunity", {"amount": "5000.00"}),
    Endpoint("visits", "visit", {"purpose": "Bring the brochure"}),
    Endpoint("targets", "target", {"amount": "2000000.00"}, writers={"owners_manager", "other_manager", "director"}),
    Endpoint("users", "org.rep_a1", {"first_name": "A"}, writers={"director"}),
    Endpoint(
        "teams",
        "org.team_a",
        {"name": "Team East"},
        visible_to={"owner", "other_rep", "owners_manager", "director"},
        writers={"director"},
    ),
    Endpoint("competitors", "competitor", {"notes": "Cheap"}, visible_to=EVERYONE, writers={"director"}),
    Endpoint("regions", "account.region", {"name_en": "East"}, visible_to=EVERYONE, writers={"director"}),
    Endpoint("industries", "account.industry", {"name_en": "Retail"}, visible_to=EVERYONE, writers={"director"}),
    Endpoint("stages", "opportunity.stage", {"guidance_en": "Prepare well"}, visible_to=EVERYONE, writers={"director"}),
]


def row_of(endpoint: Endpoint, org, owned):
    source, _, path = endpoint.row.partition(".") if endpoint.row.startswith("org.") else ("owned", "", endpoint.row)
    obj = org if source == "org" else owned
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def endpoint_id(endpoint: Endpoint) -> str:
    return endpoint.path


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_a_list_shows_the_row_exactly_to_those_who_may_see_it(api, org, owned, endpoint, role):
    row = row_of(endpoint, org, owned)
    response = api(getattr(org, ROLE_USER[role])).get(f"/api/v1/{endpoint.path}/", {"page_size": 200})
    assert response.status_code == 200
    ids = {item["id"] for item in response.json()["results"]}
    assert (row.pk in ids) == (role in endpoint.visible_to)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_retrieving_the_row_answers_it_or_404(api, org, owned, endpoint, role):
    row = row_of(endpoint, org, owned)
    response = api(getattr(org, ROLE_USER[role])).get(f"/api/v1/{endpoint.path}/{row.pk}/")
    if role in endpoint.visible_to:
        assert (response.status_code, response.json()["id"]) == (200, row.pk)
    else:
        assert response.status_code == 404
        assert response.json() == {"detail": response.json()["detail"], "code": "not_found"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_updating_the_row_needs_visibility_then_a_role_that_may_write(api, org, owned, endpoint, role):
    row = row_of(endpoint, org, owned)
    before = type(row).objects.filter(pk=row.pk).values().get()
    response = api(getattr(org, ROLE_USER[role])).patch(f"/api/v1/{endpoint.path}/{row.pk}/", endpoint.patch)
    if role not in endpoint.visible_to:
        expected = 404
    elif role not in endpoint.writers:
        expected = 403
    else:
        expected = 200
    assert response.status_code == expected, response.json()
    after = type(row).objects.filter(pk=row.pk).values().get()
    if expected == 200:
        field, value = next(iter(endpoint.patch.items()))
        assert str(response.json()[field]) == str(value)
    else:
        assert after == before


# Each action with a body that the owner's side may send, and what each role then gets: 404 when the row is not
# visible, otherwise the service's answer (200, or its refusal for that role or state).
ACTIONS = [
    ("opportunities", "move", {"stage": "prep"}, {"owner": 200, "owners_manager": 200, "director": 200}),
    ("opportunities", "win", {}, {"owner": 400, "owners_manager": 400, "director": 400}),
    ("opportunities", "lose", {"reason": "price"}, {"owner": 200, "owners_manager": 200, "director": 200}),
    ("opportunities", "reopen", {}, {"owner": 403, "owners_manager": 400, "director": 400}),
    ("opportunities", "reassign", {"owner": "rep_a1"}, {"owner": 403, "owners_manager": 200, "director": 200}),
    (
        "opportunities",
        "criteria",
        {"code": "visit_purpose", "value": "Present the plan"},
        {"owner": 200, "owners_manager": 200, "director": 200},
    ),
    ("visits", "complete", {"summary": "Agreed on a demo"}, {"owner": 200, "owners_manager": 200, "director": 200}),
    ("visits", "cancel", {}, {"owner": 200, "owners_manager": 200, "director": 200}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("path", "name", "body", "outcome"), ACTIONS, ids=[f"{path}-{name}" for path, name, *_ in ACTIONS]
)
def test_each_action_answers_404_to_those_who_cannot_see_the_row(api, org, owned, path, name, body, outcome, role):
    row = owned.opportunity if path == "opportunities" else owned.visit
    body = {key: getattr(org, value).pk if key == "owner" else value for key, value in body.items()}
    model = Opportunity if path == "opportunities" else Visit
    before = model.objects.filter(pk=row.pk).values().get()
    response = api(getattr(org, ROLE_USER[role])).post(f"/api/v1/{path}/{row.pk}/{name}/", body)
    assert response.status_code == outcome.get(role, 404), response.json()
    if response.status_code != 200:
        assert model.objects.filter(pk=row.pk).values().get() == before
