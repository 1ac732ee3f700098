"""Target accounts and follow-up: the stored untouched targets, target coverage per owner or overall, and the
stored stale opportunities; each list also as a shortlist (its first rows and its count, cut and counted in SQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery

from accounts.models import Account, Team, User
from analytics.models import AccountValue, StaleFlag, TerritorySnapshot, UntouchedFlag
from analytics.selectors._common import _scope, whole_company
from core.calendar import current_quarter_bounds, local_date, period_bounds, today, year_bounds
from pipeline.models import Opportunity, Visit

T = TypeVar("T")
COVERAGE = "target_coverage"  # the whole company's coverage in the nightly snapshot (analytics.rollups)


@dataclass(frozen=True)
class UntouchedAccount:
    account_id: int
    name: str
    owner: User
    last_visit_at: datetime | None
    days_since: int | None  # None: never visited
    priority: int | None


@dataclass(frozen=True)
class Shortlist(Generic[T]):
    """The first rows of a list, in the list's order, and how many rows the whole list has."""

    items: list[T]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def _untouched_flags(*, viewer: User, owner: User | None, team: Team | None, year: int) -> QuerySet[UntouchedFlag]:
    # One row per account and year (unique): no ordering, so the unique index finds it without joining the account.
    priority = AccountValue.objects.filter(account=OuterRef("account"), year=year).order_by().values("priority")[:1]
    return (
        UntouchedFlag.objects.filter(_scope(viewer, "account__owner", owner=owner, team=team), account__is_target=True)
        .select_related("account__owner")
        .annotate(priority=Subquery(priority))
        .order_by(F("priority").asc(nulls_last=True), F("last_visit_at").asc(nulls_first=True), "account__name")
    )


def untouched_account_of(flag: UntouchedFlag, day: date) -> UntouchedAccount:
    """The row of a flag from `untouched_flags` (its account, the account's owner and priority loaded) on `day`."""
    return UntouchedAccount(
        account_id=flag.account_id,
        name=flag.account.name,
        owner=flag.account.owner,
        last_visit_at=flag.last_visit_at,
        days_since=(day - local_date(flag.last_visit_at)).days if flag.last_visit_at else None,
        priority=flag.priority,
    )


def untouched_accounts(
    *, viewer: User, owner: User | None = None, team: Team | None = None, on: date | None = None
) -> list[UntouchedAccount]:
    """The stored untouched target accounts the viewer sees, in this year's visit-priority order; one query."""
    day = on or today()
    return untouched_rows(_untouched_flags(viewer=viewer, owner=owner, team=team, year=day.year), on=day)


def untouched_flags(
    *,
    viewer: User,
    owner: User | None = None,
    team: Team | None = None,
    on: date | None = None,
    year: int | None = None,
) -> QuerySet[UntouchedFlag]:
    """`untouched_accounts` as an unevaluated queryset of flags, for a paginator to count and cut in SQL; the
    priorities are those of `year` (default: the year of `on`, today)."""
    return _untouched_flags(viewer=viewer, owner=owner, team=team, year=year or (on or today()).year)


def untouched_rows(flags: Iterable[UntouchedFlag], *, on: date | None = None) -> list[UntouchedAccount]:
    """The untouched accounts of flags from `untouched_flags` (e.g. one page of them)."""
    day = on or today()
    return [untouched_account_of(flag, day) for flag in flags]


def untouched_accounts_shortlist(
    *, viewer: User, limit: int, owner: User | None = None, team: Team | None = None, on: date | None = None
) -> Shortlist[UntouchedAccount]:
    """The first `limit` of `untouched_accounts` and how many there are in all; one query, counted and cut in SQL."""
    day = on or today()
    flags = _untouched_flags(viewer=viewer, owner=owner, team=team, year=day.year)
    return _shortlist(flags, limit=limit, row=lambda flag: untouched_account_of(flag, day))


def _shortlist(rows: QuerySet, *, limit: int, row: Callable) -> Shortlist:
    """The first `limit` rows of an ordered queryset with the count of all of them, in one query: the rows are cut
    by LIMIT (an index in the list's order lets the database stop there) and counted by a subquery computed once."""
    count = rows.order_by().annotate(n=Func("pk", function="COUNT", output_field=IntegerField())).values("n")
    first = list(rows.annotate(shortlist_total=Subquery(count))[:limit])
    return Shortlist(items=[row(r) for r in first], total=first[0].shortlist_total if first else 0)


@dataclass(frozen=True)
class TargetCoverage:
    targets: int
    covered: int  # targets with a completed visit in the current quarter
    new_targets: int  # targets since this year
    new_covered: int  # of those, visited from New Year to the end of Q1
    as_of: datetime | None = None  # the nightly snapshot's time for a director's whole company; None: counted now

    @property
    def coverage(self) -> float | None:
        return self.covered / self.targets if self.targets else None

    @property
    def new_target_coverage(self) -> float | None:
        return self.new_covered / self.new_targets if self.new_targets else None


def _coverage_by_owner(scope: Q, day: date) -> dict[int, TargetCoverage]:
    quarter_from, quarter_to = current_quarter_bounds(on=day)
    year_from, _ = year_bounds(day.year)
    q1_end = period_bounds("quarter", date(day.year, 1, 1))[1]
    done = Visit.objects.done().filter(account=OuterRef("pk"))
    rows = (
        Account.objects.targets()
        .filter(scope)
        .annotate(
            visited=Exists(done.filter(done_at__gte=quarter_from, done_at__lt=quarter_to)),
            visited_q1=Exists(done.filter(done_at__gte=year_from, done_at__lt=q1_end)),
        )
        .values("owner_id")
        .annotate(
            targets=Count("id"),
            covered=Count("id", filter=Q(visited=True)),
            new_targets=Count("id", filter=Q(target_since__year=day.year)),
            new_covered=Count("id", filter=Q(target_since__year=day.year, visited_q1=True)),
        )
        .order_by()
    )
    return {
        row["owner_id"]: TargetCoverage(
            targets=row["targets"],
            covered=row["covered"],
            new_targets=row["new_targets"],
            new_covered=row["new_covered"],
        )
        for row in rows
    }


