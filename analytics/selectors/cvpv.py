"""The stored CV/PV matrix of a year (SPEC §7) in pieces whose size does not grow with the company, for the matrix
page and /api/v1/analytics/cvpv/: counts per quadrant and the year-over-year transitions, one page of accounts in a
chosen order, and a chart of the first accounts by visit priority as points with every other account in a density
bin. Counting, ordering, limiting and binning happen in SQL; the viewer's scope filters before anything is counted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    F,
    FilteredRelation,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Floor, Ln

from accounts.facts import CUSTOMER_TYPE_LABELS
from accounts.models import Account, Team, User
from analytics.models import AccountValue, MatrixRun, Quadrant
from analytics.selectors._common import _scope
from analytics.selectors.matrix import MatrixRow

QUADRANTS = [q.value for q in Quadrant]
# How the account table may be ordered; ties always fall back to the name, then the id. Empty values come last.
MATRIX_ORDERINGS = {
    "priority": (F("priority").asc(nulls_last=True),),
    "name": (),
    "-cv": (F("cv").desc(),),
    "cv": (F("cv").asc(),),
    "-pv": (F("pv").desc(),),
    "pv": (F("pv").asc(),),
    "-share": (F("share").desc(nulls_last=True),),
    "share": (F("share").asc(nulls_last=True),),
}
_ROW_FIELDS = (  # MatrixRow's fields, in its order
    "account_id",
    "account__name",
    "account__owner_id",
    "account__region__code",
    "customer_type",
    "cv",
    "pv",
    "pv_source",
    "share",
    "quadrant",
    "previous_quadrant",
    "priority",
)


def _values(*, viewer: User, year: int, owner: User | None, team: Team | None) -> QuerySet[AccountValue]:
    return AccountValue.objects.filter(_scope(viewer, "account__owner", owner=owner, team=team), year=year)


def _previous_quadrant(year: int) -> Subquery:
    last_year = AccountValue.objects.filter(account=OuterRef("account"), year=year - 1)
    return Subquery(last_year.order_by().values("quadrant")[:1])  # one row at most: unique per account and year


def _pairs_of_year(*, viewer: User, year: int, owner: User | None, team: Team | None) -> QuerySet:
    """(quadrant last year, quadrant this year, accounts) over the year's rows, the year before joined once (unique
    per account and year): for the whole company, reading the two years whole is the cheap way."""
    last_year = FilteredRelation("account__values", condition=Q(account__values__year=year - 1))
    return (
        _values(viewer=viewer, year=year, owner=owner, team=team)
        .annotate(last_year=last_year)
        .values("last_year__quadrant", "quadrant")
        .annotate(n=Count("pk"))
        .values_list("last_year__quadrant", "quadrant", "n")
        .order_by()
    )


def _pairs_of_accounts(*, viewer: User, year: int, owner: User | None, team: Team | None) -> QuerySet:
    """`_pairs_of_year` from the viewer's accounts, each looking its two years up (account_value_unique_per_year):
    for a team's or a person's accounts. Joined to the years, the planner hashed both years of the whole company
    for a manager's 200 accounts (3.4 ms at scale 10, growing with the company; 0.5 ms this way)."""

    def quadrant_of(in_year: int) -> Subquery:
        values = AccountValue.objects.filter(account=OuterRef("pk"), year=in_year).order_by()
        return Subquery(values.values("quadrant")[:1])

    return (
        Account.objects.filter(_scope(viewer, "owner", owner=owner, team=team))
        .annotate(this_year=quadrant_of(year))
        .filter(this_year__isnull=False)
        .annotate(last_year=quadrant_of(year - 1))
        .values("last_year", "this_year")
        .annotate(n=Count("pk"))
        .values_list("last_year", "this_year", "n")
        .order_by()
    )


@dataclass(frozen=True)
class MatrixSummary:
    year: int
    computed_at: datetime | None  # None: the matrix of this year was never computed
    cv_threshold: Decimal | None
    pv_threshold: Decimal | None
    thresholds_fixed: bool
    total: int  # the viewer's accounts in the matrix
    quadrant_counts: dict[str, int]  # every quadrant, in Quadrant's order, zeros included
    transitions: dict[str, dict[str, int]]  # quadrant last year -> this year -> accounts; new accounts left out


def matrix_summary(*, viewer: User, year: int, owner: User | None = None, team: Team | None = None) -> MatrixSummary:
    """The matrix of `year`: company-wide thresholds, and the viewer's accounts counted per quadrant and per
    (quadrant last year, quadrant this year); 2 queries whatever the number of accounts."""
    run = MatrixRun.objects.filter(year=year).first()
    narrowed = not viewer.is_director or owner is not None or team is not None
    pairs = (_pairs_of_accounts if narrowed else _pairs_of_year)(viewer=viewer, year=year, owner=owner, team=team)
    counts = dict.fromkeys(QUADRANTS, 0)
    transitions = {src: dict.fromkeys(QUADRANTS, 0) for src in QUADRANTS}
    for previous, quadrant, n in pairs:
        counts[quadrant] += n
        if previous in transitions:
            transitions[previous][quadrant] += n
    return MatrixSummary(
        year=year,
        computed_at=run.computed_at if run else None,
        cv_threshold=run.cv_threshold if run else None,
        pv_threshold=run.pv_threshold if run else None,
        thresholds_fixed=run.thresholds_fixed if run else False,
        total=sum(counts.values()),
        quadrant_counts=counts,
        transitions=transitions,
    )


