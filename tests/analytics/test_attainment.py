"""Target attainment per period and stability per rep (SPEC §6)."""

import math
import random
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from analytics.selectors.attainment import attainment, coefficient_of_variation, current_attainment, stability
from tests.analytics.conftest import at, won
from tests.factories import SalesTargetFactory, UserFactory

pytestmark = pytest.mark.django_db


def month_target(owner=None, *, start: date, amount: str, team=None):
    return SalesTargetFactory(
        owner_user=owner, owner_team=team, period_type="month", period_start=start, amount=Decimal(amount)
    )


@pytest.fixture
def year_2026(org, now):
    month_target(org.rep_a1, start=date(2026, 1, 1), amount="100000")
    month_target(org.rep_a1, start=date(2026, 2, 1), amount="100000")
    month_target(org.rep_a1, start=date(2026, 3, 1), amount="0")
    month_target(org.rep_a1, start=date(2026, 4, 1), amount="200000")
    month_target(team=org.team_a, start=date(2026, 1, 1), amount="500000")
    month_target(org.rep_b1, start=date(2026, 1, 1), amount="1000")
    won(owner=org.rep_a1, amount="50000", closed_at=at(2026, 1, 31, 23, 59))
    won(owner=org.rep_a1, amount="100000", closed_at=at(2026, 2, 1, 0, 0))
    won(owner=org.rep_a1, amount="30000", closed_at=at(2026, 3, 15))
    won(owner=org.rep_a1, amount="10000", closed_at=at(2026, 5, 2))
    won(owner=org.rep_a2, amount="20000", closed_at=at(2026, 1, 20))
    won(owner=org.rep_a1, amount="999", closed_at=at(2025, 12, 31, 23, 59))


def rows_of(viewer, period_type="month", year=2026, **scope):
    return [
        (r.owner_type, r.owner_name, r.period_start, r.target, r.won_amount, r.attainment)
        for r in attainment(viewer=viewer, period_type=period_type, year=year, **scope)
    ]


def test_monthly_attainment_of_users_and_teams_including_wins_without_a_target(org, year_2026):
    d = Decimal
    assert rows_of(org.director) == [
        ("user", "rep_a1", date(2026, 1, 1), d("100000.00"), d("50000.00"), 0.5),
        ("user", "rep_a2", date(2026, 1, 1), None, d("20000.00"), None),
        ("user", "rep_b1", date(2026, 1, 1), d("1000.00"), d("0.00"), 0.0),
        ("team", "A", date(2026, 1, 1), d("500000.00"), d("70000.00"), 0.14),
        ("user", "rep_a1", date(2026, 2, 1), d("100000.00"), d("100000.00"), 1.0),
        ("user", "rep_a1", date(2026, 3, 1), d("0.00"), d("30000.00"), None),
        ("user", "rep_a1", date(2026, 4, 1), d("200000.00"), d("0.00"), 0.0),
        ("user", "rep_a1", date(2026, 5, 1), None, d("10000.00"), None),
    ]


def test_a_rep_sees_only_their_own_rows_and_a_manager_their_team(org, year_2026):
    assert {(r[0], r[1]) for r in rows_of(org.rep_a2)} == {("user", "rep_a2")}
    assert {(r[0], r[1]) for r in rows_of(org.manager_a)} == {("user", "rep_a1"), ("user", "rep_a2"), ("team", "A")}
    assert {(r[0], r[1]) for r in rows_of(org.manager_b)} == {("user", "rep_b1")}
    assert {(r[0], r[1]) for r in rows_of(org.director, owner=org.rep_a2)} == {("user", "rep_a2")}


def test_quarterly_attainment_sums_the_quarter(org, year_2026):
    SalesTargetFactory(owner_user=org.rep_a1, period_type="quarter", period_start=date(2026, 1, 1), amount=300000)

    rows = [r for r in rows_of(org.rep_a1, period_type="quarter") if r[3] is not None]

    assert rows == [("user", "rep_a1", date(2026, 1, 1), Decimal("300000.00"), Decimal("180000.00"), 0.6)]


