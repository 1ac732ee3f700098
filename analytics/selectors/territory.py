"""Territory analysis: the decks' five tables over the viewer's accounts (region, industry × size, organisation,
competitor, revenue band); the grouping of each dimension is private to this module.

Each table is summed in SQL: the viewer's accounts with this year's stored matrix values, their installed base and
their open opportunities are each filtered to what the viewer sees and grouped by the dimension's key in the database,
so only a row per group (a region, an industry and size band, a competitor...) reaches Python, never a row per account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.aggregates import Aggregate
from django.db.models.expressions import BaseExpression
from django.db.models.functions import Coalesce
from django.db.models.lookups import IsNull
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import SIZE_BANDS, Account, Competitor, Industry, InstalledBase, Region, User
from analytics import territory as territory_frames
from analytics.models import TerritorySnapshot
from analytics.selectors._common import whole_company
from core.calendar import current_quarter_bounds, today
from pipeline.models import Opportunity, Visit

NO_KEY = territory_frames.NO_KEY


@dataclass(frozen=True)
class TerritoryRow:
    key: str
    label: str
    accounts: int
    targets: int
    our_units: int
    competitor_units: int
    our_share: float | None
    cv: Decimal
    pv: Decimal
    open_pipeline: Decimal
    coverage: float | None
    level: int | None = None  # region rows: 1–3
    parent: str | None = None  # region rows: the parent region's key
    industry: str | None = None  # industry × size rows: the industry code ("" unknown)
    size_band: str | None = None  # industry × size rows: the size band ("" unknown)


@dataclass
class _Table:
    totals: dict[str, dict]  # key → the sums of territory_frames.TOTALS (keys with an account only)
    labels: dict[str, str]
    order: list[str] | None = None  # every key in display order, empty groups included; None: present keys by label
    extra: dict[str, dict] = field(default_factory=dict)
    as_of: datetime | None = None  # read from the nightly snapshot taken then; None: summed now


class TerritoryRows(list):
    """A territory table's rows; `as_of` says when its sums were taken (None: now)."""

    as_of: datetime | None = None


# Groups a source's rows (whose account is at `path`: "" for accounts, "account__" for rows of an account) by the
# dimension's key in the database: yields (key, the row's sums of `metrics`) per group.
Grouper = Callable[[QuerySet, str, dict[str, Aggregate]], Iterator[tuple[tuple, dict]]]


def _localized(name: str, name_en: str | None) -> str:
    return name_en if get_language() == "en" and name_en else name


def _account_ref(path: str) -> str:
    """The lookup from a source's row to its account's id."""
    return "account_id" if path else "pk"


def _live_sums(*, viewer: User | None, day: date, group: Grouper) -> dict[tuple, dict]:
    """The sums of territory_frames.TOTALS per group key over the viewer's accounts (the whole company's for None),
    grouped by `group`; 3 queries.

    The accounts with this year's stored CV and PV (count, targets, targets with a completed visit this quarter, CV,
    PV), their installed base (our units, the competitors'), and the open pipeline the viewer sees, each filtered to
    what the viewer sees before it is grouped.
    """
    quarter_from, quarter_to = current_quarter_bounds(on=day)
    # Whether a target has a completed visit this quarter, looked up target by target in the visits' account index.
    # A scalar subquery, not EXISTS: PostgreSQL may answer an EXISTS inside an aggregate by hashing every completed
    # visit of the quarter in the company instead, as it counts the lookups by the groups it expects, not the rows.
    quarter_visit = Visit.objects.done().filter(
        account=OuterRef("pk"), done_at__gte=quarter_from, done_at__lt=quarter_to
    )
    covered = IsNull(Subquery(quarter_visit.order_by().values("account_id")[:1]), False)
    sources: list[tuple[QuerySet, str, dict[str, Aggregate]]] = [
        (
            # An account has at most one stored value a year, so joining this year's adds no row.
            _visible(Account, viewer).annotate(
                this_year=FilteredRelation("values", condition=Q(values__year=day.year))
            ),
            "",
            {
                "accounts": Count("id"),
                "targets": Count("id", filter=Q(is_target=True)),
                # Targets first: only a target's visits are looked up.
                "covered": Count("id", filter=Q(is_target=True) & Q(covered)),
                "cv": Sum("this_year__cv"),
                "pv": Sum("this_year__pv"),
            },
        ),
        (
            _visible(InstalledBase, viewer),
            "account__",
            {
                "our_units": Sum("units", filter=Q(competitor__isnull=True)),
                "competitor_units": Sum("units", filter=Q(competitor__isnull=False)),
            },
        ),
        (
            # The viewer's open opportunities; each is at an account the viewer sees (an account where a visible
            # owner has an opportunity is visible), so they need no filter by account.
            _visible(Opportunity, viewer).open(),
            "account__",
            {"open_pipeline": Sum("amount")},
        ),
    ]
    sums: dict[tuple, dict] = {}
    for rows, path, metrics in sources:
        for key, row in group(rows, path, metrics):
            territory_frames.add_totals(sums.setdefault(key, {}), row)
    return sums


