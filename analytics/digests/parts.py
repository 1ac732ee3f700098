"""Pieces every weekly digest is built of (SPEC §8): lists capped at LIST_LENGTH items that count everything and
link to the page holding the rest, a period's attainment, last week's stage changes and outcomes, and the queries
that count them per owner or per team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Generic, TypeVar
from urllib.parse import urlencode

from django.db.models import Count, F, Q
from django.urls import reverse

from accounts.models import User
from analytics.selectors.attainment import AttainmentRow
from core.calendar import day_start
from pipeline.models import Opportunity, StageChange

T = TypeVar("T")

# Lists in an email stop here, say how many more there are and link to the page that shows them all; the numbers
# above them count everything.
LIST_LENGTH = 10


@dataclass(frozen=True)
class Listing(Generic[T]):
    """The first LIST_LENGTH items of a list, how many there are in all, and the page that holds all of them."""

    items: list[T]
    total: int
    url: str = ""  # a path on the site ("" when no page lists them)

    @property
    def more(self) -> int:
        return max(self.total - len(self.items), 0)


def listing(items: list[T], total: int | None = None, *, url: str = "") -> Listing[T]:
    return Listing(items=items[:LIST_LENGTH], total=len(items) if total is None else total, url=url)


def page_path(name: str, **query) -> str:
    path = reverse(name)
    return f"{path}?{urlencode(query)}" if query else path


def percent(rate: float | None) -> int | None:
    return None if rate is None else round(rate * 100)


@dataclass(frozen=True)
class Attainment:
    """One owner's target of one period against what they won in it."""

    period_start: date
    target: Decimal | None
    won_amount: Decimal
    rate: float | None

    @property
    def percent(self) -> int | None:
        return percent(self.rate)


@dataclass(frozen=True)
class Movements:
    """Stage changes of a period: opportunities created, moved forward, moved back."""

    new: int = 0
    forward: int = 0
    backward: int = 0

    @property
    def total(self) -> int:
        return self.new + self.forward + self.backward


@dataclass(frozen=True)
class Outcomes:
    """Opportunities closed in a period; untouched losses are among the losses."""

    won: int = 0
    lost: int = 0
    untouched_losses: int = 0


def period_attainment(rows: list[AttainmentRow], *, owner_type: str, owner_id: int, start: date):
    for row in rows:
        if row.owner_type == owner_type and row.owner_id == owner_id and row.period_start == start:
            return Attainment(
                period_start=row.period_start, target=row.target, won_amount=row.won_amount, rate=row.attainment
            )
    return None


def week_movements(
    *, viewer: User, since: datetime, until: datetime, by: str
) -> tuple[dict[int | None, Movements], Listing[StageChange]]:
    """Stage changes of [since, until) per value of `by` (the opportunity's owner id or their team id), and the
    latest LIST_LENGTH of them; 2 queries."""
    changes = StageChange.objects.visible_to(viewer).filter(changed_at__gte=since, changed_at__lt=until)
    counts = {
        row[by]: Movements(new=row["new"], forward=row["forward"], backward=row["backward"])
        for row in changes.values(by)
        .annotate(
            new=Count("pk", filter=Q(from_stage__isnull=True)),
            forward=Count("pk", filter=Q(to_stage__order__gt=F("from_stage__order"))),
            backward=Count("pk", filter=Q(to_stage__order__lt=F("from_stage__order"))),
        )
        .order_by()
    }
    latest = list(
        changes.select_related("opportunity__account", "opportunity__owner", "from_stage", "to_stage").order_by(
            "-changed_at", "-pk"
        )[:LIST_LENGTH]
    )
    total = sum(m.total for m in counts.values())
    return counts, listing(latest, total, url=page_path("pipeline:opportunity_list"))


def week_outcomes(*, viewer: User, start: date, end: date, by: str) -> dict[int | None, Outcomes]:
    """Won, lost and untouched losses closed from `start` to `end` per value of `by` (the owner id or their team
    id); 1 query."""
    since, until = day_start(start), day_start(end + timedelta(days=1))
    rows = (
        Opportunity.objects.visible_to(viewer)
        .closed_between(since, until)
        .values(by)
        .annotate(
            won=Count("pk", filter=Q(status=Opportunity.Status.WON)),
            lost=Count("pk", filter=Q(status=Opportunity.Status.LOST)),
            untouched=Count("pk", filter=Q(status=Opportunity.Status.LOST, is_untouched_loss=True)),
        )
        .order_by()
    )
    return {row[by]: Outcomes(won=row["won"], lost=row["lost"], untouched_losses=row["untouched"]) for row in rows}


def latest_closed(*, viewer: User, start: date, end: date, total: int) -> Listing[Opportunity]:
    """The latest LIST_LENGTH opportunities won or lost from `start` to `end`; 1 query."""
    since, until = day_start(start), day_start(end + timedelta(days=1))
    closed = list(
        Opportunity.objects.visible_to(viewer)
        .filter(status__in=[Opportunity.Status.WON, Opportunity.Status.LOST])
        .closed_between(since, until)
        .select_related("account", "owner", "lost_to", "stage")
        .order_by("-closed_at", "-pk")[:LIST_LENGTH]
    )
    return listing(closed, total, url=page_path("pipeline:opportunity_list"))


def untouched_losses_listing(*, viewer: User, start: date, end: date, total: int) -> Listing[Opportunity]:
    """The latest LIST_LENGTH untouched losses closed from `start` to `end`, with their causes; 1 query."""
    since, until = day_start(start), day_start(end + timedelta(days=1))
    losses = list(
        Opportunity.objects.visible_to(viewer)
        .lost()
        .filter(is_untouched_loss=True)
        .closed_between(since, until)
        .select_related("account", "owner", "lost_to", "stage")
        .order_by("-closed_at", "pk")[:LIST_LENGTH]
    )
    return listing(losses, total, url=page_path("pipeline:opportunity_list", status=Opportunity.Status.LOST))


def sum_outcomes(outcomes: dict) -> Outcomes:
    return Outcomes(
        won=sum(o.won for o in outcomes.values()),
        lost=sum(o.lost for o in outcomes.values()),
        untouched_losses=sum(o.untouched_losses for o in outcomes.values()),
    )


def sum_movements(movements: dict) -> Movements:
    return Movements(
        new=sum(m.new for m in movements.values()),
        forward=sum(m.forward for m in movements.values()),
        backward=sum(m.backward for m in movements.values()),
    )