def test_weekly_attainment_uses_monday_to_sunday_in_shanghai(org, now):
    SalesTargetFactory(owner_user=org.rep_a1, period_type="week", period_start=date(2026, 1, 5), amount=1000)
    won(owner=org.rep_a1, amount="400", closed_at=at(2026, 1, 11, 23, 0))
    won(owner=org.rep_a1, amount="800", closed_at=at(2026, 1, 12, 0, 30))

    assert rows_of(org.rep_a1, period_type="week") == [
        ("user", "rep_a1", date(2026, 1, 5), Decimal("1000.00"), Decimal("400.00"), 0.4),
        ("user", "rep_a1", date(2026, 1, 12), None, Decimal("800.00"), None),
    ]


@pytest.mark.parametrize("viewer", ["director", "manager_a", "rep_a1"])
@pytest.mark.parametrize(
    ("period_type", "start"),
    [
        ("month", date(2026, 1, 1)),
        ("month", date(2026, 5, 1)),
        ("month", date(2026, 6, 1)),
        ("quarter", date(2026, 1, 1)),
    ],
)
def test_attainment_of_one_period_is_that_periods_rows_of_the_year(org, year_2026, viewer, period_type, start):
    SalesTargetFactory(owner_user=org.rep_a1, period_type="quarter", period_start=date(2026, 1, 1), amount=300000)
    user = getattr(org, viewer)

    rows = rows_of(user, period_type=period_type, period=start)

    assert rows == [row for row in rows_of(user, period_type=period_type) if row[2] == start]


@pytest.fixture
def current_periods(org, year_2026):
    """Besides 2026: in May (the current month) a team target, a zero win of rep_a2 and a win of rep_b1; a target of
    rep_a1 and of team A for Q2, which April's and May's wins count towards; a Q1 win of rep_b1 that Q2 leaves out."""
    month_target(team=org.team_a, start=date(2026, 5, 1), amount="40000")
    won(owner=org.rep_a2, amount="0", closed_at=at(2026, 5, 3))
    won(owner=org.rep_b1, amount="2500.50", closed_at=at(2026, 5, 31, 23, 59))
    won(owner=org.rep_a2, amount="7000", closed_at=at(2026, 4, 30, 23, 59))
    won(owner=org.rep_b1, amount="123", closed_at=at(2026, 3, 31, 23, 59))
    SalesTargetFactory(owner_user=org.rep_a1, period_type="quarter", period_start=date(2026, 4, 1), amount=300000)
    SalesTargetFactory(
        owner_user=None, owner_team=org.team_a, period_type="quarter", period_start=date(2026, 4, 1), amount=90000
    )


def _current_of_attainment(viewer, owner, start, period_type):
    """The home page's rows of one period as `attainment` gives them: that period's, teams first."""
    rows = attainment(viewer=viewer, period_type=period_type, year=start.year, owner=owner, period=start)
    return sorted(rows, key=lambda r: r.owner_type != "team")


@pytest.mark.parametrize("viewer", ["director", "manager_a", "manager_b", "rep_a1", "rep_a2", "rep_b1"])
def test_current_attainment_is_attainment_of_the_current_month_and_quarter(org, now, current_periods, viewer):
    user = getattr(org, viewer)
    owner = user if user.is_rep else None

    current = current_attainment(viewer=user, owner=owner)

    assert current.month == _current_of_attainment(user, owner, date(2026, 5, 1), "month")
    assert current.quarter == _current_of_attainment(user, owner, date(2026, 4, 1), "quarter")


def test_current_attainment_of_the_director(org, now, current_periods):
    d = Decimal

    current = current_attainment(viewer=org.director)

    assert [(r.owner_type, r.owner_name, r.target, r.won_amount, r.attainment) for r in current.month] == [
        ("team", "A", d("40000.00"), d("10000.00"), 0.25),
        ("user", "rep_a1", None, d("10000.00"), None),
        ("user", "rep_a2", None, d("0.00"), None),
        ("user", "rep_b1", None, d("2500.50"), None),
    ]
    assert [(r.owner_type, r.owner_name, r.target, r.won_amount, r.attainment) for r in current.quarter] == [
        ("team", "A", d("90000.00"), d("17000.00"), pytest.approx(17 / 90)),
        ("user", "rep_a1", d("300000.00"), d("10000.00"), pytest.approx(1 / 30)),
        ("user", "rep_a2", None, d("7000.00"), None),
        ("user", "rep_b1", None, d("2500.50"), None),
    ]


@pytest.mark.parametrize("viewer", ["director", "manager_a", "rep_a1"])
def test_current_attainment_runs_two_queries(org, now, current_periods, viewer, django_assert_num_queries):
    user = getattr(org, viewer)

    with django_assert_num_queries(2):  # the targets of both periods, the quarter's wins with the month's share
        current_attainment(viewer=user, owner=user if user.is_rep else None)