def _visible(model, viewer: User | None) -> QuerySet:
    return model.objects.all() if viewer is None else model.objects.visible_to(viewer)


def _encoded(sums: dict[tuple, dict]) -> list:
    return [[list(key), {name: str(value) if value is not None else None for name, value in totals.items()}]
            for key, totals in sums.items()]  # fmt: skip


def _decoded(stored: list) -> dict[tuple, dict]:
    return {
        tuple(key): {name: Decimal(value) if value is not None else None for name, value in totals.items()}
        for key, totals in stored
    }


def whole_company_sums(dimension: str, day: date) -> list:
    """The whole company's sums of `dimension` on `day`, as TerritorySnapshot stores them (the nightly roll-up)."""
    return _encoded(_live_sums(viewer=None, day=day, group=GROUPERS[dimension](day)))


def _sums(*, viewer: User, day: date, dimension: str) -> tuple[dict[tuple, dict], datetime | None]:
    """The sums per group key of `dimension` over the viewer's accounts, and when they were taken (None: now). A
    viewer who sees the whole company (a director) reads the nightly snapshot of `day` when there is one: one query,
    whatever the company's size; otherwise, and for everyone else, they are summed now (3 queries more)."""
    if whole_company(viewer):
        stored = TerritorySnapshot.objects.filter(dimension=dimension, on=day).values_list("sums", "computed_at")
        for sums, computed_at in stored:
            return _decoded(sums), computed_at
    return _live_sums(viewer=viewer, day=day, group=GROUPERS[dimension](day)), None


def _by_columns(
    columns: Callable[[str], dict[str, BaseExpression]],
    joins: Callable[[str], dict[str, FilteredRelation]] | None = None,
) -> Grouper:
    """A grouper by key columns, each an expression on the account at the path it is given (and on `joins`: to-one
    relations of that account, joined first)."""

    def group(rows: QuerySet, path: str, metrics: dict[str, Aggregate]) -> Iterator[tuple[tuple, dict]]:
        key_columns = columns(path)
        if joins is not None:
            rows = rows.annotate(**joins(path))
        for row in rows.annotate(**key_columns).values(*key_columns).annotate(**metrics).order_by():
            yield tuple(row[name] for name in key_columns), row

    return group


def _region_group(day: date) -> Grouper:
    return _by_columns(lambda path: {"key_region": F(f"{path}region_id")})


def _by_region(viewer: User, day: date) -> _Table:
    """Each account under its region and every region above it, in the company's region order (each region right
    under its parent, siblings by sort order, then code); without a region under NO_KEY, last; 4 queries."""
    sums, as_of = _sums(viewer=viewer, day=day, dimension="region")
    rows = list(
        Region.objects.values_list("id", "code", "name", "name_en", "level", "parent_id", "sort_order").order_by()
    )
    regions = {rid: (code, name, name_en, level, parent) for rid, code, name, name_en, level, parent, _ in rows}
    sort_orders = {row[0]: row[-1] for row in rows}
    parents = {rid: region[4] for rid, region in regions.items()}
    totals: dict[str, dict] = {}
    paths: dict[str, tuple[str, ...]] = {}
    for (region_id,), region_sums in sums.items():
        if region_id is None:
            territory_frames.add_totals(totals.setdefault(NO_KEY, {}), region_sums)
            continue
        path = territory_frames.region_path(region_id, parents)
        for depth, node in enumerate(path):
            code = regions[node][0]
            paths[code] = tuple((sort_orders[n], regions[n][0]) for n in path[: depth + 1])
            territory_frames.add_totals(totals.setdefault(code, {}), region_sums)
    labels = {NO_KEY: _("Unknown")}
    extra = {}
    for code, name, name_en, level, parent in regions.values():
        labels[code] = _localized(name, name_en)
        extra[code] = {"level": level, "parent": regions[parent][0] if parent else None}
    order = sorted(totals, key=lambda key: (key == NO_KEY, paths.get(key, ())))
    return _Table(totals=totals, labels=labels, order=order, extra=extra, as_of=as_of)


