"""Search-as-you-type choice of a row from a growing table (an account, a contact, an opportunity): never a `<select>`
listing the whole table.

`SearchChoiceField(queryset=..., search_type="account")` renders a text box and a hidden id. As the user types, htmx
asks the search endpoint (`search_url`, given the field's HTML name and the type) for options; picking one
(static/js/search.js) fills the hidden id. The id is validated against the field's queryset, which the form restricts
to what the user may see, so a forged id is a form error. Without JavaScript the user types the exact name: a name
that matches exactly one row of the queryset is that row.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

SEARCH_SUFFIX = "_search"


class SearchPickerWidget(forms.Widget):
    template_name = "core/widgets/picker.html"  # widgets render from app templates

    def __init__(self, *, search_type: str, search_url: str = "pipeline:search_pick", attrs=None) -> None:
        super().__init__(attrs)
        self.search_type = search_type
        self.search_url = search_url
        self.queryset = None  # set by SearchChoiceField, to label the chosen row

    def value_from_datadict(self, data, files, name):
        """The picked id; else the typed text (which the field resolves by exact name)."""
        picked = (data.get(name) or "").strip()
        return picked or (data.get(name + SEARCH_SUFFIX) or "").strip() or None

    def value_omitted_from_data(self, data, files, name) -> bool:
        return name not in data and name + SEARCH_SUFFIX not in data

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        picked_id, label = "", ""
        if value not in (None, ""):
            text = str(value)
            if text.isdigit() and len(text) < 19 and self.queryset is not None:
                row = self.queryset.filter(pk=int(text)).first()  # one query, for a form shown with a choice
                picked_id, label = (str(row.pk), str(row)) if row is not None else ("", "")
            else:
                label = text  # a typed name the form refused: shown again to be corrected
        search_url = f"{reverse(self.search_url)}?type={self.search_type}&field={name}"
        context["widget"].update(
            picked_id=picked_id,
            label=label,
            search_name=name + SEARCH_SUFFIX,
            search_url=search_url,
            listbox_id=f"{context['widget']['attrs'].get('id', name)}_options",
        )
        return context


class SearchChoiceField(forms.ModelChoiceField):
    """A choice among `queryset` (restrict it to what the user may see) picked by search; see the module."""

    default_error_messages = {
        "invalid_choice": _("Choose one of the suggestions."),
        "ambiguous": _("Several match this name: type more of it and choose one of the suggestions."),
    }

    def __init__(self, queryset, *, search_type: str, **kwargs) -> None:
        kwargs.setdefault("widget", SearchPickerWidget(search_type=search_type))
        super().__init__(queryset, **kwargs)

    def _set_queryset(self, queryset):
        super()._set_queryset(queryset)
        self.widget.queryset = self._queryset

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if text.isdigit() and len(text) < 19:
            row = self.queryset.filter(pk=int(text)).first()
            if row is None:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
            return row
        named = list(self.queryset.filter(name=text)[:2])
        if len(named) > 1:
            raise ValidationError(self.error_messages["ambiguous"], code="ambiguous")
        if not named:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return named[0]
