"""Sales targets against won amounts: attainment per owner and period, and the stability of monthly attainment."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.db.models import DateField, Q, QuerySet, Sum

from accounts.models import Team, User, display_name
from accounts.visibility import VIEWER_SHAPE, among
from analytics.selectors._common import PERIOD_TRUNC, _money, _scope
from core.calendar import company_tz, day_start, period_end, period_start, today
from core.statements import bound_queryset
from pipeline.models import Opportunity, SalesTarget


@dataclass(frozen=True)
class AttainmentRow:
    owner_type: str  # "user" or "team"
    owner_id: int
    owner_name: str
    period_type: str
    period_start: date
    target: Decimal | None  # None: no target for this owner and period
    won_amount: Decimal
    attainment: float | None  # None without a target above zero


def _won_per_period(
    opportunities: QuerySet[Opportunity], *, period_type: str, since: datetime, until: datetime
) -> list[tuple[int, int | None, date, Decimal]]:
    """Won amounts per (owner, owner's team, period start) closed in [since, until), summed in SQL, each period start
    a company-calendar date truncated by the database (no conversion row by row here); one query."""
    period = PERIOD_TRUNC[period_type]("closed_at", tzinfo=company_tz(), output_field=DateField())
    return list(
        opportunities.won()
        .closed_between(since, until)
        .annotate(period=period)
        .values("owner_id", "owner__team_id", "period")
        .annotate(total=Sum("amount"))
        .values_list("owner_id", "owner__team_id", "period", "total")
        .order_by()
    )


def _summed_by(won: list[tuple[int, int | None, date, Decimal]], column: int) -> dict[tuple[int, date], Decimal]:
    """The won amounts of `_won_per_period` summed per (owner id, or team id when `column` is 1; period start)."""
    sums: dict[tuple[int, date], Decimal] = {}
    for row in won:
        if row[column] is not None:
            key = (row[column], row[2])
            sums[key] = sums.get(key, 0) + row[3]
    return sums


def _ratio(won: Decimal, target: Decimal | None) -> float | None:
    return float(won / target) if target else None


def _visible_names(viewer: User, user_ids: list[int] | None = None) -> dict[int, str]:
    """The display name of every user the viewer sees (only those of `user_ids` when given); one query."""
    return {
        pk: display_name(username, first_name, last_name)
        for pk, username, first_name, last_name in User.objects.visible_to(viewer)
        .filter(Q() if user_ids is None else Q(pk__in=user_ids))
        .values_list("pk", "username", "first_name", "last_name")
        .order_by()
    }


def attainment(
    *,
    viewer: User,
    period_type: str,
    year: int,
    owner: User | None = None,
    team: Team | None = None,
    period: date | None = None,
    user_ids: Collection[int] | None = None,
    team_ids: Collection[int] | None = None,
) -> list[AttainmentRow]:
    """Targets of `period_type` starting in `year` (only the one starting on `period` when given) against won
    amounts, with rows for visible users who won without a target; users by their own wins, teams by their
    members' (current members); 3 queries: the targets, the wins summed per owner and period, the visible names.
    With `user_ids` and `team_ids` (one page of `attainment_owners`), only the rows of those owners."""
    paged = user_ids is not None or team_ids is not None
    user_ids, team_ids = list(user_ids or []), list(team_ids or [])
    targets = (
        SalesTarget.objects.visible_to(viewer)
        .filter(period_type=period_type, period_start__year=year)
        .filter(Q(period_start=period) if period is not None else Q())
        .filter(Q(owner_user=owner) if owner is not None else Q())
        .filter(Q(owner_user__team=team) | Q(owner_team=team) if team is not None else Q())
        .filter(Q(owner_user_id__in=user_ids) | Q(owner_team_id__in=team_ids) if paged else Q())
        .values_list(
            "owner_user_id",
            "owner_user__username",
            "owner_user__first_name",
            "owner_user__last_name",
            "owner_team_id",
            "owner_team__name",
            "period_start",
            "amount",
        )
        .order_by()
    )
    if period is None:
        first = period_start(period_type, date(year, 1, 1))
        since = day_start(first if first.year == year else first + timedelta(days=7))
        until = day_start(period_end(period_type, period_start(period_type, date(year, 12, 31))))
    else:
        since, until = day_start(period), day_start(period_end(period_type, period))
    opportunities = Opportunity.objects.filter(_scope(viewer, "owner", owner=owner, team=team))
    if paged:
        # The page's people and its teams' members as one list of owner ids, so the wins are read owner by owner from
        # the owner's closed index rather than from every win of the period joined to its owner's team.
        page_owners = User.objects.filter(Q(pk__in=user_ids) | Q(team_id__in=team_ids)).values("pk")
        opportunities = opportunities.filter(among("owner", page_owners))
    won = _won_per_period(opportunities, period_type=period_type, since=since, until=until)
    by_user, by_team = _summed_by(won, 0), _summed_by(won, 1)
    names = _visible_names(viewer, user_ids if paged else None)
    rows = []
    for user_id, *user_names, team_id, team_name, start, amount in targets:
        if user_id:
            if user_id not in names:
                names[user_id] = display_name(*user_names)
            owner_type, owner_id, name = "user", user_id, names[user_id]
            won_amount = by_user.get((owner_id, start), Decimal(0))
        else:
            owner_type, owner_id, name = "team", team_id, team_name
            won_amount = by_team.get((owner_id, start), Decimal(0))
        won_amount = _money(won_amount)
        rows.append(
            AttainmentRow(
                owner_type=owner_type,
                owner_id=owner_id,
                owner_name=name,
                period_type=period_type,
                period_start=start,
                target=_money(amount),
                won_amount=won_amount,
                attainment=_ratio(won_amount, amount),
            )
        )
    with_target = {(r.owner_id, r.period_start) for r in rows if r.owner_type == "user"}
    untargeted = {
        key: total
        for key, total in by_user.items()
        if key not in with_target and key[1].year == year and (not paged or key[0] in user_ids)
    }
    rows += [
        AttainmentRow(
            owner_type="user",
            owner_id=owner_id,
            owner_name=names[owner_id],
            period_type=period_type,
            period_start=start,
            target=None,
            won_amount=_money(total),
            attainment=None,
        )
        for (owner_id, start), total in untargeted.items()
    ]
    return sorted(rows, key=lambda r: (r.period_start, r.owner_type == "team", r.owner_name, r.owner_id))


@dataclass(frozen=True)
class CurrentAttainment:
    month: list[AttainmentRow]  # the current month's rows, teams first, then by name
    quarter: list[AttainmentRow]  # the current quarter's


def _current_rows(
    targets: list[tuple], won: dict[int, tuple[str, int | None, Decimal]], period_type: str, start: date
) -> list[AttainmentRow]:
    """One period's rows as `attainment` gives them: its targets against the wins in `won` (user id -> name, team id,
    won amount), users by their own wins and teams by their members', then the users who won without a target;
    teams first, then by name."""
    team_won: dict[int | None, Decimal] = {}
    for _name, team_id, amount in won.values():
        team_won[team_id] = team_won.get(team_id, Decimal(0)) + amount
    rows, targeted = [], set()
    for user_id, username, first_name, last_name, team_id, team_name, of_type, start_on, amount in targets:
        if (of_type, start_on) != (period_type, start):
            continue
        if user_id:
            targeted.add(user_id)
            name = display_name(username, first_name, last_name)
            owner_type, owner_id, won_amount = "user", user_id, won[user_id][2] if user_id in won else Decimal(0)
        else:
            owner_type, owner_id, name, won_amount = "team", team_id, team_name, team_won.get(team_id, Decimal(0))
        rows.append(
            AttainmentRow(
                owner_type=owner_type,
                owner_id=owner_id,
                owner_name=name,
                period_type=period_type,
                period_start=start,
                target=_money(amount),
                won_amount=_money(won_amount),
                attainment=_ratio(_money(won_amount), amount),
            )
        )
    rows += [
        AttainmentRow(
            owner_type="user",
            owner_id=user_id,
            owner_name=name,
            period_type=period_type,
            period_start=start,
            target=None,
            won_amount=_money(amount),
            attainment=None,
        )
        for user_id, (name, _team_id, amount) in won.items()
        if user_id not in targeted
    ]
    return sorted(rows, key=lambda r: (r.owner_type != "team", r.owner_name, r.owner_id))


def _current_targets(*, viewer: User, owner: User | None, month_start: date, quarter_start: date) -> QuerySet:
    return (
        SalesTarget.objects.visible_to(viewer)
        .filter(
            Q(period_type=SalesTarget.PeriodType.MONTH, period_start=month_start)
            | Q(period_type=SalesTarget.PeriodType.QUARTER, period_start=quarter_start)
        )
        .filter(Q(owner_user=owner) if owner is not None else Q())
        .values_list(
            "owner_user_id",
            "owner_user__username",
            "owner_user__first_name",
            "owner_user__last_name",
            "owner_team_id",
            "owner_team__name",
            "period_type",
            "period_start",
            "amount",
        )
        .order_by()
    )


def _current_wins(
    *,
    viewer: User,
    owner: User | None,
    month_from: datetime,
    month_to: datetime,
    quarter_from: datetime,
    quarter_to: datetime,
) -> QuerySet:
    month = Q(closed_at__gte=month_from, closed_at__lt=month_to)
    return (
        Opportunity.objects.filter(_scope(viewer, "owner", owner=owner))
        .won()
        .closed_between(quarter_from, quarter_to)
        .values_list("owner_id", "owner__username", "owner__first_name", "owner__last_name", "owner__team_id")
        .annotate(month_total=Sum("amount", filter=month), quarter_total=Sum("amount"))
        .order_by()
    )


def current_attainment(*, viewer: User, owner: User | None = None, on: date | None = None) -> CurrentAttainment:
    """`attainment` of the month and of the quarter that contain `on` (default today), only the rows of those two
    periods, of `owner` when given; 2 queries: the targets of both periods, and the quarter's wins per visible owner
    with the month's share summed in the same pass (the month lies within its quarter)."""
    day = on or today()
    month_start, quarter_start = period_start("month", day), period_start("quarter", day)
    # composed once per process, viewer role and shape, then only re-bound (core.statements)
    values = {"viewer": viewer, "owner": owner, "month_start": month_start, "quarter_start": quarter_start}
    keep = {"viewer": VIEWER_SHAPE}
    targets = list(bound_queryset("current targets", _current_targets, keep=keep, **values))
    wins = bound_queryset(
        "current wins",
        _current_wins,
        keep=keep,
        viewer=viewer,
        owner=owner,
        month_from=day_start(month_start),
        month_to=day_start(period_end("month", month_start)),
        quarter_from=day_start(quarter_start),
        quarter_to=day_start(period_end("quarter", quarter_start)),
    )
    won_month, won_quarter = {}, {}
    for user_id, username, first_name, last_name, team_id, month_total, quarter_total in wins:
        name = display_name(username, first_name, last_name)
        won_quarter[user_id] = (name, team_id, quarter_total)
        if month_total is not None:
            won_month[user_id] = (name, team_id, month_total)
    return CurrentAttainment(
        month=_current_rows(targets, won_month, "month", month_start),
        quarter=_current_rows(targets, won_quarter, "quarter", quarter_start),
    )


