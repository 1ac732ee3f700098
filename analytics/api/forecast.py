"""GET /api/v1/analytics/forecast/: each rep's forecast for a month, quarter or year against their target."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from analytics.api.views import MONEY, PAGE_PARAMETERS, CountedPagination, PageLinksSerializer, ScopeQuery, _query
from analytics.selectors.forecast import (
    FORECAST_PERIOD_TYPES,
    PERIODS_PER_YEAR,
    current_period,
    forecast_owners,
    forecast_period,
    forecast_rows,
    forecast_totals,
)
from core.api import IdempotentPostMixin, LocalizedViewMixin
from core.calendar import today
from pipeline.models import SalesTarget
from pipeline.services.forecast_calls import record_forecast_call


class ForecastQuery(ScopeQuery):
    period_type = serializers.ChoiceField(
        choices=[(value, label) for value, label in SalesTarget.PeriodType.choices if value in FORECAST_PERIOD_TYPES],
        required=False,
        default="quarter",
        help_text=_("month, quarter or year; quarter when left out."),
    )
    year = serializers.IntegerField(
        required=False, min_value=1900, max_value=2999, help_text=_("Calendar year; this year when left out.")
    )
    period = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=12,
        help_text=_("Month 1–12 or quarter 1–4 of the year (1 for a year); the current one when left out."),
    )

    def validate(self, attrs: dict) -> dict:
        period_type, day = attrs["period_type"], today()
        attrs.setdefault("year", day.year)
        attrs.setdefault("period", current_period(period_type, day))
        if attrs["period"] > PERIODS_PER_YEAR[period_type]:
            raise serializers.ValidationError(
                {"period": _("A year has %(count)d such periods.") % {"count": PERIODS_PER_YEAR[period_type]}}
            )
        return attrs


class ForecastNumbersSerializer(serializers.Serializer):
    target = serializers.DecimalField(**MONEY, allow_null=True, help_text=_("The sales target; null when none."))
    won = serializers.DecimalField(**MONEY, help_text=_("Amount won in the period."))
    commit = serializers.DecimalField(
        **MONEY, help_text=_("Open amount in the commit category expected to close in the period.")
    )
    best_case = serializers.DecimalField(
        **MONEY,
        help_text=_(
            "Open amount in the best-case category expected to close in the period; commit is not included "
            "(commit + best_case is the upside)."
        ),
    )
    pipeline = serializers.DecimalField(
        **MONEY, help_text=_("Open amount in the pipeline category expected to close in the period.")
    )
    gap = serializers.DecimalField(
        **MONEY, allow_null=True, help_text=_("max(0, target − won − commit); null without a target.")
    )
    call = serializers.DecimalField(
        **MONEY,
        allow_null=True,
        help_text=_("The manager's call of what will close in the period; null when nobody made one."),
    )


class ForecastRowSerializer(ForecastNumbersSerializer):
    owner = serializers.IntegerField(source="owner_id")
    owner_name = serializers.CharField()


class ForecastSerializer(PageLinksSerializer):
    period_type = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text=_("The last day of the period, included."))
    rows = ForecastRowSerializer(many=True, help_text=_("One page of reps (`count` in all), by username."))
    totals = ForecastNumbersSerializer(
        help_text=_("Over every rep on every page; the gap is that of the summed target, won and commit.")
    )


class ForecastView(LocalizedViewMixin, APIView):
    """Won, commit, best case and pipeline per rep for a period against their target; omitted opportunities count
    nowhere. A team or owner the viewer cannot see answers 404."""

    @extend_schema(tags=["analytics"], parameters=[ForecastQuery, *PAGE_PARAMETERS], responses=ForecastSerializer)
    def get(self, request: Request) -> Response:
        query = _query(ForecastQuery, request)
        scope = query.scope(request.user)
        params = query.validated_data
        period_type = params["period_type"]
        start, end = forecast_period(period_type=period_type, year=params["year"], period=params["period"])
        owners = forecast_owners(viewer=request.user, period_type=period_type, start=start, end=end, **scope)
        totals = forecast_totals(owners)
        paginator = CountedPagination(totals.owners)
        page = paginator.paginate_queryset(owners, request, view=self)
        body = {
            "period_type": period_type,
            "period_start": start,
            "period_end": end,
            "count": totals.owners,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "rows": forecast_rows(page),
            "totals": totals,
        }
        return Response(ForecastSerializer(body).data)


class ForecastCallInput(serializers.Serializer):
    owner = serializers.IntegerField(min_value=1, help_text=_("User id of the rep whose period you call."))
    period_type = serializers.ChoiceField(choices=FORECAST_PERIOD_TYPES, help_text=_("month, quarter or year."))
    year = serializers.IntegerField(min_value=1900, max_value=2999)
    period = serializers.IntegerField(
        min_value=1, max_value=12, help_text=_("Month 1–12 or quarter 1–4 of the year (1 for a year).")
    )
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, help_text=_("Amount in CNY."))
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def validate(self, attrs: dict) -> dict:
        if attrs["period"] > PERIODS_PER_YEAR[attrs["period_type"]]:
            raise serializers.ValidationError(
                {"period": _("A year has %(count)d such periods.") % {"count": PERIODS_PER_YEAR[attrs["period_type"]]}}
            )
        return attrs


class ForecastCallSerializer(serializers.Serializer):
    owner = serializers.IntegerField(source="owner_user_id")
    period_type = serializers.CharField()
    period_start = serializers.DateField()
    amount = serializers.DecimalField(**MONEY)
    note = serializers.CharField()
    called_by = serializers.IntegerField(source="called_by_id")
    called_at = serializers.DateTimeField()


class ForecastCallView(LocalizedViewMixin, IdempotentPostMixin, APIView):
    """A manager's (or director's) own call of what a rep will close in a period, shown beside the rep's forecast;
    sending it again changes it, and every change is kept in its history. A rep you cannot see answers 404."""

    @extend_schema(tags=["analytics"], request=ForecastCallInput, responses=ForecastCallSerializer)
    def post(self, request: Request) -> Response:
        serializer = ForecastCallInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        owner = get_object_or_404(User.objects.visible_to(request.user), pk=data["owner"])
        start, _end = forecast_period(period_type=data["period_type"], year=data["year"], period=data["period"])
        call = record_forecast_call(
            called_by=request.user,
            owner=owner,
            period_type=data["period_type"],
            period_start=start,
            amount=data["amount"],
            note=data.get("note", ""),
        )
        return Response(ForecastCallSerializer(call).data)
