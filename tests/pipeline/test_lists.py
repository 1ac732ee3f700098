"""The account and visit lists: search, filters, sorting, pagination, visibility and query counts."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import (
    AccountFactory,
    ContactFactory,
    IndustryFactory,
    OpportunityFactory,
    RegionFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 18, 15, 30, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def _names(response) -> list[str]:
    return [a.name for a in response.context["accounts"]]


def _accounts(client, **params):
    return client.get(reverse("accounts:list"), params)


@pytest.fixture
def territory(org):
    """Accounts of team A in two regions and industries, of every size, one of team B."""
    east = RegionFactory(code="E", name="华东", level=1)
    shanghai = RegionFactory(code="E-SH", name="上海", level=2, parent=east)
    pudong = RegionFactory(code="E-SH-PD", name="浦东", level=3, parent=shanghai)
    north = RegionFactory(code="N", name="华北", level=1)
    making, printing = IndustryFactory(name="制造业"), IndustryFactory(name="印刷")
    AccountFactory(
        name="A浦东大厂", owner=org.rep_a1, region=pudong, industry=making, employee_count=1200, is_target=True
    )
    AccountFactory(name="B上海中厂", owner=org.rep_a1, region=shanghai, industry=making, employee_count=300)
    AccountFactory(name="C华北小店", owner=org.rep_a2, region=north, industry=printing, employee_count=49)
    AccountFactory(
        name="D华北中店", owner=org.rep_a2, region=north, industry=printing, employee_count=50, is_target=True
    )
    AccountFactory(name="E未知规模", owner=org.rep_a1, region=east, industry=printing, employee_count=None)
    AccountFactory(name="F外队客户", owner=org.rep_b1, region=pudong, industry=making, employee_count=100)
    return org


# --- accounts --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "names"),
    [
        ("rep_a1", ["A浦东大厂", "B上海中厂", "E未知规模"]),
        ("manager_a", ["A浦东大厂", "B上海中厂", "C华北小店", "D华北中店", "E未知规模"]),
        ("manager_b", ["F外队客户"]),
        ("director", ["A浦东大厂", "B上海中厂", "C华北小店", "D华北中店", "E未知规模", "F外队客户"]),
    ],
)
def test_the_account_list_shows_only_visible_accounts(client, territory, viewer, names):
    client.force_login(getattr(territory, viewer))

    assert _names(_accounts(client)) == names


def test_the_account_list_filters_by_owner_industry_target_and_size_band(client, territory):
    client.force_login(territory.manager_a)
    making = territory.rep_a1.accounts.get(name="A浦东大厂").industry

    assert _names(_accounts(client, owner=territory.rep_a2.pk)) == ["C华北小店", "D华北中店"]
    assert _names(_accounts(client, industry=making.pk)) == ["A浦东大厂", "B上海中厂"]
    assert _names(_accounts(client, is_target="1")) == ["A浦东大厂", "D华北中店"]
    assert _names(_accounts(client, is_target="0")) == ["B上海中厂", "C华北小店", "E未知规模"]
    assert _names(_accounts(client, size_band="1-49")) == ["C华北小店"]
    assert _names(_accounts(client, size_band="50-99")) == ["D华北中店"]
    assert _names(_accounts(client, size_band="300-999")) == ["B上海中厂"]
    assert _names(_accounts(client, size_band="1000+")) == ["A浦东大厂"]
    assert _names(_accounts(client, owner=territory.rep_a1.pk, is_target="1")) == ["A浦东大厂"]


def test_a_region_filter_takes_in_the_regions_below_it(client, territory):
    client.force_login(territory.director)
    east = territory.rep_a1.accounts.get(name="E未知规模").region
    shanghai = territory.rep_a1.accounts.get(name="B上海中厂").region

    assert _names(_accounts(client, region=east.pk)) == ["A浦东大厂", "B上海中厂", "E未知规模", "F外队客户"]
    assert _names(_accounts(client, region=shanghai.pk)) == ["A浦东大厂", "B上海中厂", "F外队客户"]


def test_the_account_search_matches_names_addresses_and_contact_names(client, territory):
    client.force_login(territory.manager_a)
    ContactFactory(account=territory.rep_a2.accounts.get(name="C华北小店"), name="欧阳经理")
    AccountFactory(owner=territory.rep_a1, name="G无关", address="北京市华北路 8 号")

    assert _names(_accounts(client, q="中厂")) == ["B上海中厂"]
    assert _names(_accounts(client, q="欧阳")) == ["C华北小店"]
    assert _names(_accounts(client, q="华北")) == ["C华北小店", "D华北中店", "G无关"]
    assert _names(_accounts(client, q="F外队")) == []  # not visible to this manager


def test_an_invisible_owner_in_the_filter_is_ignored_rather_than_leaking(client, territory):
    client.force_login(territory.rep_a1)

    response = _accounts(client, owner=territory.rep_b1.pk)

    assert list(response.context["form"].errors) == ["owner"]
    assert _names(response) == ["A浦东大厂", "B上海中厂", "E未知规模"]


def test_the_account_list_sorts_by_size_and_by_last_visit(client, territory):
    client.force_login(territory.rep_a1)
    big, middle = territory.rep_a1.accounts.get(name="A浦东大厂"), territory.rep_a1.accounts.get(name="B上海中厂")
    VisitFactory(account=big, status="done", done_at=NOW - timedelta(days=9))
    VisitFactory(account=middle, status="done", done_at=NOW - timedelta(days=2))
    VisitFactory(account=middle, planned_at=NOW + timedelta(days=1))  # planned visits do not count

    assert _names(_accounts(client, sort="-size")) == ["A浦东大厂", "B上海中厂", "E未知规模"]
    assert _names(_accounts(client, sort="-last_visit")) == ["B上海中厂", "A浦东大厂", "E未知规模"]
    assert _names(_accounts(client, sort="last_visit")) == ["E未知规模", "A浦东大厂", "B上海中厂"]
    listed = {a.name: a.last_visit_at for a in _accounts(client).context["accounts"]}
    assert listed == {"A浦东大厂": NOW - timedelta(days=9), "B上海中厂": NOW - timedelta(days=2), "E未知规模": None}


def test_the_account_list_counts_open_opportunities(client, territory):
    client.force_login(territory.rep_a1)
    big = territory.rep_a1.accounts.get(name="A浦东大厂")
    OpportunityFactory.create_batch(2, account=big, owner=territory.rep_a1)
    OpportunityFactory(account=big, owner=territory.rep_a1, status="lost", loss_reason="price", closed_at=NOW)

    counts = {a.name: a.open_opportunities for a in _accounts(client).context["accounts"]}

    assert counts == {"A浦东大厂": 2, "B上海中厂": 0, "E未知规模": 0}


def test_the_account_list_pages_by_25(client, org):
    AccountFactory.create_batch(30, owner=org.rep_a1)
    client.force_login(org.rep_a1)

    first, second = _accounts(client), _accounts(client, page=2)

    assert (len(first.context["accounts"]), len(second.context["accounts"])) == (25, 5)
    assert set(_names(first)).isdisjoint(_names(second))
    assert "page=2" in first.content.decode()


def test_the_account_list_answers_htmx_with_the_results_only(client, territory):
    client.force_login(territory.rep_a1)

    response = client.get(reverse("accounts:list"), {"q": "浦东"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="account-results"')
    assert "A浦东大厂" in html and "B上海中厂" not in html


def _grow_accounts(org, n: int) -> None:
    for i in range(n):
        account = AccountFactory(owner=org.rep_a1 if i % 2 else org.rep_a2, is_target=bool(i % 3))
        ContactFactory(account=account)
        OpportunityFactory(account=account, owner=account.owner)
        VisitFactory(account=account, status="done", done_at=NOW - timedelta(days=i % 20))


def test_the_account_list_runs_the_same_number_of_queries_for_ten_times_the_accounts(
    client, org, django_assert_num_queries
):
    client.force_login(org.manager_a)
    params = {"q": "客户", "is_target": "1", "sort": "-last_visit"}
    _grow_accounts(org, 4)
    with CaptureQueriesContext(connection) as small:
        assert _accounts(client, **params).status_code == 200

    _grow_accounts(org, 36)
    with django_assert_num_queries(len(small.captured_queries)):
        response = _accounts(client, **params)

    assert len(response.context["accounts"]) == 25  # 26 of the 40 are targets; one page shows 25


# --- visits ----------------------------------------------------------------------------------------------------


def _visit_names(response) -> list[str]:
    return [v.purpose for v in response.context["visits"]]


def _visits(client, **params):
    return client.get(reverse("pipeline:visit_list"), params)


@pytest.fixture
def diary(org):
    """Visits of team A over two weeks, and one of team B; each named by its purpose."""
    a1, a2 = AccountFactory(owner=org.rep_a1, name="东方机械"), AccountFactory(owner=org.rep_a2, name="西城印务")
    at = lambda day, hour=10: datetime(2025, 6, day, hour, tzinfo=SHANGHAI)  # noqa: E731
    VisitFactory(account=a1, purpose="v1", status="done", done_at=at(9), summary="谈价格")
    VisitFactory(account=a1, purpose="v2", status="done", done_at=at(12), kind="demo", planned_at=at(12))
    VisitFactory(
        account=a1, purpose="v3", planned_at=at(19), kind="phone", contact=ContactFactory(account=a1, name="王总")
    )
    VisitFactory(account=a2, purpose="v4", planned_at=at(17), status="cancelled")
    VisitFactory(account=a2, purpose="v5", status="done", done_at=at(16, 23), kind="demo")
    VisitFactory(account=AccountFactory(owner=org.rep_b1), purpose="v6", status="done", done_at=at(13))
    return org


@pytest.mark.parametrize(
    ("viewer", "purposes"),
    [
        ("rep_a1", ["v3", "v2", "v1"]),
        ("rep_a2", ["v4", "v5"]),
        ("manager_a", ["v3", "v4", "v5", "v2", "v1"]),
        ("manager_b", ["v6"]),
        ("director", ["v3", "v4", "v5", "v6", "v2", "v1"]),
    ],
)
def test_the_visit_list_shows_only_visible_visits_newest_first(client, diary, viewer, purposes):
    client.force_login(getattr(diary, viewer))

    assert _visit_names(_visits(client)) == purposes


def test_the_visit_list_filters_by_status_kind_owner_and_dates(client, diary):
    client.force_login(diary.manager_a)

    assert _visit_names(_visits(client, status="done")) == ["v5", "v2", "v1"]
    assert _visit_names(_visits(client, status="planned")) == ["v3"]
    assert _visit_names(_visits(client, kind="demo")) == ["v5", "v2"]
    assert _visit_names(_visits(client, owner=diary.rep_a2.pk)) == ["v4", "v5"]
    # A visit's date is when it was done, else when it is planned; both ends of the range are whole days.
    assert _visit_names(_visits(client, date_from="2025-06-12", date_to="2025-06-16")) == ["v5", "v2"]
    assert _visit_names(_visits(client, date_from="2025-06-17")) == ["v3", "v4"]
    assert _visit_names(_visits(client, date_to="2025-06-09")) == ["v1"]


def test_the_visit_list_searches_accounts_contacts_and_texts_and_sorts(client, diary):
    client.force_login(diary.manager_a)

    assert _visit_names(_visits(client, q="西城")) == ["v4", "v5"]
    assert _visit_names(_visits(client, q="王总")) == ["v3"]
    assert _visit_names(_visits(client, q="价格")) == ["v1"]
    assert _visit_names(_visits(client, sort="when")) == ["v1", "v2", "v5", "v4", "v3"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_malformed_date_filter_is_reported_in_the_users_language(client, diary, language):
    diary.manager_a.language = language
    diary.manager_a.save(update_fields=["language"])
    client.force_login(diary.manager_a)

    response = _visits(client, date_from="18/06/2025")

    message = response.context["form"].errors["date_from"][0]
    assert message == "Enter a valid date." if language == "en" else ("日期" in message and "Enter" not in message)
    assert message in response.content.decode()
    assert len(_visit_names(response)) == 5  # an unreadable filter filters nothing


def _grow_visits(org, n: int) -> None:
    for i in range(n):
        account = AccountFactory(owner=org.rep_a1 if i % 2 else org.rep_a2)
        contact = ContactFactory(account=account)
        opportunity = OpportunityFactory(account=account, owner=account.owner)
        VisitFactory(
            account=account,
            contact=contact,
            opportunity=opportunity,
            status="done",
            done_at=NOW - timedelta(days=i % 20),
            summary="拜访纪要",
        )
        VisitFactory(account=account, planned_at=NOW + timedelta(days=1 + i % 5))


def test_the_visit_list_runs_the_same_number_of_queries_for_ten_times_the_visits(
    client, org, django_assert_num_queries
):
    client.force_login(org.manager_a)
    params = {"q": "", "owner": org.rep_a1.pk, "sort": "-when"}
    _grow_visits(org, 3)
    with CaptureQueriesContext(connection) as small:
        assert _visits(client, **params).status_code == 200

    _grow_visits(org, 27)
    with django_assert_num_queries(len(small.captured_queries)):
        response = _visits(client, **params)

    assert len(response.context["visits"]) == 25