def coefficient_of_variation(values: list[float]) -> float | None:
    """Population std ÷ mean of `values`; None with fewer than two values or a mean ≤ 0. To the last bit what pandas'
    Series.mean() and Series.std(ddof=0) give (numpy's sum ÷ n, then the two-pass variance), without building a
    Series per user (which cost more than the rest of `stability`)."""
    array = np.array(values, dtype=np.float64)
    count = np.float64(len(array))
    mean = array.sum(dtype=np.float64) / count
    if len(array) < 2 or mean <= 0:
        return None
    return float(np.sqrt(((mean - array) ** 2).sum(dtype=np.float64) / count) / mean)


_OWNER_COLUMNS = ("owner_user_id", "owner_user__username", "owner_user__first_name", "owner_user__last_name")
_USER_FIELDS = ["id", "username", "first_name", "last_name"]


@dataclass(frozen=True)
class Stability:
    owner: User
    months: int  # complete months of the last 12 that have a target above zero
    cv: float | None  # None with fewer than two such months, or a mean of zero
    stable: bool | None


def stability(
    *,
    viewer: User,
    owner: User | None = None,
    team: Team | None = None,
    on: date | None = None,
    user_ids: Collection[int] | None = None,
) -> list[Stability]:
    """Per visible user with a monthly target in the last 12 complete months: the coefficient of variation
    (population std ÷ mean) of their monthly attainment over those months, and whether it is ≤ SALESFLOW_STABLE_CV;
    2 queries. With `user_ids`, only those users."""
    only = Q() if user_ids is None else Q(owner_user_id__in=list(user_ids))
    this_month = period_start("month", on or today())
    first = date(this_month.year - 1, this_month.month, 1)
    # Read as values, in the targets' own order (the order a user's months are summed in below): a model instance
    # per target and per owner of it cost more than the rest of this selector together.
    targets = list(
        SalesTarget.objects.filter(
            _scope(viewer, "owner_user", owner=owner, team=team),
            owner_user__isnull=False,
            period_type=SalesTarget.PeriodType.MONTH,
            period_start__gte=first,
            period_start__lt=this_month,
            amount__gt=0,
        )
        .filter(only)
        .values_list(*_OWNER_COLUMNS, "period_start", "amount")
    )
    won = _won_per_period(
        Opportunity.objects.filter(_scope(viewer, "owner", owner=owner, team=team)).filter(
            Q() if user_ids is None else Q(owner_id__in=list(user_ids))
        ),
        period_type="month",
        since=day_start(first),
        until=day_start(this_month),
    )
    won_by = _summed_by(won, 0)
    monthly: dict[int, list[float]] = {}  # each user's attainment of their months, in the targets' order
    for owner_id, *_names, start, amount in targets:
        monthly.setdefault(owner_id, []).append(float(won_by.get((owner_id, start), 0) / amount))
    names = {row[0]: row[:4] for row in targets}
    limit = settings.SALESFLOW_STABLE_CV
    result = []
    for owner_id, ratios in monthly.items():
        cv = coefficient_of_variation(ratios)
        result.append(
            Stability(
                # The owner with their id and names (other fields load on first use, as after `.only()`).
                owner=User.from_db(None, _USER_FIELDS, names[owner_id]),
                months=len(ratios),
                cv=cv,
                stable=None if cv is None else cv <= limit,
            )
        )
    return sorted(result, key=lambda s: s.owner.username)
