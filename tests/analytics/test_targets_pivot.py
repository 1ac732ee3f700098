"""The targets page is a pivot of owners × the periods of a year, one page of owners at a time, grouped by owner and
period in SQL: its numbers against a hand count, against the attainment selector, its pages, and its fixed queries."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.selectors.attainment import attainment, stability
from analytics.selectors.targets import PivotStability, targets_pivot, year_periods
from tests.analytics.conftest import at, won
from tests.factories import SalesTargetFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def year_of_targets(org, now):
    """rep_a1: January 100 (won 50 + 30), February 200 (won 300), no March target (won 40); Q1 target 500.
    Team A: January 1,000 (its members won 80 + rep_a2's 20). rep_a2: no target, won 20 in January. rep_b1 (team B,
    hidden from manager_a): January 10, won nothing. A win of 2025 and one of 2027 count nowhere."""
    a1, a2 = org.rep_a1, org.rep_a2
    for month, amount in ((1, "100"), (2, "200")):
        SalesTargetFactory(owner_user=a1, period_start=date(2026, month, 1), amount=Decimal(amount))
    SalesTargetFactory(owner_user=a1, period_type="quarter", period_start=date(2026, 1, 1), amount=Decimal("500"))
    SalesTargetFactory(owner_user=None, owner_team=org.team_a, period_start=date(2026, 1, 1), amount=Decimal("1000"))
    SalesTargetFactory(owner_user=org.rep_b1, period_start=date(2026, 1, 1), amount=Decimal("10"))
    for amount, closed_at in (
        ("50", at(2026, 1, 5)),
        ("30", at(2026, 1, 31, 23, 30)),  # Shanghai time: still January
        ("300", at(2026, 2, 1, 0, 30)),
        ("40", at(2026, 3, 10)),
        ("999", at(2025, 12, 31, 23)),
        ("999", at(2027, 1, 1, 1)),
    ):
        won(owner=a1, amount=amount, closed_at=closed_at)
    won(owner=a2, amount="20", closed_at=at(2026, 1, 20))
    return org


def test_the_pivot_has_a_row_per_owner_and_a_cell_per_month_counted_by_hand(year_of_targets):
    org = year_of_targets

    pivot = targets_pivot(viewer=org.manager_a, period_type="month", year=2026)

    assert pivot.periods == [date(2026, month, 1) for month in range(1, 13)]
    team, a1, a2 = pivot.page.object_list
    assert [(r.owner_type, r.owner_id, r.group) for r in (team, a1, a2)] == [
        ("team", org.team_a.pk, "A"),
        ("user", org.rep_a1.pk, "A"),
        ("user", org.rep_a2.pk, "A"),
    ]
    assert [(c.target, c.won_amount, c.attainment) for c in a1.cells[:4]] == [
        (Decimal("100.00"), Decimal("80.00"), 0.8),
        (Decimal("200.00"), Decimal("300.00"), 1.5),
        (None, Decimal("40.00"), None),
        (None, Decimal("0.00"), None),
    ]
    assert all(c.is_empty for c in a1.cells[3:])
    assert (a1.year.target, a1.year.won_amount, a1.year.attainment) == (Decimal("300.00"), Decimal("420.00"), 1.4)
    assert (team.cells[0].target, team.cells[0].won_amount, team.cells[0].attainment) == (
        Decimal("1000.00"),
        Decimal("100.00"),  # its members' wins: rep_a1's 80 and rep_a2's 20
        0.1,
    )
    assert (a2.cells[0].target, a2.cells[0].won_amount) == (None, Decimal("20.00"))
    assert (team.stability, a2.stability) == (None, None)
    assert a1.stability == PivotStability(months=2, cv=pytest.approx(0.35 / 1.15), stable=False)  # 0.8 and 1.5


def test_the_pivot_of_quarters_and_of_the_year(year_of_targets):
    org = year_of_targets

    quarters = targets_pivot(viewer=org.rep_a1, period_type="quarter", year=2026)
    years = targets_pivot(viewer=org.rep_a1, period_type="year", year=2026)

    [row] = quarters.page.object_list
    assert quarters.periods == year_periods("quarter", 2026) == [date(2026, m, 1) for m in (1, 4, 7, 10)]
    assert [(c.target, c.won_amount) for c in row.cells] == [
        (Decimal("500.00"), Decimal("420.00")),
        (None, Decimal("0.00")),
        (None, Decimal("0.00")),
        (None, Decimal("0.00")),
    ]
    [row] = years.page.object_list  # a win in the year, no yearly target
    assert [(c.period_start, c.target, c.won_amount) for c in row.cells] == [
        (date(2026, 1, 1), None, Decimal("420.00"))
    ]


@pytest.mark.parametrize("viewer", ["rep_a1", "manager_a", "director"])
@pytest.mark.parametrize("period_type", ["month", "quarter"])
def test_the_pivot_agrees_with_the_attainment_selector(year_of_targets, viewer, period_type):
    user = getattr(year_of_targets, viewer)

    rows = targets_pivot(viewer=user, period_type=period_type, year=2026, per_page=100).page.object_list
    expected = attainment(viewer=user, period_type=period_type, year=2026)

    cells = {
        (row.owner_type, row.owner_id, cell.period_start): (cell.target, cell.won_amount, cell.attainment)
        for row in rows
        for cell in row.cells
        if cell.target is not None or (row.owner_type == "user" and cell.won_amount)
    }  # the pivot also shows a team's wins in a period it has no target for; the selector has no row for those
    assert cells == {
        (r.owner_type, r.owner_id, r.period_start): (r.target, r.won_amount, r.attainment) for r in expected
    }


def test_the_pivot_stability_is_the_stability_selectors(year_of_targets, now):
    org = year_of_targets
    for month in range(6, 13):
        SalesTargetFactory(owner_user=org.rep_a2, period_start=date(2025, month, 1), amount=Decimal("100"))
        won(owner=org.rep_a2, amount=str(month * 10), closed_at=at(2025, month, 15))

    rows = targets_pivot(viewer=org.director, period_type="month", year=2025, per_page=100).page.object_list

    expected = {s.owner.pk: (s.months, s.cv, s.stable) for s in stability(viewer=org.director, on=now.date())}
    got = {r.owner_id: (r.stability.months, r.stability.cv, r.stability.stable) for r in rows if r.stability}
    assert set(got) == {org.rep_a1.pk, org.rep_a2.pk}  # rep_a1 won in 2025 too
    assert got == {
        pk: (months, pytest.approx(cv), stable) for pk, (months, cv, stable) in expected.items() if pk in got
    }
    assert got[org.rep_a2.pk][0] == 7


@pytest.fixture
def many_owners(org, now):
    """30 reps in team A with a January target each, and a team target: 31 owners the director sees in A, and
    rep_b1 in B with a target."""
    for i in range(30):
        rep = UserFactory(username=f"many{i:02d}", last_name="代", first_name=f"表{i:02d}", team=org.team_a)
        SalesTargetFactory(owner_user=rep, period_start=date(2026, 1, 1), amount=Decimal("100"))
    SalesTargetFactory(owner_user=None, owner_team=org.team_a, period_start=date(2026, 1, 1))
    SalesTargetFactory(owner_user=org.rep_b1, period_start=date(2026, 1, 1))
    return org


def test_the_targets_page_shows_one_page_of_owners_and_links_the_next(client, many_owners):
    client.force_login(many_owners.director)

    first = client.get(reverse("analytics:targets"), {"year": 2026})
    second = client.get(reverse("analytics:targets"), {"year": 2026, "page": 2})

    html = first.content.decode()
    assert html.count("<tr data-owner=") == 25
    assert f'<tr data-owner="team-{many_owners.team_a.pk}" class="targets-pivot__team">' in html  # the team first
    assert 'href="?year=2026&amp;page=2" rel="next"' in html
    rows = list(second.context["page_obj"])
    assert [r.owner_name for r in rows] == [*(f"代表{i:02d}" for i in range(24, 30)), "rep_b1"]
    assert (second.context["page_obj"].paginator.count, second.context["page_obj"].has_next()) == (32, False)


@pytest.mark.parametrize("scale", [1, 10], ids=["data x1", "data x10"])
@pytest.mark.parametrize("viewer", ["rep_a1", "manager_a", "director"])
def test_the_targets_page_runs_the_same_queries_whatever_the_data(
    client, org, now, django_assert_num_queries, scale, viewer
):
    for team in (org.team_a, org.team_b):
        SalesTargetFactory(owner_user=None, owner_team=team, period_start=date(2026, 1, 1))
    for i in range(3 * scale):
        team = TeamFactory(name=f"T{i:02d}")
        rep = UserFactory(username=f"r{i:02d}", team=team)
        SalesTargetFactory(owner_user=rep, period_start=date(2026, 1, 1))
    for rep in (org.rep_a1, org.rep_a2, org.rep_b1):
        for month in range(1, 13):
            SalesTargetFactory(owner_user=rep, period_start=date(2026, month, 1))
            for day in range(1, 1 + scale):
                won(owner=rep, amount="10", closed_at=at(2026, month, day))
    client.force_login(getattr(org, viewer))
    # session, user, owners (count, page), targets, wins per user, wins per team (a rep sees no team's target, so
    # there is none to read), stability (targets, wins)
    team_wins = 0 if viewer == "rep_a1" else 1
    with django_assert_num_queries(2 + 2 + 1 + 1 + team_wins + 2):
        response = client.get(reverse("analytics:targets"), {"year": 2026})

    assert response.status_code == 200
    assert (
        len(response.context["page_obj"]) == {"rep_a1": 1, "manager_a": 3, "director": min(25, 5 + 3 * scale)}[viewer]
    )
