"""Form pieces every app's forms share: HTML5 date and date-time inputs, and a service refusal shown on its field."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms

if TYPE_CHECKING:
    from core.errors import SalesFlowError

# What a browser's datetime-local input sends and shows: minutes, no seconds, no zone (the user's zone is active).
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


def add_service_error(form: forms.Form, error: SalesFlowError) -> None:
    """Shows a service's refusal on the field it names, or above the form when the form shows no such field."""
    field = error.field if error.field in form.fields and not form.fields[error.field].widget.is_hidden else None
    form.add_error(field, str(error.message))
