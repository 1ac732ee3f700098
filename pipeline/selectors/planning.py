"""Reads for the visit plan (week view) and plan adherence (SPEC §5), for pages and digests; never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Team, User
from accounts.visibility import VIEWER_SHAPE
from core.calendar import week_bounds
from core.statements import bound_queryset
from pipeline.models import Visit, VisitWeekComment


def plan_reps(*, viewer: User) -> list[User]:
    """The people whose visit plan the viewer may open, the viewer first: a rep only themself, a manager their
    team, a director everyone who sells; one query."""
    people = User.objects.filter(is_active=True).select_related("team")
    if viewer.is_director:
        people = people.filter(role__in=[User.Role.REP, User.Role.MANAGER]) | people.filter(pk=viewer.pk)
    else:
        people = people.visible_to(viewer)
    return sorted(people.distinct(), key=lambda u: (u.pk != viewer.pk, u.team.name if u.team else "", u.username))


@dataclass(frozen=True)
class PlanAdherence:
    """SPEC §5 for one rep and week: visits planned for the week that were done ÷ visits planned for the week.

    A visit counts as planned for the week when its planned time falls in it, whatever it became (planned, done,
    cancelled); a visit logged directly as done, with no planned time, is not part of the plan.
    """

    planned: int
    done: int
    cancelled: int
    open: int

    @property
    def rate(self) -> float | None:
        return self.done / self.planned if self.planned else None

    @property
    def percent(self) -> int | None:
        return None if self.rate is None else round(self.rate * 100)


def plan_adherence(*, rep: User, week_start: date) -> PlanAdherence:
    """Plan adherence of `rep` for the week starting on Monday `week_start`, in one aggregate query."""
    start, end = week_bounds(week_start)
    figures = Visit.objects.filter(owner=rep, planned_at__gte=start, planned_at__lt=end).aggregate(
        planned=Count("pk"),
        done=Count("pk", filter=Q(status=Visit.Status.DONE)),
        cancelled=Count("pk", filter=Q(status=Visit.Status.CANCELLED)),
        open=Count("pk", filter=Q(status=Visit.Status.PLANNED)),
    )
    return PlanAdherence(**figures)


@dataclass(frozen=True)
class PlanDay:
    day: date
    is_today: bool
    visits: list[Visit]


def visit_plan_week(*, rep: User, week_start: date) -> list[PlanDay]:
    """The seven days of `rep`'s week, Monday first, each with its visits in time order (planned ones by planned
    time, visits logged without a plan by done time), with account, contact and opportunity loaded; one query."""
    start, end = week_bounds(week_start)
    tz = ZoneInfo(settings.TIME_ZONE)
    visits = (
        Visit.objects.filter(owner=rep)
        .filter(
            Q(planned_at__gte=start, planned_at__lt=end)
            | Q(planned_at__isnull=True, done_at__gte=start, done_at__lt=end)
        )
        .annotate(when=Coalesce("planned_at", "done_at"))
        .select_related("account", "contact", "opportunity")
        .order_by("when", "pk")
    )
    days: dict[date, list[Visit]] = {week_start + timedelta(days=i): [] for i in range(7)}
    for visit in visits:
        days[timezone.localtime(visit.when, tz).date()].append(visit)
    today = timezone.localdate(timezone=tz)
    return [PlanDay(day=day, is_today=day == today, visits=items) for day, items in days.items()]


def week_comments(*, rep: User, week_start: date) -> list[VisitWeekComment]:
    """The comments on `rep`'s week, oldest first, with their authors; one query."""
    return list(
        VisitWeekComment.objects.filter(rep=rep, week_start=week_start).select_related("author").order_by("created_at")
    )


def _adherence_rows(*, viewer: User, start: datetime, end: datetime, team_id: int | None) -> QuerySet:
    return (
        Visit.objects.of_visible_owners(viewer)
        .filter(planned_at__gte=start, planned_at__lt=end)
        .filter(Q(owner__team=team_id) if team_id is not None else Q())
        .values("owner_id")
        .annotate(
            planned=Count("pk"),
            done=Count("pk", filter=Q(status=Visit.Status.DONE)),
            cancelled=Count("pk", filter=Q(status=Visit.Status.CANCELLED)),
            open=Count("pk", filter=Q(status=Visit.Status.PLANNED)),
        )
        .order_by()
    )


def plan_adherence_by_owner(*, viewer: User, week_start: date, team: Team | None = None) -> dict[int, PlanAdherence]:
    """`plan_adherence` for each visible owner id (of `team` when given) with visits planned in the week; one query.
    Per person: the visits the viewer's visible owners made, not others' visits the viewer also sees at their
    accounts."""
    start, end = week_bounds(week_start)
    rows = bound_queryset(  # composed once per process, viewer role and shape (core.statements)
        "plan adherence by owner",
        _adherence_rows,
        keep={"viewer": VIEWER_SHAPE},
        viewer=viewer,
        start=start,
        end=end,
        team_id=team.pk if team is not None else None,
    )
    return {
        row["owner_id"]: PlanAdherence(
            planned=row["planned"], done=row["done"], cancelled=row["cancelled"], open=row["open"]
        )
        for row in rows
    }
