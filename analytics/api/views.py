"""Read-only analytics endpoints under /api/v1/analytics/ (SPEC §9): query serializers check the parameters, the
selectors answer, output serializers give the shapes. Same visibility as everywhere: an owner or a team the viewer
cannot see answers 404."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from analytics.models import JobRun
from analytics.selectors._common import job_computed_at, visible_teams
from analytics.selectors.attainment import AttainmentRow, attainment, stability
from analytics.selectors.coverage import target_coverage, untouched_flags, untouched_rows
from analytics.selectors.cvpv import matrix_accounts, matrix_rows, matrix_summary
from analytics.selectors.funnel import funnel_flow, funnel_snapshot
from analytics.selectors.outcomes import win_rate
from analytics.selectors.targets import attainment_owners
from analytics.selectors.territory import TERRITORY_DIMENSIONS, territory_analysis
from core.api import LocalizedViewMixin, Pagination
from core.calendar import today
from pipeline.models import Pipeline, SalesTarget

MONEY = {"max_digits": 20, "decimal_places": 2}
# The list endpoints' `?page=` and `?page_size=` (core.api.Pagination), for an endpoint that pages one of its keys.
PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description=_("A page number within the paginated result set.")),
    OpenApiParameter(
        "page_size", OpenApiTypes.INT, description=_("Number of results to return per page (at most 200).")
    ),
]


# Query parameters -----------------------------------------------------------------------------------------------


class ScopeQuery(serializers.Serializer):
    owner = serializers.IntegerField(required=False, min_value=1, help_text=_("Only this user's records."))
    team = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Only the records of this team's members.")
    )

    def scope(self, viewer: User) -> dict:
        """The owner and team as visible objects; an id the viewer cannot see raises 404."""
        data = self.validated_data
        return {
            "owner": get_object_or_404(User.objects.visible_to(viewer), pk=data["owner"]) if "owner" in data else None,
            "team": get_object_or_404(visible_teams(viewer), pk=data["team"]) if "team" in data else None,
        }


class FunnelQuery(ScopeQuery):
    pipeline = serializers.CharField(
        required=False, help_text=_("Pipeline code or id; the default pipeline when left out.")
    )
    start = serializers.DateField(required=False, help_text=_("First day of the period; 1 January when left out."))
    end = serializers.DateField(required=False, help_text=_("Last day of the period, included; today when left out."))

    def validate_pipeline(self, value: str) -> Pipeline:
        by_key = {"pk": int(value)} if value.isdigit() and int(value) < 2**63 else {"code": value}
        pipeline = Pipeline.objects.filter(**by_key).first()
        if pipeline is None:
            raise serializers.ValidationError(_("No pipeline with this code or id."))
        return pipeline

    def validate(self, attrs: dict) -> dict:
        attrs.setdefault("end", today())
        attrs.setdefault("start", date(attrs["end"].year, 1, 1))
        if attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": _("The end of the period is before its start.")})
        if "pipeline" not in attrs:
            attrs["pipeline"] = Pipeline.objects.filter(is_default=True).first()
        if attrs["pipeline"] is None:
            raise serializers.ValidationError({"pipeline": _("There is no default pipeline; name one.")})
        return attrs


class YearQuery(serializers.Serializer):
    year = serializers.IntegerField(
        required=False, min_value=1900, max_value=2999, help_text=_("Calendar year; this year when left out.")
    )


class CvPvQuery(YearQuery, ScopeQuery):
    pass


class AttainmentQuery(YearQuery, ScopeQuery):
    period_type = serializers.ChoiceField(
        choices=SalesTarget.PeriodType.choices,
        required=False,
        default=SalesTarget.PeriodType.MONTH,
        help_text=_("year, quarter, month or week; month when left out."),
    )


class TerritoryQuery(serializers.Serializer):
    dimension = serializers.ChoiceField(choices=list(TERRITORY_DIMENSIONS))


def _query(serializer_class: type[serializers.Serializer], request: Request) -> serializers.Serializer:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer


# Answers --------------------------------------------------------------------------------------------------------


class FunnelStageSerializer(serializers.Serializer):
    stage = serializers.CharField(help_text=_("Stage code."))
    name = serializers.CharField()
    count = serializers.IntegerField(help_text=_("Open opportunities in the stage now."))
    amount = serializers.DecimalField(**MONEY)
    weighted_amount = serializers.DecimalField(**MONEY, help_text=_("Amount × win probability."))
    reached = serializers.IntegerField(help_text=_("Opportunities created in the period that reached the stage."))
    conversion = serializers.FloatField(
        allow_null=True, help_text=_("Reached this stage ÷ reached the stage before; null for the first stage.")
    )
    median_days = serializers.FloatField(allow_null=True, help_text=_("Median days spent in the stage."))


class FunnelSerializer(serializers.Serializer):
    pipeline = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    stages = FunnelStageSerializer(many=True)
    created = serializers.IntegerField(help_text=_("Opportunities created in the period."))
    won = serializers.IntegerField(help_text=_("Of those created in the period, how many were won."))
    lost = serializers.IntegerField(help_text=_("Of those created in the period, how many were lost."))
    untouched_losses = serializers.IntegerField()
    closed_won = serializers.IntegerField(help_text=_("Opportunities won in the period."))
    closed_lost = serializers.IntegerField(help_text=_("Opportunities lost in the period."))
    win_rate = serializers.FloatField(
        allow_null=True, help_text=_("Won ÷ (won + lost) among those closed in the period.")
    )


class ThresholdsSerializer(serializers.Serializer):
    cv = serializers.DecimalField(**MONEY, allow_null=True)
    pv = serializers.DecimalField(**MONEY, allow_null=True)
    fixed = serializers.BooleanField()


class MatrixAccountSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account_id")
    name = serializers.CharField()
    owner = serializers.IntegerField(source="owner_id")
    customer_type = serializers.CharField()
    cv = serializers.DecimalField(**MONEY)
    pv = serializers.DecimalField(**MONEY)
    pv_source = serializers.CharField(
        help_text=_("explicit, installed_base, employees, or current_value when the estimate was below CV.")
    )
    share = serializers.FloatField(allow_null=True, help_text=_("Share of wallet: CV ÷ PV."))
    quadrant = serializers.CharField()
    previous_quadrant = serializers.CharField(allow_null=True)
    priority = serializers.IntegerField(allow_null=True, help_text=_("Visit priority, 1 first."))


class CvPvSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    computed_at = serializers.DateTimeField(allow_null=True)
    thresholds = ThresholdsSerializer()
    count = serializers.IntegerField(help_text=_("The viewer's accounts in the matrix, on every page."))
    next = serializers.URLField(allow_null=True, help_text=_("The next page of accounts; null on the last page."))
    previous = serializers.URLField(
        allow_null=True, help_text=_("The previous page of accounts; null on the first page.")
    )
    accounts = MatrixAccountSerializer(many=True, help_text=_("One page of accounts, in visit-priority order."))
    transitions = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text=_("Accounts by quadrant last year (outer key) and this year (inner key)."),
    )


class UntouchedAccountSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account_id")
    name = serializers.CharField()
    owner = serializers.IntegerField(source="owner.pk")
    owner_name = serializers.CharField(source="owner.display_name")
    last_visit_at = serializers.DateTimeField(allow_null=True)
    days_since = serializers.IntegerField(allow_null=True, help_text=_("Null: never visited."))
    priority = serializers.IntegerField(allow_null=True)


class PageLinksSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class UntouchedSerializer(PageLinksSerializer):
    computed_at = serializers.DateTimeField(allow_null=True)
    days = serializers.IntegerField()
    coverage = serializers.FloatField(allow_null=True)
    new_target_coverage = serializers.FloatField(allow_null=True)
    coverage_as_of = serializers.DateTimeField(
        allow_null=True,
        help_text=_(
            "When the coverage was counted: the nightly run's time for a director's whole company, null when it was "
            "counted for this request."
        ),
    )
    accounts = UntouchedAccountSerializer(
        many=True, help_text=_("One page of the untouched accounts (`count` in all).")
    )


class AttainmentRowSerializer(serializers.Serializer):
    owner = serializers.IntegerField(source="owner_id")
    owner_type = serializers.ChoiceField(choices=["user", "team"])
    owner_name = serializers.CharField()
    period_start = serializers.DateField()
    target = serializers.DecimalField(**MONEY, allow_null=True)
    won_amount = serializers.DecimalField(**MONEY)
    attainment = serializers.FloatField(allow_null=True)

    def to_representation(self, row: AttainmentRow) -> dict:
        """What the fields above give, without DRF's lookups field by field: a director's page holds some 600 rows,
        and those lookups cost more than the rest of the request's Python together. Amounts go through the money
        field itself, so their text is the field's."""
        money = self.fields["won_amount"]
        return {
            "owner": row.owner_id,
            "owner_type": row.owner_type,
            "owner_name": row.owner_name,
            "period_start": row.period_start.isoformat(),
            "target": None if row.target is None else money.to_representation(row.target),
            "won_amount": money.to_representation(row.won_amount),
            "attainment": row.attainment,
        }


