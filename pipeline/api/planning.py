"""The `targets` and `stages` resources: what a team aims for, and the stages (with exit criteria) it sells through."""

from __future__ import annotations

from typing import ClassVar

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from accounts.models import Team, User
from core.api import (
    IsDirectorOrReadOnly,
    IsManagerOrDirectorOrReadOnly,
    ModelSerializer,
    PrimaryKeyField,
    SalesFlowViewSet,
    VisibleField,
)
from core.calendar import period_start
from pipeline import filters
from pipeline.api.history import HistoryActionMixin, history_schema
from pipeline.exports import target_table
from pipeline.models import Pipeline, SalesTarget, Stage, StageCriterion, VisitWeekComment
from pipeline.services.planning import comment_on_visit_week
from pipeline.services.targets import create_target, update_target


class ManagedTeamField(PrimaryKeyField):
    """A team whose targets the requesting user may see and set: directors any, managers the teams they manage."""

    default_error_messages = {"does_not_exist": _("There is no team with id {pk_value} that you manage.")}

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Team.objects.none()
        if request.user.is_director:
            return Team.objects.all()
        return Team.objects.filter(manager=request.user.pk)


class SalesTargetSerializer(ModelSerializer):
    owner_user = VisibleField(
        model=User, required=False, allow_null=True, help_text=_("User id, for a user's target (or owner_team).")
    )
    owner_team = ManagedTeamField(
        queryset=Team.objects.all(), required=False, allow_null=True, help_text=_("Team id, for a team's target.")
    )
    period_end = serializers.DateField(read_only=True, help_text=_("The first day after the period."))

    class Meta:
        model = SalesTarget
        fields = ["id", "owner_user", "owner_team", "period_type", "period_start", "period_end", "amount"]
        extra_kwargs = {"amount": {"min_value": 0}}
        # DRF's validators for the conditional unique constraints would make both owners required; the check
        # below and the model's constraints (checked in validate) cover them.
        validators: list = []

    def validate(self, attrs: dict) -> dict:
        user = attrs.get("owner_user", getattr(self.instance, "owner_user", None))
        team = attrs.get("owner_team", getattr(self.instance, "owner_team", None))
        if (user is None) == (team is None):
            raise serializers.ValidationError({"owner_user": [_("Give either a user or a team, not both.")]})
        period_type = attrs.get("period_type", getattr(self.instance, "period_type", None))
        start = attrs.get("period_start", getattr(self.instance, "period_start", None))
        if period_type and start and period_start(period_type, start) != start:
            raise serializers.ValidationError(
                {"period_start": [_("Give the first day of the period (a Monday for a week).")]}
            )
        same = SalesTarget.objects.filter(owner_user=user, owner_team=team, period_type=period_type, period_start=start)
        if self.instance is not None:
            same = same.exclude(pk=self.instance.pk)
        if same.exists():
            raise serializers.ValidationError({"period_start": [_("There is already a target for this period.")]})
        return super().validate(attrs)


class StageCriterionSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True, help_text=_("In your language."))
    input_type = serializers.ChoiceField(
        choices=StageCriterion.InputType.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("How a manual criterion is filled in; empty for an automatic one."),
    )

    class Meta:
        model = StageCriterion
        fields = ["id", "order", "code", "kind", "input_type", "label", "label_zh", "label_en"]
        read_only_fields = fields


class StageSerializer(ModelSerializer):
    pipeline = serializers.SlugRelatedField(
        slug_field="code", queryset=Pipeline.objects.all(), help_text=_("Code of the sales process.")
    )
    name = serializers.CharField(read_only=True, help_text=_("In your language."))
    criteria = StageCriterionSerializer(many=True, read_only=True, help_text=_("Exit criteria, in order."))

    class Meta:
        model = Stage
        fields = [
            "id",
            "pipeline",
            "order",
            "code",
            "name",
            "name_zh",
            "name_en",
            "probability",
            "buying_stage_zh",
            "buying_stage_en",
            "guidance_zh",
            "guidance_en",
            "main_tasks_zh",
            "main_tasks_en",
            "engaged",
            "is_closing",
            "is_after_sales",
            "criteria",
        ]
        extra_kwargs = {"probability": {"max_value": 100}}


