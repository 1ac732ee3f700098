"""The CV/PV matrix page and its selectors are bounded by what a screen shows: counts and transitions in one grouped
query, a chart of the first accounts by visit priority with every other account in a density bin, and one page of
the account table; the same numbers as the whole matrix, and the same queries with ten times the accounts."""

import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.models import AccountValue, MatrixRun
from analytics.selectors.cvpv import bin_edges, matrix_accounts, matrix_chart, matrix_rows, matrix_summary
from analytics.selectors.matrix import cvpv_matrix
from analytics.views import pages
from tests.analytics.conftest import at
from tests.factories import AccountFactory, IndustryFactory, RegionFactory

pytestmark = pytest.mark.django_db

QUADRANTS = ["core", "develop", "maintain", "observe"]


def value(account, year, run, *, cv, pv, quadrant, priority=None, share="auto"):
    cv, pv = Decimal(cv), Decimal(pv)
    return AccountValue.objects.create(
        run=run,
        account=account,
        year=year,
        cv=cv,
        pv=pv,
        share=(float(cv / pv) if pv else None) if share == "auto" else share,
        quadrant=quadrant,
        priority=priority,
        pv_source="explicit",
    )


@pytest.fixture
def twelve(org, now):
    """rep_a1's 12 accounts in the 2026 matrix, priority 1–12 (names a01 … a12), PV 2,000 × n, CV 0 for the odd
    ones; in 2025 the first six were all core. rep_b1 has one account."""
    runs = {
        year: MatrixRun.objects.create(
            year=year, computed_at=at(2026, 5, 15, 2), cv_threshold=Decimal(1), pv_threshold=Decimal(1)
        )
        for year in (2025, 2026)
    }
    for n in range(1, 13):
        account = AccountFactory(owner=org.rep_a1, name=f"a{n:02d}")
        value(
            account, 2026, runs[2026], cv=0 if n % 2 else 1000 * n, pv=2000 * n, quadrant=QUADRANTS[n % 4], priority=n
        )
        if n <= 6:
            value(account, 2025, runs[2025], cv=1, pv=1, quadrant="core")
    value(AccountFactory(owner=org.rep_b1, name="b"), 2026, runs[2026], cv=5, pv=5, quadrant="core", priority=13)
    return org


def test_the_chart_shows_the_first_accounts_by_priority_and_counts_the_others_in_bins(twelve):
    chart = matrix_chart(viewer=twelve.rep_a1, year=2026, points=5)

    assert [p.name for p in chart.points] == ["a01", "a02", "a03", "a04", "a05"]
    assert chart.binned == 7 and sum(b.count for b in chart.bins) == 7
    # a07: PV 14,000, CV 0, observe (7 % 4 = 3): log10(14,000) × 4 = 16.6, so the bin from 10^4 to 10^4.25;
    # a11: PV 22,000: log10 × 4 = 17.4.
    no_revenue = [b for b in chart.bins if b.quadrant == "observe" and b.cv_bin is None]
    assert [(b.pv_bin, b.count) for b in no_revenue] == [(16, 1), (17, 1)]
    assert bin_edges(16, 4) == (10000.0, pytest.approx(17782.794))
    assert bin_edges(None, 4) == (0.0, 0.0)
    # a06: PV 12,000, CV 6,000, maintain: PV bin 16, CV bin 15 (5,623 to 10,000); a10: PV 20,000, CV 10,000.
    assert [(b.pv_bin, b.cv_bin) for b in chart.bins if b.quadrant == "maintain"] == [(16, 15), (17, 16)]


def test_a_power_of_ten_starts_its_bin(org, now):
    run = MatrixRun.objects.create(year=2026)
    for n, pv in enumerate(("1000", "100000", "1000000")):
        value(AccountFactory(owner=org.rep_a1), 2026, run, cv=pv, pv=pv, quadrant="core", priority=n)

    chart = matrix_chart(viewer=org.rep_a1, year=2026, points=0)

    assert sorted((b.pv_bin, b.cv_bin) for b in chart.bins) == [(12, 12), (20, 20), (24, 24)]


def test_the_summary_and_the_pages_of_accounts_are_the_whole_matrix(twelve):
    for viewer in (twelve.rep_a1, twelve.manager_a, twelve.director):
        whole = cvpv_matrix(viewer=viewer, year=2026)
        summary = matrix_summary(viewer=viewer, year=2026)
        rows = matrix_rows(matrix_accounts(viewer=viewer, year=2026))

        assert summary.transitions == whole.transitions
        assert summary.quadrant_counts == {q: sum(1 for r in whole.rows if r.quadrant == q) for q in QUADRANTS}
        assert summary.total == len(whole.rows)
        assert [tuple(vars(r).values()) for r in rows] == [tuple(vars(r).values()) for r in whole.rows]
        assert (summary.cv_threshold, summary.computed_at) == (whole.cv_threshold, whole.computed_at)


