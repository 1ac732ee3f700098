"""Territory analysis: the decks' five tables over the viewer's accounts (region, industry × size, organisation,
competitor, revenue band); the grouping of each dimension is private to this module."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pandas as pd
from django.conf import settings
from django.db.models import Exists, OuterRef, Sum
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import Account, InstalledBase, Region, User, size_band_for
from analytics import territory as territory_frames
from analytics.models import AccountValue
from core.calendar import current_quarter_bounds, today
from pipeline.models import Opportunity, Visit


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
class _TerritoryInputs:
    accounts: pd.DataFrame  # one row per visible account, with territory_frames.ACCOUNT_COLUMNS and its attributes
    competitor_units: pd.DataFrame  # account, competitor, name, name_en, units
    regions: list[tuple]  # (id, code, name, name_en, level, parent_id)


@dataclass
class _Grouping:
    groups: pd.DataFrame  # account, key[, competitor_units]
    labels: dict[str, str]
    order: list[str] | None = None  # every key in display order, empty groups included; None: by label
    extra: dict[str, dict] = field(default_factory=dict)


def _localized(name: str, name_en: str | None) -> str:
    return name_en if get_language() == "en" and name_en else name


def _territory_inputs(*, viewer: User, day: date) -> _TerritoryInputs:
    """The viewer's accounts with units, this year's CV and PV, last year's CV, open pipeline; 5 queries."""
    quarter_from, quarter_to = current_quarter_bounds(on=day)
    accounts = pd.DataFrame.from_records(
        Account.objects.visible_to(viewer)
        .annotate(
            is_covered=Exists(
                Visit.objects.done().filter(account=OuterRef("pk"), done_at__gte=quarter_from, done_at__lt=quarter_to)
            ),
            has_branches=Exists(Account.objects.filter(parent=OuterRef("pk"))),
        )
        .values_list(
            "id",
            "is_target",
            "is_covered",
            "region_id",
            "industry__code",
            "industry__name",
            "industry__name_en",
            "employee_count",
            "is_headquarters",
            "parent_id",
            "has_branches",
        )
        .order_by("id"),
        columns=[
            "account",
            "is_target",
            "is_covered",
            "region",
            "industry",
            "industry_name",
            "industry_name_en",
            "employee_count",
            "is_headquarters",
            "parent",
            "has_branches",
        ],
    )
    units = list(
        InstalledBase.objects.visible_to(viewer)
        .values("account_id", "competitor_id", "competitor__name", "competitor__name_en")
        .annotate(units=Sum("units"))
        .values_list("account_id", "competitor_id", "competitor__name", "competitor__name_en", "units")
        .order_by()
    )
    values = {
        (account_id, year): (cv, pv)
        for account_id, year, cv, pv in AccountValue.objects.visible_to(viewer)
        .filter(year__in=[day.year, day.year - 1])
        .values_list("account_id", "year", "cv", "pv")
        .order_by()
    }
    open_amounts = dict(
        Opportunity.objects.visible_to(viewer)
        .open()
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
        .order_by()
    )
    regions = list(Region.objects.values_list("id", "code", "name", "name_en", "level", "parent_id").order_by())

    ids = accounts["account"].tolist()
    ours, theirs = defaultdict(int), defaultdict(int)
    for account_id, competitor_id, _name, _name_en, n in units:
        (theirs if competitor_id else ours)[account_id] += n
    now, before = day.year, day.year - 1
    is_target = accounts["is_target"].astype(bool)
    accounts = accounts.assign(
        is_target=is_target,
        is_covered_target=is_target & accounts["is_covered"].astype(bool),
        our_units=[ours[i] for i in ids],
        competitor_units=[theirs[i] for i in ids],
        cv_cents=[territory_frames.cents(values.get((i, now), (None, None))[0]) for i in ids],
        pv_cents=[territory_frames.cents(values.get((i, now), (None, None))[1]) for i in ids],
        prev_cv_cents=[territory_frames.cents(values.get((i, before), (None, None))[0]) for i in ids],
        open_cents=[territory_frames.cents(open_amounts.get(i)) for i in ids],
    )
    competitor_units = pd.DataFrame.from_records(
        [row for row in units if row[1]], columns=["account", "competitor", "name", "name_en", "units"]
    )
    return _TerritoryInputs(accounts=accounts, competitor_units=competitor_units, regions=regions)


