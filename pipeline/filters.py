"""django-filter FilterSets of the pipeline API (accounts, opportunities, visits, targets, stages)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from accounts.filters import AccountFilter
from core.filters import AmountFilter, IdFilter, IntFilter, date_range
from pipeline.models import Opportunity, SalesTarget, Stage, Visit

__all__ = ["AccountFilter", "OpportunityFilter", "SalesTargetFilter", "StageFilter", "VisitFilter"]


class OpportunityFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Opportunity.Status.choices, label=_("Status"))
    stage = filters.CharFilter(field_name="stage__code", label=_("Stage code"))
    pipeline = filters.CharFilter(field_name="pipeline__code", label=_("Pipeline code"))
    owner = IdFilter(field_name="owner", label=_("Owner (user id)"))
    team = IdFilter(field_name="owner__team", label=_("Owner's team (team id)"))
    account = IdFilter(field_name="account", label=_("Account id"))
    source = filters.ChoiceFilter(choices=Opportunity.Source.choices, label=_("Source"))
    loss_reason = filters.ChoiceFilter(choices=Opportunity.LossReason.choices, label=_("Loss reason"))
    lost_to = IdFilter(field_name="lost_to", label=_("Lost to (competitor id)"))
    competitor = IdFilter(field_name="competitors", distinct=True, label=_("A competitor in play (competitor id)"))
    amount_min = AmountFilter(field_name="amount", lookup_expr="gte", label=_("Amount at least (CNY)"))
    amount_max = AmountFilter(field_name="amount", lookup_expr="lte", label=_("Amount at most (CNY)"))
    expected_close_from, expected_close_to = date_range("expected_close_date", _("Expected close"))
    closed_from, closed_to = date_range("closed_at", _("Closing time"))
    created_from, created_to = date_range("created_at", _("Creation time"))

    class Meta:
        model = Opportunity
        fields = ["is_untouched_loss"]


class VisitFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Visit.Status.choices, label=_("Status"))
    kind = filters.ChoiceFilter(choices=Visit.Kind.choices, label=_("Kind"))
    owner = IdFilter(field_name="owner", label=_("Owner (user id)"))
    team = IdFilter(field_name="owner__team", label=_("Owner's team (team id)"))
    account = IdFilter(field_name="account", label=_("Account id"))
    contact = IdFilter(field_name="contact", label=_("Contact id"))
    opportunity = IdFilter(field_name="opportunity", label=_("Opportunity id"))
    planned_from, planned_to = date_range("planned_at", _("Planned time"))
    done_from, done_to = date_range("done_at", _("Done time"))

    class Meta:
        model = Visit
        fields: list[str] = []


class SalesTargetFilter(filters.FilterSet):
    owner_user = IdFilter(field_name="owner_user", label=_("User id (targets of a user)"))
    owner_team = IdFilter(field_name="owner_team", label=_("Team id (targets of a team)"))
    period_type = filters.ChoiceFilter(choices=SalesTarget.PeriodType.choices, label=_("Period type"))
    year = IntFilter(field_name="period_start__year", min_value=1900, max_value=2100, label=_("Year of the start"))
    period_start_from, period_start_to = date_range("period_start", _("Period start"))

    class Meta:
        model = SalesTarget
        fields: list[str] = []


class StageFilter(filters.FilterSet):
    pipeline = filters.CharFilter(field_name="pipeline__code", label=_("Pipeline code"))

    class Meta:
        model = Stage
        fields = ["code", "engaged", "is_closing", "is_after_sales"]