def test_a_year_without_targets_or_wins_has_no_rows(org, year_2026):
    assert rows_of(org.director, year=2024) == []


def test_stability_is_the_coefficient_of_variation_of_the_last_twelve_complete_months(org, now):
    steady = UserFactory(username="steady", team=org.team_a)
    # May 2025 … April 2026 at 80 %, 100 %, 120 % in turn
    months = [date(2025, m, 1) for m in range(5, 13)] + [date(2026, m, 1) for m in range(1, 5)]
    for i, month in enumerate(months):
        month_target(steady, start=month, amount="1000")
        won(owner=steady, amount=str(800 + 200 * (i % 3)), closed_at=at(month.year, month.month, 10))
    month_target(steady, start=date(2025, 4, 1), amount="1000")  # thirteen months ago: outside
    month_target(steady, start=date(2026, 5, 1), amount="1000")  # this month: not complete
    # fewer than twelve months: January 50 %, February 100 %, April 0 %; March's zero target is skipped
    month_target(org.rep_a1, start=date(2026, 1, 1), amount="100")
    month_target(org.rep_a1, start=date(2026, 2, 1), amount="100")
    month_target(org.rep_a1, start=date(2026, 3, 1), amount="0")
    month_target(org.rep_a1, start=date(2026, 4, 1), amount="100")
    won(owner=org.rep_a1, amount="50", closed_at=at(2026, 1, 5))
    won(owner=org.rep_a1, amount="100", closed_at=at(2026, 2, 5))
    won(owner=org.rep_a1, amount="70", closed_at=at(2026, 3, 5))
    month_target(org.rep_a2, start=date(2026, 4, 1), amount="100")  # one month: no variation to speak of
    month_target(team=org.team_a, start=date(2026, 4, 1), amount="100")  # a team has no stability

    result = {s.owner.username: (s.months, s.cv, s.stable) for s in stability(viewer=org.director)}

    assert result == {
        "steady": (12, pytest.approx(math.sqrt(0.08 / 3)), True),
        "rep_a1": (3, pytest.approx(math.sqrt(1 / 6) / 0.5), False),
        "rep_a2": (1, None, None),
    }
    assert [s.owner.username for s in stability(viewer=org.rep_a2)] == ["rep_a2"]


def test_stability_of_a_rep_who_won_nothing_is_undefined(org, now):
    month_target(org.rep_a1, start=date(2026, 3, 1), amount="100")
    month_target(org.rep_a1, start=date(2026, 4, 1), amount="100")

    [row] = stability(viewer=org.rep_a1)

    assert (row.months, row.cv, row.stable) == (2, None, None)


@pytest.mark.parametrize(("limit", "stable"), [(0.25, True), (0.2, True), (0.19, False)])
def test_a_rep_is_stable_up_to_the_configured_coefficient(org, now, settings, limit, stable):
    settings.SALESFLOW_STABLE_CV = limit
    for month, amount in [(2, "80"), (3, "120")]:  # mean 1.0, population std 0.2
        month_target(org.rep_a1, start=date(2026, month, 1), amount="100")
        won(owner=org.rep_a1, amount=amount, closed_at=at(2026, month, 3))

    [row] = stability(viewer=org.rep_a1)

    assert (row.cv, row.stable) == (pytest.approx(0.2), stable)


def test_the_coefficient_of_variation_is_pandas_population_std_over_mean_to_the_last_bit():
    """Stability's cv was pandas' `series.std(ddof=0) / series.mean()`; it stays that float exactly, so the API's
    numbers do not move in their last digits."""
    rng = random.Random(20261207)
    samples = [[float(Decimal(rng.randint(0, 10**7)) / Decimal(rng.randint(1, 10**6))) for _ in range(n)]
               for n in [rng.randint(1, 12) for _ in range(3000)]]  # fmt: skip
    samples += [[0.0, 0.0], [1.0], [0.5, 0.5, 0.5], [0.1, 0.2, 0.3] * 4]
    for values in samples:
        series = pd.Series(values)
        mean = series.mean()
        expected = float(series.std(ddof=0) / mean) if len(series) >= 2 and mean > 0 else None

        assert coefficient_of_variation(values) == expected, values
