"""Win/loss analysis (issue 13): opportunities the viewer sees closed in a period, won and lost counts and amounts
per value of each dimension: every dimension but the competitors from one scan of the period's rows (GROUPING SETS
on PostgreSQL), the competitors from a second query.

Dimensions: `reason` (the loss reason; wins have none), `competitor` (each competitor in play: an opportunity with
two counts under both, one with none under the empty key), `stage` (the furthest stage reached, by pipeline and
order), `untouched_cause` (untouched losses' causes) and `source` (where the opportunity came from). A missing
value (a win's loss reason, an opportunity without source) is the row with key None, listed last.

Cost: the period's closed opportunities come from a covering index, `opp_closed_idx` for a director (the period's
entries) and `opp_owner_closed_idx` for a manager or a rep (their owners' entries of the period); no opportunity row
is read. Competitors and stages are grouped by id first; only the handful of groups meet their names. The whole
company's months that are over come from their monthly sums (analytics.rollups) where they are rolled up, so a
director's year reads a row per month and value, and only the live days' opportunities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import pgettext

from accounts.models import Competitor, Team, User
from analytics import rollups
from analytics.models import ClosedMonthSum, RolledMonth
from analytics.rollups import OUTCOMES
from analytics.selectors._common import _bounds, _money, _scope, whole_company
from pipeline.models import Opportunity, Pipeline, Stage

CLOSED = RolledMonth.Kind.CLOSED
# The column each dimension groups by. A competitor's or a stage's names are joined to its groups.
DIMENSION_KEYS = {
    "reason": "loss_reason",
    "competitor": "competitors__pk",
    "stage": "furthest_stage_id",
    "untouched_cause": "untouched_cause",
    "source": "source",
}
WINLOSS_DIMENSIONS = tuple(DIMENSION_KEYS)
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


def _stage_joins(alias: str) -> str:
    q = connection.ops.quote_name
    return (
        f" LEFT JOIN {q(Stage._meta.db_table)} s ON s.{q('id')} = {alias}.{q('furthest_stage_id')}"
        f" LEFT JOIN {q(Pipeline._meta.db_table)} p ON p.{q('id')} = s.{q('pipeline_id')}"
    )


# A stage's names and where it sorts (pipeline, order), joined to its groups.
STAGE_NAMES = (
    's."code" AS stage_code, s."name_zh" AS stage_name_zh, s."name_en" AS stage_name_en, p."code" AS pipeline_code,'
    ' s."order" AS stage_order'
)


def _rows(cursor) -> list[dict]:
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _by_competitor(closed: QuerySet) -> list[dict]:
    """The closed opportunities' groups by competitor in play (one opportunity under each of its competitors, one
    without under None), with the competitor's name, in no order (`_win_loss_rows` sorts); one query. The
    opportunities are grouped before they meet the names: joining first would carry and hash every row's names."""
    try:
        grouped_sql, params = closed.values("competitors__pk").annotate(**OUTCOMES).order_by().query.sql_with_params()
    except EmptyResultSet:  # the viewer sees nothing (an inactive user)
        return []
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT g.*, c.{q('name')} AS competitor_name FROM ({grouped_sql}) g"
            f" LEFT JOIN {q(Competitor._meta.db_table)} c ON c.{q('id')} = g.{q('competitors__pk')}",
            params,
        )
        return _rows(cursor)


def _by_each(closed: QuerySet, dimensions: list[str]) -> dict[str, list[dict]]:
    """The closed opportunities' groups by each of `dimensions` (none of them `competitor`), in one query: on
    PostgreSQL one scan of the period's rows (GROUPING SETS, opp_closed_idx), elsewhere one GROUP BY per dimension
    side by side. Each dimension's groups with the names and places of their stages, in no order (`_win_loss_rows`
    sorts)."""
    keys = [DIMENSION_KEYS[dimension] for dimension in dimensions]
    if not keys:
        return {}
    try:
        rows_sql, params = closed.order_by().values("status", "amount", *keys).query.sql_with_params()
    except EmptyResultSet:  # the viewer sees nothing (an inactive user)
        return {dimension: [] for dimension in dimensions}
    q = connection.ops.quote_name
    outcomes = ", ".join(
        f"{aggregate}(o.{q(column)}) FILTER (WHERE o.{q('status')} = %s) AS {q(name)}"
        for name, aggregate, column in (
            ("won", "COUNT", "status"),
            ("lost", "COUNT", "status"),
            ("won_amount", "SUM", "amount"),
            ("lost_amount", "SUM", "amount"),
        )
    )
    statuses = [Opportunity.Status.WON, Opportunity.Status.LOST] * 2
    if connection.vendor == "postgresql":
        marks = ", ".join(f"GROUPING(o.{q(key)}) AS {q('unset_' + key)}" for key in keys)
        sets = ", ".join(f"(o.{q(key)})" for key in keys)
        columns = ", ".join(f"o.{q(key)}" for key in keys)
        grouped = f"SELECT {marks}, {columns}, {outcomes} FROM ({rows_sql}) o GROUP BY GROUPING SETS ({sets})"
        grouped_params = [*statuses, *params]
    else:
        parts = []
        for key in keys:
            marks = ", ".join(f"{0 if other == key else 1} AS {q('unset_' + other)}" for other in keys)
            columns = ", ".join(f"{f'o.{q(other)}' if other == key else 'NULL'} AS {q(other)}" for other in keys)
            parts.append(f"SELECT {marks}, {columns}, {outcomes} FROM ({rows_sql}) o GROUP BY o.{q(key)}")
        grouped = " UNION ALL ".join(parts)
        grouped_params = [*statuses, *params] * len(keys)
    names, joins = "", ""
    if "stage" in dimensions:
        names = f", {STAGE_NAMES}"
        joins = _stage_joins("g")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT g.*{names} FROM ({grouped}) g{joins}", grouped_params)
        groups = _rows(cursor)
    return {
        dimension: [group for group in groups if group[f"unset_{DIMENSION_KEYS[dimension]}"] == 0]
        for dimension in dimensions
    }


