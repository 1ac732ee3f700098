"""GET /api/v1/analytics/winloss/: why we win and lose, by one dimension, over the opportunities closed in a period."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.api.views import MONEY, ScopeQuery, _query
from analytics.selectors.winloss import WINLOSS_DIMENSIONS, win_loss
from core.api import LocalizedViewMixin
from core.calendar import today


class WinLossQuery(ScopeQuery):
    dimension = serializers.ChoiceField(
        choices=WINLOSS_DIMENSIONS,
        help_text=_(
            "reason (loss reason), competitor (each competitor in play), stage (furthest stage reached), "
            "untouched_cause or source."
        ),
    )
    start = serializers.DateField(required=False, help_text=_("First day of the period; 1 January when left out."))
    end = serializers.DateField(required=False, help_text=_("Last day of the period, included; today when left out."))

    def validate(self, attrs: dict) -> dict:
        attrs.setdefault("end", today())
        attrs.setdefault("start", date(attrs["end"].year, 1, 1))
        if attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": _("The end of the period is before its start.")})
        return attrs


class WinLossRowSerializer(serializers.Serializer):
    key = serializers.CharField(
        allow_null=True, help_text=_("The value (a code; a competitor's id); null for opportunities without one.")
    )
    label = serializers.CharField(help_text=_("The value as shown, in your language."))
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    won_amount = serializers.DecimalField(**MONEY)
    lost_amount = serializers.DecimalField(**MONEY)
    win_rate = serializers.FloatField(allow_null=True, help_text=_("won ÷ (won + lost)."))


class WinLossSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    rows = WinLossRowSerializer(many=True)


class WinLossView(LocalizedViewMixin, APIView):
    """Won and lost counts and amounts per reason, competitor, stage, untouched cause or source, over the
    opportunities the viewer sees closed in the period. A team or owner the viewer cannot see answers 404."""

    @extend_schema(tags=["analytics"], parameters=[WinLossQuery], responses=WinLossSerializer)
    def get(self, request: Request) -> Response:
        query = _query(WinLossQuery, request)
        scope = query.scope(request.user)
        params = query.validated_data
        rows = win_loss(
            viewer=request.user, dimension=params["dimension"], start=params["start"], end=params["end"], **scope
        )
        body = {"dimension": params["dimension"], "start": params["start"], "end": params["end"], "rows": rows}
        return Response(WinLossSerializer(body).data)
