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


# Rows seen read-only (SPEC §1): rep_b1's account where the owner (rep_a1) has an opportunity, with its contact,
# installed base and figures, and rep_b1's visit at the owner's own account. The owner's side sees them and may not
# change them (403, nothing written); rep_b1's side (other_manager) and directors change them; the other rep does not
# see them (404).
READ_ONLY = {"owner": 403, "other_rep": 404, "owners_manager": 403, "other_manager": 200, "director": 200}


@pytest.fixture
def seen_through(org, owned):
    """Rows of rep_b1's side that rep_a1's side sees through rep_a1's opportunity or account."""
    from tests.factories import (
        AccountFactory,
        AccountYearFactory,
        ContactFactory,
        InstalledBaseFactory,
        OpportunityFactory,
        VisitFactory,
    )

    class SeenThrough:
        account = AccountFactory(owner=org.rep_b1)
        opportunity = OpportunityFactory(owner=org.rep_a1, account=account)
        contact = ContactFactory(account=account)
        installed_base = InstalledBaseFactory(account=account)
        account_year = AccountYearFactory(account=account)
        visit = VisitFactory(owner=org.rep_b1, account=owned.account)

    return SeenThrough


READ_ONLY_ENDPOINTS = [
    Endpoint("accounts", "account", {"notes": "Met the buyer"}),
    Endpoint("contacts", "contact", {"title": "CTO"}),
    Endpoint("installed-base", "installed_base", {"units": 3}),
    Endpoint("account-years", "account_year", {"other_revenue": "1000.00"}),
    Endpoint("visits", "visit", {"purpose": "Bring the brochure"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", READ_ONLY_ENDPOINTS, ids=endpoint_id)
def test_a_row_seen_read_only_is_listed_and_retrieved_but_not_changed(api, org, seen_through, endpoint, role):
    row = getattr(seen_through, endpoint.row)
    client = api(getattr(org, ROLE_USER[role]))
    before = type(row).objects.filter(pk=row.pk).values().get()

    listed = row.pk in {
        item["id"] for item in client.get(f"/api/v1/{endpoint.path}/", {"page_size": 200}).json()["results"]
    }
    retrieved = client.get(f"/api/v1/{endpoint.path}/{row.pk}/").status_code
    patched = client.patch(f"/api/v1/{endpoint.path}/{row.pk}/", endpoint.patch)

    visible = READ_ONLY[role] != 404
    assert (listed, retrieved) == (visible, 200 if visible else 404)
    assert patched.status_code == READ_ONLY[role], patched.json()
    if patched.status_code != 200:
        assert type(row).objects.filter(pk=row.pk).values().get() == before
        assert patched.json()["code"] == ("not_allowed" if visible else "not_found")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ["complete", "cancel"])
def test_a_visit_seen_read_only_is_neither_completed_nor_cancelled(api, org, seen_through, name, role):
    visit = seen_through.visit
    before = Visit.objects.filter(pk=visit.pk).values().get()

    response = api(getattr(org, ROLE_USER[role])).post(f"/api/v1/visits/{visit.pk}/{name}/", {"summary": "Agreed"})

    assert response.status_code == READ_ONLY[role], response.json()
    if response.status_code != 200:
        assert Visit.objects.filter(pk=visit.pk).values().get() == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("contacts", {"name": "王经理"}),
        ("installed-base", {"product": "MFP", "units": 1, "is_ours": True}),
        ("account-years", {"year": 2025, "other_revenue": "1.00"}),
    ],
)
@pytest.mark.parametrize("role", ["owner", "owners_manager"])
def test_nothing_is_added_to_an_account_seen_read_only(api, org, seen_through, path, body, role):
    from accounts.models import AccountYear, Contact, InstalledBase

    model = {"contacts": Contact, "installed-base": InstalledBase, "account-years": AccountYear}[path]
    before = model.objects.count()

    response = api(getattr(org, ROLE_USER[role])).post(
        f"/api/v1/{path}/", {"account": seen_through.account.pk, **body}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (403, "not_allowed")
    assert model.objects.count() == before


# Every role × every way of seeing an account: rep_a1's own account; rep_b1's accounts with rep_a1's opportunity,
# with rep_a1's visit, and with neither. The viewer is rep_a1, their manager or a director.
ACCOUNT_CASES = ["own", "my opportunity", "my visit", "unrelated"]
ACCOUNT_ANSWERS = {  # role -> case -> (GET, PATCH)
    "rep": {"own": (200, 200), "my opportunity": (200, 403), "my visit": (200, 403), "unrelated": (404, 404)},
    "manager": {"own": (200, 200), "my opportunity": (200, 403), "my visit": (200, 403), "unrelated": (404, 404)},
    "director": dict.fromkeys(ACCOUNT_CASES, (200, 200)),
}


@pytest.fixture
def account_by_case(org):
    from tests.factories import AccountFactory, OpportunityFactory, VisitFactory

    accounts = {
        "own": AccountFactory(owner=org.rep_a1),
        "my opportunity": AccountFactory(owner=org.rep_b1),
        "my visit": AccountFactory(owner=org.rep_b1),
        "unrelated": AccountFactory(owner=org.rep_b1),
    }
    OpportunityFactory(owner=org.rep_a1, account=accounts["my opportunity"])
    VisitFactory(owner=org.rep_a1, account=accounts["my visit"])
    OpportunityFactory(owner=org.rep_b1, account=accounts["unrelated"])
    return accounts


@pytest.mark.parametrize("case", ACCOUNT_CASES)
@pytest.mark.parametrize("role", ACCOUNT_ANSWERS)
def test_an_account_answers_each_role_by_how_they_see_it(api, org, account_by_case, role, case):
    account = account_by_case[case]
    client = api({"rep": org.rep_a1, "manager": org.manager_a, "director": org.director}[role])
    before = type(account).objects.filter(pk=account.pk).values().get()

    got = client.get(f"/api/v1/accounts/{account.pk}/").status_code
    patched = client.patch(f"/api/v1/accounts/{account.pk}/", {"notes": "Met the buyer"}).status_code
    listed = account.pk in {
        item["id"] for item in client.get("/api/v1/accounts/", {"page_size": 200}).json()["results"]
    }

    assert (got, patched) == ACCOUNT_ANSWERS[role][case]
    assert listed is (got == 200)
    if patched != 200:
        assert type(account).objects.filter(pk=account.pk).values().get() == before
