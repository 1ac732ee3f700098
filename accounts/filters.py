"""django-filter FilterSets of the accounts API; the bounded filter types they use live in core/filters.py."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from accounts.models import SIZE_BANDS, Account, AccountYear, Contact, Industry, InstalledBase, Region, Team, User
from core.filters import IdFilter, IntFilter, date_range


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
