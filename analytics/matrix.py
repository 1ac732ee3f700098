"""The CV/PV matrix of SPEC §7 as pure pandas steps on frames the services read in bulk; nothing here queries."""

from __future__ import annotations

import statistics
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from analytics.models import AccountValue, Quadrant
from pipeline.selectors import customer_type_for

CENT = Decimal("0.01")
QUADRANTS: list[str] = [Quadrant.CORE.value, Quadrant.DEVELOP.value, Quadrant.MAINTAIN.value, Quadrant.OBSERVE.value]
# The decks' visit order: installed base first, then competitors' users, then other targets; within each,
# the quadrant where effort pays most first.
PRIORITY_QUADRANT_ORDER: list[str] = [QUADRANTS[1], QUADRANTS[0], QUADRANTS[2], QUADRANTS[3]]
CustomerType = AccountValue.CustomerType
PvSource = AccountValue.PvSource


def _money(value) -> Decimal:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return Decimal(0)
    return Decimal(value)


def customer_types(our_units: pd.Series, competitor_units: pd.Series) -> list[str]:
    """SPEC §2's customer type of each account from its installed units."""
    return [
        customer_type_for(our_units=int(ours), competitor_units=int(theirs))
        for ours, theirs in zip(our_units, competitor_units, strict=True)
    ]


def account_values(inputs: pd.DataFrame, *, value_per_unit: Decimal, default_spend: Decimal) -> pd.DataFrame:
    """Adds cv, pv, pv_source and customer_type; keeps the accounts whose CV or PV is above zero.

    `inputs` has one row per account: won, other_revenue, potential_value (None when not set), our_units,
    competitor_units, employee_count (None when unknown) and spend_per_employee (None for the default).
    """
    if inputs.empty:
        return inputs.assign(cv=[], pv=[], pv_source=[], customer_type=[])
    cv = [_money(won) + _money(other) for won, other in zip(inputs["won"], inputs["other_revenue"], strict=True)]
    pv, source = [], []
    for explicit, ours, theirs, employees, spend in zip(
        inputs["potential_value"],
        inputs["our_units"],
        inputs["competitor_units"],
        inputs["employee_count"],
        inputs["spend_per_employee"],
        strict=True,
    ):
        # The three steps of SPEC §7, in order: an explicit estimate, installed units, employees × spend.
        units = int(ours) + int(theirs)
        if explicit is not None and not pd.isna(explicit):
            pv.append(Decimal(explicit))
            source.append(PvSource.EXPLICIT.value)
        elif units > 0:
            pv.append(units * value_per_unit)
            source.append(PvSource.INSTALLED_BASE.value)
        elif employees is not None and not pd.isna(employees) and int(employees) > 0:
            per_employee = default_spend if spend is None or pd.isna(spend) else Decimal(spend)
            pv.append(int(employees) * per_employee)
            source.append(PvSource.EMPLOYEES.value)
        else:
            pv.append(Decimal(0))
            source.append("")
    values = inputs.assign(
        cv=pd.Series(cv, index=inputs.index, dtype=object),
        pv=pd.Series(pv, index=inputs.index, dtype=object),
        pv_source=source,
        customer_type=customer_types(inputs["our_units"], inputs["competitor_units"]),
    )
    in_matrix = [c > 0 or p > 0 for c, p in zip(values["cv"], values["pv"], strict=True)]
    return values[in_matrix]


def median_threshold(values: pd.Series) -> Decimal | None:
    """The exact median of money values, rounded half up to the cent; None for no values."""
    if values.empty:
        return None
    return Decimal(statistics.median(values)).quantize(CENT, rounding=ROUND_HALF_UP)


def thresholds(
    values: pd.DataFrame, *, fixed_cv: float | None, fixed_pv: float | None
) -> tuple[Decimal | None, Decimal | None]:
    """CV and PV thresholds: the fixed value where one is set, else the company-wide median of the matrix."""
    cv = Decimal(str(fixed_cv)).quantize(CENT) if fixed_cv is not None else median_threshold(values["cv"])
    pv = Decimal(str(fixed_pv)).quantize(CENT) if fixed_pv is not None else median_threshold(values["pv"])
    return cv, pv


def classify_accounts(values: pd.DataFrame, *, cv_threshold: Decimal, pv_threshold: Decimal) -> pd.DataFrame:
    """Adds quadrant (≥ a threshold is high) and share (CV ÷ PV, None without PV) to a frame with cv and pv."""
    high_cv = np.array([cv >= cv_threshold for cv in values["cv"]], dtype=bool)
    high_pv = np.array([pv >= pv_threshold for pv in values["pv"]], dtype=bool)
    quadrant = np.select(
        [high_pv & high_cv, high_pv, high_cv],
        [Quadrant.CORE.value, Quadrant.DEVELOP.value, Quadrant.MAINTAIN.value],
        default=Quadrant.OBSERVE.value,
    )
    share = [float(cv / pv) if pv > 0 else None for cv, pv in zip(values["cv"], values["pv"], strict=True)]
    return values.assign(quadrant=quadrant, share=pd.Series(share, index=values.index, dtype=object))


def visit_priority(values: pd.DataFrame) -> pd.DataFrame:
    """Adds priority (1 first, None outside the visit list) in the decks' order.

    Accounts with our installed base (`ours`, `mixed`), then `competitor` accounts, then other targets; within
    each group by quadrant (develop, core, maintain, observe), then region code, then name.
    """
    group = np.select(
        [
            values["customer_type"].isin([CustomerType.OURS.value, CustomerType.MIXED.value]),
            values["customer_type"] == CustomerType.COMPETITOR.value,
            values["is_target"].astype(bool),
        ],
        [0, 1, 2],
        default=-1,
    )
    ranked = values.assign(
        _group=group,
        _quadrant=values["quadrant"].map({q: i for i, q in enumerate(PRIORITY_QUADRANT_ORDER)}),
        _no_region=values["region_code"].isna(),
        _region=values["region_code"].fillna(""),
    )
    listed = ranked[ranked["_group"] >= 0].sort_values(
        ["_group", "_quadrant", "_no_region", "_region", "name", "account"], kind="stable"
    )
    priority = pd.Series(range(1, len(listed) + 1), index=listed.index, dtype="Int64")
    return values.assign(priority=priority.reindex(values.index))


def transitions(quadrants: pd.DataFrame) -> dict[str, dict[str, int]]:
    """4×4 counts of accounts by (previous_quadrant, quadrant), zeros included; accounts new to the matrix left out."""
    both = quadrants.dropna(subset=["previous_quadrant", "quadrant"])
    counts = pd.crosstab(both["previous_quadrant"], both["quadrant"]).reindex(
        index=QUADRANTS, columns=QUADRANTS, fill_value=0
    )
    return {src: {dst: int(counts.at[src, dst]) for dst in QUADRANTS} for src in QUADRANTS}
