"""What is due or overdue: planned visits whose time has passed, follow-ups due by the end of the day, open
opportunities past their expected close date. Each list is the viewer's visible owners' rows (the viewer's own first),
its first rows cut by LIMIT and its exact count taken in the same query; `due_counts` counts one user's own for the
header badge and the daily reminder. Never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from django.contrib.auth import get_user_model
from django.db.models import Case, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from accounts.visibility import visibility_filter
from pipeline.models import Opportunity, Visit

if TYPE_CHECKING:
    from accounts.models import User

T = TypeVar("T")


@dataclass(frozen=True)
class Capped(Generic[T]):
    """The first rows of a list, in the list's order, and how many rows the whole list has."""

    items: list[T]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def _capped(rows: QuerySet, *, limit: int) -> Capped:
    """The first `limit` rows of an ordered queryset and the count of all of them, in one query (the count is a
    subquery the database computes once)."""
    count = rows.order_by().annotate(n=Func("pk", function="COUNT", output_field=IntegerField())).values("n")
    first = list(rows.annotate(capped_total=Subquery(count))[:limit])
    return Capped(items=first, total=first[0].capped_total if first else 0)


def _own_first(viewer: User, rows: QuerySet, *order: str) -> QuerySet:
    """`rows` in `order`, the viewer's own before the rest; a rep sees only their own, so the plain order (which an
    index serves) is kept for them."""
    if viewer.is_rep:
        return rows.order_by(*order)
    mine = Case(When(owner=viewer.pk, then=Value(0)), default=Value(1), output_field=IntegerField())
    return rows.order_by(mine, *order)


def overdue_visits_query(*, viewer: User, now: datetime) -> QuerySet[Visit]:
    """Planned visits (not follow-ups) of the viewer's visible owners whose time has passed, unevaluated."""
    return (
        Visit.objects.planned()
        .filter(visibility_filter(viewer, "owner"), planned_at__lt=now)
        .exclude(kind=Visit.Kind.FOLLOW_UP)
    )


def due_follow_ups_query(*, viewer: User, day_end: datetime) -> QuerySet[Visit]:
    """Planned follow-up visits of the viewer's visible owners due before `day_end` (the end of the viewer's day),
    unevaluated."""
    return Visit.objects.planned().filter(
        visibility_filter(viewer, "owner"), kind=Visit.Kind.FOLLOW_UP, planned_at__lt=day_end
    )


def past_close_query(*, viewer: User, today: date) -> QuerySet[Opportunity]:
    """Open opportunities of the viewer's visible owners whose expected close date is before `today`, unevaluated."""
    return Opportunity.objects.open().filter(visibility_filter(viewer, "owner"), expected_close_date__lt=today)


def _of(rows: QuerySet, owner: User | None) -> QuerySet:
    return rows if owner is None else rows.filter(owner=owner)


def overdue_visits_in_order(*, viewer: User, now: datetime, owner: User | None = None) -> QuerySet[Visit]:
    """The overdue planned visits (of `owner` when given), latest first (the viewer's own first), unevaluated."""
    return _own_first(viewer, _of(overdue_visits_query(viewer=viewer, now=now), owner), "-planned_at", "-pk")


def due_follow_ups_in_order(*, viewer: User, day_end: datetime, owner: User | None = None) -> QuerySet[Visit]:
    """The follow-ups due by `day_end` (of `owner` when given), soonest first (the viewer's own first), unevaluated."""
    return _own_first(viewer, _of(due_follow_ups_query(viewer=viewer, day_end=day_end), owner), "planned_at", "pk")


def past_close_in_order(*, viewer: User, today: date, owner: User | None = None) -> QuerySet[Opportunity]:
    """Open opportunities past their expected close date (of `owner` when given), longest past first (the viewer's
    own first), unevaluated."""
    return _own_first(viewer, _of(past_close_query(viewer=viewer, today=today), owner), "expected_close_date", "pk")


def overdue_visits(*, viewer: User, now: datetime, limit: int, owner: User | None = None) -> Capped[Visit]:
    """`overdue_visits_in_order` cut short, with account, contact and owner; one query."""
    rows = overdue_visits_in_order(viewer=viewer, now=now, owner=owner).select_related("account", "contact", "owner")
    return _capped(rows, limit=limit)


def due_follow_ups(*, viewer: User, day_end: datetime, limit: int, owner: User | None = None) -> Capped[Visit]:
    """`due_follow_ups_in_order` cut short, with account, contact and owner; one query."""
    rows = due_follow_ups_in_order(viewer=viewer, day_end=day_end, owner=owner)
    return _capped(rows.select_related("account", "contact", "owner"), limit=limit)


def past_close_opportunities(
    *, viewer: User, today: date, limit: int, owner: User | None = None
) -> Capped[Opportunity]:
    """`past_close_in_order` cut short, with account, stage and owner; one query."""
    rows = past_close_in_order(viewer=viewer, today=today, owner=owner).select_related("account", "stage", "owner")
    return _capped(rows, limit=limit)


@dataclass(frozen=True)
class DueCounts:
    overdue_visits: int
    follow_ups: int
    past_close: int

    @property
    def total(self) -> int:
        return self.overdue_visits + self.follow_ups + self.past_close


def _count(rows: QuerySet) -> Subquery:
    counted = rows.order_by().annotate(n=Func("pk", function="COUNT", output_field=IntegerField())).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def due_counts(*, user: User, now: datetime, today: date, day_end: datetime) -> DueCounts:
    """How many of `user`'s own visits are overdue, follow-ups due and open opportunities past their expected close
    date (today being `today` and the day ending at `day_end` in the user's zone); one query of three counts."""
    mine = Q(owner=OuterRef("pk"))
    planned = Visit.objects.planned().filter(mine)
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            overdue_count=_count(planned.filter(planned_at__lt=now).exclude(kind=Visit.Kind.FOLLOW_UP)),
            follow_up_count=_count(planned.filter(kind=Visit.Kind.FOLLOW_UP, planned_at__lt=day_end)),
            past_close_count=_count(Opportunity.objects.open().filter(mine, expected_close_date__lt=today)),
        )
        .values_list("overdue_count", "follow_up_count", "past_close_count")
        .first()
    )
    return DueCounts(*(row or (0, 0, 0)))
