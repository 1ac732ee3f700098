"""The CV/PV matrix of SPEC §7 as pure pandas steps on frames the services read in bulk; nothing here queries.

Money arrives and leaves as `Decimal`. In between, the steps work on whole cents in int64 columns (`*_cents`), which
is exact for every amount the database can hold (two decimal places) and lets numpy do the per-account arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from accounts.facts import customer_type_for
from analytics.models import AccountValue, Quadrant

CENT = Decimal("0.01")
QUADRANTS: list[str] = [Quadrant.CORE.value, Quadrant.DEVELOP.value, Quadrant.MAINTAIN.value, Quadrant.OBSERVE.value]
# The decks' visit order: installed base first, then competitors' users, then other targets; within each,
# the quadrant where effort pays most first.
PRIORITY_QUADRANT_ORDER: list[str] = [QUADRANTS[1], QUADRANTS[0], QUADRANTS[2], QUADRANTS[3]]
CustomerType = AccountValue.CustomerType
PvSource = AccountValue.PvSource
INT64_MAX = np.iinfo(np.int64).max


def whole_cents(value: Decimal | int) -> int:
    """`value` in cents; raises ValueError for an amount finer than a cent rather than rounding it."""
    cents = Decimal(value).scaleb(2)
    if cents != cents.to_integral_value():
        raise ValueError(f"{value} is not a whole number of cents")
    return int(cents)


def cents_array(values: Iterable[Decimal | None]) -> pd.api.extensions.ExtensionArray:
    """Money values read from the database (two decimal places) as nullable int64 cents; None stays missing."""
    return pd.array([None if v is None else whole_cents(v) for v in values], dtype="Int64")


def money(cents: Iterable[int]) -> list[Decimal]:
    """Cents back to Decimal amounts with two decimal places."""
    return [Decimal(int(c)).scaleb(-2) for c in cents]


def _times(counts: np.ndarray, cents: np.ndarray | int) -> np.ndarray:
    """counts × cents element by element in int64; raises OverflowError instead of wrapping around."""
    limits = INT64_MAX // np.maximum(np.abs(counts), 1)
    if (np.abs(cents) > limits).any():
        raise OverflowError("an amount is too large to compute in cents")
    return counts * cents


def customer_types(our_units: pd.Series, competitor_units: pd.Series) -> list[str]:
    """SPEC §2's customer type of each account from its installed units (customer_type_for once per unit pair)."""
    pairs = list(zip(our_units.astype(int).tolist(), competitor_units.astype(int).tolist(), strict=True))
    kinds = {pair: customer_type_for(our_units=pair[0], competitor_units=pair[1]) for pair in set(pairs)}
    return [kinds[pair] for pair in pairs]


def account_values(inputs: pd.DataFrame, *, value_per_unit: Decimal, default_spend: Decimal) -> pd.DataFrame:
    """Adds cv, pv (Decimal), cv_cents, pv_cents, pv_source and customer_type; keeps accounts with CV or PV above 0.

    `inputs` has one row per account: won_cents, other_cents (0 when none), potential_cents (missing when not set),
    our_units, competitor_units, employee_count (missing when unknown) and spend_cents (missing for the default).
    `value_per_unit` and `default_spend` are whole cents (ValueError otherwise), as their integer settings are.
    """
    if inputs.empty:
        return inputs.assign(cv=[], pv=[], cv_cents=[], pv_cents=[], pv_source=[], customer_type=[])
    ours = inputs["our_units"].to_numpy(np.int64)
    theirs = inputs["competitor_units"].to_numpy(np.int64)
    units = ours + theirs
    employees = inputs["employee_count"].fillna(0).to_numpy(np.int64)
    spend = inputs["spend_cents"].fillna(whole_cents(default_spend)).to_numpy(np.int64)
    explicit = inputs["potential_cents"]
    # The three steps of SPEC §7, in order: an explicit estimate, installed units, employees × spend.
    by_explicit = explicit.notna().to_numpy()
    by_units = ~by_explicit & (units > 0)
    by_employees = ~by_explicit & ~by_units & (employees > 0)
    estimate = (
        explicit.fillna(0).to_numpy(np.int64)
        + _times(np.where(by_units, units, 0), whole_cents(value_per_unit))
        + _times(np.where(by_employees, employees, 0), spend)
    )
    cv = inputs["won_cents"].to_numpy(np.int64) + inputs["other_cents"].to_numpy(np.int64)
    # PV is the account's whole wallet, so never below what it already buys from us (SPEC §7).
    pv = np.maximum(estimate, cv)
    source = np.select(
        [cv > estimate, by_explicit, by_units, by_employees],
        [
            PvSource.CURRENT_VALUE.value,
            PvSource.EXPLICIT.value,
            PvSource.INSTALLED_BASE.value,
            PvSource.EMPLOYEES.value,
        ],
        default="",
    )
    in_matrix = (cv > 0) | (pv > 0)
    values = inputs[in_matrix]
    return values.assign(
        cv_cents=cv[in_matrix],
        pv_cents=pv[in_matrix],
        cv=money(cv[in_matrix]),
        pv=money(pv[in_matrix]),
        pv_source=source[in_matrix],
        customer_type=customer_types(values["our_units"], values["competitor_units"]),
    )


