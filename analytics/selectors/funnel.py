"""The funnel (SPEC §6): open opportunities per stage now, and the flow of opportunities created in a period
(reached per stage, conversion, median days, outcomes), for the viewer's scope or side by side per owner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, QuerySet, Sum

from accounts.models import Team, User
from analytics import funnel as funnel_frames
from analytics.selectors._common import MONEY, _bounds, _money, _scope
from pipeline.models import Opportunity, Pipeline, Stage, StageChange


@dataclass(frozen=True)
class FunnelStage:
    stage: Stage
    count: int
    amount: Decimal
    weighted_amount: Decimal


def _stages_joined_with(pipeline: Pipeline, grouped: QuerySet) -> list[tuple[Stage, dict]]:
    """The stages of `pipeline` in order, each with its row of `grouped` (a values queryset grouped by stage_id;
    empty for a stage without one), in one query: the database filters and groups the rows before they meet the
    handful of stages. Values come back as the ORM would return them (Decimal sums on every database)."""
    annotations = grouped.query.annotation_select
    try:
        grouped_sql, params = grouped.query.sql_with_params()
    except EmptyResultSet:  # the viewer sees nothing (an inactive user): every stage is empty
        return [(stage, dict.fromkeys(annotations)) for stage in pipeline.stages.order_by("order", "id")]
    quote = connection.ops.quote_name
    columns = "".join(f", g.{quote(name)}" for name in annotations)
    stages = Stage.objects.raw(
        f"SELECT s.*{columns} FROM {quote(Stage._meta.db_table)} s"
        f" LEFT JOIN ({grouped_sql}) g ON g.{quote('stage_id')} = s.{quote('id')}"
        f" WHERE s.{quote('pipeline_id')} = %s ORDER BY s.{quote('order')}, s.{quote('id')}",
        (*params, pipeline.pk),
    )
    rows = []
    for stage in stages:
        stage.pipeline = pipeline  # as pipeline.stages would: the caller's pipeline, no query
        rows.append((stage, {name: _db_value(expr, getattr(stage, name)) for name, expr in annotations.items()}))
    return rows


def _db_value(expression, value):
    """A raw column converted as the ORM converts `expression`'s value (SQLite returns sums as floats)."""
    if value is None:
        return None
    for convert in [*connection.ops.get_db_converters(expression), *expression.get_db_converters(connection)]:
        value = convert(value, expression, connection)
    return value


def funnel_snapshot(
    *, viewer: User, pipeline: Pipeline, owner: User | None = None, team: Team | None = None
) -> list[FunnelStage]:
    """Open opportunities per stage of `pipeline` as of now, empty stages included, in one query.

    The viewer's open opportunities are filtered and grouped by stage first; only the grouped rows meet the stages.
    """
    grouped = (
        Opportunity.objects.open()
        .filter(_scope(viewer, "owner", owner=owner, team=team), pipeline=pipeline)
        .values("stage_id")
        .annotate(
            open_count=Count("id"),
            open_amount=Sum("amount"),
            open_weighted=Sum(F("amount") * F("probability"), output_field=MONEY),
        )
        .order_by()
    )
    return [
        FunnelStage(
            stage=stage,
            count=row["open_count"] or 0,
            amount=_money(row["open_amount"]),
            weighted_amount=_money(Decimal(row["open_weighted"] or 0) / 100),
        )
        for stage, row in _stages_joined_with(pipeline, grouped)
    ]


def without_empty_after_sales(rows: list[FunnelStage]) -> list[FunnelStage]:
    """The funnel rows a chart shows: after-sales stages only while they hold open opportunities; runs no query."""
    return [row for row in rows if row.count or not row.stage.is_after_sales]


@dataclass(frozen=True)
class FunnelTotal:
    count: int
    amount: Decimal
    weighted_amount: Decimal
    max_count: int
    max_amount: Decimal


def funnel_total(rows: list[FunnelStage]) -> FunnelTotal:
    """Sums funnel rows and gives the largest count and amount (for scaling bars); runs no query."""
    return FunnelTotal(
        count=sum(r.count for r in rows),
        amount=sum((r.amount for r in rows), Decimal(0)),
        weighted_amount=sum((r.weighted_amount for r in rows), Decimal(0)),
        max_count=max((r.count for r in rows), default=0),
        max_amount=max((r.amount for r in rows), default=Decimal(0)),
    )


