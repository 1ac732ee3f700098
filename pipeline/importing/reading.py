"""Reading an account spreadsheet (SPEC §9 `import_accounts`) into rows and cleaning its cells; nothing here queries.

`read_rows` turns a CSV (UTF-8 with or without BOM, or GBK/GB18030 as Excel saves it in China) or an XLSX file into
one dict per row keyed by the canonical column names below; `CLEANERS` turn one cell of a column into a field value,
or raise BadCell saying why they cannot. ImportRejected lists every bad row and column of a file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from django.utils.translation import gettext, ngettext

from core.errors import ValidationFailed

ROW_NUMBER = "_row"  # key `read_rows` adds to each row: its number in the spreadsheet, the header being row 1

# Canonical column → the header names accepted for it (compared case-insensitively, spaces as underscores).
COLUMNS: dict[str, tuple[str, ...]] = {
    "external_key": ("external_key", "key", "外部编号", "客户编号"),
    "name": ("name", "account_name", "客户名称", "名称"),
    "industry": ("industry", "行业"),
    "employee_count": ("employee_count", "employees", "员工人数", "员工数"),
    "region": ("region", "区域", "地区"),
    "address": ("address", "地址"),
    "owner": ("owner", "负责人"),
    "is_target": ("is_target", "target", "目标客户", "重点客户"),
    "target_since": ("target_since", "成为目标日期"),
    "parent_external_key": ("parent_external_key", "parent_key", "总部编号"),
    "is_headquarters": ("is_headquarters", "headquarters", "总部", "是否总部"),
    "notes": ("notes", "备注"),
}
MAX_LENGTHS = {"external_key": 100, "name": 200, "address": 300, "parent_external_key": 100}
MAX_EMPLOYEES = 2_147_483_647  # PositiveIntegerField
TRUE_WORDS = frozenset({"是", "true", "yes", "y", "t", "1"})
FALSE_WORDS = frozenset({"否", "false", "no", "n", "f", "0"})
DATE_PATTERN = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]0{1,2}:00(?::00)?)?")

_HEADER_ALIASES = {alias: column for column, aliases in COLUMNS.items() for alias in aliases}


# --- errors ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One refusal: the spreadsheet row (header = 1), the column (canonical name) and why."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return gettext("Row %(row)d, column %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


class ImportRejected(ValidationFailed):
    """The file has bad rows; `errors` lists every one of them and nothing was written."""

    code = "import_rejected"

    def __init__(self, errors: list[RowError]) -> None:
        order = {column: index for index, column in enumerate(COLUMNS)}
        self.errors = sorted(errors, key=lambda error: (error.row, order.get(error.column, -1)))
        count = len(self.errors)
        super().__init__(
            ngettext("%(count)d error; nothing was imported.", "%(count)d errors; nothing was imported.", count)
            % {"count": count}
        )


# --- reading a file -------------------------------------------------------------------------------------------------


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Returns the rows of a CSV or XLSX file (first sheet) after its header row, as dicts keyed by canonical column
    plus ROW_NUMBER, skipping empty rows; raises ImportRejected for an unreadable file or a bad header and OSError
    when the file cannot be opened."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        table = _xlsx_table(path)
    elif suffix in (".csv", ".txt"):
        table = _csv_table(path)
    else:
        raise ImportRejected(
            [RowError(1, "-", gettext("Only .csv and .xlsx files can be imported (save .xls files as .xlsx)."))]
        )
    header = next(table, None)
    if not header or all(_is_blank(cell) for cell in header):
        raise ImportRejected([RowError(1, "-", gettext("The first row must hold the column names."))])
    columns = _columns_of(header)
    rows = []
    for number, cells in enumerate(table, start=2):
        if all(_is_blank(cell) for cell in cells):
            continue
        row: dict[str, Any] = {ROW_NUMBER: number}
        for position, column in columns.items():
            row[column] = cells[position] if position < len(cells) else None
        rows.append(row)
    return rows


def _xlsx_table(path: Path) -> Iterable[tuple[Any, ...]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, ValueError, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ImportRejected([RowError(1, "-", gettext("This is not a readable .xlsx file."))]) from error
    try:
        rows = list(workbook.worksheets[0].iter_rows(min_row=1, values_only=True))
    finally:
        workbook.close()
    return iter(rows)


def _csv_table(path: Path) -> Iterable[list[str]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportRejected([RowError(1, "-", gettext("The file is neither UTF-8 nor GBK/GB18030 text."))])
    try:
        return iter(list(csv.reader(io.StringIO(text, newline=""))))
    except csv.Error as error:
        raise ImportRejected([RowError(1, "-", gettext("This is not a readable CSV file: %s") % error)]) from error


def _columns_of(header: tuple[Any, ...] | list[Any]) -> dict[int, str]:
    """Maps positions of the header to canonical columns; refuses unknown, repeated and missing required ones."""
    errors, columns, seen = [], {}, {}
    for position, cell in enumerate(header):
        if _is_blank(cell):
            continue
        label = str(cell).strip()
        column = _HEADER_ALIASES.get(re.sub(r"[\s\-]+", "_", label.casefold()))
        if column is None:
            errors.append(RowError(1, label, gettext("Unknown column.")))
        elif column in seen:
            errors.append(RowError(1, label, gettext("Repeats the column %(column)s.") % {"column": seen[column]}))
        else:
            columns[position] = column
            seen[column] = label
    if "external_key" not in seen:
        errors.append(RowError(1, "external_key", gettext("The column external_key (外部编号) is required.")))
    if errors:
        raise ImportRejected(errors)
    return columns


# --- cleaning one cell (no database) --------------------------------------------------------------------------------


class BadCell(Exception):
    """A cell that cannot be read; the message says why."""


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # spreadsheets store 1001 as 1001.0
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _clean_text(column: str) -> Callable[[Any], str]:
    def clean(value: Any) -> str:
        text = _text(value)
        limit = MAX_LENGTHS.get(column)
        if limit and len(text) > limit:
            raise BadCell(gettext("At most %(max)d characters.") % {"max": limit})
        return text

    return clean


def _clean_count(value: Any) -> int | None:
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        raise BadCell(gettext("Enter a whole number, not %(value)s.") % {"value": value})
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        number = value
    else:
        text = re.sub(r"[\s,，]", "", str(value))
        if not re.fullmatch(r"-?\d+(\.0*)?", text):
            raise BadCell(gettext("Enter a whole number, not “%(value)s”.") % {"value": value})
        number = int(text.split(".")[0])
    if not 0 <= number <= MAX_EMPLOYEES:
        raise BadCell(gettext("Enter a number of employees from 0 up, not %(value)s.") % {"value": number})
    return number


def _clean_flag(value: Any) -> bool | None:
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    word = _text(value).casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise BadCell(gettext("Enter 是/否, yes/no, true/false or 1/0, not “%(value)s”.") % {"value": value})


def _clean_cell_date(value: Any) -> date | None:
    """A spreadsheet cell as a date: ISO or slashed text, a date cell, or an Excel serial day number."""
    if _is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # An XLSX cell holding a date without a date format: Excel's serial day number (1900 date system).
        if 1 <= value < 2958466:
            return date(1899, 12, 30) + timedelta(days=int(value))
    else:
        match = DATE_PATTERN.fullmatch(str(value).strip())
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                pass
    raise BadCell(gettext("Enter a date as YYYY-MM-DD or YYYY/MM/DD, not “%(value)s”.") % {"value": value})


CLEANERS: dict[str, Callable[[Any], Any]] = {
    "external_key": _clean_text("external_key"),
    "name": _clean_text("name"),
    "industry": _clean_text("industry"),
    "employee_count": _clean_count,
    "region": _clean_text("region"),
    "address": _clean_text("address"),
    "owner": _clean_text("owner"),
    "is_target": _clean_flag,
    "target_since": _clean_cell_date,
    "parent_external_key": _clean_text("parent_external_key"),
    "is_headquarters": _clean_flag,
    "notes": _clean_text("notes"),
}
