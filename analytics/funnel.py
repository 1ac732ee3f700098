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
    return median_days_of_stays(stays(changes))


def stays(changes: pd.DataFrame) -> pd.DataFrame:
    """`changes` (as for median_days_in_stage) in order, each with `entered`: when the stay it ended began."""
    if changes.empty:
        return changes.assign(entered=changes.get("created_at"))
    frame = changes.sort_values(["opportunity", "changed_at", "pk"], kind="stable")
    return frame.assign(entered=frame.groupby("opportunity")["changed_at"].shift(1).fillna(frame["created_at"]))


def median_days_of_stays(stays: pd.DataFrame) -> dict[int, float]:
    """Median days (one decimal) per from_stage over stays (from_stage, entered, changed_at as UTC datetimes).

    Rows without from_stage (creation) and stays that end before they begin are left out. A median needs only the
    middle stay or two of each stage: given just those (as the database can pick them), the result is the same.
    """
    return {stage: days for (stage,), days in median_days_by(stays, []).items()}


def median_days_by(stays: pd.DataFrame, keys: list[str]) -> dict[tuple, float]:
    """median_days_of_stays per group of `keys` columns: {(*key values, from_stage id): median days}."""
    if stays.empty:
        return {}
    days = (stays["changed_at"] - stays["entered"]).dt.total_seconds() / SECONDS_PER_DAY
    kept = stays.assign(days=days).dropna(subset=["from_stage"])
    # A back-filled change dated before the opportunity was entered has no meaningful duration.
    kept = kept[kept["days"] >= 0]
    medians = kept.groupby([*keys, "from_stage"])["days"].median().round(1)
    return {
        tuple(int(k) for k in (key if isinstance(key, tuple) else (key,))): float(days) for key, days in medians.items()
    }


def reached_counts(stage_orders: list[int], furthest_counts: dict[int, int]) -> list[int]:
    """How many opportunities reached each stage (furthest stage order ≥ the stage's), for stages in order."""
    return [sum(n for order, n in furthest_counts.items() if order >= stage_order) for stage_order in stage_orders]


def conversions(reached: list[int]) -> list[float | None]:
    """Stage-to-stage conversion: reached this stage ÷ reached the stage before; None for the first or after zero."""
    return [None] + [here / before if before else None for before, here in itertools.pairwise(reached)]