def funnel_snapshot_by_owner(
    *, viewer: User, pipeline: Pipeline, team: Team | None = None
) -> dict[int, list[FunnelStage]]:
    """`funnel_snapshot` for each owner id with open opportunities the viewer sees (side by side); 2 queries."""
    stages = list(pipeline.stages.order_by("order"))
    totals = {
        (row["owner_id"], row["stage_id"]): row
        for row in Opportunity.objects.open()
        .filter(_scope(viewer, "owner", team=team), pipeline=pipeline)
        .values("owner_id", "stage_id")
        .annotate(
            n=Count("id"),
            total=Sum("amount"),
            weighted=Sum(F("amount") * F("probability"), output_field=MONEY),
        )
        .order_by()
    }
    empty = {"n": 0, "total": 0, "weighted": 0}
    return {
        owner_id: [
            FunnelStage(
                stage=stage,
                count=(row := totals.get((owner_id, stage.pk), empty))["n"],
                amount=_money(row["total"]),
                weighted_amount=_money(Decimal(row["weighted"]) / 100),
            )
            for stage in stages
        ]
        for owner_id in sorted({owner_id for owner_id, _stage in totals})
    }


@dataclass(frozen=True)
class FlowStage:
    stage: Stage
    reached: int
    conversion: float | None
    median_days: float | None


@dataclass(frozen=True)
class FunnelFlow:
    stages: list[FlowStage]
    created: int
    won: int
    lost: int
    untouched_losses: int


def _flow_frames(
    *,
    viewer: User,
    pipeline: Pipeline,
    start: date,
    end: date,
    owner: User | None,
    team: Team | None,
    per_owner: bool = False,
) -> tuple[list[Stage], pd.DataFrame, pd.DataFrame]:
    """The pipeline's stages, outcome counts and the stays that give the median days in each stage (per owner too
    when `per_owner`) of opportunities created in the period; 3 queries."""
    created_from, created_to = _bounds(start, end)
    stages = list(pipeline.stages.order_by("order"))
    scope = _scope(viewer, "owner", owner=owner, team=team)
    created = Opportunity.objects.filter(
        scope, pipeline=pipeline, created_at__gte=created_from, created_at__lt=created_to
    )
    # Grouped by furthest_stage_id (its order comes from `stages`): the rows are read from one index, no join. By
    # owner only when the flows are per owner: one flow needs a few dozen groups, not one per owner of the company.
    outcome_columns = [*(["owner_id"] if per_owner else []), "furthest_stage_id", "status", "is_untouched_loss"]
    outcomes = pd.DataFrame.from_records(
        created.values(*outcome_columns).annotate(n=Count("id")).values_list(*outcome_columns, "n").order_by(),
        columns=[*outcome_columns, "n"],
    )
    orders = {stage.pk: stage.order for stage in stages}
    outcomes["furthest_stage__order"] = outcomes["furthest_stage_id"].map(orders)
    # A stay is stored on the change that ended it, with the opportunity's pipeline and created_at (never changed).
    # The whole company's stays of the period are one range of the stays index per stage; a scope's few stays are
    # reached from its opportunities created in the period (the opportunity's own columns lead the planner there).
    change_scope = _scope(viewer, "opportunity__owner", owner=owner, team=team)
    via = "opportunity__" if change_scope else "opportunity_"
    changes = StageChange.objects.filter(
        change_scope,
        **{"opportunity__pipeline" if change_scope else "pipeline": pipeline},
        **{f"{via}created_at__gte": created_from, f"{via}created_at__lt": created_to},
    )
    by_stage = None if per_owner or change_scope else [stage.pk for stage in stages]
    return stages, outcomes, _median_stays(changes, per_owner=per_owner, by_stage=by_stage)


