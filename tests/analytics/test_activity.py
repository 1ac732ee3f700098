"""Activity (SPEC §7): completed visits per rep per week, visits vs won amount."""

from datetime import date
from decimal import Decimal

import pytest

from analytics.selectors.activity import visits_per_rep_week, visits_vs_won
from pipeline.models import Visit
from tests.analytics.conftest import at, done_visit, won
from tests.factories import AccountFactory, VisitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def visits(org, now):
    a1, b1 = AccountFactory(owner=org.rep_a1), AccountFactory(owner=org.rep_b1)
    done_visit(account=a1, done_at=at(2026, 5, 4, 9, 0))
    done_visit(account=a1, done_at=at(2026, 5, 10, 23, 30))  # Sunday night: still the week of 4 May
    done_visit(account=a1, done_at=at(2026, 5, 11, 0, 10))  # Monday just after midnight (Sunday in UTC)
    done_visit(account=a1, done_at=at(2026, 5, 3, 23, 59))  # before the period
    VisitFactory(account=a1, planned_at=at(2026, 5, 12))
    VisitFactory(account=a1, status=Visit.Status.CANCELLED, planned_at=at(2026, 5, 12))
    done_visit(account=b1, done_at=at(2026, 5, 5))
    won(owner=org.rep_a1, amount="1000", closed_at=at(2026, 5, 6))
    won(owner=org.rep_a1, amount="500", closed_at=at(2026, 5, 14))
    won(owner=org.rep_a1, amount="9", closed_at=at(2026, 4, 30))


def test_done_visits_per_rep_and_week_include_empty_weeks(org, visits):
    rows = visits_per_rep_week(viewer=org.manager_a, start=date(2026, 5, 4), end=date(2026, 5, 15))

    assert [(r.owner.username, r.week_start, r.done) for r in rows] == [
        ("rep_a1", date(2026, 5, 4), 2),
        ("rep_a1", date(2026, 5, 11), 1),
        ("rep_a2", date(2026, 5, 4), 0),
        ("rep_a2", date(2026, 5, 11), 0),
    ]


def test_a_rep_sees_only_their_own_weeks(org, visits):
    rows = visits_per_rep_week(viewer=org.rep_b1, start=date(2026, 5, 4), end=date(2026, 5, 10))

    assert [(r.owner.username, r.week_start, r.done) for r in rows] == [("rep_b1", date(2026, 5, 4), 1)]


def test_visits_vs_won_amount_per_rep(org, visits):
    rows = visits_vs_won(viewer=org.director, start=date(2026, 5, 4), end=date(2026, 5, 15))

    assert [(r.owner.username, r.done_visits, r.won_count, r.won_amount) for r in rows] == [
        ("rep_a1", 3, 2, Decimal("1500.00")),
        ("rep_a2", 0, 0, Decimal("0.00")),
        ("rep_b1", 1, 0, Decimal("0.00")),
    ]
    assert [
        r.owner.username for r in visits_vs_won(viewer=org.manager_b, start=date(2026, 5, 4), end=date(2026, 5, 15))
    ] == ["rep_b1"]
