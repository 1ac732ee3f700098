"""Reads for the "Change history" sections of the opportunity and account pages; never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext

from core.history import describe_value, field_label

if TYPE_CHECKING:
    from accounts.models import User

CHANGES_PER_PAGE = 10
MAX_CHANGES_PAGE = 10_000  # a page number beyond any real history, so a typed URL cannot ask for a huge offset


@dataclass(frozen=True)
class ChangeLine:
    """One changed field as a page shows it: labels in the active language."""

    at: datetime
    by: User | None
    field: str
    label: str
    old: str
    new: str
    reason: str


@dataclass(frozen=True)
class ChangePage:
    """A page of a record's change history, newest first."""

    lines: list[ChangeLine]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1


def page_number(value: Any) -> int:
    """A page number from a query parameter: 1 when missing or not a positive number."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_CHANGES_PAGE)


def change_page(*, changes: QuerySet, model: type[Model], page: Any = 1) -> ChangePage:
    """Returns page `page` (CHANGES_PER_PAGE lines) of a record's history rows `changes` (its OpportunityChange or
    AccountChange rows), newest first, with who made each change, in one query."""
    number = page_number(page)
    start = (number - 1) * CHANGES_PER_PAGE
    rows = list(changes.select_related("by").order_by("-at", "-id")[start : start + CHANGES_PER_PAGE + 1])
    return ChangePage(
        lines=[_line(model, row) for row in rows[:CHANGES_PER_PAGE]],
        number=number,
        has_next=len(rows) > CHANGES_PER_PAGE,
    )


def _line(model: type[Model], row: Any) -> ChangeLine:
    name = row.field
    if name.startswith("criteria_values."):
        label, field = gettext("Exit criterion “%(code)s”") % {"code": name.partition(".")[2]}, None
    else:
        label = capfirst(field_label(model, name))
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
    return ChangeLine(
        at=row.at,
        by=row.by,
        field=name,
        label=label,
        old=describe_value(row.old, field=field),
        new=describe_value(row.new, field=field),
        reason=row.reason,
    )