def _median_stays(changes: QuerySet[StageChange], *, per_owner: bool, by_stage: list[int] | None) -> pd.DataFrame:
    """The stays (owner_id, from_stage, entered, changed_at) analytics.funnel.median_days_by needs; one query.

    The one choice of STYLE §5: on PostgreSQL the database picks the middle stay(s) of each stage (of each owner
    and stage when `per_owner`), so a handful of rows travel; elsewhere every stay comes to pandas. The whole
    company's stays (`by_stage`: the stage ids, given when no scope narrows `changes`) are picked stage by stage from
    the stays index; a scope's few stays are reached from its opportunities and ranked in one pass.
    """
    if connection.vendor == "postgresql":
        if by_stage is not None:
            return middle_stays_by_stage_postgresql(changes, stage_ids=by_stage)
        return middle_stays_postgresql(changes, per_owner=per_owner)
    return stays_portable(changes)


_STAY_COLUMNS = ["owner_id", "from_stage", "entered", "changed_at"]


def _stay_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=_STAY_COLUMNS)
    frame["entered"] = pd.to_datetime(frame["entered"], utc=True)
    frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
    return frame


def stays_portable(changes: QuerySet[StageChange]) -> pd.DataFrame:
    """Every stay of `changes`: the stage changes read into pandas, each with when its stay began."""
    return _stay_frame(
        changes.values_list("opportunity__owner_id", "from_stage_id", "entered_at", "changed_at").order_by()
    )


def _measured(changes: QuerySet[StageChange]) -> QuerySet[StageChange]:
    """The stays a median reads, as median_days_by keeps them: not the creation row (no from_stage, also the stays
    index's condition), nor a back-filled change dated before its stay began."""
    return changes.filter(from_stage__isnull=False, changed_at__gte=F("entered_at"))


# Per stage, the one or two stays in the middle when ordered by length (the exact interval, so the order is the order
# of pandas' float days): the only rows a median reads. Each stage counts its stays of the period from the stays index
# (pipeline, from_stage, opportunity_created_at), then walks the stay length index (pipeline, from_stage, length) in
# order up to the middle of them: no stage's stays are sorted (a sort of a year's stays was most of a director's
# funnel; percentile_disc would sort them too). The count leaves the length condition to FILTER so that it reads the
# period's range of the stays index rather than every stay of the stage in the length index.
_MIDDLE_STAYS_BY_STAGE_SQL = """
SELECT NULL AS owner_id, stage.id, middle.entered_at, middle.changed_at
FROM unnest(%s::bigint[]) AS stage(id)
CROSS JOIN LATERAL (
    SELECT COUNT(*) FILTER (WHERE s.changed_at >= s.entered_at) AS stays FROM ({period}) s
    WHERE s.from_stage_id = stage.id
) counted
CROSS JOIN LATERAL (
    SELECT s.entered_at, s.changed_at FROM ({measured}) s
    WHERE s.from_stage_id = stage.id
    ORDER BY s.changed_at - s.entered_at
    OFFSET (counted.stays - 1) / 2 LIMIT 2 - counted.stays %% 2
) middle
"""


def middle_stays_by_stage_postgresql(changes: QuerySet[StageChange], *, stage_ids: list[int]) -> pd.DataFrame:
    """stays_portable's middle stays of each stage of `stage_ids`, picked by PostgreSQL (owner_id left empty)."""
    columns = ("from_stage_id", "entered_at", "changed_at")
    try:
        period_sql, period_params = (
            changes.filter(from_stage__isnull=False).values(*columns).order_by().query.sql_with_params()
        )
        measured_sql, measured_params = _measured(changes).values(*columns).order_by().query.sql_with_params()
    except EmptyResultSet:
        return _stay_frame([])
    with connection.cursor() as cursor:
        cursor.execute(
            _MIDDLE_STAYS_BY_STAGE_SQL.format(period=period_sql, measured=measured_sql),
            (stage_ids, *period_params, *measured_params),
        )
        return _stay_frame(cursor.fetchall())


# Per group, the one or two stays in the middle when ordered by length, as above, for groups of owner and stage.
_MIDDLE_STAYS_SQL = """
SELECT owner_id, from_stage_id, entered_at, changed_at
FROM (
    SELECT s.*,
           ROW_NUMBER() OVER (PARTITION BY {groups} ORDER BY s.changed_at - s.entered_at) AS position,
           COUNT(*) OVER (PARTITION BY {groups}) AS stays
    FROM ({changes}) s
) ranked
WHERE position IN ((stays + 1) / 2, stays / 2 + 1)
"""


