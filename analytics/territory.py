"""The decks' five ways of analysing a territory (SPEC §7) as pandas steps on frames read in bulk; nothing queries.

Every dimension maps accounts to group keys (an account may sit in several: a region and its parents, each
competitor whose units it has); `summarize` then gives one row of SPEC's columns per key.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pandas as pd

ACCOUNT_COLUMNS = [
    "account",
    "is_target",
    "is_covered_target",
    "our_units",
    "competitor_units",
    "cv_cents",
    "pv_cents",
    "open_cents",
]
NO_KEY = ""


def cents(amount: Decimal | None) -> int:
    return int((amount or Decimal(0)) * 100)


def from_cents(total: int) -> Decimal:
    return (Decimal(int(total)) / 100).quantize(Decimal("0.01"))


def empty_row(key: str) -> dict:
    """The numbers of a group with no account."""
    return {
        "key": key,
        "accounts": 0,
        "targets": 0,
        "our_units": 0,
        "competitor_units": 0,
        "our_share": None,
        "cv": from_cents(0),
        "pv": from_cents(0),
        "open_pipeline": from_cents(0),
        "coverage": None,
    }


def summarize(accounts: pd.DataFrame, groups: pd.DataFrame) -> list[dict]:
    """One dict per key of `groups` (account, key[, competitor_units]) with the columns of `empty_row`.

    A `competitor_units` column in `groups` replaces the account's (a competitor's row counts only its units).
    Money comes back as Decimal; our_share (our ÷ all units) and coverage (covered ÷ targets) are floats, None
    when undefined.
    """
    if groups.empty or accounts.empty:
        return []
    own = [c for c in ACCOUNT_COLUMNS if c == "account" or c not in groups.columns]
    totals = (
        groups.merge(accounts[own], on="account", how="inner")
        .groupby("key", sort=False)
        .agg(
            accounts=("account", "nunique"),
            targets=("is_target", "sum"),
            covered=("is_covered_target", "sum"),
            our_units=("our_units", "sum"),
            competitor_units=("competitor_units", "sum"),
            cv_cents=("cv_cents", "sum"),
            pv_cents=("pv_cents", "sum"),
            open_cents=("open_cents", "sum"),
        )
    )
    rows = []
    for key, t in zip(totals.index, totals.itertuples(index=False), strict=True):
        ours, theirs, targets = int(t.our_units), int(t.competitor_units), int(t.targets)
        rows.append(
            {
                "key": key,
                "accounts": int(t.accounts),
                "targets": targets,
                "our_units": ours,
                "competitor_units": theirs,
                "our_share": ours / (ours + theirs) if ours + theirs else None,
                "cv": from_cents(t.cv_cents),
                "pv": from_cents(t.pv_cents),
                "open_pipeline": from_cents(t.open_cents),
                "coverage": int(t.covered) / targets if targets else None,
            }
        )
    return rows


def region_groups(accounts: pd.DataFrame, parents: dict[int, int | None], codes: dict[int, str]) -> pd.DataFrame:
    """Each account under its region and every region above it; an account without region under NO_KEY."""
    rows = []
    for account, region in zip(accounts["account"], accounts["region"], strict=True):
        if region is None or pd.isna(region):
            rows.append((account, NO_KEY))
            continue
        node: int | None = int(region)
        while node is not None:
            rows.append((account, codes[node]))
            node = parents.get(node)
    return pd.DataFrame(rows, columns=["account", "key"])


def column_groups(accounts: pd.DataFrame, column: str) -> pd.DataFrame:
    """Each account under the value of one of its columns."""
    return pd.DataFrame({"account": accounts["account"], "key": accounts[column]})


def competitor_groups(accounts: pd.DataFrame, competitor_units: pd.DataFrame) -> pd.DataFrame:
    """Each account under each competitor with units there (counting only that competitor's); others under NO_KEY.

    `competitor_units` has account, competitor (id) and units.
    """
    per_competitor = (
        competitor_units[competitor_units["units"] > 0]
        .groupby(["account", "competitor"], as_index=False)["units"]
        .sum()
        .rename(columns={"units": "competitor_units"})
    )
    per_competitor["key"] = per_competitor["competitor"].astype(int).astype(str)
    without = accounts.loc[~accounts["account"].isin(per_competitor["account"]), ["account"]].assign(
        key=NO_KEY, competitor_units=0
    )
    return pd.concat([per_competitor[["account", "key", "competitor_units"]], without], ignore_index=True)


def band_keys(cv_cents: pd.Series, bands: list[int]) -> list[str]:
    """The CV band key of each amount: "none" for no CV, then "<low>-<high>" for [low, high), "<last>+" above."""
    edges = [0, *sorted(bands)]
    keys = []
    for amount in cv_cents:
        value = Decimal(int(amount)) / 100
        if value <= 0:
            keys.append("none")
            continue
        key = f"{edges[-1]}+"
        for low, high in itertools.pairwise(edges):
            if low <= value < high:
                key = f"{low}-{high}"
                break
        keys.append(key)
    return keys


def all_band_keys(bands: list[int]) -> list[str]:
    edges = [0, *sorted(bands)]
    return ["none", *(f"{low}-{high}" for low, high in itertools.pairwise(edges)), f"{edges[-1]}+"]