def matrix_accounts(
    *, viewer: User, year: int, sort: str = "priority", owner: User | None = None, team: Team | None = None
) -> QuerySet:
    """The viewer's accounts in the matrix of `year` as tuples of MatrixRow's fields, with their quadrant of the
    year before, in the order `sort` (a MATRIX_ORDERINGS key) names; unevaluated: slice it (one query per slice)
    and turn the rows into MatrixRows with `matrix_rows`."""
    return (
        _values(viewer=viewer, year=year, owner=owner, team=team)
        .annotate(previous_quadrant=_previous_quadrant(year))
        .order_by(*MATRIX_ORDERINGS[sort], "account__name", "account_id")
        .values_list(*_ROW_FIELDS)
    )


@dataclass(frozen=True)
class MatrixAccount(MatrixRow):
    """A MatrixRow with the labels a table shows."""

    @property
    def quadrant_label(self) -> str:
        return Quadrant(self.quadrant).label

    @property
    def previous_quadrant_label(self) -> str | None:
        return Quadrant(self.previous_quadrant).label if self.previous_quadrant else None

    @property
    def customer_type_label(self) -> str:
        return CUSTOMER_TYPE_LABELS.get(self.customer_type, self.customer_type)


def matrix_rows(rows: Iterable[tuple]) -> list[MatrixAccount]:
    """Rows of `matrix_accounts` as MatrixAccounts; runs no query of its own."""
    return [MatrixAccount(*row) for row in rows]


@dataclass(frozen=True)
class ChartPoint:
    account_id: int
    name: str
    cv: Decimal
    pv: Decimal
    quadrant: str


@dataclass(frozen=True)
class ChartBin:
    """Accounts of one quadrant whose PV and CV fall in the same cell of a logarithmic grid."""

    pv_bin: int | None  # the cell's lower edge is 10 ** (pv_bin / bins_per_decade); None: PV is 0
    cv_bin: int | None  # likewise for CV; None: CV is 0 (no revenue)
    quadrant: str
    count: int


@dataclass(frozen=True)
class MatrixChart:
    points: list[ChartPoint]  # the first accounts by visit priority (then name), at most the number asked for
    bins: list[ChartBin]  # every other account of the viewer, counted per cell and quadrant
    bins_per_decade: int

    @property
    def binned(self) -> int:
        return sum(b.count for b in self.bins)


def bin_edges(index: int | None, bins_per_decade: int) -> tuple[float, float]:
    """The lower and upper edge of a chart bin (0 and 0 for the bin of zeros); runs no query."""
    if index is None:
        return 0.0, 0.0
    return 10 ** (index / bins_per_decade), 10 ** ((index + 1) / bins_per_decade)


def bin_centre(index: int | None, bins_per_decade: int) -> float:
    """The geometric middle of a chart bin (0 for the bin of zeros); runs no query."""
    return 0.0 if index is None else math.pow(10, (index + 0.5) / bins_per_decade)


def _log_bin(field: str, bins_per_decade: int) -> Case:
    """floor(log10(field) × bins_per_decade) for a value above 0, NULL for 0."""
    # ln(x) × k / ln(10) in floating point (PostgreSQL's two-argument LOG works on numerics, exact and ~20× slower);
    # the nudge keeps a power of ten (ln(1000) × 4 / ln(10) = 11.999…) in the bin it starts.
    scale = Value(bins_per_decade / math.log(10))
    cell = Cast(Floor(Ln(Cast(F(field), FloatField())) * scale + Value(1e-9)), IntegerField())
    return Case(When(Q(**{f"{field}__gt": 0}), then=cell), default=None, output_field=IntegerField())


def matrix_chart(
    *,
    viewer: User,
    year: int,
    points: int = 200,
    bins_per_decade: int = 4,
    owner: User | None = None,
    team: Team | None = None,
) -> MatrixChart:
    """The scatter chart of the viewer's accounts in the matrix of `year`: the first `points` by visit priority as
    points, the others counted per logarithmic cell and quadrant; 2 queries, a payload bounded by `points` and the
    number of cells whatever the number of accounts."""
    values = _values(viewer=viewer, year=year, owner=owner, team=team)
    top = [
        ChartPoint(*row)
        for row in values.order_by(*MATRIX_ORDERINGS["priority"], "account__name", "account_id").values_list(
            "account_id", "account__name", "cv", "pv", "quadrant"
        )[:points]
    ]
    cells = (
        values.exclude(account_id__in=[p.account_id for p in top])
        .annotate(pv_bin=_log_bin("pv", bins_per_decade), cv_bin=_log_bin("cv", bins_per_decade))
        .values("pv_bin", "cv_bin", "quadrant")
        .annotate(n=Count("pk"))
        .values_list("pv_bin", "cv_bin", "quadrant", "n")
        .order_by("quadrant", "pv_bin", "cv_bin")
    )
    bins = [ChartBin(pv_bin=pv_bin, cv_bin=cv_bin, quadrant=quadrant, count=n) for pv_bin, cv_bin, quadrant, n in cells]
    return MatrixChart(points=top, bins=bins, bins_per_decade=bins_per_decade)