def middle_stays_postgresql(changes: QuerySet[StageChange], *, per_owner: bool) -> pd.DataFrame:
    """stays_portable's middle stays per stage (per owner and stage when `per_owner`), picked by PostgreSQL."""
    stays = (
        _measured(changes)
        .annotate(owner_id=F("opportunity__owner_id"))
        .values_list("owner_id", "from_stage_id", "entered_at", "changed_at")
    )
    try:
        changes_sql, params = stays.order_by().query.sql_with_params()
    except EmptyResultSet:
        return _stay_frame([])
    groups = "s.owner_id, s.from_stage_id" if per_owner else "s.from_stage_id"
    with connection.cursor() as cursor:
        cursor.execute(_MIDDLE_STAYS_SQL.format(groups=groups, changes=changes_sql), params)
        return _stay_frame(cursor.fetchall())


def _flows(stages: list[Stage], outcomes: pd.DataFrame, stays: pd.DataFrame, *, per_owner: bool) -> dict:
    """The funnel flow of the opportunities behind `outcomes` and `stays`: per owner id when `per_owner` (owners
    with outcomes), else one flow under the key None; every frame grouped once, runs no query."""
    if not per_owner:
        outcomes, stays = outcomes.assign(owner_id=0), stays.assign(owner_id=0)
    medians = funnel_frames.median_days_by(stays, ["owner_id"])
    n, status = outcomes["n"], outcomes["status"]
    won, lost = status == Opportunity.Status.WON, status == Opportunity.Status.LOST
    untouched = lost & outcomes["is_untouched_loss"].astype(bool)
    totals = (
        outcomes.assign(won=n.where(won, 0), lost=n.where(lost, 0), untouched=n.where(untouched, 0))
        .groupby("owner_id")[["n", "won", "lost", "untouched"]]
        .sum()
    )
    furthest: dict[int, dict[int, int]] = {}
    for (owner_id, order), count in outcomes.groupby(["owner_id", "furthest_stage__order"])["n"].sum().items():
        furthest.setdefault(owner_id, {})[order] = count
    if not per_owner and totals.empty:
        totals = pd.DataFrame({"n": [0], "won": [0], "lost": [0], "untouched": [0]}, index=[0])
    flows = {}
    for owner_id, created, won_count, lost_count, untouched_count in totals.itertuples():
        reached = funnel_frames.reached_counts([s.order for s in stages], furthest.get(owner_id, {}))
        flows[int(owner_id) if per_owner else None] = FunnelFlow(
            stages=[
                FlowStage(stage=s, reached=r, conversion=c, median_days=medians.get((owner_id, s.pk)))
                for s, r, c in zip(stages, reached, funnel_frames.conversions(reached), strict=True)
            ],
            created=int(created),
            won=int(won_count),
            lost=int(lost_count),
            untouched_losses=int(untouched_count),
        )
    return flows


def funnel_flow(
    *,
    viewer: User,
    pipeline: Pipeline,
    start: date,
    end: date,
    owner: User | None = None,
    team: Team | None = None,
) -> FunnelFlow:
    """Opportunities created from `start` to `end`: reached per stage, conversion, median days, outcomes; 3 queries.

    Reached counts an opportunity at every stage up to its furthest; conversion is reached ÷ reached at the stage
    before; median days come from the stays in a stage that a StageChange ended.
    """
    stages, outcomes, stays = _flow_frames(
        viewer=viewer, pipeline=pipeline, start=start, end=end, owner=owner, team=team
    )
    return _flows(stages, outcomes, stays, per_owner=False)[None]


def funnel_flow_by_owner(
    *, viewer: User, pipeline: Pipeline, start: date, end: date, team: Team | None = None
) -> dict[int, FunnelFlow]:
    """`funnel_flow` for each owner id with opportunities created in the period that the viewer sees; 3 queries."""
    stages, outcomes, stays = _flow_frames(
        viewer=viewer, pipeline=pipeline, start=start, end=end, owner=None, team=team, per_owner=True
    )
    return dict(sorted(_flows(stages, outcomes, stays, per_owner=True).items()))
