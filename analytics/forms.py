"""Forms of the analytics pages: the query strings (`?year=`, `?dimension=` and the like) and the home to-do's small
in-place forms; they check shape only."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from analytics.selectors.forecast import current_period
from analytics.selectors.territory import TERRITORY_DIMENSIONS
from core.forms import DateInput, DateTimeLocalInput

YEAR_MIN, YEAR_MAX = 1900, 2999

MATRIX_SORTS = ["priority", "name", "-cv", "cv", "-pv", "pv", "-share", "share"]
TEAM_PERIODS = [("month", _("This month")), ("quarter", _("This quarter")), ("year", _("This year"))]
TARGET_PERIOD_TYPES = [("month", _("Month")), ("quarter", _("Quarter")), ("year", _("Year"))]
TERRITORY_LABELS = {
    "region": _("Region"),
    "industry_size": _("Industry × size"),
    "org": _("HQ and branches"),
    "competitor": _("Competitor installed base"),
    "revenue": _("Last year's revenue"),
}


def _year_field() -> forms.IntegerField:
    return forms.IntegerField(label=_("Year"), required=False, min_value=YEAR_MIN, max_value=YEAR_MAX)


class MatrixQueryForm(forms.Form):
    year = _year_field()
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=[(s, s) for s in MATRIX_SORTS])


class TerritoryQueryForm(forms.Form):
    dimension = forms.ChoiceField(
        label=pgettext_lazy("territory analysis", "View"),
        required=False,
        choices=[(d, TERRITORY_LABELS.get(d, d)) for d in TERRITORY_DIMENSIONS],
    )


class TargetsQueryForm(forms.Form):
    period_type = forms.ChoiceField(label=_("Period"), required=False, choices=TARGET_PERIOD_TYPES)
    year = _year_field()


class TeamQueryForm(forms.Form):
    """The team is checked against what the viewer may see in the view (an unseen team answers 404)."""

    team = forms.CharField(label=_("Team"), required=False)
    period = forms.ChoiceField(label=_("Period"), required=False, choices=TEAM_PERIODS)

    def clean_team(self) -> int | None:
        value = self.cleaned_data["team"]
        if value in ("", None):
            return None
        if not value.isdigit() or len(value) > 18:
            raise forms.ValidationError(_("Choose a team from the list."), code="invalid")
        return int(value)


class CockpitQueryForm(forms.Form):
    """The period of a rep's cockpit forecast: the current month, quarter (by default) or year."""

    period_type = forms.ChoiceField(label=_("Period"), required=False, choices=TARGET_PERIOD_TYPES)


class TodoDoneForm(forms.Form):
    """Marks an overdue visit done from the to-do: what came out of it."""

    summary = forms.CharField(label=_("Summary / outcome"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class TodoRescheduleForm(forms.Form):
    planned_at = forms.DateTimeField(label=_("New time"), widget=DateTimeLocalInput)


class TodoCloseDateForm(forms.Form):
    expected_close_date = forms.DateField(label=_("New expected close date"), widget=DateInput)


def _id_or_none(value: str | None, message: str) -> int | None:
    if value in ("", None):
        return None
    if not value.isdigit() or len(value) > 18:
        raise forms.ValidationError(message, code="invalid")
    return int(value)


class ScopeQueryForm(forms.Form):
    """A team and an owner, as ids; the view checks them against what the viewer may see (unseen answers 404)."""

    team = forms.CharField(label=_("Team"), required=False)
    owner = forms.CharField(label=_("Owner"), required=False)

    def clean_team(self) -> int | None:
        return _id_or_none(self.cleaned_data["team"], _("Choose a team from the list."))

    def clean_owner(self) -> int | None:
        return _id_or_none(self.cleaned_data["owner"], _("Choose a person from the list."))


class ChangesQueryForm(ScopeQueryForm):
    since = forms.DateField(label=_("Since"), required=False, widget=DateInput)


class WinLossQueryForm(ScopeQueryForm):
    start = forms.DateField(label=_("From"), required=False, widget=DateInput)
    end = forms.DateField(label=_("To"), required=False, widget=DateInput)

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end of the period is before its start."))
        return data


class ForecastQueryForm(ScopeQueryForm):
    period_type = forms.ChoiceField(label=_("Period"), required=False, choices=TARGET_PERIOD_TYPES)
    year = _year_field()
    period = forms.IntegerField(label=_("Month or quarter"), required=False, min_value=1, max_value=12)

    def chosen_period(self, *, on: date) -> tuple[str, int, int]:
        """(period type, year, period) of a valid form, the current quarter's by default."""
        period_type = self.cleaned_data["period_type"] or "quarter"
        year = self.cleaned_data["year"] or on.year
        return period_type, year, self.cleaned_data["period"] or current_period(period_type, on)

    def clean(self) -> dict:
        data = super().clean()
        per_year = {"month": 12, "quarter": 4, "year": 1}.get(data.get("period_type") or "quarter", 4)
        if data.get("period") and data["period"] > per_year:
            self.add_error("period", _("A year has %(count)d such periods.") % {"count": per_year})
        return data


class ForecastCallForm(forms.Form):
    """A manager's call of what a rep closes in the forecast page's period (the period comes with the page's query)."""

    rep = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    amount = forms.DecimalField(label=_("Your call (¥)"), min_value=0, max_digits=14, decimal_places=2)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)