def _size_band(employee_count: str) -> Case:
    """accounts.models.size_band_for as an expression: "" when unknown."""
    bands = [When(**{f"{employee_count}__gte": floor}, then=Value(band)) for floor, band in SIZE_BANDS]
    return Case(When(**{f"{employee_count}__isnull": True}, then=Value("")), *bands, output_field=CharField())


def _industry_size_group(day: date) -> Grouper:
    return _by_columns(
        lambda path: {
            "key_industry": Coalesce(F(f"{path}industry__code"), Value("")),
            "key_band": _size_band(f"{path}employee_count"),
        }
    )


def _by_industry_size(viewer: User, day: date) -> _Table:
    """Each account under its industry and size band (either may be unknown); 4 queries."""
    sums, as_of = _sums(viewer=viewer, day=day, dimension="industry_size")
    names = {
        code: _localized(name, name_en)
        for code, name, name_en in Industry.objects.values_list("code", "name", "name_en").order_by()
        if code
    }
    band_order = [*(band.value for band in Account.SizeBand), ""]
    totals, labels, extra = {}, {}, {}
    for (industry, band), industry_sums in sums.items():
        key = f"{industry}/{band}"
        totals[key] = industry_sums
        labels[key] = f"{names.get(industry) or _('Unknown')} · {band or _('Unknown')}"
        extra[key] = {"industry": industry, "size_band": band}
    order = sorted(
        totals,
        key=lambda k: (extra[k]["industry"] == "", extra[k]["industry"], band_order.index(extra[k]["size_band"])),
    )
    return _Table(totals=totals, labels=labels, order=order, extra=extra, as_of=as_of)


def _org_kind(path: str) -> dict[str, BaseExpression]:
    has_branches = Exists(Account.objects.filter(parent=OuterRef(_account_ref(path))))
    return {
        "key_kind": Case(
            When(Q(**{f"{path}is_headquarters": True}) | Q(has_branches), then=Value("headquarters")),
            When(**{f"{path}parent__isnull": True}, then=Value("standalone")),
            default=Value("branch"),
            output_field=CharField(),
        )
    }


def _org_group(day: date) -> Grouper:
    return _by_columns(_org_kind)


def _by_org(viewer: User, day: date) -> _Table:
    """Headquarters (flagged, or with branches), branches and standalone accounts; 3 queries."""
    sums, as_of = _sums(viewer=viewer, day=day, dimension="org")
    labels = {"headquarters": _("Headquarters"), "branch": _("Branch"), "standalone": _("Standalone account")}
    return _Table(totals={k: v for (k,), v in sums.items()}, labels=labels, order=list(labels), as_of=as_of)


# An account's own installed base with units of a competitor (the rows grouped are the viewer's accounts' already).
_COMPETITOR_UNITS = Q(competitor__isnull=False, units__gt=0)


def _group_by_competitor(rows: QuerySet, path: str, metrics: dict[str, Aggregate]) -> Iterator[tuple[tuple, dict]]:
    """A grouper: each account under each competitor with units there (a competitor's row counts only its units),
    the others under NO_KEY; one query, the competitors' groups UNION ALL the accounts without any."""
    relation = f"{path}installed_base"
    per_competitor = dict(metrics)
    if "competitor_units" in metrics:
        per_competitor["competitor_units"] = Sum("units", filter=Q(competitor=F(f"{relation}__competitor_id")))
    # Joined to one installed-base row per competitor with units there (the first by id, looked up in the account's
    # own rows), so an account counts once per competitor however many of its products it has.
    earlier = InstalledBase.objects.filter(
        _COMPETITOR_UNITS,
        account=OuterRef(f"{relation}__account_id"),
        competitor=OuterRef(f"{relation}__competitor_id"),
        pk__lt=OuterRef(f"{relation}__id"),
    )
    first_of_each_competitor = Q(
        ~Exists(earlier), **{f"{relation}__competitor__isnull": False, f"{relation}__units__gt": 0}
    )
    by_competitor = (
        rows.filter(first_of_each_competitor)
        .values(key_competitor=F(f"{relation}__competitor_id"))
        .annotate(**per_competitor)
        .order_by()
    )
    any_units = InstalledBase.objects.filter(_COMPETITOR_UNITS, account=OuterRef(_account_ref(path)))
    without = (
        rows.filter(~Exists(any_units))
        .annotate(key_competitor=Value(None, output_field=IntegerField()))
        .values("key_competitor")
        .annotate(**metrics)
        .order_by()
    )
    for row in by_competitor.union(without, all=True):
        yield (NO_KEY if row["key_competitor"] is None else str(row["key_competitor"]),), row


