"""Form pieces every app's forms share: HTML5 date and date-time inputs, a select drawn cheaply, a model choice read
once, and a service refusal shown on its field."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator

if TYPE_CHECKING:
    from django.db.models import Model

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


class Select(forms.Select):
    """Django's select with the same HTML, drawn without an include per option (core/widgets/select.html)."""

    template_name = "core/widgets/select.html"
    option_inherits_attrs = False  # an option's only attribute is `selected`, as the template writes it


class _LoadedChoices(ModelChoiceIterator):
    """The options of a LoadedModelChoiceField, from the rows it read once."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for row in self.field.rows():
            yield self.choice(row)

    def __len__(self) -> int:
        return len(self.field.rows()) + (self.field.empty_label is not None)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(self.field.rows())


class LoadedModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that reads its rows once per form and uses them for its options, for the select's check of
    its first option and for checking a submitted value. Django's reads the table again for each of the three (on
    PostgreSQL each time through a server-side cursor): a filter form of three selects ran six queries or more."""

    iterator = _LoadedChoices
    widget = Select

    def rows(self) -> list[Model]:
        return list(self.queryset)  # the queryset keeps the rows of its first read (a form copies its fields)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        self.validate_no_null_characters(value)
        key = self.to_field_name or "pk"
        model = self.queryset.model
        if isinstance(value, model):
            value = getattr(value, key)
        try:  # the value as the database would compare it: "7" and 7 are the same row
            wanted = (model._meta.pk if key == "pk" else model._meta.get_field(key)).to_python(value)
        except ValidationError:
            wanted = None
        row = next((row for row in self.rows() if wanted is not None and getattr(row, key) == wanted), None)
        if row is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return row


def add_service_error(form: forms.Form, error: SalesFlowError) -> None:
    """Shows a service's refusal on the field it names, or above the form when the form shows no such field."""
    field = error.field if error.field in form.fields and not form.fields[error.field].widget.is_hidden else None
    form.add_error(field, str(error.message))
