"""Account-year import (issue 14): the yearly figures from billing, one row per account and year, all or nothing.

Account and year are the row's key (a database constraint keeps them unique): a re-import finds the figures again and
sets them, so importing the same file twice changes nothing. A column missing from the file leaves that figure alone;
an empty `other_revenue` is 0, an empty `potential_value` clears the estimate (it is derived again). Account years
have no change history (SPEC §1 records opportunities, accounts and targets).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction

from accounts.models import AccountYear, User
from pipeline.importing.cells import clean_money, clean_whole
from pipeline.importing.common import (
    BULK_BATCH_SIZE,
    Errors,
    ImportResult,
    Progress,
    account_of,
    accounts_by_key,
    changed_fields,
    chunks,
    once_per_key,
    parse_rows,
)
from pipeline.importing.reading import Columns, ImportRejected, clean_text

COLUMNS = Columns(
    aliases={
        "account_external_key": ("account_external_key", "account_key", "客户编号", "客户外部编号"),
        "year": ("year", "年份", "年度"),
        "other_revenue": ("other_revenue", "revenue", "其他收入", "服务及耗材收入"),
        "potential_value": ("potential_value", "pv", "潜在价值"),
    },
    required=("account_external_key", "year"),
    repeating=frozenset({"account_external_key", "year"}),
)
CLEANERS = {
    "account_external_key": clean_text("account_external_key", 100),
    "year": clean_whole(minimum=1900, maximum=2100, required=True),
    "other_revenue": clean_money(default=Decimal("0.00")),
    "potential_value": clean_money(default=None),
}
FIELDS = ("other_revenue", "potential_value")
EXAMPLE = ["C001", 2024, "125000.00", "800000.00"]


def import_account_years(
    *,
    rows: Iterable[dict[str, Any]],
    dry_run: bool,
    imported_by: User | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Creates or updates one account year per row, all or nothing: raises ImportRejected naming every bad row and
    column and writes nothing; with `dry_run` it only counts. Its queries do not grow with the rows but per bulk
    batch."""
    errors, warnings = Errors(), Errors()
    parsed = parse_rows(rows, CLEANERS, errors=errors, warnings=warnings, progress=progress)
    with transaction.atomic():
        accounts = accounts_by_key(row.cells.get("account_external_key", "") for row in parsed)
        existing = _years_of([account.pk for account in accounts.values()], lock=not dry_run)
        new, changed, unchanged = [], [], 0
        for row in once_per_key(
            parsed,
            lambda row: (row.cells.get("account_external_key"), row.cells["year"]) if "year" in row.cells else None,
            column="year",
            errors=errors,
        ):
            account = account_of(row, accounts, errors)
            if account is None or "year" not in row.cells:
                continue
            values = {name: row.cells[name] for name in FIELDS if name in row.cells}
            figures = existing.get((account.pk, row.cells["year"]))
            if figures is None:
                new.append(AccountYear(account=account, year=row.cells["year"], **values))
            elif changed_fields(figures, values):
                changed.append(figures)
            else:
                unchanged += 1
        if errors:
            raise ImportRejected(errors, columns=tuple(COLUMNS.aliases))
        if not dry_run:
            AccountYear.objects.bulk_create(new, batch_size=BULK_BATCH_SIZE)
            AccountYear.objects.bulk_update(changed, list(FIELDS), batch_size=BULK_BATCH_SIZE)
    return ImportResult(
        created=len(new), updated=len(changed), unchanged=unchanged, dry_run=dry_run, warnings=tuple(warnings)
    )


def _years_of(account_ids: list[int], *, lock: bool) -> dict[tuple[int, int], AccountYear]:
    """The figures of these accounts by (account id, year); one query per KEYS_PER_QUERY accounts."""
    years = AccountYear.objects.select_for_update() if lock else AccountYear.objects.all()
    found: dict[tuple[int, int], AccountYear] = {}
    for chunk in chunks(account_ids):
        found.update({(item.account_id, item.year): item for item in years.filter(account_id__in=chunk)})
    return found