def test_the_account_table_sorts_in_sql_with_empty_shares_last(twelve):
    no_share = AccountValue.objects.get(account__name="a12", year=2026)
    no_share.share = None
    no_share.save()

    by_share = [r.name for r in matrix_rows(matrix_accounts(viewer=twelve.rep_a1, year=2026, sort="-share"))]
    upward = [r.name for r in matrix_rows(matrix_accounts(viewer=twelve.rep_a1, year=2026, sort="share"))]
    by_cv = [r.name for r in matrix_rows(matrix_accounts(viewer=twelve.rep_a1, year=2026, sort="-cv"))]

    assert by_share[:5] == ["a02", "a04", "a06", "a08", "a10"] and by_share[-1] == "a12"  # 0.5 each, then by name
    assert upward[0] == "a01" and upward[-1] == "a12"
    assert by_cv[:2] == ["a12", "a10"]


def test_the_matrix_page_shows_one_page_of_accounts_and_a_bounded_chart(client, twelve, monkeypatch):
    monkeypatch.setattr(pages, "MATRIX_CHART_POINTS", 5)
    monkeypatch.setattr(pages, "MATRIX_ROWS_PER_PAGE", 10)
    client.force_login(twelve.rep_a1)

    first = client.get(reverse("analytics:matrix"), {"year": 2026})
    second = client.get(reverse("analytics:matrix"), {"year": 2026, "page": 2})

    html = first.content.decode()
    assert html.count("<tr data-account=") == 10
    assert 'href="?year=2026&amp;page=2" rel="next"' in html
    assert second.content.decode().count("<tr data-account=") == 2
    chart = json.loads(re.search(r'id="matrix-chart-data" type="application/json">(.*?)</script>', html).group(1))
    assert [p["name"] for p in chart["points"]] == ["a01", "a02", "a03", "a04", "a05"]
    assert sum(b["n"] for b in chart["bins"]) == 7
    observe = next(b for b in chart["bins"] if b["quadrant"] == "observe" and b["y"] == 0)
    assert observe["x_range"] == [10000.0, pytest.approx(17782.794)]
    assert observe["x"] == pytest.approx(10**4.125)
    assert "data-chart-note" in html
    stats = dict(re.findall(r'data-quadrant="(\w+)">.*?stat__value">(\d+)<', html, re.DOTALL))
    assert stats == {"core": "3", "develop": "3", "maintain": "3", "observe": "3"}
    assert first.context["transitions"][0][1] == [1, 2, 2, 1]  # 2025's six core accounts, by this year's quadrant


def test_the_matrix_page_barely_grows_with_ten_times_the_accounts(client, org, now, monkeypatch):
    """A director's page with 60 and with 600 accounts: one page of 50 rows, a chart of 20 points and a few bins."""
    monkeypatch.setattr(pages, "MATRIX_CHART_POINTS", 20)
    run = MatrixRun.objects.create(year=2026, computed_at=at(2026, 5, 15, 2))
    region, industry = RegionFactory(), IndustryFactory()
    client.force_login(org.director)
    sizes = []
    for n in (60, 540):
        for i in range(n):
            account = AccountFactory(owner=org.rep_a1, region=region, industry=industry)
            value(account, 2026, run, cv=i * 100, pv=(i + 1) * 1000, quadrant="core")
        response = client.get(reverse("analytics:matrix"), {"year": 2026})
        sizes.append(len(response.content))
        assert len(response.context["chart"]["points"]) == 20
        assert response.content.decode().count("<tr data-account=") == 50
    assert sizes[1] < sizes[0] * 1.2


@pytest.mark.parametrize("scale", [1, 10], ids=["data x1", "data x10"])
@pytest.mark.parametrize("viewer", ["rep_a1", "manager_a", "director"])
def test_the_matrix_selectors_run_their_fixed_number_of_queries(org, now, django_assert_num_queries, scale, viewer):
    runs = [MatrixRun.objects.create(year=year) for year in (2025, 2026)]
    for i in range(6 * scale):
        account = AccountFactory(owner=(org.rep_a1, org.rep_a2, org.rep_b1)[i % 3])
        for run in runs:
            value(account, run.year, run, cv=i, pv=10 + i, quadrant=QUADRANTS[i % 4], priority=i)
    user = getattr(org, viewer)

    with django_assert_num_queries(2):
        summary = matrix_summary(viewer=user, year=2026)
    with django_assert_num_queries(2):
        chart = matrix_chart(viewer=user, year=2026, points=4)
    with django_assert_num_queries(1):
        rows = matrix_rows(matrix_accounts(viewer=user, year=2026, sort="-pv")[:5])

    visible = {"rep_a1": 2, "manager_a": 4, "director": 6}[viewer] * scale
    assert summary.total == len(chart.points) + chart.binned == visible
    assert len(rows) == min(5, visible)