class StabilitySerializer(serializers.Serializer):
    owner = serializers.IntegerField(source="owner.pk")
    owner_name = serializers.CharField(source="owner.display_name")
    months = serializers.IntegerField()
    cv = serializers.FloatField(allow_null=True)
    stable = serializers.BooleanField(allow_null=True)


class AttainmentSerializer(PageLinksSerializer):
    period_type = serializers.CharField()
    year = serializers.IntegerField()
    rows = AttainmentRowSerializer(
        many=True, help_text=_("The rows of one page of owners (`count` owners in all: teams, then people).")
    )
    stability = StabilitySerializer(many=True, help_text=_("The people of the same page."))


class TerritoryRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    accounts = serializers.IntegerField()
    targets = serializers.IntegerField()
    our_units = serializers.IntegerField()
    competitor_units = serializers.IntegerField()
    our_share = serializers.FloatField(allow_null=True)
    cv = serializers.DecimalField(**MONEY)
    pv = serializers.DecimalField(**MONEY)
    open_pipeline = serializers.DecimalField(**MONEY)
    coverage = serializers.FloatField(allow_null=True)
    level = serializers.IntegerField(allow_null=True, required=False)
    parent = serializers.CharField(allow_null=True, required=False)
    industry = serializers.CharField(allow_null=True, required=False)
    size_band = serializers.CharField(allow_null=True, required=False)


