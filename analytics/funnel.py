"""Funnel flow arithmetic (SPEC §7) on frames the selectors read in bulk; nothing here queries."""

from __future__ import annotations

import itertools

import pandas as pd

SECONDS_PER_DAY = 86400


def median_days_in_stage(changes: pd.DataFrame) -> dict[int, float]:
    """Median days (one decimal) per stage id, over the stays in that stage that a stage change ended.

    `changes` has one row per StageChange: opportunity, from_stage (None for the creation row), changed_at, pk, and
    the opportunity's created_at. A stay begins at the opportunity's previous change, or at its creation.
    """
    if changes.empty:
        return {}
    frame = changes.sort_values(["opportunity", "changed_at", "pk"], kind="stable")
    entered = frame.groupby("opportunity")["changed_at"].shift(1).fillna(frame["created_at"])
    days = (frame["changed_at"] - entered).dt.total_seconds() / SECONDS_PER_DAY
    stays = frame.assign(days=days).dropna(subset=["from_stage"])
    # A back-filled change dated before the opportunity was entered has no meaningful duration.
    stays = stays[stays["days"] >= 0]
    medians = stays.groupby("from_stage")["days"].median().round(1)
    return {int(stage): float(days) for stage, days in medians.items()}


def reached_counts(stage_orders: list[int], furthest_counts: dict[int, int]) -> list[int]:
    """How many opportunities reached each stage (furthest stage order ≥ the stage's), for stages in order."""
    return [sum(n for order, n in furthest_counts.items() if order >= stage_order) for stage_order in stage_orders]


def conversions(reached: list[int]) -> list[float | None]:
    """Stage-to-stage conversion: reached this stage ÷ reached the stage before; None for the first or after zero."""
    return [None] + [here / before if before else None for before, here in itertools.pairwise(reached)]
