"""Forms of the board and opportunity pages. They check shape and types only; services decide the rules."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Competitor, Team
from core.forms import DateInput, LoadedModelChoiceField
from core.pickers import SearchChoiceField
from pipeline.models import Opportunity, Pipeline, Stage
from pipeline.selectors.opportunities import OPPORTUNITY_SORTS, OpportunityFilters, owner_choices

if TYPE_CHECKING:
    from accounts.models import User


class OpportunityFilterForm(forms.Form):
    """The filters shared by the board and the opportunity list (GET parameters)."""

    pipeline = LoadedModelChoiceField(
        label=_("Pipeline"), queryset=Pipeline.objects.filter(is_active=True), required=False, empty_label=None
    )
    owner = LoadedModelChoiceField(label=_("Owner"), queryset=get_user_model().objects.none(), required=False)
    amount_min = forms.DecimalField(label=_("Amount from"), required=False, min_value=0, decimal_places=2)
    amount_max = forms.DecimalField(label=_("Amount to"), required=False, min_value=0, decimal_places=2)
    close_from = forms.DateField(label=_("Expected close from"), required=False, widget=DateInput)
    close_to = forms.DateField(label=_("Expected close to"), required=False, widget=DateInput)

    def __init__(self, *args, viewer: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.viewer = viewer
        self.fields["owner"].queryset = owner_choices(viewer=viewer)
        self.fields["owner"].empty_label = _("Everyone I can see") if not viewer.is_rep else None
        self.fields["amount_min"].widget.attrs.update(inputmode="numeric", step="any")
        self.fields["amount_max"].widget.attrs.update(inputmode="numeric", step="any")

    def cleaned_or_empty(self, name: str):
        """The field's clean value, or None when it was missing or invalid (an invalid filter filters nothing)."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name) or None

    def filters(self) -> OpportunityFilters:
        get = self.cleaned_or_empty
        return OpportunityFilters(
            pipeline=get("pipeline"),
            owner=get("owner"),
            amount_min=self.cleaned_data.get("amount_min"),
            amount_max=self.cleaned_data.get("amount_max"),
            close_from=get("close_from"),
            close_to=get("close_to"),
        )


class BoardFilterForm(OpportunityFilterForm):
    """Board filters; the pipeline select switches the board between pipelines.

    Managers and directors also narrow the board to one team they may see; a team they may not see is not a valid
    choice, so it filters nothing (visibility still limits the cards to what they may see).
    """

    team = LoadedModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)

    field_order = ["pipeline", "team", "owner"]

    def __init__(self, *args, viewer: User, **kwargs) -> None:
        super().__init__(*args, viewer=viewer, **kwargs)
        if viewer.is_rep:
            del self.fields["team"]
        else:
            self.fields["team"].queryset = Team.objects.visible_to(viewer).order_by("name")
            self.fields["team"].empty_label = _("Every team I can see")

    def filters(self) -> OpportunityFilters:
        return replace(super().filters(), team=self.cleaned_or_empty("team"))

    def chosen_pipeline(self) -> Pipeline | None:
        """The pipeline chosen, else the first active one (the default first), from the rows the select shows."""
        return self.cleaned_or_empty("pipeline") or next(iter(self.fields["pipeline"].rows()), None)

    def _in_view(self, name: str) -> bool:
        """Pipeline, team and owner stay in view above the board; a rep's owner choice (only themself) does not."""
        return name in ("pipeline", "team") or (name == "owner" and not self.viewer.is_rep)

    def view_fields(self) -> list:
        return [field for field in self.visible_fields() if self._in_view(field.name)]

    def more_fields(self) -> list:
        return [field for field in self.visible_fields() if not self._in_view(field.name)]

    def more_have_errors(self) -> bool:
        return any(field.errors for field in self.more_fields())


