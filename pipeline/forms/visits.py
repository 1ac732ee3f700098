"""Forms of the visit pages: they check shape and types only; the visit services decide the rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact, User
from core.forms import DateInput, DateTimeLocalInput, LoadedModelChoiceField
from core.pickers import SearchChoiceField
from pipeline.models import Opportunity, Visit

if TYPE_CHECKING:
    from django.db.models import QuerySet


def visit_opportunities(*, user: User, account: Account | None) -> QuerySet[Opportunity]:
    """The opportunities a visit on `account` may belong to: the user's visible open or won ones of that account."""
    if account is None:
        return Opportunity.objects.none()
    return (
        Opportunity.objects.visible_to(user)
        .filter(account=account)
        .exclude(status=Opportunity.Status.LOST)
        .select_related("stage")
        .order_by("status", "-created_at")
    )


class OpportunityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Opportunity) -> str:
        return f"{obj.name} · {obj.stage.name}"


class ContactChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Contact) -> str:
        return f"{obj.name} · {obj.title}" if obj.title else obj.name


class NextVisitMixin:
    """A purpose for the next visit needs its date and time."""

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("next_visit_purpose")
            and not cleaned.get("next_visit_at")
            and "next_visit_at" not in self.errors
        ):
            self.add_error("next_visit_at", _("Give the date and time of the next visit, or leave its purpose empty."))
        return cleaned


class AccountVisitForm(forms.Form):
    """The account, contact and opportunity of a visit; contact and opportunity are those of the chosen account."""

    account = forms.ModelChoiceField(label=_("Account"), queryset=Account.objects.none(), widget=forms.HiddenInput)
    contact = ContactChoiceField(label=_("Contact"), queryset=Contact.objects.none(), required=False)
    opportunity = OpportunityChoiceField(label=_("Opportunity"), queryset=Opportunity.objects.none(), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Visit.Kind.choices, initial=Visit.Kind.VISIT)

    def __init__(self, *args, user: User, account: Account | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.account = account
        self.fields["account"].queryset = Account.objects.visible_to(user).active()
        if account is not None:
            self.fields["account"].initial = account.pk
            self.fields["contact"].queryset = Contact.objects.active().filter(account=account)
            self.fields["opportunity"].queryset = visit_opportunities(user=user, account=account)
        self.fields["account"].error_messages["required"] = _("Choose the account you visited.")
        self.fields["contact"].empty_label = _("No contact")
        self.fields["opportunity"].empty_label = _("No opportunity")


class VisitLogForm(NextVisitMixin, AccountVisitForm):
    """A visit done now or earlier, with the option to plan the next one in the same submit."""

    done_at = forms.DateTimeField(label=_("Done at"), widget=DateTimeLocalInput)
    purpose = forms.CharField(label=_("Purpose"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    summary = forms.CharField(label=_("Summary / outcome"), widget=forms.Textarea(attrs={"rows": 4}))
    next_step = forms.CharField(label=_("Next step"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    satisfaction = forms.IntegerField(
        label=_("Satisfaction (0–10)"), required=False, min_value=0, max_value=10, widget=forms.NumberInput
    )
    next_visit_at = forms.DateTimeField(label=_("Next visit on"), required=False, widget=DateTimeLocalInput)
    next_visit_purpose = forms.CharField(
        label=_("Purpose of the next visit"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class VisitPlanForm(AccountVisitForm):
    """A visit planned ahead, for the user or (managers, directors) for a rep they may plan for."""

    planned_at = forms.DateTimeField(label=_("Planned for"), widget=DateTimeLocalInput)
    purpose = forms.CharField(label=_("Purpose"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.ModelChoiceField(label=_("For"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, owners: QuerySet[User] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if owners is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].queryset = owners
            self.fields["owner"].empty_label = _("Me")


class QuickVisitPlanForm(VisitPlanForm):
    """Planning a visit from the quick-add dialog: the account is chosen in the form; contact and opportunity, which
    depend on it, are added on the visit's page."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        chosen = self.fields["account"]
        self.fields["account"] = SearchChoiceField(
            label=chosen.label, queryset=chosen.queryset, initial=chosen.initial, search_type="account"
        )
        self.fields["account"].error_messages["required"] = chosen.error_messages["required"]
        del self.fields["contact"]
        del self.fields["opportunity"]
        self.order_fields(["account", "planned_at", "kind", "purpose", "owner"])


class VisitCompleteForm(NextVisitMixin, forms.Form):
    """Completing a planned visit: what happened, and optionally the next visit."""

    summary = forms.CharField(label=_("Summary / outcome"), widget=forms.Textarea(attrs={"rows": 3}))
    next_step = forms.CharField(label=_("Next step"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    satisfaction = forms.IntegerField(
        label=_("Satisfaction (0–10)"), required=False, min_value=0, max_value=10, widget=forms.NumberInput
    )
    done_at = forms.DateTimeField(
        label=_("Done at"),
        required=False,
        widget=DateTimeLocalInput,
        help_text=_("Leave empty for now."),
    )
    next_visit_at = forms.DateTimeField(label=_("Next visit on"), required=False, widget=DateTimeLocalInput)
    next_visit_purpose = forms.CharField(
        label=_("Purpose of the next visit"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class WeekCommentForm(forms.Form):
    text = forms.CharField(label=_("Comment on this week"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class VisitFilterForm(forms.Form):
    """Search, filters and sort order of the visit list (GET)."""

    SORTS = {
        "-when": _("Newest first"),
        "when": _("Oldest first"),
        "account": _("Account"),
        "owner": _("Owner"),
    }

    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    owner = LoadedModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput)
    sort = forms.ChoiceField(label=_("Sort"), required=False)

    def __init__(self, *args, owners: QuerySet[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        self.fields["status"].choices = everything + list(Visit.Status.choices)
        self.fields["kind"].choices = everything + list(Visit.Kind.choices)
        self.fields["owner"].queryset = owners
        self.fields["owner"].empty_label = _("All")
        self.fields["sort"].choices = list(self.SORTS.items())
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": _("Account, contact, purpose, summary")})
