"""What every analytics selector shares: the viewer's scope, money rounding, period bounds, visible teams and
when a nightly job last ran."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncQuarter, TruncWeek, TruncYear

from accounts.models import Team, User
from accounts.visibility import sees_everything, visibility_filter
from analytics.models import JobRun
from core.calendar import day_start

CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=20, decimal_places=4)
PERIOD_TRUNC = {"year": TruncYear, "quarter": TruncQuarter, "month": TruncMonth, "week": TruncWeek}


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return day_start(start), day_start(end + timedelta(days=1))


def _scope(viewer: User, owner_path: str, *, owner: User | None = None, team: Team | None = None) -> Q:
    """The rows the viewer may see, narrowed to one owner or one team's members."""
    scope = visibility_filter(viewer, owner_path)
    if owner is not None:
        scope &= Q(**{owner_path: owner})
    if team is not None:
        scope &= Q(**{f"{owner_path}__team": team})
    return scope


def whole_company(viewer: User, *, owner: User | None = None, team: Team | None = None) -> bool:
    """Whether the viewer asks for the whole company's numbers: sees every row and chose no owner or team."""
    return owner is None and team is None and sees_everything(viewer)


def visible_teams(viewer: User) -> QuerySet[Team]:
    """Teams whose numbers the viewer may ask for: all for a director, the ones they manage or belong to otherwise."""
    if viewer.is_director:
        return Team.objects.all()
    return Team.objects.filter(Q(manager=viewer) | Q(members=viewer)).distinct()


def job_computed_at(job: str) -> datetime | None:
    """When a nightly job last completed, in one query; None if it never ran."""
    return JobRun.objects.filter(job=job).values_list("computed_at", flat=True).first()