class TerritorySerializer(serializers.Serializer):
    dimension = serializers.CharField()
    as_of = serializers.DateTimeField(
        allow_null=True,
        help_text=_(
            "When the sums were taken: the nightly run's time for a director's whole company, null when they were "
            "summed for this request."
        ),
    )
    rows = TerritoryRowSerializer(many=True)


# Views ----------------------------------------------------------------------------------------------------------


class FunnelView(LocalizedViewMixin, APIView):
    """The funnel now (open opportunities per stage) and over a period (reached, conversion, days, outcomes)."""

    @extend_schema(tags=["analytics"], parameters=[FunnelQuery], responses=FunnelSerializer)
    def get(self, request: Request) -> Response:
        query = _query(FunnelQuery, request)
        params = query.validated_data
        scope = query.scope(request.user)
        pipeline, start, end = params["pipeline"], params["start"], params["end"]
        snapshot = funnel_snapshot(viewer=request.user, pipeline=pipeline, **scope)
        flow = funnel_flow(viewer=request.user, pipeline=pipeline, start=start, end=end, **scope)
        rate = win_rate(viewer=request.user, pipeline=pipeline, start=start, end=end, **scope)
        stages = [
            {
                "stage": now.stage.code,
                "name": now.stage.name,
                "count": now.count,
                "amount": now.amount,
                "weighted_amount": now.weighted_amount,
                "reached": period.reached,
                "conversion": period.conversion,
                "median_days": period.median_days,
            }
            for now, period in zip(snapshot, flow.stages, strict=True)
        ]
        body = {
            "pipeline": pipeline.code,
            "start": start,
            "end": end,
            "stages": stages,
            "created": flow.created,
            "won": flow.won,
            "lost": flow.lost,
            "untouched_losses": flow.untouched_losses,
            "closed_won": rate.won,
            "closed_lost": rate.lost,
            "win_rate": rate.rate,
        }
        return Response(FunnelSerializer(body).data)


def _page_links(paginator: Pagination) -> dict:
    return {
        "count": paginator.page.paginator.count,
        "next": paginator.get_next_link(),
        "previous": paginator.get_previous_link(),
    }


