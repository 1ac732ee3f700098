"""Writing StageChange rows: the one place that makes them, so each row carries when the stay it ends began and the
opportunity's created_at and pipeline (facts that never change), which the funnel's median days read from one index
(analytics/selectors/funnel.py) instead of re-deriving every stay with a window over the whole history.

A stay begins at the opportunity's change before (in the order of changed_at, then id) or at its creation. Rows are
appended in time order (a move happens now; back-filled history is a new opportunity's whole path at once), so the
change before a new row is the latest one written, and a row once written stays true.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from accounts.models import User
from pipeline.models import Opportunity, Stage, StageChange


@dataclass(frozen=True)
class Step:
    """One move along a path: from a stage (None for the creation) to another, at a moment."""

    from_stage: Stage | None
    to_stage: Stage
    changed_at: datetime
    override_reason: str = ""


def stage_change_rows(
    *,
    opportunity: Opportunity,
    steps: Sequence[Step],
    changed_by: User | None,
    is_backfill: bool = False,
    previous_at: datetime | None = None,
) -> list[StageChange]:
    """Unsaved StageChanges for `steps` (in time order) of `opportunity`, the first stay beginning at `previous_at`
    (the opportunity's latest change before them; None: none, so at its creation); runs no query."""
    rows = []
    entered_at = previous_at or opportunity.created_at
    for step in steps:
        rows.append(
            StageChange(
                opportunity=opportunity,
                from_stage=step.from_stage,
                to_stage=step.to_stage,
                changed_at=step.changed_at,
                changed_by=changed_by,
                override_reason=step.override_reason,
                is_backfill=is_backfill,
                entered_at=entered_at,
                opportunity_created_at=opportunity.created_at,
                pipeline_id=opportunity.pipeline_id,
            )
        )
        entered_at = step.changed_at
    return rows


def record_stage_changes(
    *,
    opportunity: Opportunity,
    steps: Sequence[Step],
    changed_by: User | None,
    is_backfill: bool = False,
    is_new: bool = False,
) -> list[StageChange]:
    """Writes `steps` (in time order) after the opportunity's existing changes; 2 queries (the latest change up to
    the first step, the insert), one when `is_new` (an opportunity just written has no change yet)."""
    if not steps:
        return []
    previous_at = None
    if not is_new:
        previous_at = (
            StageChange.objects.filter(opportunity=opportunity, changed_at__lte=steps[0].changed_at)
            .order_by("-changed_at", "-pk")
            .values_list("changed_at", flat=True)
            .first()
        )
    rows = stage_change_rows(
        opportunity=opportunity,
        steps=steps,
        changed_by=changed_by,
        is_backfill=is_backfill,
        previous_at=previous_at,
    )
    return StageChange.objects.bulk_create(rows)
