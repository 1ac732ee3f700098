"""Forms of the account pages: they check shape and types only; accounts/services.py decides the rules.

The model forms here are never saved: views pass `cleaned_data` to a service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact, Industry, Region, User
from core.forms import DateInput, LoadedModelChoiceField
from core.pickers import SearchChoiceField

if TYPE_CHECKING:
    from django.db.models import QuerySet


class RegionChoiceField(LoadedModelChoiceField):
    """Regions as an indented tree (regions are ordered by code, which nests them)."""

    def label_from_instance(self, obj: Region) -> str:
        return "\u3000" * (obj.level - 1) + obj.localized_name


class AccountForm(forms.ModelForm):
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none())
    region = RegionChoiceField(label=_("Region"), queryset=Region.objects.all(), required=False)

    class Meta:
        model = Account
        fields = [
            "name",
            "owner",
            "industry",
            "employee_count",
            "region",
            "address",
            "is_target",
            "target_since",
            "parent",
            "is_headquarters",
            "notes",
        ]
        widgets = {
            "target_since": DateInput,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"target_since": _("Empty means today when the account becomes a target.")}

    def __init__(self, *args, user: User, owners: QuerySet[User] | None, **kwargs) -> None:
        """`owners` lists who may own the account; None hides the field (a rep's own account, or an edit where the
        owner is changed by reassigning)."""
        super().__init__(*args, **kwargs)
        if owners is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].queryset = owners
            self.fields["owner"].initial = self.initial.get("owner") or user.pk
        parents = Account.objects.visible_to(user)
        # An archived account is no choice, except the headquarters this account already has.
        parents = parents.filter(Q(archived_at__isnull=True) | Q(pk=self.instance.parent_id))
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"] = SearchChoiceField(
            label=_("Headquarters (this account is a branch of)"),
            queryset=parents,
            search_type="account",
            required=False,
        )
        self.fields["industry"].queryset = Industry.objects.order_by("code")
        self.fields["employee_count"].widget.attrs.update({"inputmode": "numeric", "min": 0})

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("is_target"):
            cleaned["target_since"] = None  # only a target has a date it became one
        return cleaned

    def _post_clean(self):
        # Rules are the service's: skip model validation (constraints are checked again by the database).
        pass


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "name",
            "title",
            "department",
            "phone",
            "email",
            "buying_role",
            "communication_style",
            "birthday",
            "notes",
        ]
        widgets = {
            "birthday": DateInput,
            "notes": forms.Textarea(attrs={"rows": 2}),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        }

    def _post_clean(self):
        pass


class QuickContactForm(ContactForm):
    """A contact with the account it belongs to, for adding one from anywhere (the header's quick add): the few
    fields a rep knows on the spot; the rest is filled in on the account page."""

    account = SearchChoiceField(label=_("Account"), queryset=Account.objects.none(), search_type="account")

    class Meta(ContactForm.Meta):
        fields = ["name", "title", "phone", "buying_role"]

    field_order = ["account", "name", "title", "phone", "buying_role"]

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.editable_by(user).active().order_by("name")


class AccountFilterForm(forms.Form):
    """Search, filters and sort order of the account list (GET)."""

    SORTS = {
        "name": _("Name"),
        "-last_visit": _("Last visit, newest first"),
        "last_visit": _("Last visit, oldest first"),
        "-size": _("Employees, most first"),
        "region": _("Region"),
        "owner": _("Owner"),
        "-updated": _("Recently changed"),
    }

    q = forms.CharField(label=_("Search"), required=False)
    owner = LoadedModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    region = RegionChoiceField(label=_("Region"), queryset=Region.objects.all(), required=False)
    industry = LoadedModelChoiceField(label=_("Industry"), queryset=Industry.objects.all(), required=False)
    is_target = forms.TypedChoiceField(
        label=_("Target account"),
        required=False,
        choices=[("", _("All")), ("1", _("Targets")), ("0", _("Not targets"))],
        coerce=lambda value: value == "1",
        empty_value=None,
    )
    size_band = forms.ChoiceField(label=_("Size"), required=False)
    sort = forms.ChoiceField(label=_("Sort"), required=False)

    def __init__(self, *args, owners: QuerySet[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        for name in ("owner", "region", "industry"):
            self.fields[name].empty_label = _("All")
        self.fields["size_band"].choices = [("", _("All")), *Account.SizeBand.choices]
        self.fields["sort"].choices = list(self.SORTS.items())
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": _("Name, address or contact")})
