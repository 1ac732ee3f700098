"""django-filter filter types that only accept values the database can hold, for every app's API FilterSets.

Ids, whole numbers and amounts are bounded, so a malformed or huge query parameter answers 400, never a database
error. Datetimes are filtered by local date (`..._from` / `..._to`, inclusive).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

MAX_PK = 2**63 - 1
MAX_INT = 2**31 - 1


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """Filters by the id of a related row (or the row itself)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_PK)
        super().__init__(*args, **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class IntFilter(filters.NumberFilter):
    """A whole number within the range of an integer column."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_INT)
        super().__init__(*args, **kwargs)


@extend_schema_field(OpenApiTypes.DECIMAL)
class AmountFilter(filters.NumberFilter):
    """An amount in CNY, as stored: at most 12 digits before the point and 2 after."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)


def date_range(field_name: str, what: str) -> tuple[filters.DateFilter, filters.DateFilter]:
    """Two filters, on or after / on or before a local date, for a datetime or date field."""
    lookup = f"{field_name}__date" if not field_name.endswith(("_date", "_on", "period_start")) else field_name
    return (
        filters.DateFilter(field_name=lookup, lookup_expr="gte", label=_("%s on or after (date)") % what),
        filters.DateFilter(field_name=lookup, lookup_expr="lte", label=_("%s on or before (date)") % what),
    )
