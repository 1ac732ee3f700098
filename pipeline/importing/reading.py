"""Reading an import spreadsheet (SPEC §9 `import_accounts`, issue 14) into rows and cleaning its cells; nothing here
queries.

`read_rows` turns a CSV (UTF-8 with or without BOM, or GBK/GB18030 as Excel saves it in China) or an XLSX file into
one dict per row keyed by the canonical column names of a kind's `Columns` (the accounts' below by default),
streamed: a row at a time, the file never read whole, and a file over settings.IMPORT_MAX_BYTES refused before any of
it is read. `CLEANERS` turn one cell of a column into
a field value, or raise BadCell saying why they cannot; a text cell that starts like a spreadsheet formula is kept as
text behind a leading apostrophe (`starts_like_formula`). ImportRejected lists every bad row and column of a file.
"""

from __future__ import annotations

import codecs
import csv
import re
import sys
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext, ngettext

from core.errors import ValidationFailed
from core.exports import TEXT_MARK, starts_like_formula

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

# A text cell that starts like a formula (core.exports.starts_like_formula: =, +, - or @ after leading whitespace) is
# stored with TEXT_MARK before it: the leading apostrophe by which spreadsheets mark a cell as text, so the value
# never becomes a live formula when exported or pasted into one (OWASP "CSV injection"). The import reports each such
# cell as a warning.


def header_key(label: str) -> str:
    """A header cell as aliases are compared: case-folded, runs of spaces and dashes as one underscore."""
    return re.sub(r"[\s\-]+", "_", label.strip().casefold())


@dataclass(frozen=True)
class Columns:
    """One import kind's columns: canonical name → accepted headers (English first, then Chinese), the columns a file
    must have (`required`; `one_of`: at least one of these), and the columns whose few values repeat down a file."""

    aliases: dict[str, tuple[str, ...]]
    required: tuple[str, ...] = ()
    one_of: tuple[str, ...] = ()
    repeating: frozenset[str] = frozenset()

    @cached_property
    def by_alias(self) -> dict[str, str]:
        return {header_key(alias): column for column, aliases in self.aliases.items() for alias in aliases}


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

    def __init__(self, errors: list[RowError], *, columns: Sequence[str] = tuple(COLUMNS)) -> None:
        order = {column: index for index, column in enumerate(columns)}
        self.errors = sorted(errors, key=lambda error: (error.row, order.get(error.column, -1)))
        count = len(self.errors)
        super().__init__(
            ngettext("%(count)d error; nothing was imported.", "%(count)d errors; nothing was imported.", count)
            % {"count": count}
        )


# --- reading a file -------------------------------------------------------------------------------------------------

CHUNK_BYTES = 1 << 16  # how much of a CSV file is read at a time while checking its encoding
# Columns whose few distinct values repeat down the file.
REPEATING = frozenset(
    {"industry", "region", "owner", "is_target", "target_since", "parent_external_key", "is_headquarters"}
)
ACCOUNT_COLUMNS = Columns(aliases=COLUMNS, required=("external_key",), repeating=REPEATING)


def read_rows(path: str | Path, columns: Columns = ACCOUNT_COLUMNS) -> Iterator[dict[str, Any]]:
    """The rows of a CSV or XLSX file (first sheet) after its header row, as dicts keyed by canonical column plus
    ROW_NUMBER, skipping empty rows, one at a time: the file is never held in memory whole.

    Checks the file before the first row is read: raises ImportRejected for a file over settings.IMPORT_MAX_BYTES,
    of another kind, unreadable or with a bad header, and OSError when the file cannot be opened; a CSV that turns
    out malformed further on raises ImportRejected while the rows are read.
    """
    path = Path(path)
    size, limit = path.stat().st_size, settings.IMPORT_MAX_BYTES
    if size > limit:
        raise ImportRejected(
            [
                RowError(
                    1,
                    "-",
                    gettext("The file is %(size)s; at most %(limit)s can be imported: split it into smaller files.")
                    % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
                )
            ]
        )
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        table = _xlsx_table(path)
    elif suffix in (".csv", ".txt"):
        table = _csv_table(path)
    else:
        raise ImportRejected(
            [RowError(1, "-", gettext("Only .csv and .xlsx files can be imported (save .xls files as .xlsx)."))]
        )
    try:
        header = next(table, None)
        if not header or all(is_blank(cell) for cell in header):
            raise ImportRejected([RowError(1, "-", gettext("The first row must hold the column names."))])
        positions = _columns_of(header, columns)
    except BaseException:
        table.close()
        raise
    return _rows(table, positions, columns.repeating)


