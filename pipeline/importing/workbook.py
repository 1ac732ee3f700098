"""The template of an import kind (issue 14): an XLSX file whose first sheet holds the column headers in the user's
language, and whose second sheet lists every column with all the headers accepted for it and an example value.

Written with openpyxl's write-only workbook, straight into bytes; nothing here queries.
"""

from __future__ import annotations

from io import BytesIO

from django.utils.translation import get_language, gettext

from pipeline.importing.kinds import Kind


def header_of(column: str, aliases: tuple[str, ...], *, language: str) -> str:
    """A column's header in a language: its first Chinese header in Chinese, its canonical name otherwise."""
    if language.startswith("zh"):
        return next((alias for alias in aliases if not alias.isascii()), column)
    return column


def template_workbook(kind: Kind) -> bytes:
    """The kind's template as XLSX bytes, headers in the active language."""
    import openpyxl

    language = get_language() or "zh-hans"
    workbook = openpyxl.Workbook(write_only=True)
    data = workbook.create_sheet(str(kind.label)[:31])
    data.append([header_of(column, aliases, language=language) for column, aliases in kind.columns.aliases.items()])
    help_sheet = workbook.create_sheet(gettext("Columns")[:31])
    help_sheet.append([gettext("Column"), gettext("Accepted headers"), gettext("Required"), gettext("Example")])
    required = set(kind.columns.required) | set(kind.columns.one_of)
    for (column, aliases), example in zip(kind.columns.aliases.items(), kind.example, strict=True):
        is_required = gettext("yes") if column in required else ""
        help_sheet.append([column, ", ".join(aliases), is_required, example])
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()
