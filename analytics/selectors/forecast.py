"""The forecast against target for one period (issue 13): per rep the viewer sees, the amount won in the period and
the open amounts expected to close in it by forecast category, beside the rep's target.

The categories are exclusive: `best_case` is the best-case amount only, commit is not in it (commit + best case is
the upside call). Omitted opportunities count nowhere; open ones with no expected close date, or one outside the
period (overdue included), belong to no period. Won is what closed as won in the period, whatever its expected date.
`gap` = max(0, target − won − commit): what the rep must still find beyond what is committed; None without a target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, FilteredRelation, OuterRef, Q, QuerySet, Subquery, Sum

from accounts.models import Team, User
from analytics.models import ForecastSnapshot
from analytics.selectors._common import _money
from core.calendar import day_start, period_end
from pipeline.models import ForecastCall, Opportunity, SalesTarget

FORECAST_PERIOD_TYPES = ("month", "quarter", "year")
PERIODS_PER_YEAR = {"month": 12, "quarter": 4, "year": 1}
CATEGORY_AMOUNTS = ("commit", "best_case", "pipeline")


@dataclass(frozen=True)
class ForecastNumbers:
    target: Decimal | None  # None: no target for the period (for the totals: no rep has one)
    won: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    call: Decimal | None  # the manager's call; None: nobody called it (for the totals: no rep's period)

    @property
    def gap(self) -> Decimal | None:
        """What is left to find beyond won and commit, never below zero; None without a target."""
        if self.target is None:
            return None
        return max(Decimal("0.00"), self.target - self.won - self.commit)


@dataclass(frozen=True)
class ForecastRow(ForecastNumbers):
    owner_id: int
    owner_name: str


@dataclass(frozen=True)
class ForecastTotals(ForecastNumbers):
    owners: int  # the reps in the forecast, on every page


@dataclass(frozen=True)
class ForecastWeek(ForecastNumbers):
    taken_on: date  # the Monday whose snapshot these are


def current_period(period_type: str, day: date) -> int:
    """The number of the month or quarter of `day` in its year (1 for a year): the forecast's default period."""
    return 1 + (day.month - 1) * PERIODS_PER_YEAR[period_type] // 12