def target_coverage_by_owner(
    *, viewer: User, owner: User | None = None, team: Team | None = None, on: date | None = None
) -> dict[int, TargetCoverage]:
    """Coverage and new-target coverage of the viewer's target accounts per owner id; one query."""
    return _coverage_by_owner(_scope(viewer, "owner", owner=owner, team=team), on or today())


def _total(per_owner: Iterable[TargetCoverage]) -> TargetCoverage:
    per_owner = list(per_owner)
    return TargetCoverage(
        targets=sum(c.targets for c in per_owner),
        covered=sum(c.covered for c in per_owner),
        new_targets=sum(c.new_targets for c in per_owner),
        new_covered=sum(c.new_covered for c in per_owner),
    )


def company_coverage(day: date) -> TargetCoverage:
    """The whole company's coverage on `day`, as the nightly snapshot stores it; one query."""
    return _total(_coverage_by_owner(Q(), day).values())


def target_coverage(
    *, viewer: User, owner: User | None = None, team: Team | None = None, on: date | None = None
) -> TargetCoverage:
    """Coverage and new-target coverage over all the viewer's target accounts (`as_of`: when it was counted, None
    for now).
    A viewer who sees the whole company (a director) with no owner or team chosen reads the nightly snapshot of the
    day when there is one (one query; counting every target's visits grows with the company), else it is counted now
    (one query more)."""
    day = on or today()
    if whole_company(viewer, owner=owner, team=team):
        stored = TerritorySnapshot.objects.filter(dimension=COVERAGE, on=day).values_list("sums", "computed_at")
        for sums, computed_at in stored:
            return TargetCoverage(**{name: int(value) for name, value in sums[0][1].items()}, as_of=computed_at)
    return _total(target_coverage_by_owner(viewer=viewer, owner=owner, team=team, on=day).values())


@dataclass(frozen=True)
class StaleOpportunity:
    opportunity: Opportunity
    last_activity_at: datetime | None
    days_idle: int | None


def _stale_flags(*, viewer: User, owner: User | None, team: Team | None) -> QuerySet[StaleFlag]:
    return (
        StaleFlag.objects.filter(
            _scope(viewer, "opportunity__owner", owner=owner, team=team),
            opportunity__status=Opportunity.Status.OPEN,
        )
        .select_related("opportunity__account", "opportunity__owner", "opportunity__stage")
        .order_by(F("last_activity_at").asc(nulls_first=True), "opportunity_id")
    )


def stale_flags(*, viewer: User, owner: User | None = None, team: Team | None = None) -> QuerySet[StaleFlag]:
    """`stale_opportunities` as an unevaluated queryset of flags, longest idle first."""
    return _stale_flags(viewer=viewer, owner=owner, team=team)


def stale_opportunity_of(flag: StaleFlag, day: date) -> StaleOpportunity:
    """The row of a flag from `stale_flags` (its opportunity with account, stage and owner loaded) on `day`."""
    return StaleOpportunity(
        opportunity=flag.opportunity,
        last_activity_at=flag.last_activity_at,
        days_idle=(day - local_date(flag.last_activity_at)).days if flag.last_activity_at else None,
    )


def stale_opportunities(
    *, viewer: User, owner: User | None = None, team: Team | None = None, on: date | None = None
) -> list[StaleOpportunity]:
    """The stored stale opportunities the viewer sees that are still open, longest idle first; one query."""
    day = on or today()
    return [stale_opportunity_of(flag, day) for flag in _stale_flags(viewer=viewer, owner=owner, team=team)]


def stale_opportunities_shortlist(
    *, viewer: User, limit: int, owner: User | None = None, team: Team | None = None, on: date | None = None
) -> Shortlist[StaleOpportunity]:
    """The first `limit` of `stale_opportunities` and how many there are in all; one query, counted and cut in
    SQL."""
    day = on or today()
    flags = _stale_flags(viewer=viewer, owner=owner, team=team)
    return _shortlist(flags, limit=limit, row=lambda flag: stale_opportunity_of(flag, day))


def _page_of(rows: QuerySet, *, page: Any, per_page: int, row: Callable) -> Page:
    """Page `page` of an ordered queryset (the count and the page: two queries), its rows turned by `row`."""
    chosen = Paginator(rows, per_page).get_page(page)
    chosen.object_list = [row(r) for r in chosen.object_list]
    return chosen


def stale_opportunities_page(*, viewer: User, page: Any, per_page: int, on: date | None = None) -> Page:
    """Page `page` of `stale_opportunities` (StaleOpportunity rows); two queries."""
    day = on or today()
    flags = _stale_flags(viewer=viewer, owner=None, team=None)
    return _page_of(flags, page=page, per_page=per_page, row=lambda flag: stale_opportunity_of(flag, day))


def untouched_accounts_page(*, viewer: User, page: Any, per_page: int, on: date | None = None) -> Page:
    """Page `page` of `untouched_accounts` (UntouchedAccount rows); two queries."""
    day = on or today()
    flags = _untouched_flags(viewer=viewer, owner=None, team=None, year=day.year)
    return _page_of(flags, page=page, per_page=per_page, row=lambda flag: untouched_account_of(flag, day))
