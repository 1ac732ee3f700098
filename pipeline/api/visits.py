"""The `visits` resource: plan (status planned) or log (status done) a visit, edit its text, complete or cancel it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Account, Contact, User
from core.api import ModelSerializer, RefusedFieldsMixin, SalesFlowViewSet, VisibleField
from pipeline import filters
from pipeline.exports import visit_table
from pipeline.models import Opportunity, Visit
from pipeline.services.visits import cancel_visit, complete_visit, log_visit, plan_visit, update_visit


def satisfaction_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=0, max_value=10, required=False, allow_null=True, help_text=_("0–10, on follow-ups.")
    )


class VisitSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    stage_when_done = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text=_("Code of the opportunity's stage when the visit was done."),
    )

    class Meta:
        model = Visit
        fields = [
            "id",
            "account",
            "account_name",
            "contact",
            "opportunity",
            "owner",
            "kind",
            "status",
            "planned_at",
            "done_at",
            "purpose",
            "summary",
            "next_step",
            "satisfaction",
            "stage_when_done",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class VisitCreateSerializer(serializers.Serializer):
    """Status planned (default) plans a visit for planned_at; status done logs one done at done_at."""

    account = VisibleField(model=Account, help_text=_("Id of an account you can see."))
    contact = VisibleField(model=Contact, required=False, allow_null=True)
    opportunity = VisibleField(model=Opportunity, required=False, allow_null=True)
    owner = VisibleField(
        model=User,
        required=False,
        help_text=_("User id of who goes (planned) or went (done); defaults to you. Managers and directors only."),
    )
    kind = serializers.ChoiceField(choices=Visit.Kind.choices, default=Visit.Kind.VISIT)
    status = serializers.ChoiceField(
        choices=[(Visit.Status.PLANNED, _("Planned")), (Visit.Status.DONE, _("Done"))], default=Visit.Status.PLANNED
    )
    planned_at = serializers.DateTimeField(required=False, help_text=_("Planned visits: when, today or later."))
    done_at = serializers.DateTimeField(
        required=False,
        help_text=_("Done visits: when (reps up to 30 days back; directors loading history any time in the past)."),
    )
    purpose = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    next_step = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    satisfaction = satisfaction_field()
    next_visit_at = serializers.DateTimeField(required=False, help_text=_("Done visits: plan the next one then."))
    next_visit_purpose = serializers.CharField(required=False, allow_blank=True, max_length=5000)

    DONE_ONLY = ("done_at", "summary", "next_step", "satisfaction", "next_visit_at", "next_visit_purpose")

    def validate(self, attrs: dict) -> dict:
        if attrs["status"] == Visit.Status.PLANNED:
            errors = {name: [_("Only a done visit has this.")] for name in self.DONE_ONLY if name in attrs}
            if "planned_at" not in attrs:
                errors["planned_at"] = [_("Say when the visit is planned.")]
        else:
            errors = {} if "done_at" in attrs else {"done_at": [_("Say when the visit was done.")]}
            if "planned_at" in attrs:
                errors["planned_at"] = [_("A visit logged as done has no planned time.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class VisitUpdateSerializer(RefusedFieldsMixin, ModelSerializer):
    """The text and timing of a visit; its status changes through complete and cancel."""

    output_serializer_class = VisitSerializer
    satisfaction = satisfaction_field()

    class Meta:
        model = Visit
        fields = ["kind", "planned_at", "purpose", "summary", "next_step", "satisfaction"]
        extra_kwargs = {"planned_at": {"allow_null": False}}

    def refused_fields(self) -> dict[str, str]:
        fixed = _("Fixed when the visit is planned or logged.")
        return {
            "account": fixed,
            "contact": fixed,
            "opportunity": fixed,
            "owner": fixed,
            "status": _("The status changes through the complete and cancel actions."),
            "done_at": _("The done time is set when the visit is completed."),
            "stage_when_done": _("Recorded when the visit is completed."),
        }


class CompleteSerializer(serializers.Serializer):
    summary = serializers.CharField(max_length=5000, help_text=_("What came out of the visit."))
    next_step = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    satisfaction = satisfaction_field()
    done_at = serializers.DateTimeField(required=False, help_text=_("When it was done; now when omitted."))
    next_visit_at = serializers.DateTimeField(required=False, help_text=_("Plan the next visit then."))
    next_visit_purpose = serializers.CharField(required=False, allow_blank=True, max_length=5000)


@extend_schema_view(
    list=extend_schema(summary="List the visits you can see"),
    create=extend_schema(
        summary="Plan a visit, or log one already done",
        request=VisitCreateSerializer,
        responses={201: VisitSerializer},
        examples=[
            OpenApiExample(
                "Plan",
                value={"account": 1, "planned_at": "2030-03-02T10:00:00+08:00", "purpose": "Present the offer"},
                request_only=True,
            ),
            OpenApiExample(
                "Log a done visit",
                value={
                    "account": 1,
                    "status": "done",
                    "kind": "demo",
                    "done_at": "2025-03-02T10:00:00+08:00",
                    "summary": "Demo went well",
                },
                request_only=True,
            ),
        ],
    ),
    retrieve=extend_schema(summary="A visit"),
    update=extend_schema(
        summary="Change a visit's kind, timing or text",
        request=VisitUpdateSerializer,
        responses={200: VisitSerializer},
    ),
    partial_update=extend_schema(
        summary="Change some of a visit's kind, timing or text",
        request=VisitUpdateSerializer,
        responses={200: VisitSerializer},
    ),
)
class VisitViewSet(SalesFlowViewSet):
    """Visits (拜访) on the accounts you can see: planned, done or cancelled."""

    serializer_class = VisitSerializer
    export_table = staticmethod(visit_table)
    create_serializer_class = VisitCreateSerializer
    update_serializer_class = VisitUpdateSerializer
    filterset_class = filters.VisitFilter
    search_fields = ["purpose", "summary", "next_step", "account__name"]
    ordering_fields = ["planned_at", "done_at", "created_at", "updated_at", "kind"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return Visit.objects.visible_to(self.request.user).select_related("account", "stage_when_done")

    def reload(self, instance):
        """A visit just planned or logged is answered as the service wrote it (its account, the one it was given, and
        every field set on it), without reading it back through the visibility rule; other answers read it back."""
        if self.action == "create":
            return instance
        return super().reload(instance)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        user = self.request.user
        if data.pop("status") == Visit.Status.DONE:
            return log_visit(logged_by=user, **data)
        return plan_visit(planned_by=user, **data)

    def perform_update(self, serializer):
        return update_visit(visit=serializer.instance, changed_by=self.request.user, **serializer.validated_data)

    @extend_schema(
        summary="Complete a planned visit with its outcome (optionally plan the next one)",
        request=CompleteSerializer,
        responses={200: VisitSerializer},
        examples=[
            OpenApiExample(
                "Complete",
                value={"summary": "Agreed on a demo", "next_step": "Send the agenda", "satisfaction": 8},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        visit = self.get_object()
        serializer = CompleteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        visit = complete_visit(visit=visit, completed_by=request.user, **serializer.validated_data)
        return Response(self.get_output_serializer(self.reload(visit)).data)

    @extend_schema(
        summary="Cancel a planned visit",
        request={"application/json": {"type": "object", "description": "No input: send {} or nothing."}},
        responses={200: VisitSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        visit = cancel_visit(visit=self.get_object(), cancelled_by=request.user)
        return Response(self.get_output_serializer(self.reload(visit)).data)
