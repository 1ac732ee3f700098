"""Accounts and the rows that belong to them: contacts, installed base, yearly figures."""

import pytest
from django.utils import timezone

from accounts.models import Account, AccountYear, Contact, InstalledBase
from pipeline.models import Opportunity, Reassignment
from tests.factories import (
    AccountFactory,
    AccountYearFactory,
    CompetitorFactory,
    ContactFactory,
    IndustryFactory,
    InstalledBaseFactory,
    OpportunityFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db


def rows(model) -> list[dict]:
    return list(model.objects.order_by("pk").values())


def test_a_rep_creates_an_account_they_own(api, org):
    industry, region = IndustryFactory(), RegionFactory()
    response = api(org.rep_a1).post(
        "/api/v1/accounts/",
        {"name": "Acme", "industry": industry.pk, "region": region.pk, "employee_count": 120, "is_target": True},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["owner"], body["size_band"], body["is_target"], body["target_since"], body["customer_type"]) == (
        org.rep_a1.pk,
        "100-299",
        True,
        timezone.localdate().isoformat(),
        "none",
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"owner": "rep_a2"}, "owner"),
        ({"employee_count": -5}, "employee_count"),
        ({"employee_count": "many"}, "employee_count"),
        ({"industry": 999999}, "industry"),
        ({"region": 999999}, "region"),
        ({"parent": "account of rep_b1"}, "parent"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"external_key": "K1"}, "external_key"),
    ],
)
def test_bad_account_input_is_refused_naming_the_field_and_nothing_is_written(api, org, changes, field):
    AccountFactory(owner=org.rep_b1, external_key="K1")
    before = rows(Account)
    resolve = {"rep_a2": org.rep_a2.pk, "account of rep_b1": Account.objects.get().pk}
    body = {"name": "Acme", **{k: resolve.get(v, v) if isinstance(v, str) else v for k, v in changes.items()}}
    response = api(org.rep_a1).post("/api/v1/accounts/", body)
    assert response.status_code == 400
    assert field in response.json()
    assert rows(Account) == before


def test_a_manager_gives_an_account_to_another_rep_with_its_open_opportunities(api, org):
    account = AccountFactory(owner=org.rep_a1)
    opportunity = OpportunityFactory(owner=org.rep_a1, account=account)
    response = api(org.manager_a).patch(f"/api/v1/accounts/{account.pk}/", {"owner": org.rep_a2.pk, "notes": "Moved"})
    assert (response.status_code, response.json()["owner"], response.json()["notes"]) == (200, org.rep_a2.pk, "Moved")
    assert Opportunity.objects.get(pk=opportunity.pk).owner == org.rep_a2
    assert Reassignment.objects.filter(account=account).count() == 1


def test_a_rep_cannot_give_their_account_away(api, org):
    account = AccountFactory(owner=org.rep_a1)
    before = rows(Account)
    response = api(org.rep_a1).patch(f"/api/v1/accounts/{account.pk}/", {"owner": org.rep_a2.pk})
    assert (response.status_code, "owner" in response.json()) == (400, True)
    assert rows(Account) == before


def test_an_account_shows_its_customer_type_from_the_installed_base(api, org):
    account = AccountFactory(owner=org.rep_a1)
    InstalledBaseFactory(account=account, is_ours=True)
    InstalledBaseFactory(account=account, is_ours=False, competitor=CompetitorFactory())
    assert api(org.rep_a1).get(f"/api/v1/accounts/{account.pk}/").json()["customer_type"] == "mixed"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"size_band": "1000+"}, ["Big"]),
        ({"size_band": "1-49"}, ["Small"]),
        ({"region": "area"}, ["Big", "Small"]),
        ({"region": "district"}, ["Small"]),
        ({"search": "sma"}, ["Small"]),
        ({"is_target": "true"}, ["Big"]),
        ({"ordering": "-employee_count"}, ["Big", "Small"]),
        ({"employees_min": 50}, ["Big"]),
    ],
)
def test_accounts_filter_search_and_order(api, org, query, expected):
    area = RegionFactory(level=1)
    city = RegionFactory(level=2, parent=area)
    district = RegionFactory(level=3, parent=city)
    AccountFactory(owner=org.rep_a1, name="Big", employee_count=5000, region=city, is_target=True)
    AccountFactory(owner=org.rep_a1, name="Small", employee_count=10, region=district)
    query = {k: {"area": area.pk, "district": district.pk}.get(v, v) for k, v in query.items()}
    response = api(org.rep_a1).get("/api/v1/accounts/", query)
    assert [row["name"] for row in response.json()["results"]] == expected