def _rows(
    table: Generator[Sequence[Any]], columns: dict[int, str], repeating: frozenset[str]
) -> Iterator[dict[str, Any]]:
    with closing(table):
        for number, cells in enumerate(table, start=2):
            if all(is_blank(cell) for cell in cells):
                continue
            row: dict[str, Any] = {ROW_NUMBER: number}
            for position, column in columns.items():
                value = cells[position] if position < len(cells) else None
                # The importer keeps every row until it writes: one copy of each repeated code, name or date.
                row[column] = sys.intern(value) if column in repeating and type(value) is str else value
            yield row


def _xlsx_table(path: Path) -> Generator[tuple[Any, ...]]:
    """The first sheet's rows, read as openpyxl streams them (read-only mode); the workbook opens at once."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, ValueError, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ImportRejected([RowError(1, "-", gettext("This is not a readable .xlsx file."))]) from error

    def rows() -> Generator[tuple[Any, ...]]:
        try:
            yield from workbook.worksheets[0].iter_rows(min_row=1, values_only=True)
        finally:
            workbook.close()

    return rows()


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as such, else GB18030 (which GBK is part of); reads
    the file a chunk at a time."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as file:
                while chunk := file.read(CHUNK_BYTES):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportRejected([RowError(1, "-", gettext("The file is neither UTF-8 nor GBK/GB18030 text."))])


def _csv_table(path: Path) -> Generator[list[str]]:
    """The CSV's rows, parsed as the file is read; the encoding is settled (and the file opened) at once."""
    encoding = _csv_encoding(path)
    file = path.open(encoding=encoding, newline="")

    def rows() -> Generator[list[str]]:
        with file:
            try:
                yield from csv.reader(file)
            except csv.Error as error:
                message = gettext("This is not a readable CSV file: %s") % error
                raise ImportRejected([RowError(1, "-", message)]) from error

    return rows()


def _columns_of(header: tuple[Any, ...] | list[Any], spec: Columns) -> dict[int, str]:
    """Maps positions of the header to canonical columns; refuses unknown, repeated and missing required ones."""
    errors, columns, seen = [], {}, {}
    for position, cell in enumerate(header):
        if is_blank(cell):
            continue
        label = str(cell).strip()
        column = spec.by_alias.get(header_key(label))
        if column is None:
            errors.append(RowError(1, label, gettext("Unknown column.")))
        elif column in seen:
            errors.append(RowError(1, label, gettext("Repeats the column %(column)s.") % {"column": seen[column]}))
        else:
            columns[position] = column
            seen[column] = label
    missing = [column for column in spec.required if column not in seen]
    errors.extend(RowError(1, column, _required_message(spec, column)) for column in missing)
    if spec.one_of and not seen.keys() & set(spec.one_of):
        names = gettext(" or ").join(_column_label(spec, column) for column in spec.one_of)
        errors.append(RowError(1, spec.one_of[0], gettext("The column %(columns)s is required.") % {"columns": names}))
    if errors:
        raise ImportRejected(errors, columns=tuple(spec.aliases))
    return columns


def _column_label(spec: Columns, column: str) -> str:
    """A column as messages name it: its canonical name and its first Chinese header."""
    chinese = next((alias for alias in spec.aliases[column] if not alias.isascii()), "")
    return f"{column} ({chinese})" if chinese else column


def _required_message(spec: Columns, column: str) -> str:
    return gettext("The column %(columns)s is required.") % {"columns": _column_label(spec, column)}


# --- cleaning one cell (no database) --------------------------------------------------------------------------------


class BadCell(Exception):
    """A cell that cannot be read; the message says why."""


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # spreadsheets store 1001 as 1001.0
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _clean_text(column: str, max_length: int | None = None) -> Callable[[Any], str]:
    def clean(value: Any) -> str:
        text = _text(value)
        if starts_like_formula(value):
            text = TEXT_MARK + text  # kept as the user typed it, but a spreadsheet shows it as text, not a formula
        limit = max_length or MAX_LENGTHS.get(column)
        if limit and len(text) > limit:
            raise BadCell(gettext("At most %(max)d characters.") % {"max": limit})
        return text

    return clean


def _clean_count(value: Any) -> int | None:
    if is_blank(value):
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
    if is_blank(value):
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
    if is_blank(value):
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


# Shared with the other kinds' cleaners (pipeline/importing/cells.py).
clean_text, clean_flag, clean_date, text_of = _clean_text, _clean_flag, _clean_cell_date, _text

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
