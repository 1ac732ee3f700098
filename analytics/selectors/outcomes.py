"""Outcomes of closed opportunities: win rate over a period, per scope or per owner, and untouched losses with
their causes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q

from accounts.models import Team, User
from analytics.selectors._common import _bounds, _scope
from pipeline.models import Opportunity, Pipeline


@dataclass(frozen=True)
class WinRate:
    won: int
    lost: int

    @property
    def rate(self) -> float | None:
        """Won ÷ (won + lost); None when nothing was decided."""
        return self.won / (self.won + self.lost) if self.won + self.lost else None


def _closed(*, viewer: User, start: date, end: date, owner: User | None, team: Team | None, pipeline: Pipeline | None):
    closed = Opportunity.objects.filter(_scope(viewer, "owner", owner=owner, team=team)).closed_between(
        *_bounds(start, end)
    )
    return closed.filter(pipeline=pipeline) if pipeline is not None else closed


WON_AND_LOST = {
    "won": Count("id", filter=Q(status=Opportunity.Status.WON)),
    "lost": Count("id", filter=Q(status=Opportunity.Status.LOST)),
}


def win_rate(
    *,
    viewer: User,
    start: date,
    end: date,
    owner: User | None = None,
    team: Team | None = None,
    pipeline: Pipeline | None = None,
) -> WinRate:
    """Won ÷ (won + lost) among opportunities closed from `start` to `end`; None when none closed; one query."""
    counts = _closed(viewer=viewer, start=start, end=end, owner=owner, team=team, pipeline=pipeline).aggregate(
        **WON_AND_LOST
    )
    return WinRate(won=counts["won"], lost=counts["lost"])


def win_rate_by_owner(
    *, viewer: User, start: date, end: date, team: Team | None = None, pipeline: Pipeline | None = None
) -> dict[int, WinRate]:
    """`win_rate` for each owner id who closed an opportunity in the period that the viewer sees; one query."""
    rows = (
        _closed(viewer=viewer, start=start, end=end, owner=None, team=team, pipeline=pipeline)
        .values("owner_id")
        .annotate(**WON_AND_LOST)
        .order_by()
    )
    return {row["owner_id"]: WinRate(won=row["won"], lost=row["lost"]) for row in rows}


@dataclass(frozen=True)
class UntouchedLosses:
    losses: list[Opportunity]  # with account, owner, lost_to and stage loaded; the cause is `untouched_cause`
    causes: dict[str, int]  # every cause of SPEC §4, and "" for losses nobody has explained yet


def untouched_losses(
    *, viewer: User, start: date, end: date, owner: User | None = None, team: Team | None = None
) -> UntouchedLosses:
    """Untouched losses closed from `start` to `end` with their causes and a count per cause; one query."""
    losses = list(
        Opportunity.objects.filter(_scope(viewer, "owner", owner=owner, team=team), is_untouched_loss=True)
        .lost()
        .closed_between(*_bounds(start, end))
        .select_related("account", "owner", "lost_to", "stage")
        .order_by("-closed_at", "pk")
    )
    causes = dict.fromkeys(["", *Opportunity.UntouchedCause.values], 0)
    for loss in losses:
        causes[loss.untouched_cause] += 1
    return UntouchedLosses(losses=losses, causes=causes)
