"""The decks' five ways of analysing a territory (SPEC §7) as steps on rows the database has already grouped.

Every dimension maps accounts to group keys (an account may sit in several: a region and its parents, each
competitor whose units it has); the selector sums SPEC's columns per key in SQL, and `summary_row` turns one key's
sums into the row a table shows. Nothing here queries.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

NO_KEY = ""
# The sums the database gives per group key, in the order summary_row reads them.
TOTALS = ["accounts", "targets", "covered", "our_units", "competitor_units", "cv", "pv", "open_pipeline"]


def cents(amount: Decimal | None) -> int:
    return int((amount or Decimal(0)) * 100)


def from_cents(total: int) -> Decimal:
    return (Decimal(int(total)) / 100).quantize(Decimal("0.01"))


def empty_row(key: str) -> dict:
    """The numbers of a group with no account."""
    return summary_row(key, dict.fromkeys(TOTALS, 0))


def add_totals(into: dict[str, int | Decimal], totals: dict[str, int | Decimal | None]) -> None:
    """Adds one group's sums (None for an empty sum) to another's, in place: rolls groups up."""
    for name in TOTALS:
        into[name] = into.get(name, 0) + (totals.get(name) or 0)


def summary_row(key: str, totals: dict[str, int | Decimal | None]) -> dict:
    """The columns of a table row from one key's sums (TOTALS; None for an empty sum).

    Money comes back as Decimal to the cent; our_share (our ÷ all units) and coverage (covered ÷ targets) are
    floats, None when undefined.
    """
    ours, theirs = int(totals["our_units"] or 0), int(totals["competitor_units"] or 0)
    targets = int(totals["targets"] or 0)
    return {
        "key": key,
        "accounts": int(totals["accounts"] or 0),
        "targets": targets,
        "our_units": ours,
        "competitor_units": theirs,
        "our_share": ours / (ours + theirs) if ours + theirs else None,
        "cv": from_cents(cents(totals["cv"])),
        "pv": from_cents(cents(totals["pv"])),
        "open_pipeline": from_cents(cents(totals["open_pipeline"])),
        "coverage": int(totals["covered"] or 0) / targets if targets else None,
    }


def band_edges(bands: list[int]) -> list[tuple[int, int | None, str]]:
    """The CV bands above zero as (low, high or None for the last, key): "<low>-<high>" for [low, high), then
    "<last>+"; an amount of zero or none is in the band "none"."""
    edges = [0, *sorted(bands)]
    return [(low, high, f"{low}-{high}") for low, high in itertools.pairwise(edges)] + [
        (edges[-1], None, f"{edges[-1]}+")
    ]


def all_band_keys(bands: list[int]) -> list[str]:
    return ["none", *(key for _low, _high, key in band_edges(bands))]


def region_path(region_id: int, parents: dict[int, int | None]) -> list[int]:
    """The region and every region above it, top first."""
    path: list[int] = []
    node: int | None = region_id
    while node is not None:
        path.insert(0, node)
        node = parents.get(node)
    return path
