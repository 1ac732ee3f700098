"""Field-level change history (SPEC §1): values in a stable stored form, what changed between two states, and the
history rows that record it, written in bulk inside the caller's transaction.

Services call `record_changes` after they write (never signals or `save()`), so a change and its history commit or
roll back together. Stored values read the same whatever becomes of the rows they name: a reference is its id and a
label (`{"id": 7, "label": "王伟"}`), a date or time is ISO 8601 (times in UTC), a decimal a string ("1.00"), a
choice its code, a set of references a list sorted by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext

if TYPE_CHECKING:
    from core.models import FieldChange

HISTORY_BATCH_SIZE = 500  # history rows per insert query


def reference(pk: int | None, label: Any) -> dict[str, Any] | None:
    """The stored form of a reference to a row known by its id (None stays None)."""
    return None if pk is None else {"id": pk, "label": str(label)}


def stored_value(value: Any) -> Any:
    """`value` as a history row stores it (JSON); runs no query (a model instance's label is its `str`)."""
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, models.Model):
        return reference(value.pk, value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): stored_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [stored_value(item) for item in value]
        return sorted(items, key=_sort_key) if isinstance(value, (set, frozenset)) or _all_references(items) else items
    return str(value)


def _all_references(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(item, dict) and "id" in item for item in items)


def _sort_key(item: Any) -> tuple:
    return (0, item["id"], "") if isinstance(item, dict) and "id" in item else (1, 0, repr(item))


def _identity(value: Any) -> Any:
    """What decides whether two values are the same: a reference by its id, a set of references by their ids."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, models.Model):
        return ("ref", value.pk)
    if isinstance(value, dict) and set(value) == {"id", "label"}:
        return ("ref", value["id"])
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(sorted((_identity(item) for item in value), key=repr))
    return value


def is_same(old: Any, new: Any) -> bool:
    """Whether a field holding `old` and then `new` did not change (2 == Decimal("2.00"); a row by its id)."""
    return _identity(old) == _identity(new)


@dataclass(frozen=True)
class Change:
    """One field of one record changed; `old` and `new` are raw values or their stored form."""

    parent_id: int
    field: str
    old: Any
    new: Any


def changes_between(parent_id: int, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """One Change per key of `new` whose value differs from the one in `old` (missing there: None); no query."""
    return [
        Change(parent_id=parent_id, field=name, old=old.get(name), new=value)
        for name, value in new.items()
        if not is_same(old.get(name), value)
    ]


def record_changes(
    model: type[FieldChange],
    changes: Iterable[Change],
    *,
    by: Any = None,
    at: datetime | None = None,
    reason: str = "",
) -> list[FieldChange]:
    """Writes one `model` row per change, by `by` (a user or None) at `at` (default now), with `reason`; one insert
    per HISTORY_BATCH_SIZE rows, none when nothing changed. Call it inside the transaction of the change."""
    at = at or timezone.now()
    by_id = getattr(by, "pk", None)
    rows = [
        model(
            **{f"{model.parent_field}_id": change.parent_id},
            at=at,
            by_id=by_id,
            field=change.field,
            old=stored_value(change.old),
            new=stored_value(change.new),
            reason=reason,
        )
        for change in changes
    ]
    if rows:
        model.objects.bulk_create(rows, batch_size=HISTORY_BATCH_SIZE)
    return rows


def describe_value(value: Any, *, field: models.Field | None = None) -> str:
    """A stored value as a page shows it: a reference by its label, a choice by its label in the active language, a
    boolean as yes/no, nothing as an em dash; runs no query."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, dict) and "label" in value:
        return str(value["label"])
    if isinstance(value, list):
        return ", ".join(describe_value(item, field=field) for item in value)
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def field_label(model: type[models.Model], name: str) -> str:
    """The verbose name of a model's field, or `name` when the model has no such field."""
    try:
        return str(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a recorded field may since have left the model
        return name
