"""GET /api/v1/analytics/changes/: what moved in the viewer's pipeline since a day, newest first, one page at a time."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.api.views import PAGE_PARAMETERS, PageLinksSerializer, ScopeQuery, _page_links, _query
from analytics.selectors.changes import KINDS, change_events, change_rows
from core.api import LocalizedViewMixin, Pagination
from core.calendar import today, week_start_of


class ChangesQuery(ScopeQuery):
    since = serializers.DateField(
        required=False, help_text=_("First day to report (from 00:00 company time); this week's Monday when left out.")
    )


class ChangeRowSerializer(serializers.Serializer):
    opportunity = serializers.IntegerField(source="opportunity_id")
    name = serializers.CharField(help_text=_("The opportunity's name."))
    owner = serializers.IntegerField(source="owner_id", help_text=_("The opportunity's owner now."))
    owner_name = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=KINDS,
        help_text=_(
            "new, advanced or moved_back (stage); slipped or pulled_in (expected close date later or earlier); "
            "amount_up or amount_down; won, lost or reopened (status)."
        ),
    )
    # "from" is a Python keyword: the field is declared under its JSON name below.
    to = serializers.CharField(
        source="new", allow_null=True, help_text=_("Stage name, status, amount or date after the change.")
    )
    at = serializers.DateTimeField()

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["from"] = serializers.CharField(
            source="old", allow_null=True, help_text=_("Stage name, status, amount or date before the change.")
        )
        return fields


class ChangesSerializer(PageLinksSerializer):
    since = serializers.DateField()
    rows = ChangeRowSerializer(many=True, help_text=_("One page of events (`count` in all), newest first."))


class ChangesView(LocalizedViewMixin, APIView):
    """New, advanced, moved back, slipped, pulled in, amount up or down, won, lost and reopened opportunities since a
    day, among those the viewer sees. A team or owner the viewer cannot see answers 404."""

    @extend_schema(tags=["analytics"], parameters=[ChangesQuery, *PAGE_PARAMETERS], responses=ChangesSerializer)
    def get(self, request: Request) -> Response:
        query = _query(ChangesQuery, request)
        scope = query.scope(request.user)
        since = query.validated_data.get("since") or week_start_of(today())
        paginator = Pagination()
        page = paginator.paginate_queryset(change_events(viewer=request.user, since=since, **scope), request, view=self)
        body = {"since": since, **_page_links(paginator), "rows": change_rows(page)}
        return Response(ChangesSerializer(body).data)
