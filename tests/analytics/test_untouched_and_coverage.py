"""Untouched target accounts, coverage and new-target coverage (SPEC §7)."""

from datetime import date, timedelta

import pytest

from analytics.models import AccountValue, JobRun, MatrixRun, UntouchedFlag
from analytics.selectors.coverage import target_coverage, target_coverage_by_owner, untouched_accounts
from analytics.services import flag_untouched
from pipeline.models import Visit
from tests.analytics.conftest import NOW, at, done_visit
from tests.factories import AccountFactory, UserFactory, VisitFactory

pytestmark = pytest.mark.django_db


def flagged() -> set[str]:
    return set(UntouchedFlag.objects.values_list("account__name", flat=True))


def target(name: str, **fields):
    return AccountFactory(name=name, is_target=True, target_since=date(2025, 1, 1), **fields)


def test_a_target_whose_only_visit_was_cancelled_or_only_planned_is_untouched(now):
    cancelled, planned = target("cancelled"), target("planned")
    VisitFactory(account=cancelled, status=Visit.Status.CANCELLED, planned_at=NOW - timedelta(days=3))
    VisitFactory(account=planned, planned_at=NOW - timedelta(days=3))
    visited = target("visited")
    done_visit(account=visited, done_at=NOW - timedelta(days=3))

    assert flag_untouched() == 2

    assert flagged() == {"cancelled", "planned"}
    assert UntouchedFlag.objects.get(account=cancelled).last_visit_at is None


def test_a_visit_on_the_ninetieth_day_still_counts_and_one_a_day_earlier_does_not(now):
    edge, beyond = target("edge"), target("beyond")
    # 15 May 2026 - 90 days = 14 February 2026
    done_visit(account=edge, done_at=at(2026, 2, 14, 0, 0))
    done_visit(account=beyond, done_at=at(2026, 2, 13, 23, 59, 59))

    flag_untouched()

    assert flagged() == {"beyond"}
    assert UntouchedFlag.objects.get().last_visit_at == at(2026, 2, 13, 23, 59, 59)


def test_visits_by_anyone_count_and_accounts_that_are_not_targets_are_never_flagged(now):
    account = target("visited by a colleague")
    done_visit(account=account, done_at=NOW - timedelta(days=1), owner=UserFactory())
    AccountFactory(name="not a target")

    flag_untouched()

    assert flagged() == set()


def test_the_window_is_a_setting(now, settings):
    settings.SALESFLOW_UNTOUCHED_DAYS = 10
    account = target("ten days ago")
    done_visit(account=account, done_at=NOW - timedelta(days=11))

    flag_untouched()

    assert flagged() == {"ten days ago"}


def test_untouched_accounts_come_in_visit_priority_order_with_days_since_the_last_visit(org, now):
    target("never", owner=org.rep_a1)
    old = target("old", owner=org.rep_a1)
    done_visit(account=old, done_at=at(2026, 1, 5))
    first = target("first in priority", owner=org.rep_a1)
    done_visit(account=first, done_at=at(2025, 12, 1))
    target("other rep's", owner=org.rep_b1)
    flag_untouched()
    run = MatrixRun.objects.create(year=2026, cv_threshold=0, pv_threshold=0)
    AccountValue.objects.create(run=run, account=first, year=2026, cv=0, pv=1, quadrant="develop", priority=1)

    rows = untouched_accounts(viewer=org.rep_a1)

    assert [(r.name, r.days_since, r.priority) for r in rows] == [
        ("first in priority", 165, 1),
        ("never", None, None),
        ("old", 130, None),
    ]
    assert {r.name for r in untouched_accounts(viewer=org.manager_b)} == {"other rep's"}
    assert len(untouched_accounts(viewer=org.director)) == 4


def test_an_account_no_longer_a_target_drops_out_before_the_next_run(org, now):
    account = target("demoted", owner=org.rep_a1)
    flag_untouched()
    account.is_target, account.target_since = False, None
    account.save()

    assert untouched_accounts(viewer=org.rep_a1) == []


def test_running_twice_leaves_one_flag_per_account_and_records_when(now):
    target("a")
    target("b")

    flag_untouched()
    first = list(UntouchedFlag.objects.order_by("account").values_list("account", "last_visit_at"))
    flag_untouched()

    assert list(UntouchedFlag.objects.order_by("account").values_list("account", "last_visit_at")) == first
    assert UntouchedFlag.objects.count() == 2
    assert JobRun.objects.get(job=JobRun.UNTOUCHED).computed_at == NOW


def test_coverage_counts_targets_visited_this_quarter(org, now):
    this_quarter = target("this quarter", owner=org.rep_a1)
    done_visit(account=this_quarter, done_at=at(2026, 4, 1, 0, 0))
    last_quarter = target("last quarter", owner=org.rep_a1)
    done_visit(account=last_quarter, done_at=at(2026, 3, 31, 23, 59))
    planned = target("planned", owner=org.rep_a2)
    VisitFactory(account=planned, planned_at=NOW + timedelta(days=1))
    AccountFactory(owner=org.rep_a1, name="not a target")
    done_visit(account=AccountFactory(owner=org.rep_a1), done_at=NOW)

    coverage = target_coverage(viewer=org.manager_a)

    assert (coverage.targets, coverage.covered, coverage.coverage) == (3, 1, 1 / 3)
    per_owner = target_coverage_by_owner(viewer=org.manager_a)
    assert {owner: (c.targets, c.covered) for owner, c in per_owner.items()} == {
        org.rep_a1.pk: (2, 1),
        org.rep_a2.pk: (1, 0),
    }
    assert target_coverage(viewer=org.rep_a2).coverage == 0.0
    assert target_coverage(viewer=org.rep_b1).coverage is None


def test_new_target_coverage_counts_this_years_targets_visited_by_the_end_of_q1(org, now):
    in_q1 = AccountFactory(owner=org.rep_a1, is_target=True, target_since=date(2026, 1, 10))
    done_visit(account=in_q1, done_at=at(2026, 3, 31, 23, 59))
    after_q1 = AccountFactory(owner=org.rep_a1, is_target=True, target_since=date(2026, 1, 10))
    done_visit(account=after_q1, done_at=at(2026, 4, 1, 0, 0))
    last_year = AccountFactory(owner=org.rep_a1, is_target=True, target_since=date(2025, 12, 31))
    done_visit(account=last_year, done_at=at(2026, 2, 1))
    AccountFactory(owner=org.rep_a1, is_target=True, target_since=date(2026, 2, 1))  # never visited

    coverage = target_coverage(viewer=org.rep_a1)

    assert (coverage.new_targets, coverage.new_covered, coverage.new_target_coverage) == (3, 1, 1 / 3)
    assert (coverage.targets, coverage.covered) == (4, 1)
