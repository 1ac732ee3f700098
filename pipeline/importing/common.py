"""What every import kind shares: the result it reports, the cleaning of a file's rows with progress, the error list,
and loading the accounts rows name by external key.

Each kind (accounts, contacts, installed base, account years, targets) reads and checks every row first, outside any
transaction, reporting progress as it goes; only once every row has passed does it write, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext

from accounts.models import Account
from core.exports import starts_like_formula
from pipeline.importing.reading import ROW_NUMBER, BadCell, RowError

BULK_BATCH_SIZE = 500  # rows per bulk insert/update query (fewer where the database caps parameters)
KEYS_PER_QUERY = 5000  # keeps every `IN (...)` far below SQLite's limit of 32,766 parameters
PROGRESS_EVERY = 500  # rows between two progress reports while a file is read and checked

Progress = Callable[[int], None]  # told how many rows have been read and checked so far


@dataclass(frozen=True)
class ImportResult:
    """Counts of rows that created, changed or left alone a record; `reassigned` counts owner changes among the
    updated accounts."""

    created: int
    updated: int
    unchanged: int
    dry_run: bool
    reassigned: int = 0
    # Cells imported, but not as they were: text that starts like a spreadsheet formula, stored behind an apostrophe.
    warnings: tuple[RowError, ...] = ()

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


class Errors(list):
    def add(self, row: int, column: str, message: str) -> None:
        self.append(RowError(row, column, message))


@dataclass(slots=True)  # one per row of the file, all kept until the write: no instance dict
class ParsedRow:
    number: int
    cells: dict[str, Any]  # cleaned values of the columns the row has
    bad: frozenset[str] = frozenset()  # columns whose cell could not be read


def parse_rows(
    rows: Iterable[dict[str, Any]],
    cleaners: dict[str, Callable[[Any], Any]],
    *,
    errors: Errors,
    warnings: Errors,
    progress: Progress | None = None,
) -> list[ParsedRow]:
    """Cleans every cell of every row as the rows are read, noting each bad cell in `errors` and each text kept
    behind an apostrophe in `warnings`; tells `progress` every PROGRESS_EVERY rows and at the end."""
    parsed = []
    for index, raw in enumerate(rows):
        parsed.append(parse_row(raw, index, cleaners, errors=errors, warnings=warnings))
        if progress is not None and len(parsed) % PROGRESS_EVERY == 0:
            progress(len(parsed))
    if progress is not None:
        progress(len(parsed))
    return parsed


def parse_row(
    raw: dict[str, Any], index: int, cleaners: dict[str, Callable[[Any], Any]], *, errors: Errors, warnings: Errors
) -> ParsedRow:
    unknown = set(raw) - set(cleaners) - {ROW_NUMBER}
    if unknown:
        raise TypeError(f"unknown columns: {sorted(unknown)}")
    row = ParsedRow(number=raw.get(ROW_NUMBER, index + 2), cells={})
    for column, value in raw.items():
        if column == ROW_NUMBER:
            continue
        try:
            row.cells[column] = cleaners[column](value)
        except BadCell as bad:
            errors.add(row.number, column, str(bad))
            row.bad |= {column}
            continue
        if isinstance(row.cells[column], str) and starts_like_formula(value):  # a text column, not "-0" units
            warnings.add(
                row.number,
                column,
                gettext("Starts like a spreadsheet formula: stored as text, as “%(value)s”.")
                % {"value": row.cells[column]},
            )
    return row


def chunks(values: Iterable[Any]) -> list[list[Any]]:
    ordered = sorted(set(values))
    return [ordered[start : start + KEYS_PER_QUERY] for start in range(0, len(ordered), KEYS_PER_QUERY)]


def accounts_by_key(keys: Iterable[str]) -> dict[str, Account]:
    """The accounts with these external keys, by key; one query per KEYS_PER_QUERY keys."""
    found: dict[str, Account] = {}
    for chunk in chunks(set(keys) - {None, ""}):
        found.update({account.external_key: account for account in Account.objects.filter(external_key__in=chunk)})
    return found


def account_of(row: ParsedRow, accounts: dict[str, Account], errors: Errors) -> Account | None:
    """The account a row names by its `account_external_key` cell, or None with the reason in `errors`."""
    key = row.cells.get("account_external_key", "")
    if not key:
        if "account_external_key" not in row.bad:
            errors.add(row.number, "account_external_key", gettext("Enter the external key of the account."))
        return None
    account = accounts.get(key)
    if account is None:
        errors.add(
            row.number,
            "account_external_key",
            gettext("No account has the external key “%(key)s”; import the accounts first.") % {"key": key},
        )
    return account


def once_per_key(rows: Iterable[ParsedRow], key_of: Callable[[ParsedRow], Any], *, column: str, errors: Errors):
    """The rows whose key (None: no usable key) appears for the first time; a later row with the same key is an
    error naming the first one's row."""
    first_row_of: dict[Any, int] = {}
    for row in rows:
        key = key_of(row)
        if key is None:
            continue
        if key in first_row_of:
            errors.add(
                row.number,
                column,
                gettext("The same record is also on row %(row)d; a record may appear once.")
                % {"row": first_row_of[key]},
            )
            continue
        first_row_of[key] = row.number
        yield row


def changed_fields(record: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The fields of `record` whose value differs from `values` (a related row compared by its id), with their old
    values (a related row's id); sets the new ones on `record`. Runs no query."""
    before = {}
    for name, value in values.items():
        field = record._meta.get_field(name)
        if field.is_relation:
            current, new = getattr(record, field.attname), getattr(value, "pk", value)
        else:
            current, new = getattr(record, name), value
        if current != new:
            before[name] = current
            setattr(record, name, value)
    return before
