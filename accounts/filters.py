"""django-filter FilterSets of the accounts API, and filter types that only accept values the database can hold.

Ids, whole numbers and amounts are bounded, so a malformed or huge query parameter answers 400, never a database
error. Datetimes are filtered by local date (`..._from` / `..._to`, inclusive).
"""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.models import SIZE_BANDS, Account, AccountYear, Contact, Industry, InstalledBase, Region, Team, User

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


class AccountFilter(filters.FilterSet):
    owner = IdFilter(field_name="owner", label=_("Owner (user id)"))
    team = IdFilter(field_name="owner__team", label=_("Owner's team (team id)"))
    industry = IdFilter(field_name="industry", label=_("Industry id"))
    region = IdFilter(method="filter_region", label=_("Region id; includes the regions below it"))
    parent = IdFilter(field_name="parent", label=_("Headquarters account id"))
    size_band = filters.ChoiceFilter(
        choices=Account.SizeBand.choices, method="filter_size_band", label=_("Size band (from employee count)")
    )
    employees_min = IntFilter(field_name="employee_count", lookup_expr="gte", label=_("At least this many employees"))
    employees_max = IntFilter(field_name="employee_count", lookup_expr="lte", label=_("At most this many employees"))
    created_from, created_to = date_range("created_at", _("Creation time"))

    class Meta:
        model = Account
        fields = ["is_target", "is_headquarters", "external_key"]

    def filter_region(self, queryset, name, value):
        in_tree = Q(region=value) | Q(region__parent=value) | Q(region__parent__parent=value)
        return queryset.filter(in_tree)

    def filter_size_band(self, queryset, name, value):
        floor = next(floor for floor, band in SIZE_BANDS if band == value)
        above = [other for other, _band in SIZE_BANDS if other > floor]
        queryset = queryset.filter(employee_count__gte=floor)
        return queryset.filter(employee_count__lt=min(above)) if above else queryset


class ContactFilter(filters.FilterSet):
    account = IdFilter(field_name="account", label=_("Account id"))
    owner = IdFilter(field_name="account__owner", label=_("Account owner (user id)"))

    class Meta:
        model = Contact
        fields = ["buying_role", "communication_style"]


class InstalledBaseFilter(filters.FilterSet):
    account = IdFilter(field_name="account", label=_("Account id"))
    competitor = IdFilter(field_name="competitor", label=_("Competitor id"))
    year = IntFilter(field_name="year", label=_("Year installed"))

    class Meta:
        model = InstalledBase
        fields = ["is_ours"]


class AccountYearFilter(filters.FilterSet):
    account = IdFilter(field_name="account", label=_("Account id"))
    year = IntFilter(field_name="year", label=_("Year"))
    year_min = IntFilter(field_name="year", lookup_expr="gte", label=_("From this year"))
    year_max = IntFilter(field_name="year", lookup_expr="lte", label=_("Up to this year"))

    class Meta:
        model = AccountYear
        fields: list[str] = []


class RegionFilter(filters.FilterSet):
    parent = IdFilter(field_name="parent", label=_("Parent region id"))
    level = filters.ChoiceFilter(choices=Region.Level.choices, label=_("Level"))

    class Meta:
        model = Region
        fields = ["code"]


class IndustryFilter(filters.FilterSet):
    class Meta:
        model = Industry
        fields = ["code"]


class TeamFilter(filters.FilterSet):
    manager = IdFilter(field_name="manager", label=_("Manager (user id)"))

    class Meta:
        model = Team
        fields = ["name"]


class UserFilter(filters.FilterSet):
    team = IdFilter(field_name="team", label=_("Team id"))
    role = filters.ChoiceFilter(choices=User.Role.choices, label=_("Role"))

    class Meta:
        model = User
        fields = ["is_active", "username"]