class CountedPagination(Pagination):
    """`Pagination` over rows already counted, so paging runs no COUNT query of its own."""

    def __init__(self, known_count: int) -> None:
        self.known_count = known_count

    def django_paginator_class(self, object_list, per_page: int) -> Paginator:
        paginator = Paginator(object_list, per_page)
        paginator.count = self.known_count
        return paginator


class CvPvView(LocalizedViewMixin, APIView):
    """The stored CV/PV matrix of a year: thresholds, year-over-year transitions of all the viewer's accounts, and one
    page of those accounts (`?page=`, `?page_size=`)."""

    @extend_schema(tags=["analytics"], parameters=[CvPvQuery, *PAGE_PARAMETERS], responses=CvPvSerializer)
    def get(self, request: Request) -> Response:
        query = _query(CvPvQuery, request)
        year = query.validated_data.get("year") or today().year
        scope = query.scope(request.user)
        summary = matrix_summary(viewer=request.user, year=year, **scope)
        paginator = CountedPagination(summary.total)
        page = paginator.paginate_queryset(matrix_accounts(viewer=request.user, year=year, **scope), request, view=self)
        body = {
            "year": summary.year,
            "computed_at": summary.computed_at,
            "thresholds": {"cv": summary.cv_threshold, "pv": summary.pv_threshold, "fixed": summary.thresholds_fixed},
            "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "accounts": matrix_rows(page),
            "transitions": summary.transitions,
        }
        return Response(CvPvSerializer(body).data)


class UntouchedView(LocalizedViewMixin, APIView):
    """Target accounts nobody visited lately (as of the last nightly run), with coverage of targets now (for a
    director's whole company, as of the same night: `coverage_as_of`)."""

    @extend_schema(tags=["analytics"], parameters=[ScopeQuery, *PAGE_PARAMETERS], responses=UntouchedSerializer)
    def get(self, request: Request) -> Response:
        scope = _query(ScopeQuery, request).scope(request.user)
        coverage = target_coverage(viewer=request.user, **scope)
        day = today()
        paginator = Pagination()
        page = paginator.paginate_queryset(untouched_flags(viewer=request.user, on=day, **scope), request, view=self)
        body = {
            "computed_at": job_computed_at(JobRun.UNTOUCHED),
            "days": settings.SALESFLOW_UNTOUCHED_DAYS,
            "coverage": coverage.coverage,
            "new_target_coverage": coverage.new_target_coverage,
            "coverage_as_of": coverage.as_of,
            **_page_links(paginator),
            "accounts": untouched_rows(page, on=day),
        }
        return Response(UntouchedSerializer(body).data)


class AttainmentView(LocalizedViewMixin, APIView):
    """Target attainment per owner and period of a year, and each rep's stability over the last 12 months."""

    @extend_schema(tags=["analytics"], parameters=[AttainmentQuery, *PAGE_PARAMETERS], responses=AttainmentSerializer)
    def get(self, request: Request) -> Response:
        query = _query(AttainmentQuery, request)
        scope = query.scope(request.user)
        period_type = query.validated_data["period_type"]
        year = query.validated_data.get("year") or today().year
        viewer = request.user
        paginator = Pagination()
        owners = attainment_owners(viewer=viewer, period_type=period_type, year=year, **scope)
        page = paginator.paginate_queryset(owners, request, view=self)
        user_ids = [owner_id for kind, owner_id, *_rest in page if kind == "user"]
        team_ids = [owner_id for kind, owner_id, *_rest in page if kind == "team"]
        rows = attainment(
            viewer=viewer, period_type=period_type, year=year, user_ids=user_ids, team_ids=team_ids, **scope
        )
        body = {
            "period_type": period_type,
            "year": year,
            **_page_links(paginator),
            "rows": rows,
            "stability": stability(viewer=viewer, user_ids=user_ids, **scope) if user_ids else [],
        }
        return Response(AttainmentSerializer(body).data)


class TerritoryView(LocalizedViewMixin, APIView):
    """One of the five territory tables over the viewer's accounts."""

    @extend_schema(tags=["analytics"], parameters=[TerritoryQuery], responses=TerritorySerializer)
    def get(self, request: Request) -> Response:
        dimension = _query(TerritoryQuery, request).validated_data["dimension"]
        rows = territory_analysis(viewer=request.user, dimension=dimension)
        return Response(TerritorySerializer({"dimension": dimension, "as_of": rows.as_of, "rows": rows}).data)