def median_threshold(cents: pd.Series) -> Decimal | None:
    """The exact median of amounts in cents, in CNY rounded half up to the cent; None for no values."""
    if cents.empty:
        return None
    ordered = np.sort(cents.to_numpy(np.int64))
    middle = len(ordered) // 2
    twice = 2 * int(ordered[middle]) if len(ordered) % 2 else int(ordered[middle - 1]) + int(ordered[middle])
    return (Decimal(twice) / 200).quantize(CENT, rounding=ROUND_HALF_UP)


def fixed_thresholds(*, fixed_cv: float | None, fixed_pv: float | None) -> tuple[Decimal | None, Decimal | None]:
    """The thresholds set in settings as amounts in CNY to the cent; None where none is set."""
    return tuple(None if fixed is None else Decimal(str(fixed)).quantize(CENT) for fixed in (fixed_cv, fixed_pv))


def thresholds(
    values: pd.DataFrame, *, fixed_cv: Decimal | None, fixed_pv: Decimal | None
) -> tuple[Decimal | None, Decimal | None]:
    """CV and PV thresholds: the fixed amount where one is set, else the company-wide median of the matrix."""
    cv = fixed_cv if fixed_cv is not None else median_threshold(values["cv_cents"])
    pv = fixed_pv if fixed_pv is not None else median_threshold(values["pv_cents"])
    return cv, pv


def classify_accounts(values: pd.DataFrame, *, cv_threshold: Decimal, pv_threshold: Decimal) -> pd.DataFrame:
    """Adds quadrant (≥ a threshold is high) and share (CV ÷ PV, None without PV) to a frame with cv and pv cents."""
    cv, pv = values["cv_cents"].to_numpy(np.int64), values["pv_cents"].to_numpy(np.int64)
    high_cv, high_pv = cv >= whole_cents(cv_threshold), pv >= whole_cents(pv_threshold)
    quadrant = np.select(
        [high_pv & high_cv, high_pv, high_cv],
        [Quadrant.CORE.value, Quadrant.DEVELOP.value, Quadrant.MAINTAIN.value],
        default=Quadrant.OBSERVE.value,
    )
    has_pv = pv > 0
    ratio = np.divide(cv, pv, out=np.zeros(len(pv)), where=has_pv)
    share = np.where(has_pv, ratio.astype(object), None)
    return values.assign(quadrant=quadrant, share=pd.Series(share, index=values.index, dtype=object))


def visit_priority(values: pd.DataFrame) -> pd.DataFrame:
    """Adds priority (1 first, None outside the visit list) in the decks' order.

    Accounts with our installed base (`ours`, `mixed`), then `competitor` accounts, then other targets; within each
    group by quadrant (develop, core, maintain, observe), then region in the company's order (its sort order, then
    its code; accounts without a region last), then name.
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
        _region_order=values["region_order"].fillna(0),
        _region=values["region_code"].fillna(""),
    )
    listed = ranked[ranked["_group"] >= 0].sort_values(
        ["_group", "_quadrant", "_no_region", "_region_order", "_region", "name", "account"], kind="stable"
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