def forecast_period(*, period_type: str, year: int, period: int) -> tuple[date, date]:
    """The first and the last day (included) of the `period`-th month or quarter of `year` (1 for a year)."""
    if period_type not in FORECAST_PERIOD_TYPES or not 1 <= period <= PERIODS_PER_YEAR[period_type]:
        raise ValueError(f"no period {period} of type {period_type!r}")
    start = date(year, 1 + (period - 1) * 12 // PERIODS_PER_YEAR[period_type], 1)
    return start, period_end(period_type, start) - timedelta(days=1)


def forecast_owners(
    *, viewer: User, period_type: str, start: date, end: date, owner: User | None = None, team: Team | None = None
) -> QuerySet[User]:
    """The reps in the forecast (active users the viewer sees, directors left out unless named as `owner`), each
    annotated with its target, its manager's call and its won, commit, best-case and pipeline amounts for the period
    [start, end]; unevaluated, ordered by username, so a paginator cuts it in SQL: one GROUP BY query per page.

    The join to opportunities is filtered before it is grouped (a FilteredRelation): only the rep's opportunities
    won in the period or open, forecast and expected to close in it, are read."""
    users = forecast_people(viewer=viewer, owner=owner, team=team)
    return with_forecast(users, period_type=period_type, start=start, end=end).order_by("username", "pk")


def forecast_people(*, viewer: User, owner: User | None = None, team: Team | None = None) -> QuerySet[User]:
    """The people a forecast covers: active users the viewer sees, in `team` if given, directors left out unless
    named as `owner`; unevaluated."""
    named = Q(pk=owner.pk) if owner is not None else ~Q(role=User.Role.DIRECTOR)
    return User.objects.visible_to(viewer).filter(named, Q(team=team) if team is not None else Q(), is_active=True)


def with_forecast(users: QuerySet[User], *, period_type: str, start: date, end: date) -> QuerySet[User]:
    """`users` annotated with their target, their manager's call and their won, commit, best-case and pipeline
    amounts for the period [start, end] (the forecast of `forecast_owners`, also what the weekly snapshot keeps)."""
    since, until = day_start(start), day_start(end + timedelta(days=1))
    in_period = Q(
        opportunities__status=Opportunity.Status.WON,
        opportunities__closed_at__gte=since,
        opportunities__closed_at__lt=until,
    ) | Q(
        opportunities__status=Opportunity.Status.OPEN,
        opportunities__expected_close_date__gte=start,
        opportunities__expected_close_date__lte=end,
        opportunities__forecast_category__in=CATEGORY_AMOUNTS,
    )
    period = {"owner_user": OuterRef("pk"), "period_type": period_type, "period_start": start}
    target = SalesTarget.objects.filter(**period).order_by()
    call = ForecastCall.objects.filter(**period).order_by()
    amounts = {
        name: Sum("forecast__amount", filter=Q(forecast__forecast_category=name, forecast__status="open"), default=0)
        for name in CATEGORY_AMOUNTS
    }
    return users.annotate(forecast=FilteredRelation("opportunities", condition=in_period)).annotate(
        target=Subquery(target.values("amount")[:1]),
        call=Subquery(call.values("amount")[:1]),
        won=Sum("forecast__amount", filter=Q(forecast__status=Opportunity.Status.WON), default=0),
        **amounts,
    )


def forecast_rows(owners: list[User]) -> list[ForecastRow]:
    """The rows of annotated reps (a page of `forecast_owners`); runs no query."""
    return [
        ForecastRow(
            owner_id=user.pk,
            owner_name=user.display_name,
            target=None if user.target is None else _money(user.target),
            won=_money(user.won),
            commit=_money(user.commit),
            best_case=_money(user.best_case),
            pipeline=_money(user.pipeline),
            call=None if user.call is None else _money(user.call),
        )
        for user in owners
    ]


def forecast_totals(owners: QuerySet[User]) -> ForecastTotals:
    """The sums over every rep of `forecast_owners` (all pages) and how many they are; one query."""
    sums = owners.order_by().aggregate(
        owners=Count("pk"),
        targets=Count("target"),
        target_sum=Sum("target"),
        calls=Count("call"),
        call_sum=Sum("call"),
        won_sum=Sum("won"),
        **{f"{name}_sum": Sum(name) for name in CATEGORY_AMOUNTS},
    )
    return ForecastTotals(
        owners=sums["owners"],
        target=_money(sums["target_sum"]) if sums["targets"] else None,
        won=_money(sums["won_sum"]),
        commit=_money(sums["commit_sum"]),
        best_case=_money(sums["best_case_sum"]),
        pipeline=_money(sums["pipeline_sum"]),
        call=_money(sums["call_sum"]) if sums["calls"] else None,
    )


def forecast_weeks(
    *, viewer: User, period_type: str, start: date, owner: User | None = None, team: Team | None = None
) -> list[ForecastWeek]:
    """The totals over the people of the viewer's forecast (as `forecast_owners` picks them) as each weekly snapshot
    of the period starting on `start` kept them, oldest first: at most one row per week of the period, one query."""
    people = forecast_people(viewer=viewer, owner=owner, team=team)
    weeks = (
        ForecastSnapshot.objects.filter(period_type=period_type, period_start=start, owner_user__in=people.values("pk"))
        .values("taken_on")
        .annotate(
            targets=Count("target"),
            target_sum=Sum("target"),
            calls=Count("call"),
            call_sum=Sum("call"),
            won_sum=Sum("won"),
            **{f"{name}_sum": Sum(name) for name in CATEGORY_AMOUNTS},
        )
        .order_by("taken_on")
    )
    return [
        ForecastWeek(
            taken_on=week["taken_on"],
            target=_money(week["target_sum"]) if week["targets"] else None,
            won=_money(week["won_sum"]),
            commit=_money(week["commit_sum"]),
            best_case=_money(week["best_case_sum"]),
            pipeline=_money(week["pipeline_sum"]),
            call=_money(week["call_sum"]) if week["calls"] else None,
        )
        for week in weeks
    ]
