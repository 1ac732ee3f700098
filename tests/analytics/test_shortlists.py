"""Shortlists of the home page: the first rows of the untouched targets and of the stale opportunities, and how many
there are in all, cut and counted in SQL (one query), so a page never loads a whole list to show ten."""

from datetime import date, timedelta

import pytest

from analytics.models import AccountValue, MatrixRun
from analytics.selectors.coverage import (
    Shortlist,
    stale_opportunities,
    stale_opportunities_shortlist,
    untouched_accounts,
    untouched_accounts_shortlist,
)
from analytics.services import flag_stale, flag_untouched
from tests.analytics.conftest import NOW, done_visit
from tests.factories import AccountFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def flags(org, now):
    """Seven untouched targets of rep_a1 (four with a visit priority), two of rep_b1; five stale opportunities of
    rep_a1, two of rep_b1."""
    run = MatrixRun.objects.create(year=2026)
    for i, owner in enumerate([org.rep_a1] * 7 + [org.rep_b1] * 2):
        account = AccountFactory(owner=owner, name=f"target {i}", is_target=True, target_since=date(2025, 1, 1))
        if i % 2:
            done_visit(account=account, done_at=NOW - timedelta(days=100 + i))
        if i < 4:
            AccountValue.objects.create(
                run=run, account=account, year=2026, cv=1, pv=1, quadrant="core", priority=10 - i
            )
    for i, owner in enumerate([org.rep_a1] * 5 + [org.rep_b1] * 2):
        idle = NOW - timedelta(days=30 + i)
        OpportunityFactory(owner=owner, name=f"idle {i}", created_at=idle, stage_entered_at=idle)
    flag_untouched()
    flag_stale()


@pytest.mark.parametrize("viewer", ["rep_a1", "manager_a", "director"])
@pytest.mark.parametrize("limit", [1, 3, 20])
def test_a_shortlist_is_the_head_of_the_list_and_counts_the_whole_list(org, flags, viewer, limit):
    user = getattr(org, viewer)

    untouched = untouched_accounts_shortlist(viewer=user, limit=limit)
    stale = stale_opportunities_shortlist(viewer=user, limit=limit)

    every_untouched, every_stale = untouched_accounts(viewer=user), stale_opportunities(viewer=user)
    assert untouched == Shortlist(items=every_untouched[:limit], total=len(every_untouched))
    assert stale == Shortlist(items=every_stale[:limit], total=len(every_stale))
    assert (untouched.total, stale.total) == {"rep_a1": (7, 5), "manager_a": (7, 5), "director": (9, 7)}[viewer]


def test_a_shortlist_of_a_list_with_nothing_visible_is_empty(org, flags):
    outsider = UserFactory(role="rep")

    assert untouched_accounts_shortlist(viewer=outsider, limit=10) == Shortlist(items=[], total=0)
    assert stale_opportunities_shortlist(viewer=outsider, limit=10) == Shortlist(items=[], total=0)
    assert stale_opportunities_shortlist(viewer=outsider, limit=10).more == 0


def test_more_says_how_many_rows_the_shortlist_leaves_out(org, flags):
    assert untouched_accounts_shortlist(viewer=org.director, limit=4).more == 5


@pytest.mark.parametrize("size", [1, 10], ids=["flags x1", "flags x10"])
def test_each_shortlist_runs_one_query_whatever_the_list_length(org, now, size, django_assert_num_queries):
    for i in range(3 * size):
        AccountFactory(owner=org.rep_a1, name=f"t{i}", is_target=True, target_since=date(2025, 1, 1))
        idle = NOW - timedelta(days=40)
        OpportunityFactory(owner=org.rep_a1, created_at=idle, stage_entered_at=idle)
    flag_untouched()
    flag_stale()

    with django_assert_num_queries(2):
        untouched = untouched_accounts_shortlist(viewer=org.manager_a, limit=10)
        stale = stale_opportunities_shortlist(viewer=org.manager_a, limit=10)

    assert (len(untouched.items), untouched.total) == (min(10, 3 * size), 3 * size)
    assert (len(stale.items), stale.total) == (min(10, 3 * size), 3 * size)
