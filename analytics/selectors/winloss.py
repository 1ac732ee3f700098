"""Win/loss analysis (issue 13): opportunities the viewer sees closed in a period, won and lost counts and amounts
per value of one dimension, in one GROUP BY.

Dimensions: `reason` (the loss reason; wins have none), `competitor` (each competitor in play: an opportunity with
two counts under both, one with none under the empty key), `stage` (the furthest stage reached, by pipeline and
order), `untouched_cause` (untouched losses' causes) and `source` (where the opportunity came from). A missing
value (a win's loss reason, an opportunity without source) is the row with key None, listed last.

Cost: the period's closed opportunities come from a covering index, `opp_closed_idx` for a director (the period's
entries) and `opp_owner_closed_idx` for a manager or a rep (their owners' entries of the period); no opportunity row
is read. Competitors and stages are grouped by id first; only the handful of groups meet their names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import pgettext

from accounts.models import Competitor, Team, User
from analytics.selectors._common import _bounds, _money, _scope
from pipeline.models import Opportunity, Pipeline, Stage

WON, LOST = Q(status=Opportunity.Status.WON), Q(status=Opportunity.Status.LOST)
# The column each dimension groups by. A competitor's or a stage's names are joined to its group (_with_names).
DIMENSION_KEYS = {
    "reason": "loss_reason",
    "competitor": "competitors__pk",
    "stage": "furthest_stage_id",
    "untouched_cause": "untouched_cause",
    "source": "source",
}
WINLOSS_DIMENSIONS = tuple(DIMENSION_KEYS)
OUTCOMES = {
    "won": Count("pk", filter=WON),
    "lost": Count("pk", filter=LOST),
    "won_amount": Sum("amount", filter=WON, default=0),
    "lost_amount": Sum("amount", filter=LOST, default=0),
}
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
    key = values[DIMENSION_KEYS[dimension]]
    if key in (None, ""):
        return None, pgettext("win/loss value", "Not recorded")
    if dimension == "competitor":
        return str(key), values["competitor_name"]
    if dimension == "stage":
        return values["stage_code"], Stage(name_zh=values["stage_name_zh"], name_en=values["stage_name_en"]).name
    return key, str(CHOICES[dimension](key).label)


def _with_names(dimension: str, grouped: QuerySet) -> list[dict]:
    """The groups of `grouped` (grouped by competitor or by stage id) with their competitor's or stage's names, in
    the dimension's order (competitors by id, stages by pipeline and order), in one query. The opportunities are
    grouped before they meet the names: joining first would carry and hash every row's names."""
    try:
        grouped_sql, params = grouped.query.sql_with_params()
    except EmptyResultSet:  # the viewer sees nothing (an inactive user)
        return []
    q = connection.ops.quote_name
    if dimension == "competitor":
        names = f"c.{q('name')} AS competitor_name"
        joins = f"LEFT JOIN {q(Competitor._meta.db_table)} c ON c.{q('id')} = g.{q('competitors__pk')}"
        order = f"g.{q('competitors__pk')}"
    else:
        names = f"s.{q('code')} AS stage_code, s.{q('name_zh')} AS stage_name_zh, s.{q('name_en')} AS stage_name_en"
        joins = (
            f"JOIN {q(Stage._meta.db_table)} s ON s.{q('id')} = g.{q('furthest_stage_id')}"
            f" JOIN {q(Pipeline._meta.db_table)} p ON p.{q('id')} = s.{q('pipeline_id')}"
        )
        order = f"p.{q('code')}, s.{q('order')}, s.{q('id')}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT g.*, {names} FROM ({grouped_sql}) g {joins} ORDER BY {order}", params)
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def win_loss(
    *, viewer: User, dimension: str, start: date, end: date, owner: User | None = None, team: Team | None = None
) -> list[WinLossRow]:
    """Won and lost counts and amounts per value of `dimension` among the opportunities the viewer sees closed from
    `start` to `end` (included); one query, rows in the dimension's order (stages by pipeline and order)."""
    key = DIMENSION_KEYS[dimension]
    closed = Opportunity.objects.filter(_scope(viewer, "owner", owner=owner, team=team)).closed_between(
        *_bounds(start, end)
    )
    grouped = closed.values(key).annotate(**OUTCOMES)
    if dimension in ("competitor", "stage"):
        groups = _with_names(dimension, grouped.order_by())
    else:
        groups = list(grouped.order_by(key))
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
