"""Reads for the visit pages: the visit list and the visits still to do today; never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from pipeline.models import Visit

if TYPE_CHECKING:
    from accounts.models import Account, User


VISIT_SORTS = {
    "-when": [F("when").desc(nulls_last=True), "-pk"],
    "when": [F("when").asc(nulls_last=True), "pk"],
    "account": ["account__name", "-when"],
    "owner": ["owner__username", "-when"],
}


def visits_for_list(
    *,
    viewer: User,
    q: str = "",
    status: str = "",
    kind: str = "",
    owner: User | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    account: Account | None = None,
    sort: str = "-when",
) -> QuerySet[Visit]:
    """The visible visits matching the list's search and filters, with account, contact, owner and opportunity
    loaded; one query per page. A visit's date is when it was done, else when it is planned (`when`)."""
    visits = Visit.objects.visible_to(viewer).annotate(when=Coalesce("done_at", "planned_at"))
    if q := q.strip():
        visits = visits.filter(
            Q(account__name__icontains=q)
            | Q(contact__name__icontains=q)
            | Q(purpose__icontains=q)
            | Q(summary__icontains=q)
            | Q(next_step__icontains=q)
        )
    if status:
        visits = visits.filter(status=status)
    if kind:
        visits = visits.filter(kind=kind)
    if owner is not None:
        visits = visits.filter(owner=owner)
    if account is not None:
        visits = visits.filter(account=account)
    tz = ZoneInfo(settings.TIME_ZONE)
    if date_from is not None:
        visits = visits.filter(when__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to is not None:
        visits = visits.filter(when__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz))
    return visits.select_related("account", "contact", "owner", "opportunity").order_by(
        *VISIT_SORTS.get(sort, VISIT_SORTS["-when"])
    )


@dataclass(frozen=True)
class TodaysVisits:
    """A user's visits still planned for today, and those left planned from the days before."""

    today: list[Visit]
    overdue: list[Visit]

    def __bool__(self) -> bool:
        return bool(self.today or self.overdue)


def todays_visits(*, user: User) -> TodaysVisits:
    """The user's visits still planned for today, and those overdue from the last 7 days, in time order; one query."""
    tz = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate(timezone=tz)
    today_start = datetime.combine(today, time.min, tzinfo=tz)
    visits = list(
        Visit.objects.filter(
            owner=user,
            status=Visit.Status.PLANNED,
            planned_at__gte=today_start - timedelta(days=7),
            planned_at__lt=today_start + timedelta(days=1),
        )
        .select_related("account", "contact")
        .order_by("planned_at", "pk")
    )
    return TodaysVisits(
        today=[v for v in visits if v.planned_at >= today_start],
        overdue=[v for v in visits if v.planned_at < today_start],
    )