@extend_schema_view(
    list=extend_schema(summary="List the sales targets you can see"),
    create=extend_schema(summary="Set a target: directors any, managers their reps' (not their own nor a team's)"),
    retrieve=extend_schema(summary="A sales target"),
    update=extend_schema(summary="Change a target: directors any, managers their reps'"),
    partial_update=extend_schema(summary="Change some fields of a target: directors any, managers their reps'"),
    history=history_schema("targets"),
)
class SalesTargetViewSet(HistoryActionMixin, SalesFlowViewSet):
    """Sales targets of a user or a team per year, quarter, month or week. Directors set every target; a manager
    sets the targets of their own reps, not their own nor their team's (403 with the reason); reps set none. Every
    change is recorded (see history)."""

    serializer_class = SalesTargetSerializer
    export_table = staticmethod(target_table)
    permission_classes = [*SalesFlowViewSet.permission_classes, IsManagerOrDirectorOrReadOnly]
    filterset_class = filters.SalesTargetFilter
    ordering_fields = ["period_start", "period_type", "amount"]
    ordering = ["-period_start", "period_type", "id"]
    search_fields = ["owner_user__username", "owner_team__name"]

    def get_queryset(self):
        return SalesTarget.objects.visible_to(self.request.user)

    def perform_create(self, serializer):
        return create_target(created_by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        return update_target(target=serializer.instance, changed_by=self.request.user, **serializer.validated_data)


@extend_schema_view(
    list=extend_schema(summary="List stages with their exit criteria"),
    create=extend_schema(summary="Add a stage to a sales process (directors)"),
    retrieve=extend_schema(summary="A stage with its exit criteria"),
    update=extend_schema(summary="Change a stage (directors)"),
    partial_update=extend_schema(summary="Change some fields of a stage (directors)"),
)
class StageViewSet(SalesFlowViewSet):
    """Stages of the sales processes with their exit criteria; directors may edit them."""

    serializer_class = StageSerializer
    permission_classes = [*SalesFlowViewSet.permission_classes, IsDirectorOrReadOnly]
    filterset_class = filters.StageFilter
    search_fields = ["code", "name_zh", "name_en"]
    ordering_fields = ["order", "code"]
    ordering = ["pipeline__code", "order"]

    def get_queryset(self):
        return Stage.objects.select_related("pipeline").prefetch_related("criteria")


class WeekCommentSerializer(ModelSerializer):
    rep = VisibleField(model=User, help_text=_("User id of the rep whose week it is."))
    author = serializers.PrimaryKeyRelatedField(read_only=True, help_text=_("User id of who wrote it."))

    class Meta:
        model = VisitWeekComment
        fields = ["id", "rep", "week_start", "author", "text", "created_at"]
        read_only_fields = ["author", "created_at"]

    def validate_week_start(self, value):
        if value.weekday() != 0:
            raise serializers.ValidationError(_("A week starts on a Monday."))
        return value


@extend_schema_view(
    list=extend_schema(summary="List comments on reps' weeks of visits that you can see"),
    create=extend_schema(summary="Comment on a rep's week of visits (the rep's manager or a director)"),
    retrieve=extend_schema(summary="A comment on a rep's week"),
)
class WeekCommentViewSet(SalesFlowViewSet):
    """Managers' comments on a rep's week of visits (the C and A of P-D-C-A); the rep reads them."""

    http_method_names: ClassVar[list[str]] = ["get", "post", "head", "options"]
    serializer_class = WeekCommentSerializer
    filterset_fields = ["rep", "week_start"]
    search_fields = ["text"]
    ordering_fields = ["week_start", "created_at"]
    ordering = ["-week_start", "created_at", "id"]

    def get_queryset(self):
        return VisitWeekComment.objects.visible_to(self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        return comment_on_visit_week(
            rep=data["rep"], week_start=data["week_start"], author=self.request.user, text=data["text"]
        )