def _by_competitor(viewer: User, day: date) -> _Table:
    """Each account under each competitor with units there, the others under NO_KEY; 4 queries."""
    sums, as_of = _sums(viewer=viewer, day=day, dimension="competitor")
    labels = {NO_KEY: _("No competitor installed base")}
    labels |= {
        str(cid): _localized(name, name_en)
        for cid, name, name_en in Competitor.objects.values_list("id", "name", "name_en").order_by()
    }
    totals = {k: v for (k,), v in sums.items() if v.get("accounts")}
    return _Table(totals=totals, labels=labels, as_of=as_of)


def _revenue_group(day: date) -> Grouper:
    """Each account under the band of last year's stored CV (SALESFLOW_CV_BANDS; "none" without)."""
    bands = settings.SALESFLOW_CV_BANDS

    def last_year(path: str) -> dict[str, FilteredRelation]:
        # At most one row: an account has one stored value per year.
        return {"last_year": FilteredRelation(f"{path}values", condition=Q(**{f"{path}values__year": day.year - 1}))}

    def band(path: str) -> dict[str, BaseExpression]:
        # territory_frames.band_edges on last year's stored CV; no stored value is no revenue.
        above_zero = [
            When(Q(last_year__cv__gte=low) & (Q(last_year__cv__lt=high) if high is not None else Q()), then=Value(key))
            for low, high, key in territory_frames.band_edges(bands)
        ]
        none = Q(last_year__cv__isnull=True) | Q(last_year__cv__lte=0)
        return {"key_band": Case(When(none, then=Value("none")), *above_zero, output_field=CharField())}

    return _by_columns(band, joins=last_year)


def _by_revenue(viewer: User, day: date) -> _Table:
    """Each account under the band of last year's stored CV (SALESFLOW_CV_BANDS; "none" without); 4 queries."""
    bands = settings.SALESFLOW_CV_BANDS
    sums, as_of = _sums(viewer=viewer, day=day, dimension="revenue")
    keys = territory_frames.all_band_keys(bands)
    labels = {}
    for key in keys:
        if key == "none":
            labels[key] = _("No revenue last year")
        elif key.endswith("+"):
            labels[key] = _("¥%(low)s and above") % {"low": f"{int(key[:-1]):,}"}
        else:
            low, high = key.split("-")
            labels[key] = _("¥%(low)s to under ¥%(high)s") % {"low": f"{int(low):,}", "high": f"{int(high):,}"}
    return _Table(totals={k: v for (k,), v in sums.items()}, labels=labels, order=keys, as_of=as_of)


GROUPERS: dict[str, Callable[[date], Grouper]] = {
    "region": _region_group,
    "industry_size": _industry_size_group,
    "org": _org_group,
    "competitor": lambda day: _group_by_competitor,
    "revenue": _revenue_group,
}
TERRITORY_DIMENSIONS: dict[str, Callable[[User, date], _Table]] = {
    "region": _by_region,
    "industry_size": _by_industry_size,
    "org": _by_org,
    "competitor": _by_competitor,
    "revenue": _by_revenue,
}


def territory_analysis(*, viewer: User, dimension: str, on: date | None = None) -> TerritoryRows:
    """One of the decks' five tables over the viewer's accounts, summed per group in SQL; 4 or 5 queries (the four
    sums, and the regions, industries or competitors that name the groups). A director's whole company is read from
    the nightly snapshot of the day when there is one (`as_of` of the rows says when it was taken): 2 queries.

    CV and PV are this year's stored matrix values, the revenue bands last year's stored CV (SALESFLOW_CV_BANDS);
    coverage is the share of targets with a completed visit this quarter. Region rows roll up to levels 2 and 1.
    """
    table = TERRITORY_DIMENSIONS[dimension](viewer, on or today())
    summary = {key: territory_frames.summary_row(key, totals) for key, totals in table.totals.items()}
    keys = table.order
    if keys is None:
        keys = sorted(summary, key=lambda k: (k == NO_KEY, table.labels.get(k, k)))
    rows = TerritoryRows(
        TerritoryRow(
            label=table.labels.get(key, key),
            **(summary.get(key) or territory_frames.empty_row(key)),
            **table.extra.get(key, {}),
        )
        for key in keys
    )
    rows.as_of = table.as_of
    return rows
