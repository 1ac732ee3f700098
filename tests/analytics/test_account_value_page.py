"""The account page's matrix history (SPEC §3, §7): CV, PV, share of wallet and quadrant per stored year with the
transition from the year before, in both languages, only for those who may see the account, at a constant query
count."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics.models import AccountValue, MatrixRun
from analytics.selectors.matrix import account_value_years
from core.statements import sql_of
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

HISTORY = [
    # year, CV, PV, share, quadrant
    (2024, Decimal("20000.00"), Decimal("400000.00"), 0.05, "observe"),
    (2025, Decimal("90000.00"), Decimal("1200000.00"), 0.075, "develop"),
    (2026, Decimal("1234567.50"), Decimal("2000000.00"), 0.617, "core"),
]


def _store(account, rows=HISTORY):
    for year, cv, pv, share, quadrant in rows:
        run, _ = MatrixRun.objects.get_or_create(year=year)
        AccountValue.objects.create(run=run, account=account, year=year, cv=cv, pv=pv, share=share, quadrant=quadrant)


def _page(client, user, account, language="en"):
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)
    return client.get(reverse("accounts:detail", args=[account.pk]))


def test_the_selector_gives_each_year_with_the_quadrant_of_the_stored_year_before(org):
    account = AccountFactory(owner=org.rep_a1)
    _store(account, [HISTORY[0], HISTORY[2]])  # no 2025 matrix row: 2026 comes from 2024
    _store(AccountFactory(owner=org.rep_a1))  # another account's rows stay out

    years = account_value_years(viewer=org.rep_a1, account=account)

    assert [(y.year, y.cv, y.pv, y.share, y.quadrant, y.previous_year, y.previous_quadrant) for y in years] == [
        (2024, Decimal("20000.00"), Decimal("400000.00"), 0.05, "observe", None, None),
        (2026, Decimal("1234567.50"), Decimal("2000000.00"), 0.617, "core", 2024, "observe"),
    ]
    assert [y.moved for y in years] == [False, True]
    assert account_value_years(viewer=org.rep_b1, account=account) == []


def test_the_account_page_shows_cv_pv_share_and_quadrant_per_year_with_the_transitions(client, org):
    account = AccountFactory(owner=org.rep_a1)
    _store(account)

    response = _page(client, org.rep_a1, account)

    assert response.status_code == 200
    assert [(y.year, y.quadrant) for y in response.context["value_years"]] == [
        (2024, "observe"),
        (2025, "develop"),
        (2026, "core"),
    ]
    html = response.content.decode()
    assert "Value by year" in html
    # Money through the cny filter: whole yuan with thousands separators; share as a whole percentage.
    assert '<td class="num" data-cv>¥1,234,568</td>' in html
    assert '<td class="num" data-pv>¥2,000,000</td>' in html
    assert '<td class="num" data-cv>¥20,000</td>' in html
    assert '<td class="num" data-share>62%</td>' in html
    assert '<td class="num" data-share>5%</td>' in html
    assert "2024 Observe → 2025 Develop" in html
    assert "2025 Develop → 2026 Core" in html
    assert html.count("data-transition") == 2  # the first stored year has no year before it


def test_the_account_page_shows_the_history_in_chinese(client, org):
    account = AccountFactory(owner=org.rep_a1)
    _store(account)

    html = _page(client, org.rep_a1, account, language="zh-hans").content.decode()

    assert "逐年价值" in html
    assert "2025 攻坚 → 2026 核心" in html
    assert "Value by year" not in html


def test_an_account_never_in_a_matrix_says_so(client, org):
    account = AccountFactory(owner=org.rep_a1)

    html = _page(client, org.rep_a1, account).content.decode()

    assert "Not in any year's CV/PV matrix yet." in html
    assert "data-transition" not in html


@pytest.mark.parametrize(
    ("viewer", "status"),
    [("rep_a1", 200), ("manager_a", 200), ("director", 200), ("rep_a2", 404), ("rep_b1", 404), ("manager_b", 404)],
)
def test_the_history_shows_only_to_those_who_may_see_the_account(client, org, viewer, status):
    account = AccountFactory(owner=org.rep_a1)
    _store(account)

    response = _page(client, getattr(org, viewer), account)

    assert response.status_code == status
    if status == 200:
        assert "2025 Develop → 2026 Core" in response.content.decode()
    else:
        assert "¥1,234,568" not in response.content.decode()


def test_the_history_adds_one_query_to_the_account_page_whatever_the_years(client, org, django_assert_num_queries):
    account = AccountFactory(owner=org.rep_a1)
    client.force_login(org.manager_a)
    url = reverse("accounts:detail", args=[account.pk])
    client.get(url)  # warm the session and the language
    with CaptureQueriesContext(connection) as empty:
        assert client.get(url).status_code == 200
    _store(account)
    for year in range(2010, 2020):
        _store(account, [(year, Decimal(1), Decimal(2), 0.5, "maintain")])

    with django_assert_num_queries(len(empty.captured_queries)) as captured:
        response = client.get(url)

    assert len(response.context["value_years"]) == 13
    # (the statement may run prepared: its EXECUTE stands for its SQL, core.statements)
    assert sum('"analytics_accountvalue"' in sql_of(q["sql"]) for q in captured.captured_queries) == 1