def _rolled_up(months: rollups.Months, dimensions: list[str]) -> dict[str, list[dict]]:
    """The groups of each of `dimensions` summed over the rolled-up `months`, in the shape of the live groups (names
    joined); one query."""
    q = connection.ops.quote_name
    keys = ", ".join(f"m.{q(column)}" for column, _lookup in rollups.CLOSED_DIMENSIONS.values())
    days = rollups.month_days(months)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.{q('dimension')}, {keys}, SUM(m.{q('won')}) AS won, SUM(m.{q('lost')}) AS lost,"
            f" SUM(m.{q('won_amount')}) AS won_amount, SUM(m.{q('lost_amount')}) AS lost_amount,"
            f" {STAGE_NAMES}, c.{q('name')} AS competitor_name"
            f" FROM {q(ClosedMonthSum._meta.db_table)} m{_stage_joins('m')}"
            f" LEFT JOIN {q(Competitor._meta.db_table)} c ON c.{q('id')} = m.{q('competitor_id')}"
            f" WHERE m.{q('month')} IN ({', '.join(['%s'] * len(days)) or 'NULL'})"
            f" AND m.{q('dimension')} IN ({', '.join(['%s'] * len(dimensions))})"
            f" GROUP BY m.{q('dimension')}, {keys}, s.{q('id')}, p.{q('id')}, c.{q('id')}",
            [*days, *dimensions],
        )
        rows = _rows(cursor)
    groups: dict[str, list[dict]] = {dimension: [] for dimension in dimensions}
    for row in rows:
        row["competitors__pk"] = row["competitor_id"]
        groups[row["dimension"]].append(row)
    return groups


def _merged(dimension: str, *parts: list[dict]) -> list[dict]:
    """The groups of `dimension` from live rows and rolled-up sums, added up by value."""
    column = DIMENSION_KEYS[dimension]
    merged: dict = {}
    for groups in parts:
        for group in groups:
            if (into := merged.get(group[column])) is None:
                merged[group[column]] = dict(group)
                continue
            for outcome in OUTCOMES:
                into[outcome] = (into[outcome] or 0) + (group[outcome] or 0)
    return list(merged.values())


def _sort_key(dimension: str, group: dict) -> tuple:
    """Each dimension's order: a value missing last; stages by pipeline and order, the others by value."""
    key = group[DIMENSION_KEYS[dimension]]
    if key in (None, ""):
        return (True,)
    if dimension == "stage":
        return False, group["pipeline_code"] or "", group["stage_order"] or 0, key
    return False, key


def _win_loss_rows(dimension: str, groups: list[dict]) -> list[WinLossRow]:
    rows = []
    for group in sorted(groups, key=lambda group: _sort_key(dimension, group)):
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
    return rows


def win_loss_by(
    *,
    viewer: User,
    dimensions: list[str],
    start: date,
    end: date,
    owner: User | None = None,
    team: Team | None = None,
) -> dict[str, list[WinLossRow]]:
    """Won and lost counts and amounts per value of each of `dimensions` among the opportunities the viewer sees
    closed from `start` to `end` (included), rows in each dimension's order (stages by pipeline and order): one query
    for the competitors, one for all the others; for the whole company, one more for the rolled-up months and one
    for their sums."""
    rolled_up = whole_company(viewer, owner=owner, team=team)
    since, until = _bounds(start, end)
    months = rollups.rolled_months([CLOSED], since, until)[CLOSED] if rolled_up else []
    closed = Opportunity.objects.filter(
        _scope(viewer, "owner", owner=owner, team=team), rollups.live("closed_at", since, until, months)
    )
    groups = _by_each(closed, [dimension for dimension in dimensions if dimension != "competitor"])
    if "competitor" in dimensions:
        groups["competitor"] = _by_competitor(closed)
    if rolled_up:  # the same queries whether or not a month is rolled up yet
        rolled = _rolled_up(months, dimensions)
        groups = {dimension: _merged(dimension, groups[dimension], rolled[dimension]) for dimension in dimensions}
    return {dimension: _win_loss_rows(dimension, groups[dimension]) for dimension in dimensions}


def win_loss(
    *, viewer: User, dimension: str, start: date, end: date, owner: User | None = None, team: Team | None = None
) -> list[WinLossRow]:
    """`win_loss_by` for one dimension; one query."""
    return win_loss_by(viewer=viewer, dimensions=[dimension], start=start, end=end, owner=owner, team=team)[dimension]
