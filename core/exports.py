"""Exports of lists and reports as XLSX or CSV (issue 14): columns, cell formats, streaming, and the export record.

A `Table` is what an export shows: its columns (a translated header, where the value comes from, and its kind) and
its rows. `export_response` writes it in the requested format: CSV streams as it is read (UTF-8 with a BOM, so Excel
opens it, or GBK on request, where a character GBK lacks becomes "?"), XLSX goes through openpyxl's write-only
workbook into a temporary file that is then streamed; both keep memory bounded however many rows there are. Money is
a number (in XLSX with a CNY format), dates and times are shown in the viewer's time zone, and a text cell a
spreadsheet would run as a formula is written as text. When the last row is written, an `ExportRecord` says who
exported what and how many rows.

A queryset table reads only the columns' values (`values_list`, no model instances) through a server-side cursor in
chunks: one query however many rows.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.db.models.expressions import Combinable
from django.http import FileResponse, HttpRequest, HttpResponseBase, QueryDict, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from core.calendar import user_time_zone
from core.models import ExportRecord

# A text cell starting with one of these (after leading whitespace) is a formula to a spreadsheet (OWASP "CSV
# injection"); so is one starting with a tab or a carriage return. TEXT_MARK before it makes it text.
FORMULA_STARTS = ("=", "+", "-", "@")
CONTROL_STARTS = ("\t", "\r")
TEXT_MARK = "'"

CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CNY_FORMAT = '"¥"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
CHUNK_ROWS = 2000  # rows read per round trip of the cursor, and CSV rows sent per piece of the response
QUERY_KEYS_LEFT_OUT = frozenset({"format", "encoding", "page", "page_size"})


def starts_like_formula(value: Any) -> bool:
    """A text a spreadsheet would run as a formula: after any leading whitespace it starts with =, +, - or @.
    Numbers are not text."""
    return isinstance(value, str) and value.strip().startswith(FORMULA_STARTS)


def needs_text_mark(text: str) -> bool:
    """A text cell an export must write as text: it looks like a formula or starts with a tab or a carriage return."""
    return text.startswith(CONTROL_STARTS) or starts_like_formula(text)


# --- what an export shows -------------------------------------------------------------------------------------------


class Kind(StrEnum):
    TEXT = "text"
    MONEY = "money"  # Decimal CNY
    INT = "int"
    NUMBER = "number"  # a plain decimal number (days, averages)
    PERCENT = "percent"  # a ratio, 0.25 = 25%
    DATE = "date"
    DATETIME = "datetime"  # an aware moment, shown in the viewer's zone
    BOOL = "bool"


@dataclass(frozen=True)
class Column:
    """One column: its header (translated when the export is written), where its value comes from and its kind.

    `value` is an ORM lookup or expression for a queryset table, an attribute path or a function of the row for an
    objects table. `labels` maps a stored value to what is shown (a choice's label)."""

    header: Any
    value: str | Combinable | Callable[[Any], Any]
    kind: Kind = Kind.TEXT
    labels: Mapping[Any, Any] | None = None


@dataclass
class Table:
    """An export ready to write: `name` is what the record calls it, `filename` the download's name without the
    extension, `rows` one sequence of raw values per row, in the columns' order."""

    name: str
    filename: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    sheet_title: str = ""
    filters: dict[str, Any] = field(default_factory=dict)


def queryset_table(*, name: str, filename: str, queryset: QuerySet, columns: Sequence[Column], **kwargs) -> Table:
    """A table over a queryset, read as tuples of the columns' values in chunks; runs one query when written."""
    lookups: list[str] = []
    expressions: dict[str, Combinable] = {}
    for index, column in enumerate(columns):
        if isinstance(column.value, str):
            lookups.append(column.value)
        else:
            alias = f"export_column_{index}"
            expressions[alias] = column.value
            lookups.append(alias)
    rows = queryset.prefetch_related(None).annotate(**expressions).values_list(*lookups)
    return Table(name=name, filename=filename, columns=columns, rows=_chunked(rows), **kwargs)


def _chunked(rows: QuerySet) -> Iterator[tuple]:
    yield from rows.iterator(chunk_size=CHUNK_ROWS)


def chunked(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of `size` rows (the last one shorter) from an iterable, read as they are needed."""
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def objects_table(*, name: str, filename: str, objects: Iterable[Any], columns: Sequence[Column], **kwargs) -> Table:
    """A table over objects (a report's dataclasses): each column's value is an attribute path or a function."""
    getters = [attrgetter(c.value) if isinstance(c.value, str) else c.value for c in columns]
    rows = ([get(row) for get in getters] for row in objects)
    return Table(name=name, filename=filename, columns=columns, rows=rows, **kwargs)


# --- the request: which format --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFormat:
    format: str  # ExportRecord.Format
    encoding: str = "utf-8"  # CSV only: "utf-8" (with a BOM) or "gbk"


def requested_format(query: QueryDict | Mapping[str, str], accept: str = "") -> ExportFormat | None:
    """The export a request asks for with `?format=csv|xlsx` (and `?encoding=gbk`) or an `Accept` header naming CSV
    or XLSX; None when it asks for no export."""
    name = (query.get("format") or "").lower()
    if not name:
        accepted = accept.lower()
        name = "xlsx" if XLSX_MEDIA_TYPE in accepted else "csv" if CSV_MEDIA_TYPE in accepted else ""
    if name not in ExportRecord.Format.values:
        return None
    gbk = name == ExportRecord.Format.CSV and (query.get("encoding") or "").lower() in {"gbk", "gb2312", "gb18030"}
    return ExportFormat(format=name, encoding="gbk" if gbk else "utf-8")


def filters_of(query: QueryDict) -> dict[str, Any]:
    """The query string as recorded with an export: each parameter's value (a list when repeated), paging left out."""
    return {
        key: values[0] if len(values) == 1 else values
        for key, values in query.lists()
        if key not in QUERY_KEYS_LEFT_OUT and any(values)
    }


# --- writing --------------------------------------------------------------------------------------------------------


def _localized(value: datetime, zone: ZoneInfo) -> datetime:
    """The moment as a naive wall-clock time in the zone (spreadsheets have no time zones)."""
    if timezone.is_aware(value):
        value = value.astimezone(zone)
    return value.replace(tzinfo=None, second=0, microsecond=0)


def _text_cell(value: Any) -> str:
    return "" if value is None else str(value)


def csv_cell(value: Any, column: Column, zone: ZoneInfo) -> str:
    """A value as CSV text: numbers plain (no thousands separator, so spreadsheets read numbers), dates ISO."""
    if column.labels is not None:
        value = column.labels.get(value, value)
    if value is None or value == "":
        return ""
    kind = column.kind
    if kind == Kind.MONEY:
        return f"{Decimal(value):.2f}"
    if kind == Kind.PERCENT:
        return f"{float(value) * 100:.1f}%"
    if kind in (Kind.INT, Kind.NUMBER):
        return str(value)
    if kind == Kind.DATETIME and isinstance(value, datetime):
        return _localized(value, zone).strftime("%Y-%m-%d %H:%M")
    if kind in (Kind.DATE, Kind.DATETIME) and isinstance(value, date):
        return value.isoformat()
    if kind == Kind.BOOL:
        return _("Yes") if value else _("No")
    text = str(value)
    return TEXT_MARK + text if needs_text_mark(text) else text


def csv_lines(table: Table, zone: ZoneInfo, counter: list[int]) -> Iterator[str]:
    """The CSV text of the table, header first, CHUNK_ROWS rows a piece; `counter[0]` counts the rows written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = table.columns
    writer.writerow([_header(c) for c in columns])
    pending = 0
    for row in table.rows:
        writer.writerow([csv_cell(value, column, zone) for value, column in zip(row, columns, strict=True)])
        counter[0] += 1
        pending += 1
        if pending == CHUNK_ROWS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def _header(column: Column) -> str:
    return str(column.header)


def xlsx_cell(sheet, value: Any, column: Column, zone: ZoneInfo) -> Any:
    """A value for openpyxl's write-only sheet: a plain value, or a cell with its number format; a text that looks
    like a formula is forced to a text cell (openpyxl would store it as a formula)."""
    if column.labels is not None:
        value = column.labels.get(value, value)
    if value is None or value == "":
        return None
    kind = column.kind
    number_format = None
    if kind == Kind.MONEY:
        value, number_format = Decimal(value), CNY_FORMAT
    elif kind == Kind.PERCENT:
        value, number_format = float(value), PERCENT_FORMAT
    elif kind in (Kind.INT, Kind.NUMBER):
        return value
    elif kind == Kind.DATETIME and isinstance(value, datetime):
        value, number_format = _localized(value, zone), DATETIME_FORMAT
    elif kind in (Kind.DATE, Kind.DATETIME) and isinstance(value, date):
        number_format = DATE_FORMAT
    elif kind == Kind.BOOL:
        return _("Yes") if value else _("No")
    else:
        value = str(value)
        if not needs_text_mark(value):
            return value
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # openpyxl makes "=…" a formula
        cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
        return cell
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def write_xlsx(table: Table, zone: ZoneInfo, target) -> int:
    """Writes the table to `target` (a path or a binary file) as a one-sheet workbook; returns the rows written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(table.sheet_title or table.name))
    columns = table.columns
    sheet.append([_header(c) for c in columns])
    count = 0
    for row in table.rows:
        sheet.append([xlsx_cell(sheet, value, column, zone) for value, column in zip(row, columns, strict=True)])
        count += 1
    workbook.save(target)
    return count


def _sheet_title(title: str) -> str:
    return "".join(ch for ch in str(title) if ch not in "[]:*?/\\")[:31] or "export"


# --- the response and the record ------------------------------------------------------------------------------------


def record_export(
    *, user, name: str, export_format: ExportFormat, row_count: int, filters: dict[str, Any], is_complete: bool = True
) -> ExportRecord:
    """Records that a user exported `row_count` rows of `name` with these filters."""
    return ExportRecord.objects.create(
        user=user,
        what=name,
        format=export_format.format,
        encoding=export_format.encoding if export_format.format == ExportRecord.Format.CSV else "",
        row_count=row_count,
        filters=filters,
        is_complete=is_complete,
    )


def download(request: HttpRequest, table: Table) -> HttpResponseBase:
    """The table in the format the page's request asks for (XLSX unless `?format=csv`), its query string recorded."""
    export_format = requested_format(request.GET) or ExportFormat(format=ExportRecord.Format.XLSX)
    table.filters = filters_of(request.GET)
    return export_response(table=table, user=request.user, export_format=export_format)


def export_response(*, table: Table, user, export_format: ExportFormat) -> HttpResponseBase:
    """The table as a download in the format asked for, recorded when its last row is written.

    A CSV streams while it is read and is recorded at the end of the stream (a download broken off is recorded as
    incomplete, with the rows sent); an XLSX is written to a temporary file first, recorded, then streamed.
    """
    zone = user_time_zone(user)
    stamp = timezone.localdate(timezone=zone).isoformat()
    if export_format.format == ExportRecord.Format.XLSX:
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it when the download ends
        count = write_xlsx(table, zone, spool)
        record_export(user=user, name=table.name, export_format=export_format, row_count=count, filters=table.filters)
        spool.seek(0)
        return FileResponse(
            spool, as_attachment=True, filename=f"{table.filename}-{stamp}.xlsx", content_type=XLSX_MEDIA_TYPE
        )
    response = StreamingHttpResponse(
        _csv_stream(table, zone, user, export_format),
        content_type=f"{CSV_MEDIA_TYPE}; charset={export_format.encoding}",
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{table.filename}-{stamp}.csv"
    )
    return response


def _csv_stream(table: Table, zone: ZoneInfo, user, export_format: ExportFormat) -> Iterator[bytes]:
    counter, finished = [0], False
    try:
        if export_format.encoding == "utf-8":
            yield "\ufeff".encode()
        for piece in csv_lines(table, zone, counter):
            yield piece.encode(export_format.encoding, errors="replace")
        finished = True
    finally:
        record_export(
            user=user,
            name=table.name,
            export_format=export_format,
            row_count=counter[0],
            filters=table.filters,
            is_complete=finished,
        )
