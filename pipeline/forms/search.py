"""The search box (header and search page): checks the query's shape only."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from pipeline.selectors.search import SEARCH_QUERY_MAX_LENGTH, SEARCH_TYPES

FIELD_NAME = re.compile(r"\A[a-z][a-z0-9_-]{0,59}\Z")


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=SEARCH_QUERY_MAX_LENGTH, required=False)

    def clean_q(self) -> str:
        return self.cleaned_data["q"].replace("\x00", "").strip()


class PickForm(SearchForm):
    """A picker's request: the type of row and the HTML name of the field asking (its text box is `<field>_search`)."""

    type = forms.ChoiceField(choices=[(t, t) for t in SEARCH_TYPES])
    field = forms.RegexField(regex=FIELD_NAME)
