"""The import upload form (issue 14): checks the shape only; the kinds offered are those the user may import."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pipeline.importing.kinds import kinds_for


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to import"))
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GBK) or XLSX; headers in English or Chinese."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind.code, kind.label) for kind in kinds_for(user)]