def _by_region(inputs: _TerritoryInputs) -> _Grouping:
    parents = {rid: parent for rid, _code, _name, _en, _level, parent in inputs.regions}
    codes = {rid: code for rid, code, *_ in inputs.regions}
    paths = {code: _region_path(rid, parents, codes) for rid, code, *_ in inputs.regions}
    groups = territory_frames.region_groups(inputs.accounts, parents, codes)
    labels = {territory_frames.NO_KEY: _("Unknown")}
    extra = {}
    for _rid, code, name, name_en, level, parent in inputs.regions:
        labels[code] = _localized(name, name_en)
        extra[code] = {"level": level, "parent": codes[parent] if parent else None}
    order = sorted(set(groups["key"]), key=lambda key: (key == territory_frames.NO_KEY, paths.get(key, ())))
    return _Grouping(groups=groups, labels=labels, order=order, extra=extra)


def _region_path(region_id: int, parents: dict[int, int | None], codes: dict[int, str]) -> tuple[str, ...]:
    path: list[str] = []
    node: int | None = region_id
    while node is not None:
        path.insert(0, codes[node])
        node = parents.get(node)
    return tuple(path)


def _by_industry_size(inputs: _TerritoryInputs) -> _Grouping:
    frame = inputs.accounts
    bands = [size_band_for(None if pd.isna(n) else int(n)) for n in frame["employee_count"]]
    industries = [code if isinstance(code, str) else "" for code in frame["industry"]]
    keys = [f"{industry}/{band}" for industry, band in zip(industries, bands, strict=True)]
    names = {
        code: _localized(name, name_en)
        for code, name, name_en in zip(industries, frame["industry_name"], frame["industry_name_en"], strict=True)
        if code
    }
    band_order = [*(band.value for band in Account.SizeBand), ""]
    labels, extra = {}, {}
    for key, industry, band in zip(keys, industries, bands, strict=True):
        labels[key] = f"{names.get(industry) or _('Unknown')} · {band or _('Unknown')}"
        extra[key] = {"industry": industry, "size_band": band}
    order = sorted(
        set(keys),
        key=lambda k: (extra[k]["industry"] == "", extra[k]["industry"], band_order.index(extra[k]["size_band"])),
    )
    return _Grouping(
        groups=pd.DataFrame({"account": frame["account"], "key": keys}), labels=labels, order=order, extra=extra
    )


def _by_org(inputs: _TerritoryInputs) -> _Grouping:
    frame = inputs.accounts
    kinds = [
        "headquarters" if is_hq or has_branches else "standalone" if pd.isna(parent) else "branch"
        for is_hq, has_branches, parent in zip(
            frame["is_headquarters"], frame["has_branches"], frame["parent"], strict=True
        )
    ]
    labels = {"headquarters": _("Headquarters"), "branch": _("Branch"), "standalone": _("Standalone account")}
    groups = pd.DataFrame({"account": frame["account"], "key": kinds})
    return _Grouping(groups=groups, labels=labels, order=list(labels))


def _by_competitor(inputs: _TerritoryInputs) -> _Grouping:
    units = inputs.competitor_units
    labels = {territory_frames.NO_KEY: _("No competitor installed base")}
    labels |= {
        str(int(cid)): _localized(name, name_en)
        for cid, name, name_en in zip(units["competitor"], units["name"], units["name_en"], strict=True)
    }
    return _Grouping(groups=territory_frames.competitor_groups(inputs.accounts, units), labels=labels)


def _by_revenue(inputs: _TerritoryInputs) -> _Grouping:
    bands = settings.SALESFLOW_CV_BANDS
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
    groups = pd.DataFrame(
        {
            "account": inputs.accounts["account"],
            "key": territory_frames.band_keys(inputs.accounts["prev_cv_cents"], bands),
        }
    )
    return _Grouping(groups=groups, labels=labels, order=keys)


TERRITORY_DIMENSIONS = {
    "region": _by_region,
    "industry_size": _by_industry_size,
    "org": _by_org,
    "competitor": _by_competitor,
    "revenue": _by_revenue,
}


def territory_analysis(*, viewer: User, dimension: str, on: date | None = None) -> list[TerritoryRow]:
    """One of the decks' five tables over the viewer's accounts; 5 queries.

    CV and PV are this year's stored matrix values, the revenue bands last year's stored CV (SALESFLOW_CV_BANDS);
    coverage is the share of targets with a completed visit this quarter. Region rows roll up to levels 2 and 1.
    """
    inputs = _territory_inputs(viewer=viewer, day=on or today())
    grouping = TERRITORY_DIMENSIONS[dimension](inputs)
    summary = {row["key"]: row for row in territory_frames.summarize(inputs.accounts, grouping.groups)}
    keys = grouping.order
    if keys is None:
        keys = sorted(summary, key=lambda k: (k == territory_frames.NO_KEY, grouping.labels.get(k, k)))
    return [
        TerritoryRow(
            label=grouping.labels.get(key, key),
            **(summary.get(key) or territory_frames.empty_row(key)),
            **grouping.extra.get(key, {}),
        )
        for key in keys
    ]
