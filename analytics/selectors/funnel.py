"""The funnel (SPEC §6): open opportunities per stage now, and the flow of opportunities created in a period
(reached per stage, conversion, median days, outcomes), for the viewer's scope or side by side per owner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd
from django.db.models import Count, F, Q, Sum

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


def funnel_snapshot(
    *, viewer: User, pipeline: Pipeline, owner: User | None = None, team: Team | None = None
) -> list[FunnelStage]:
    """Open opportunities per stage of `pipeline` as of now, empty stages included, in one query."""
    in_funnel = Q(opportunities__status=Opportunity.Status.OPEN) & _scope(
        viewer, "opportunities__owner", owner=owner, team=team
    )
    stages = pipeline.stages.order_by("order").annotate(
        open_count=Count("opportunities", filter=in_funnel),
        open_amount=Sum("opportunities__amount", filter=in_funnel, default=0),
        open_weighted=Sum(
            F("opportunities__amount") * F("opportunities__probability"),
            filter=in_funnel,
            default=0,
            output_field=MONEY,
        ),
    )
    return [
        FunnelStage(
            stage=s,
            count=s.open_count,
            amount=_money(s.open_amount),
            weighted_amount=_money(Decimal(s.open_weighted) / 100),
        )
        for s in stages
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
    *, viewer: User, pipeline: Pipeline, start: date, end: date, owner: User | None, team: Team | None
) -> tuple[list[Stage], pd.DataFrame, pd.DataFrame]:
    """The pipeline's stages, outcome counts and stage changes of opportunities created in the period; 3 queries."""
    created_from, created_to = _bounds(start, end)
    stages = list(pipeline.stages.order_by("order"))
    created = Opportunity.objects.filter(
        _scope(viewer, "owner", owner=owner, team=team),
        pipeline=pipeline,
        created_at__gte=created_from,
        created_at__lt=created_to,
    )
    outcome_columns = ["owner_id", "furthest_stage__order", "status", "is_untouched_loss"]
    outcomes = pd.DataFrame.from_records(
        created.values(*outcome_columns).annotate(n=Count("id")).values_list(*outcome_columns, "n").order_by(),
        columns=[*outcome_columns, "n"],
    )
    changes = pd.DataFrame.from_records(
        StageChange.objects.filter(
            _scope(viewer, "opportunity__owner", owner=owner, team=team),
            opportunity__pipeline=pipeline,
            opportunity__created_at__gte=created_from,
            opportunity__created_at__lt=created_to,
        )
        .values_list(
            "pk", "opportunity", "opportunity__owner_id", "from_stage", "changed_at", "opportunity__created_at"
        )
        .order_by(),
        columns=["pk", "opportunity", "owner_id", "from_stage", "changed_at", "created_at"],
    )
    changes["changed_at"] = pd.to_datetime(changes["changed_at"], utc=True)
    changes["created_at"] = pd.to_datetime(changes["created_at"], utc=True)
    return stages, outcomes, changes


def _flow(stages: list[Stage], outcomes: pd.DataFrame, changes: pd.DataFrame) -> FunnelFlow:
    """The funnel flow of the opportunities behind `outcomes` and `changes`; runs no query."""
    medians = funnel_frames.median_days_in_stage(changes)
    reached = funnel_frames.reached_counts(
        [s.order for s in stages], outcomes.groupby("furthest_stage__order")["n"].sum().to_dict()
    )
    status, untouched = outcomes["status"], outcomes["is_untouched_loss"].astype(bool)
    return FunnelFlow(
        stages=[
            FlowStage(stage=s, reached=r, conversion=c, median_days=medians.get(s.pk))
            for s, r, c in zip(stages, reached, funnel_frames.conversions(reached), strict=True)
        ],
        created=int(outcomes["n"].sum()),
        won=int(outcomes.loc[status == Opportunity.Status.WON, "n"].sum()),
        lost=int(outcomes.loc[status == Opportunity.Status.LOST, "n"].sum()),
        untouched_losses=int(outcomes.loc[(status == Opportunity.Status.LOST) & untouched, "n"].sum()),
    )


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
    stages, outcomes, changes = _flow_frames(
        viewer=viewer, pipeline=pipeline, start=start, end=end, owner=owner, team=team
    )
    return _flow(stages, outcomes, changes)


def funnel_flow_by_owner(
    *, viewer: User, pipeline: Pipeline, start: date, end: date, team: Team | None = None
) -> dict[int, FunnelFlow]:
    """`funnel_flow` for each owner id with opportunities created in the period that the viewer sees; 3 queries."""
    stages, outcomes, changes = _flow_frames(
        viewer=viewer, pipeline=pipeline, start=start, end=end, owner=None, team=team
    )
    return {
        int(owner_id): _flow(
            stages, outcomes[outcomes["owner_id"] == owner_id], changes[changes["owner_id"] == owner_id]
        )
        for owner_id in sorted(outcomes["owner_id"].unique())
    }