class OpportunityListFilterForm(OpportunityFilterForm):
    SORT_CHOICES = [
        ("-created", _("Newest first")),
        ("created", _("Oldest first")),
        ("name", _("Name")),
        ("account", _("Account")),
        ("-amount", _("Amount, largest first")),
        ("amount", _("Amount, smallest first")),
        ("close", _("Expected close, soonest first")),
        ("-close", _("Expected close, latest first")),
        ("stage", _("Stage, earliest first")),
        ("-stage", _("Stage, furthest first")),
    ]

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.none(), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Opportunity.Status.choices]
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    field_order = ["q", "pipeline", "stage", "status", "owner", "amount_min", "amount_max", "close_from", "close_to"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pipeline"].required = False
        self.fields["pipeline"].empty_label = _("All pipelines")
        self.fields["stage"].queryset = Stage.objects.filter(pipeline__is_active=True).select_related("pipeline")
        self.fields["stage"].empty_label = _("Any stage")
        self.fields["stage"].label_from_instance = lambda s: f"{s.pipeline.name} · {s.order}. {s.name}"
        self.fields["q"].widget.attrs.update(placeholder=_("Opportunity or account name"), type="search")

    def filters(self) -> OpportunityFilters:
        return replace(
            super().filters(),
            stage=self.cleaned_or_empty("stage"),
            status=self.cleaned_or_empty("status") or "",
            search=self.cleaned_or_empty("q") or "",
        )

    def ordering(self) -> tuple[str, ...]:
        return OPPORTUNITY_SORTS[self.cleaned_or_empty("sort") or "-created"]


class VersionForm(forms.Form):
    """A write that carries the version the user saw (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class MoveForm(VersionForm):
    stage = forms.ChoiceField(label=_("Move to stage"))
    override_reason = forms.CharField(
        label=_("Override reason"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Managers and directors: move although exit criteria are not met, and say why."),
    )

    def __init__(self, *args, opportunity: Opportunity, stages: list[Stage], user: User, **kwargs) -> None:
        kwargs.setdefault("initial", {}).setdefault("version", opportunity.version)
        super().__init__(*args, **kwargs)
        current = _("(current)")
        self.fields["stage"].choices = [
            (s.code, f"{s.order}. {s.name}" + (f" {current}" if s.pk == opportunity.stage_id else "")) for s in stages
        ]
        ahead = [s for s in stages if s.order > opportunity.stage.order]
        self.fields["stage"].initial = ahead[0].code if ahead else opportunity.stage.code
        if not user.can_override_exit_criteria:
            del self.fields["override_reason"]


class CriterionValueForm(VersionForm):
    """One manual exit criterion's value; `value` is shaped by the criterion's input type."""

    def __init__(self, *args, input_type: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].required = False
        if input_type == "checkbox":
            self.fields["value"] = forms.BooleanField(required=False)
        elif input_type == "date":
            self.fields["value"] = forms.DateField(required=False, widget=DateInput)
        else:
            self.fields["value"] = forms.CharField(required=False, max_length=4000, widget=forms.Textarea)


class LoseForm(VersionForm):
    reason = forms.ChoiceField(label=_("Loss reason"), choices=[("", "—"), *Opportunity.LossReason.choices])
    lost_to = forms.ModelChoiceField(
        label=_("Lost to"), queryset=Competitor.objects.all(), required=False, empty_label=_("Nobody / unknown")
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    untouched_cause = forms.ChoiceField(
        label=_("Why was the customer not engaged? (untouched loss)"),
        choices=[("", "—"), *Opportunity.UntouchedCause.choices],
        required=False,
    )

    def __init__(self, *args, opportunity: Opportunity, **kwargs) -> None:
        kwargs.setdefault("initial", {}).setdefault("version", opportunity.version)
        super().__init__(*args, **kwargs)


class ProbabilityForm(VersionForm):
    probability = forms.IntegerField(label=_("Win probability (%)"), min_value=0, max_value=100)

    def __init__(self, *args, opportunity: Opportunity, **kwargs) -> None:
        kwargs.setdefault("initial", {}).update(version=opportunity.version, probability=opportunity.probability)
        super().__init__(*args, **kwargs)
        self.fields["probability"].widget.attrs.update(inputmode="numeric")


class OpportunityEditForm(VersionForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    amount = forms.DecimalField(label=_("Amount (CNY)"), min_value=0, max_digits=14, decimal_places=2)
    expected_close_date = forms.DateField(label=_("Expected close date"), required=False, widget=DateInput)
    source = forms.ChoiceField(label=_("Source"), required=False, choices=[("", "—"), *Opportunity.Source.choices])
    forecast_category = forms.ChoiceField(
        label=_("Forecast category"),
        choices=Opportunity.ForecastCategory.choices,
        required=False,  # left out (an older page): unchanged
        help_text=_("Commit: you are sure it closes by its date. Best case: it could. Omitted: leave it out."),
    )
    competitors = forms.ModelMultipleChoiceField(
        label=_("Competitors in play"),
        queryset=Competitor.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, opportunity: Opportunity, competitor_ids: list[int], **kwargs) -> None:
        kwargs.setdefault("initial", {}).update(
            version=opportunity.version,
            name=opportunity.name,
            amount=opportunity.amount,
            expected_close_date=opportunity.expected_close_date,
            source=opportunity.source,
            forecast_category=opportunity.forecast_category,
            competitors=competitor_ids,
        )
        super().__init__(*args, **kwargs)
        self.fields["amount"].widget.attrs.update(inputmode="decimal")
        if not opportunity.is_open:
            del self.fields["forecast_category"]  # only an open opportunity is forecast
            # A won or lost opportunity's amount feeds attainment: a director changes it only with a reason.
            self.fields["change_reason"] = forms.CharField(
                label=_("Reason for changing the amount"),
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_(
                    "Directors only: why the amount of a won or lost opportunity changes (kept in its history)."
                ),
            )


class OpportunityCreateForm(forms.Form):
    account = SearchChoiceField(label=_("Account"), queryset=Account.objects.none(), search_type="account")
    name = forms.CharField(label=_("Name"), max_length=200)
    amount = forms.DecimalField(
        label=_("Amount (CNY)"), min_value=0, max_digits=14, decimal_places=2, required=False, initial=0
    )
    expected_close_date = forms.DateField(label=_("Expected close date"), required=False, widget=DateInput)
    source = forms.ChoiceField(label=_("Source"), required=False, choices=[("", "—"), *Opportunity.Source.choices])
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"), queryset=Pipeline.objects.filter(is_active=True), required=False, empty_label=None
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.visible_to(user).active()
        self.fields["amount"].widget.attrs.update(inputmode="decimal")
        if not user.is_director:
            del self.fields["pipeline"]


class CompetitorWinForm(forms.Form):
    """A competitor's win at an account where we had no opportunity (SPEC §4): recorded from the field as a loss."""

    lost_to = forms.ModelChoiceField(label=_("Competitor that won"), queryset=Competitor.objects.order_by("name"))
    closed_on = forms.DateField(label=_("Date"), widget=DateInput)
    amount = forms.DecimalField(
        label=_("Estimated amount (CNY)"), min_value=0, max_digits=14, decimal_places=2, required=False
    )
    loss_reason = forms.ChoiceField(label=_("Why they won"), choices=[("", "—"), *Opportunity.LossReason.choices])
    untouched_cause = forms.ChoiceField(
        label=_("Why was the customer not engaged? (untouched loss)"),
        choices=[("", "—"), *Opportunity.UntouchedCause.choices],
        required=False,
    )
