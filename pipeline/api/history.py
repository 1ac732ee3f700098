"""`GET /api/v1/{opportunities,accounts,targets}/{id}/history/`: a record's change history, newest first, paginated.

The record is looked up in its resource's queryset (`visible_to` the user, so what they cannot see answers 404); its
history is its `changes` relation (an OpportunityChange, AccountChange or TargetChange per changed field).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound

from core.api import Pagination, parse_pk


@extend_schema_field(OpenApiTypes.ANY)
class StoredValueField(serializers.JSONField):
    """A value as the history stores it: null, a string (decimals, ISO dates and times, choice codes), a number, a
    boolean, a reference `{"id", "label"}` or a list of references."""


class FieldChangeSerializer(serializers.Serializer):
    at = serializers.DateTimeField(read_only=True, help_text=_("When the change was made."))
    by = serializers.IntegerField(
        source="by_id", read_only=True, allow_null=True, help_text=_("User id of who made it; null for the system.")
    )
    by_name = serializers.SerializerMethodField(help_text=_("Display name of who made it; empty for the system."))
    field = serializers.CharField(read_only=True, help_text=_("The field that changed, as the API names it."))
    old = StoredValueField(
        read_only=True,
        help_text=_(
            'The value before: a string for decimals ("1.00"), dates and times (ISO 8601) and choices (their code), '
            'a number, a boolean, {"id", "label"} for a reference, a list of those, or null.'
        ),
    )
    new = StoredValueField(read_only=True, help_text=_("The value after, in the same form as old."))
    reason = serializers.CharField(
        read_only=True, help_text=_("Why, when the change needed a reason (a closed opportunity's amount).")
    )

    def get_by_name(self, change) -> str:
        return change.by.display_name if change.by_id else ""


def history_schema(resource: str):
    return extend_schema(
        summary=f"The change history of one of the {resource} you can see, newest first",
        description=(
            "One entry per changed field: who, when, the field, the old and the new value. Paginated like every "
            "list (`page`, `page_size`)."
        ),
        request=None,
        responses={200: FieldChangeSerializer(many=True)},
        filters=False,
    )


class HistoryActionMixin:
    """Adds the `history` action to a viewset whose records have a `changes` relation; three queries (the record's
    visibility, the count and the page)."""

    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=Pagination)
    def history(self, request, pk=None):
        pk = parse_pk(pk)
        records = self.get_queryset()
        if pk is None or not records.filter(pk=pk).exists():
            raise NotFound()
        relation = records.model._meta.get_field("changes")
        changes = relation.related_model.objects.filter(**{relation.field.name: pk})
        page = self.paginate_queryset(changes.select_related("by").order_by("-at", "-id"))
        return self.get_paginated_response(FieldChangeSerializer(page, many=True).data)
