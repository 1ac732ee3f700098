"""Win/loss analysis (issue 13): opportunities the viewer sees closed in a period, won and lost counts and amounts
per value of one dimension, in one GROUP BY.

Dimensions: `reason` (the loss reason; wins have none), `competitor` (each competitor in play: an opportunity with
two counts under both, one with none under the empty key), `stage` (the furthest stage reached, by pipeline and
order), `untouched_cause` (untouched losses' causes) and `source` (where the opportunity came from). A missing
value (a win's loss reason, an opportunity without source) is the row with key None, listed last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils.translation import pgettext

from accounts.models import Team, User
from analytics.selectors._common import _bounds, _money, _scope
from pipeline.models import Opportunity, Stage

WON, LOST = Q(status=Opportunity.Status.WON), Q(status=Opportunity.Status.LOST)
# The columns each dimension groups by: the key first, then what labels it.
DIMENSION_COLUMNS = {
    "reason": ("loss_reason",),
    "competitor": ("competitors__pk", "competitors__name"),
    "stage": (
        "furthest_stage__code",
        "furthest_stage__pipeline__code",
        "furthest_stage__order",
        "furthest_stage__name_zh",
        "furthest_stage__name_en",
    ),
    "untouched_cause": ("untouched_cause",),
    "source": ("source",),
}
WINLOSS_DIMENSIONS = tuple(DIMENSION_COLUMNS)
CHOICES = {
    "reason": Opportunity.LossReason,
    "untouched_cause": Opportunity.UntouchedCause,
    "source": Opportunity.Source,
}


@dataclass(frozen=True)
class WinLossRow:
    key: str | None
    label: str
    won: int
    lost: int
    won_amount: Decimal
    lost_amount: Decimal

    @property
    def win_rate(self) -> float | None:
        """Won ÷ (won + lost); None when nothing closed."""
        return self.won / (self.won + self.lost) if self.won + self.lost else None


def _label(dimension: str, values: dict) -> tuple[str | None, str]:
    key_column = DIMENSION_COLUMNS[dimension][0]
    key = values[key_column]
    if key in (None, ""):
        return None, pgettext("win/loss value", "Not recorded")
    if dimension == "competitor":
        return str(key), values["competitors__name"]
    if dimension == "stage":
        return key, Stage(name_zh=values["furthest_stage__name_zh"], name_en=values["furthest_stage__name_en"]).name
    return key, str(CHOICES[dimension](key).label)


def win_loss(
    *, viewer: User, dimension: str, start: date, end: date, owner: User | None = None, team: Team | None = None
) -> list[WinLossRow]:
    """Won and lost counts and amounts per value of `dimension` among the opportunities the viewer sees closed from
    `start` to `end` (included); one query, rows in the dimension's order (stages by pipeline and order)."""
    columns = DIMENSION_COLUMNS[dimension]
    closed = Opportunity.objects.filter(_scope(viewer, "owner", owner=owner, team=team)).closed_between(
        *_bounds(start, end)
    )
    groups = list(
        closed.values(*columns)
        .annotate(
            won=Count("pk", filter=WON),
            lost=Count("pk", filter=LOST),
            won_amount=Sum("amount", filter=WON, default=0),
            lost_amount=Sum("amount", filter=LOST, default=0),
        )
        .order_by(*columns[1:3] if dimension == "stage" else columns[:1])
    )
    rows = []
    for group in groups:
        key, label = _label(dimension, group)
        rows.append(
            WinLossRow(
                key=key,
                label=label,
                won=group["won"],
                lost=group["lost"],
                won_amount=_money(group["won_amount"]),
                lost_amount=_money(group["lost_amount"]),
            )
        )
    rows.sort(key=lambda row: row.key is None)  # opportunities without a value last, whatever the database's NULLs
    return rows
