"""Sales targets against won amounts: attainment per owner and period, and the stability of monthly attainment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
from django.conf import settings
from django.db.models import Q, QuerySet, Sum

from accounts.models import Team, User
from analytics.selectors._common import PERIOD_TRUNC, _money, _scope
from core.calendar import company_tz, day_start, local_date, period_end, period_start, today
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
) -> pd.DataFrame:
    """Won amounts per (owner, owner's team, period start) closed in [since, until); one query."""
    trunc = PERIOD_TRUNC[period_type]("closed_at", tzinfo=company_tz())
    rows = (
        opportunities.won()
        .closed_between(since, until)
        .annotate(period=trunc)
        .values("owner_id", "owner__team_id", "period")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    frame = pd.DataFrame.from_records(rows, columns=["owner_id", "owner__team_id", "period", "total"])
    frame["period"] = [local_date(p) if isinstance(p, datetime) else p for p in frame["period"]]
    return frame


def _ratio(won: Decimal, target: Decimal | None) -> float | None:
    return float(won / target) if target else None


def attainment(
    *,
    viewer: User,
    period_type: str,
    year: int,
    owner: User | None = None,
    team: Team | None = None,
) -> list[AttainmentRow]:
    """Targets of `period_type` starting in `year` against won amounts, with rows for visible users who won
    without a target; users by their own wins, teams by their members' (current members); 3 queries."""
    targets = list(
        SalesTarget.objects.visible_to(viewer)
        .filter(period_type=period_type, period_start__year=year)
        .filter(Q(owner_user=owner) if owner is not None else Q())
        .filter(Q(owner_user__team=team) | Q(owner_team=team) if team is not None else Q())
        .select_related("owner_user", "owner_team")
    )
    first = period_start(period_type, date(year, 1, 1))
    since = day_start(first if first.year == year else first + timedelta(days=7))
    until = day_start(period_end(period_type, period_start(period_type, date(year, 12, 31))))
    won = _won_per_period(
        Opportunity.objects.filter(_scope(viewer, "owner", owner=owner, team=team)),
        period_type=period_type,
        since=since,
        until=until,
    )
    by_user = won.groupby(["owner_id", "period"])["total"].sum().to_dict() if not won.empty else {}
    by_team = won.groupby(["owner__team_id", "period"])["total"].sum().to_dict() if not won.empty else {}
    rows = []
    for target in targets:
        if target.owner_user_id:
            owner_type, owner_id, name = "user", target.owner_user_id, target.owner_user.display_name
            won_amount = by_user.get((owner_id, target.period_start), Decimal(0))
        else:
            owner_type, owner_id, name = "team", target.owner_team_id, target.owner_team.name
            won_amount = by_team.get((owner_id, target.period_start), Decimal(0))
        rows.append(
            AttainmentRow(
                owner_type=owner_type,
                owner_id=owner_id,
                owner_name=name,
                period_type=period_type,
                period_start=target.period_start,
                target=_money(target.amount),
                won_amount=_money(won_amount),
                attainment=_ratio(_money(won_amount), target.amount),
            )
        )
    with_target = {(r.owner_id, r.period_start) for r in rows if r.owner_type == "user"}
    untargeted = {key: total for key, total in by_user.items() if key not in with_target and key[1].year == year}
    users = User.objects.visible_to(viewer).only("username", "first_name", "last_name").in_bulk()
    rows += [
        AttainmentRow(
            owner_type="user",
            owner_id=owner_id,
            owner_name=users[owner_id].display_name,
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
class Stability:
    owner: User
    months: int  # complete months of the last 12 that have a target above zero
    cv: float | None  # None with fewer than two such months, or a mean of zero
    stable: bool | None


def stability(
    *, viewer: User, owner: User | None = None, team: Team | None = None, on: date | None = None
) -> list[Stability]:
    """Per visible user with a monthly target in the last 12 complete months: the coefficient of variation
    (population std ÷ mean) of their monthly attainment over those months, and whether it is ≤ SALESFLOW_STABLE_CV;
    2 queries."""
    this_month = period_start("month", on or today())
    first = date(this_month.year - 1, this_month.month, 1)
    targets = list(
        SalesTarget.objects.filter(
            _scope(viewer, "owner_user", owner=owner, team=team),
            owner_user__isnull=False,
            period_type=SalesTarget.PeriodType.MONTH,
            period_start__gte=first,
            period_start__lt=this_month,
            amount__gt=0,
        ).select_related("owner_user")
    )
    won = _won_per_period(
        Opportunity.objects.filter(_scope(viewer, "owner", owner=owner, team=team)),
        period_type="month",
        since=day_start(first),
        until=day_start(this_month),
    )
    won_by = won.groupby(["owner_id", "period"])["total"].sum().to_dict() if not won.empty else {}
    monthly = pd.DataFrame(
        {
            "owner": [t.owner_user_id for t in targets],
            "attainment": [float(won_by.get((t.owner_user_id, t.period_start), 0) / t.amount) for t in targets],
        }
    )
    users = {t.owner_user_id: t.owner_user for t in targets}
    limit = settings.SALESFLOW_STABLE_CV
    result = []
    for owner_id, series in monthly.groupby("owner")["attainment"]:
        mean = series.mean()
        cv = float(series.std(ddof=0) / mean) if len(series) >= 2 and mean > 0 else None
        result.append(
            Stability(
                owner=users[owner_id],
                months=len(series),
                cv=cv,
                stable=None if cv is None else cv <= limit,
            )
        )
    return sorted(result, key=lambda s: s.owner.username)
