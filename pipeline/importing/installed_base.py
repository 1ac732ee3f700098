"""Installed-base import (issue 14): machines and products in the field, one row per account, vendor, product and
year installed, all or nothing.

That quadruple is the row's key: a re-import finds the row again by it and sets its units, so importing the same file
twice changes nothing. The vendor is us (ours, 我司, 本公司) or a competitor by its Chinese or English name. The
installed base has no change history (SPEC §1 records opportunities, accounts and targets).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from accounts.models import Competitor, InstalledBase, User
from pipeline.importing.cells import clean_whole
from pipeline.importing.common import (
    BULK_BATCH_SIZE,
    Errors,
    ImportResult,
    ParsedRow,
    Progress,
    account_of,
    accounts_by_key,
    chunks,
    once_per_key,
    parse_rows,
)
from pipeline.importing.reading import Columns, ImportRejected, clean_text

COLUMNS = Columns(
    aliases={
        "account_external_key": ("account_external_key", "account_key", "客户编号", "客户外部编号"),
        "vendor": ("vendor", "brand", "厂商", "品牌"),
        "product": ("product", "category", "产品", "产品类别"),
        "units": ("units", "台数", "数量"),
        "year": ("year", "year_installed", "装机年份", "年份"),
    },
    required=("account_external_key", "vendor", "product", "units"),
    repeating=frozenset({"account_external_key", "vendor", "product", "year"}),
)
CLEANERS = {
    "account_external_key": clean_text("account_external_key", 100),
    "vendor": clean_text("vendor", 100),
    "product": clean_text("product", 100),
    "units": clean_whole(minimum=0, maximum=2_147_483_647, required=True),
    "year": clean_whole(minimum=1900, maximum=2100, required=False),
}
OURS = frozenset({"ours", "our", "us", "我司", "本公司", "我们", "自有"})
EXAMPLE = ["C001", "我司", "复印机", 12, 2023]

Key = tuple[int, int | None, str, int | None]  # account, competitor (None: ours), product, year


def import_installed_base(
    *,
    rows: Iterable[dict[str, Any]],
    dry_run: bool,
    imported_by: User | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Creates or updates one installed-base row per file row, all or nothing: raises ImportRejected naming every
    bad row and column and writes nothing; with `dry_run` it only counts. Its queries do not grow with the rows but
    per bulk batch."""
    errors, warnings = Errors(), Errors()
    parsed = parse_rows(rows, CLEANERS, errors=errors, warnings=warnings, progress=progress)
    with transaction.atomic():
        accounts = accounts_by_key(row.cells.get("account_external_key", "") for row in parsed)
        vendors = _competitors()
        existing = _rows_of([account.pk for account in accounts.values()], lock=not dry_run)
        keyed: list[tuple[ParsedRow, Key]] = []
        for row in parsed:
            account = account_of(row, accounts, errors)
            competitor = _vendor(row, vendors, errors)
            if account is None or competitor is False or {"product", "units", "year"} & row.bad:
                continue
            keyed.append((row, (account.pk, competitor, row.cells["product"], row.cells.get("year"))))
        key_of = {row.number: key for row, key in keyed}
        new, changed, unchanged = [], [], 0
        for row in once_per_key(
            (row for row, _key in keyed), lambda row: key_of[row.number], column="product", errors=errors
        ):
            account_id, competitor_id, product, year = key_of[row.number]
            found = existing.get(key_of[row.number], [])
            if not product:
                errors.add(row.number, "product", gettext("Enter the product or category."))
            elif len(found) > 1:
                errors.add(
                    row.number,
                    "product",
                    gettext("The account already has several rows of this vendor, product and year."),
                )
            elif not found:
                new.append(
                    InstalledBase(
                        account_id=account_id,
                        is_ours=competitor_id is None,
                        competitor_id=competitor_id,
                        product=product,
                        units=row.cells["units"],
                        year=year,
                    )
                )
            elif found[0].units != row.cells["units"]:
                found[0].units = row.cells["units"]
                changed.append(found[0])
            else:
                unchanged += 1
        if errors:
            raise ImportRejected(errors, columns=tuple(COLUMNS.aliases))
        if not dry_run:
            InstalledBase.objects.bulk_create(new, batch_size=BULK_BATCH_SIZE)
            InstalledBase.objects.bulk_update(changed, ["units"], batch_size=BULK_BATCH_SIZE)
    return ImportResult(
        created=len(new), updated=len(changed), unchanged=unchanged, dry_run=dry_run, warnings=tuple(warnings)
    )


def _competitors() -> dict[str, list[int]]:
    """Competitor ids by case-folded Chinese and English name; one query."""
    names: dict[str, list[int]] = {}
    for pk, name, name_en in Competitor.objects.values_list("pk", "name", "name_en"):
        for word in {name, name_en} - {""}:
            names.setdefault(word.casefold(), []).append(pk)
    return names


def _vendor(row: ParsedRow, competitors: dict[str, list[int]], errors: Errors) -> int | bool | None:
    """The row's competitor id, None for us, or False (with the reason in `errors`) when the cell names neither."""
    if "vendor" in row.bad:
        return False
    name = row.cells.get("vendor", "")
    if not name:
        errors.add(row.number, "vendor", gettext("Enter the vendor: 我司 (ours) or a competitor's name."))
        return False
    if name.casefold() in OURS:
        return None
    found = set(competitors.get(name.casefold(), []))
    if len(found) == 1:
        return found.pop()
    errors.add(
        row.number,
        "vendor",
        gettext("Unknown vendor “%(value)s”: write 我司 (ours) or a competitor's name.") % {"value": name}
        if not found
        else gettext("“%(value)s” names several competitors.") % {"value": name},
    )
    return False


def _rows_of(account_ids: list[int], *, lock: bool) -> dict[Key, list[InstalledBase]]:
    """The installed base of these accounts by key; one query per KEYS_PER_QUERY accounts."""
    rows: dict[Key, list[InstalledBase]] = {}
    base = InstalledBase.objects.select_for_update() if lock else InstalledBase.objects.all()
    for chunk in chunks(account_ids):
        for item in base.filter(account_id__in=chunk).order_by("pk"):
            rows.setdefault((item.account_id, item.competitor_id, item.product, item.year), []).append(item)
    return rows