# --- contacts, installed base, account years ------------------------------------------------------------------------


def test_a_rep_adds_and_edits_a_contact_at_their_account(api, org):
    account = AccountFactory(owner=org.rep_a1)
    client = api(org.rep_a1)
    created = client.post(
        "/api/v1/contacts/", {"account": account.pk, "name": "王经理", "buying_role": "decision_maker"}
    )
    assert created.status_code == 201, created.json()
    response = client.patch(f"/api/v1/contacts/{created.json()['id']}/", {"title": "采购经理"})
    assert (response.status_code, response.json()["title"], response.json()["buying_role"]) == (
        200,
        "采购经理",
        "decision_maker",
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"account": "hidden"}, "account"),
        ({"email": "not-an-email"}, "email"),
        ({"buying_role": "boss"}, "buying_role"),
        ({"birthday": "yesterday"}, "birthday"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_contact_input_is_refused_naming_the_field(api, org, changes, field):
    account = AccountFactory(owner=org.rep_a1)
    hidden = AccountFactory(owner=org.rep_b1)
    body = {"account": account.pk, "name": "Li", **{k: hidden.pk if v == "hidden" else v for k, v in changes.items()}}
    response = api(org.rep_a1).post("/api/v1/contacts/", body)
    assert (response.status_code, field in response.json()) == (400, True)
    assert rows(Contact) == []


def test_a_contact_stays_with_its_account(api, org):
    contact = ContactFactory(account=AccountFactory(owner=org.rep_a1))
    other = AccountFactory(owner=org.rep_a1)
    before = rows(Contact)
    response = api(org.rep_a1).patch(f"/api/v1/contacts/{contact.pk}/", {"account": other.pk, "name": "New"})
    assert (response.status_code, list(response.json())) == (400, ["account", "detail", "code"])
    assert rows(Contact) == before


def test_installed_base_is_ours_or_a_competitors(api, org):
    account = AccountFactory(owner=org.rep_a1)
    competitor = CompetitorFactory()
    client = api(org.rep_a1)
    ours = client.post(
        "/api/v1/installed-base/", {"account": account.pk, "is_ours": True, "product": "MFP", "units": 4}
    )
    theirs = client.post(
        "/api/v1/installed-base/", {"account": account.pk, "competitor": competitor.pk, "product": "MFP", "units": 2}
    )
    assert (ours.status_code, theirs.status_code) == (201, 201)
    before = rows(InstalledBase)
    for body in (
        {"is_ours": True, "competitor": competitor.pk},
        {"is_ours": False},
        {"is_ours": True, "units": -1},
        {"is_ours": True, "year": 3000},
    ):
        refused = client.post("/api/v1/installed-base/", {"account": account.pk, "product": "MFP", "units": 1, **body})
        assert refused.status_code == 400
        assert {"competitor", "units", "year"} & set(refused.json())
    assert rows(InstalledBase) == before


def test_yearly_figures_are_unique_per_account_and_year_and_not_negative(api, org):
    account = AccountFactory(owner=org.rep_a1)
    AccountYearFactory(account=account, year=2025)
    client = api(org.rep_a1)
    before = rows(AccountYear)
    duplicate = client.post("/api/v1/account-years/", {"account": account.pk, "year": 2025, "other_revenue": "1.00"})
    negative = client.post("/api/v1/account-years/", {"account": account.pk, "year": 2024, "other_revenue": "-1.00"})
    assert (duplicate.status_code, negative.status_code, "other_revenue" in negative.json()) == (400, 400, True)
    assert duplicate.json()["code"] == "unique"
    assert rows(AccountYear) == before
    created = client.post(
        "/api/v1/account-years/", {"account": account.pk, "year": 2024, "potential_value": "800000.00"}
    )
    assert (created.status_code, created.json()["other_revenue"], created.json()["potential_value"]) == (
        201,
        "0.00",
        "800000.00",
    )


def test_account_years_filter_by_year_range(api, org):
    account = AccountFactory(owner=org.rep_a1)
    for year in (2023, 2024, 2025):
        AccountYearFactory(account=account, year=year)
    response = api(org.rep_a1).get("/api/v1/account-years/", {"year_min": 2024, "ordering": "year"})
    assert [row["year"] for row in response.json()["results"]] == [2024, 2025]
