"""The targets page's pivot (SPEC §6): owners (teams and people) × the periods of a year, each cell a target, the
amount won in the period and the attainment, one page of owners at a time.

Everything is grouped by owner and period in SQL for the owners of the page only: the cost of a page follows the
page, not the number of targets or wins in the company. Attainment is as everywhere (`attainment.attainment`): a
user by their own wins closed in the period, a team by its current members' wins.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Case, CharField, Exists, F, IntegerField, OuterRef, Q, QuerySet, Sum, Value, When

from accounts.models import Team, User
from analytics.selectors._common import PERIOD_TRUNC, _money, _scope
from core.calendar import company_tz, day_start, local_date, period_end, period_start, today
from pipeline.models import Opportunity, SalesTarget

# The period types the pivot has columns for: a year holds 12 months, 4 quarters or 1 year.
PIVOT_PERIOD_TYPES = ("month", "quarter", "year")


@dataclass(frozen=True)
class PivotCell:
    period_start: date
    target: Decimal | None  # None: no target for this owner and period
    won_amount: Decimal
    attainment: float | None  # None without a target above zero

    @property
    def is_empty(self) -> bool:
        return self.target is None and not self.won_amount


@dataclass(frozen=True)
class PivotStability:
    months: int  # complete months of the last 12 with a monthly target above zero
    cv: float | None  # None with fewer than two such months, or a mean of zero
    stable: bool | None


@dataclass(frozen=True)
class PivotRow:
    owner_type: str  # "team" or "user"
    owner_id: int
    owner_name: str
    group: str | None  # the team the row is listed under (a team's own name, a user's team); None: no team
    cells: list[PivotCell]  # one per period of the year, in order
    year: PivotCell  # the year's targets and wins of the periods above, summed
    stability: PivotStability | None  # users only: None for a team


@dataclass(frozen=True)
class TargetsPivot:
    period_type: str
    year: int
    periods: list[date]  # the columns: each period's first day
    page: Page  # of PivotRow, teams listed before their members


def year_periods(period_type: str, year: int) -> list[date]:
    """The first days of the periods of `period_type` in `year`, in order; runs no query."""
    starts, start = [], date(year, 1, 1)
    while start.year == year:
        starts.append(start)
        start = period_end(period_type, start)
    return starts


def _text(value: str) -> Value:
    return Value(value, output_field=CharField())


def attainment_owners(
    *, viewer: User, period_type: str, year: int, owner: User | None = None, team: Team | None = None
) -> QuerySet:
    """Teams with a visible target of the year and visible users with a target or a win in it (only `owner`, or only
    `team` and its members, when given), each as a row (kind, owner_id, no_group, group, sort_key, last_name,
    first_name), teams before their members; unevaluated, so a paginator counts and cuts it in SQL."""
    targets = SalesTarget.objects.visible_to(viewer).filter(period_type=period_type, period_start__year=year)
    since, until = day_start(date(year, 1, 1)), day_start(date(year + 1, 1, 1))
    # Each visible user is asked whether they have a target or a win of the year: one probe of the owner-led target
    # and closed-opportunity indexes per user, not a read of every target and win of the year (the company's).
    winners = Opportunity.objects.filter(_scope(viewer, "owner")).won().closed_between(since, until)
    users = (
        User.objects.visible_to(viewer)
        .filter(Exists(targets.filter(owner_user=OuterRef("pk"))) | Exists(winners.filter(owner=OuterRef("pk"))))
        .filter(Q(pk=owner.pk) if owner is not None else Q(team=team) if team is not None else Q())
        .annotate(
            kind=_text("user"),
            owner_id=F("pk"),
            no_group=Case(When(team__isnull=True, then=1), default=0, output_field=IntegerField()),
            group=F("team__name"),
            sort_key=F("username"),
            family=F("last_name"),
            given=F("first_name"),
        )
        .values_list("kind", "owner_id", "no_group", "group", "sort_key", "family", "given")
        .order_by()
    )
    teams = (
        Team.objects.visible_to(viewer)
        .filter(Exists(targets.filter(owner_team=OuterRef("pk"))))
        .filter(Q(pk__in=[]) if owner is not None else Q(pk=team.pk) if team is not None else Q())
        .annotate(
            kind=_text("team"),
            owner_id=F("pk"),
            no_group=Value(0, output_field=IntegerField()),
            group=F("name"),
            sort_key=_text(""),
            family=_text(""),
            given=_text(""),
        )
        .values_list("kind", "owner_id", "no_group", "group", "sort_key", "family", "given")
        .order_by()
    )
    # "team" sorts before "user": a team's row comes first in its group.
    return teams.union(users, all=True).order_by("no_group", "group", "kind", "sort_key", "owner_id")


def _period_of(value: date | datetime) -> date:
    return local_date(value) if isinstance(value, datetime) else value


def _won(
    opportunities: QuerySet[Opportunity], *, key: str, period_type: str, since: datetime, until: datetime
) -> dict[tuple[int, date], Decimal]:
    """Won amounts per (`key`, period start) closed in [since, until); one query."""
    trunc = PERIOD_TRUNC[period_type]("closed_at", tzinfo=company_tz())
    rows = (
        opportunities.won()
        .closed_between(since, until)
        .annotate(period=trunc)
        .values(key, "period")
        .annotate(total=Sum("amount"))
        .values_list(key, "period", "total")
        .order_by()
    )
    return {(owner, _period_of(period)): total for owner, period, total in rows}


def _ratio(won: Decimal, target: Decimal | None) -> float | None:
    return float(won / target) if target else None


def _cell(start: date, target: Decimal | None, won: Decimal) -> PivotCell:
    target = None if target is None else _money(target)
    won = _money(won)
    return PivotCell(period_start=start, target=target, won_amount=won, attainment=_ratio(won, target))


def _year_cell(cells: list[PivotCell], start: date) -> PivotCell:
    targets = [c.target for c in cells if c.target is not None]
    won = sum((c.won_amount for c in cells), Decimal(0))
    return _cell(start, sum(targets, Decimal(0)) if targets else None, won)


def _stability(*, viewer: User, user_ids: list[int], on: date) -> dict[int, PivotStability]:
    """Per user id of `user_ids` with a monthly target in the last 12 complete months: the coefficient of variation
    of their monthly attainment, as `attainment.stability` defines it; 2 queries."""
    this_month = period_start("month", on)
    first = date(this_month.year - 1, this_month.month, 1)
    targets = list(
        SalesTarget.objects.filter(
            _scope(viewer, "owner_user"),
            owner_user_id__in=user_ids,
            period_type=SalesTarget.PeriodType.MONTH,
            period_start__gte=first,
            period_start__lt=this_month,
            amount__gt=0,
        ).values_list("owner_user_id", "period_start", "amount")
    )
    won = _won(
        Opportunity.objects.filter(_scope(viewer, "owner"), owner_id__in=user_ids),
        key="owner_id",
        period_type="month",
        since=day_start(first),
        until=day_start(this_month),
    )
    monthly: dict[int, list[float]] = {}
    for owner_id, start, amount in targets:
        monthly.setdefault(owner_id, []).append(float(won.get((owner_id, start), 0) / amount))
    limit = settings.SALESFLOW_STABLE_CV
    result = {}
    for owner_id, ratios in monthly.items():
        mean = statistics.fmean(ratios)
        cv = statistics.pstdev(ratios) / mean if len(ratios) >= 2 and mean > 0 else None
        result[owner_id] = PivotStability(months=len(ratios), cv=cv, stable=None if cv is None else cv <= limit)
    return result


def page_targets_and_won(
    *, viewer: User, period_type: str, periods: list[date], user_ids: list[int], team_ids: list[int]
) -> tuple[dict[tuple[str, int, date], Decimal], dict[str, dict]]:
    """For a page of owners (users and teams by id) and the periods shown: the targets the viewer sees keyed by
    ("user" or "team", owner id, period start), and the amounts won keyed by kind, then (owner id, period start);
    3 queries, fewer when the page holds no user or no team (the pivot's and the grid's shared read)."""
    after = period_end(period_type, periods[-1])
    since, until = day_start(periods[0]), day_start(after)
    targets: dict[tuple[str, int, date], Decimal] = {}
    if user_ids or team_ids:
        for user_id, team_id, start, amount in (
            SalesTarget.objects.visible_to(viewer)
            .filter(period_type=period_type, period_start__gte=periods[0], period_start__lt=after)
            .filter(Q(owner_user_id__in=user_ids) | Q(owner_team_id__in=team_ids))
            .values_list("owner_user_id", "owner_team_id", "period_start", "amount")
        ):
            targets["user" if user_id else "team", user_id or team_id, start] = amount
    visible = Opportunity.objects.filter(_scope(viewer, "owner"))
    won: dict[str, dict] = {"user": {}, "team": {}}
    if user_ids:
        won["user"] = _won(
            visible.filter(owner_id__in=user_ids), key="owner_id", period_type=period_type, since=since, until=until
        )
    if team_ids:
        won["team"] = _won(
            visible.filter(owner__team_id__in=team_ids),
            key="owner__team_id",
            period_type=period_type,
            since=since,
            until=until,
        )
    return targets, won


def targets_pivot(
    *,
    viewer: User,
    period_type: str,
    year: int,
    page: int | str | None = 1,
    per_page: int = 25,
    on: date | None = None,
) -> TargetsPivot:
    """One page of the pivot of owners × periods of `year` (month, quarter or year) the viewer sees: teams with a
    target in the year, each before its members, then users with a target or a win in it; 7 queries (count, owners,
    targets, wins per user and per team, stability's two), fewer when the page holds no user or no team."""
    if period_type not in PIVOT_PERIOD_TYPES:
        raise ValueError(f"the pivot has no columns for {period_type!r} periods")
    periods = year_periods(period_type, year)
    owners = Paginator(attainment_owners(viewer=viewer, period_type=period_type, year=year), per_page).get_page(page)
    keys = list(owners.object_list)
    user_ids = [owner_id for kind, owner_id, *_rest in keys if kind == "user"]
    team_ids = [owner_id for kind, owner_id, *_rest in keys if kind == "team"]
    targets, won = page_targets_and_won(
        viewer=viewer, period_type=period_type, periods=periods, user_ids=user_ids, team_ids=team_ids
    )
    stable = _stability(viewer=viewer, user_ids=user_ids, on=on or today()) if user_ids else {}
    rows = []
    for kind, owner_id, _no_group, group, username, family, given in keys:
        cells = [
            _cell(start, targets.get((kind, owner_id, start)), won[kind].get((owner_id, start), Decimal(0)))
            for start in periods
        ]
        rows.append(
            PivotRow(
                owner_type=kind,
                owner_id=owner_id,
                owner_name=group if kind == "team" else (f"{family}{given}".strip() or username),
                group=group,
                cells=cells,
                year=_year_cell(cells, periods[0]),
                stability=stable.get(owner_id) if kind == "user" else None,
            )
        )
    owners.object_list = rows
    return TargetsPivot(period_type=period_type, year=year, periods=periods, page=owners)
