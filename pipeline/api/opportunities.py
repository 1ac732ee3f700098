"""The `opportunities` resource and its actions (move, win, lose, reopen, reassign, criteria), each one service call.

Unmet exit criteria of the current stage are part of every representation, the list included: the list evaluates
them for the whole page at once (`evaluate_current_stage_criteria`, two queries however long the page), a single
opportunity with `evaluate_stage_criteria`, so list and detail show the same thing.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Account, Competitor, User
from core.api import PrimaryKeyField, RefusedFieldsMixin, SalesFlowViewSet, VisibleField
from core.errors import fields_renamed
from pipeline import filters
from pipeline.api.history import HistoryActionMixin, history_schema
from pipeline.criteria import evaluate_current_stage_criteria, evaluate_stage_criteria
from pipeline.exports import opportunity_table
from pipeline.models import Opportunity, Pipeline
from pipeline.services.moves import lose_opportunity, move_opportunity, reopen_opportunity, win_opportunity
from pipeline.services.opportunities import (
    create_opportunity,
    edit_opportunity,
    record_closed_opportunity,
    set_criterion_value,
)

MAX_VERSION = 2**31 - 1


def version_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_VERSION,
        help_text=_(
            "The version you last read. If the opportunity changed since, the request answers 409 and writes "
            "nothing; omit it to apply the change to the current version."
        ),
    )


def amount_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal(0), **kwargs)


class CriterionStatusSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["automatic", "manual"])
    reason = serializers.CharField(help_text=_("Why it is not met, in your language."))


class OpportunitySerializer(serializers.ModelSerializer):
    """An opportunity as the API shows it; `stage`, `furthest_stage` and `pipeline` are codes."""

    pipeline = serializers.SlugRelatedField(slug_field="code", read_only=True)
    stage = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text=_("Code of the current stage."))
    stage_name = serializers.CharField(source="stage.name", read_only=True)
    furthest_stage = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("Code of the furthest stage reached.")
    )
    account_name = serializers.CharField(source="account.name", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    weighted_amount = serializers.DecimalField(max_digits=17, decimal_places=2, read_only=True)
    source = serializers.ChoiceField(choices=Opportunity.Source.choices, allow_blank=True, read_only=True)
    criteria_values = serializers.DictField(
        read_only=True,
        help_text=_("Values of the manual exit criteria by code: true, a text, or a date (YYYY-MM-DD)."),
    )
    loss_reason = serializers.ChoiceField(choices=Opportunity.LossReason.choices, allow_blank=True, read_only=True)
    untouched_cause = serializers.ChoiceField(
        choices=Opportunity.UntouchedCause.choices, allow_blank=True, read_only=True
    )
    unmet_criteria = serializers.SerializerMethodField(
        help_text=_("Exit criteria of the current stage that are not met yet, in the stage's order.")
    )

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "pipeline",
            "stage",
            "stage_name",
            "account",
            "account_name",
            "owner",
            "owner_name",
            "name",
            "status",
            "amount",
            "probability",
            "forecast_category",
            "weighted_amount",
            "expected_close_date",
            "source",
            "competitors",
            "criteria_values",
            "unmet_criteria",
            "created_at",
            "updated_at",
            "stage_entered_at",
            "closed_at",
            "furthest_stage",
            "version",
            "loss_reason",
            "lost_to",
            "loss_note",
            "is_untouched_loss",
            "untouched_cause",
        ]
        read_only_fields = fields

    @extend_schema_field(CriterionStatusSerializer(many=True))
    def get_unmet_criteria(self, opportunity: Opportunity) -> list[dict]:
        by_opportunity = self.context.get("criteria") or {}
        results = by_opportunity.get(opportunity.pk)
        if results is None:
            results = evaluate_stage_criteria(opportunity=opportunity, stage=opportunity.stage)
        return [
            {"code": r.code, "label": str(r.label), "kind": r.kind, "reason": str(r.reason)}
            for r in results
            if not r.met
        ]


REFUSED_ON_UPDATE = {
    "stage": _("The stage changes only through the move action."),
    "status": _("The status changes only through the win, lose and reopen actions."),
    "closed_at": _("The close time is set by the win and lose actions."),
    "furthest_stage": _("The furthest stage is recorded from the stage history."),
    "is_untouched_loss": _("Whether a loss is untouched is computed, never typed."),
    **dict.fromkeys(
        ("loss_reason", "lost_to", "loss_note", "untouched_cause"), _("Loss fields are set by the lose action.")
    ),
    "pipeline": _("An opportunity stays in its sales process."),
    "account": _("An opportunity stays at its account."),
    "criteria_values": _("Criteria values are set one at a time through the criteria action."),
}


# Create input only history (status won or lost) takes, in the order a refusal names them.
HISTORY_ONLY = {
    "closed_at": _("Only a closed opportunity has this value."),
    "loss_reason": _("Only a closed opportunity has this value."),
    "lost_to": _("Only a closed opportunity has this value."),
    "untouched_cause": _("Only a closed opportunity has this value."),
    "created_at": _("Only history can be created in the past."),
}


class OpportunityCreateSerializer(serializers.Serializer):
    """A new opportunity, open by default; history (status won/lost, a past closed_at) as record_closed_opportunity."""

    account = VisibleField(model=Account, help_text=_("Id of an account you can see."))
    name = serializers.CharField(max_length=200)
    amount = amount_field(default=Decimal(0), help_text=_("Amount in CNY."))
    pipeline = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Pipeline.objects.filter(is_active=True),
        required=False,
        help_text=_("Code of the sales process; the default one when omitted."),
    )
    stage = serializers.CharField(
        max_length=40, required=False, help_text=_("Stage code to start at (default: the first stage).")
    )
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    source = serializers.ChoiceField(choices=Opportunity.Source.choices, required=False, allow_blank=True)
    owner = VisibleField(model=User, required=False, help_text=_("User id of the owner; defaults to you."))
    competitors = PrimaryKeyField(
        queryset=Competitor.objects.all(), many=True, required=False, help_text=_("Ids of competitors in play.")
    )
    status = serializers.ChoiceField(
        choices=Opportunity.Status.choices,
        required=False,
        help_text=_("Leave out (open). History, with closed_at: directors won or lost, others a competitor's win."),
    )
    closed_at = serializers.DateTimeField(required=False, help_text=_("History only: when it was won or lost."))
    created_at = serializers.DateTimeField(required=False, help_text=_("History only: when it was created."))
    loss_reason = serializers.ChoiceField(choices=Opportunity.LossReason.choices, required=False, allow_blank=True)
    lost_to = PrimaryKeyField(queryset=Competitor.objects.all(), required=False, allow_null=True)
    untouched_cause = serializers.ChoiceField(
        choices=Opportunity.UntouchedCause.choices, required=False, allow_blank=True
    )

    def validate(self, attrs: dict) -> dict:
        """An open opportunity takes no history field: one sent with a value is refused, an empty one dropped."""
        if attrs.get("status", Opportunity.Status.OPEN) != Opportunity.Status.OPEN:
            return attrs
        if given := next((name for name in HISTORY_ONLY if attrs.get(name)), None):
            raise serializers.ValidationError({given: [HISTORY_ONLY[given]]})
        return {name: value for name, value in attrs.items() if name not in HISTORY_ONLY}


class OpportunityUpdateSerializer(RefusedFieldsMixin, serializers.Serializer):
    """Plain fields of an opportunity; a new owner reassigns it. Stage, status and loss fields have actions."""

    output_serializer_class = OpportunitySerializer

    name = serializers.CharField(max_length=200, required=False)
    amount = amount_field(required=False, help_text=_("Amount in CNY."))
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    source = serializers.ChoiceField(choices=Opportunity.Source.choices, required=False, allow_blank=True)
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False)
    forecast_category = serializers.ChoiceField(choices=Opportunity.ForecastCategory.choices, required=False)
    competitors = PrimaryKeyField(queryset=Competitor.objects.all(), many=True, required=False)
    owner = VisibleField(
        model=User, required=False, help_text=_("A new owner reassigns the opportunity (managers and directors).")
    )
    change_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=_("Why; required (directors only) to change a closed opportunity's amount."),
    )
    version = version_field()

    def refused_fields(self) -> dict[str, str]:
        return REFUSED_ON_UPDATE


class VersionSerializer(serializers.Serializer):
    version = version_field()


class MoveSerializer(VersionSerializer):
    stage = serializers.CharField(max_length=40, help_text=_("Code of the stage to move to."))
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=_("Managers and directors: why unmet exit criteria are overridden (kept with the move)."),
    )


class LoseSerializer(VersionSerializer):
    reason = serializers.ChoiceField(choices=Opportunity.LossReason.choices)
    lost_to = PrimaryKeyField(
        queryset=Competitor.objects.all(), required=False, allow_null=True, help_text=_("Id of the competitor.")
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    untouched_cause = serializers.ChoiceField(
        choices=Opportunity.UntouchedCause.choices,
        required=False,
        allow_blank=True,
        help_text=_("Required when the loss is untouched (lost to a competitor before the customer was engaged)."),
    )


class ReassignSerializer(VersionSerializer):
    owner = VisibleField(model=User, help_text=_("User id of the new owner, from your team."))


class CriterionValueSerializer(VersionSerializer):
    code = serializers.CharField(max_length=60, help_text=_("Code of a manual exit criterion of the pipeline."))
    value = serializers.JSONField(
        allow_null=True,
        help_text=_('true/false for a checkbox, text for a text, YYYY-MM-DD for a date; null or "" clears it.'),
    )


def _example(name: str, value: dict, **kwargs) -> OpenApiExample:
    return OpenApiExample(name, value=value, **kwargs)


def _action_schema(request, summary: str, examples: list[OpenApiExample] = ()):
    return extend_schema(
        summary=summary, request=request, responses={200: OpportunitySerializer}, examples=list(examples)
    )


@extend_schema_view(
    list=extend_schema(summary="List the opportunities you can see, with the unmet exit criteria of their stage"),
    create=extend_schema(
        summary="Create an opportunity (directors may record closed history)",
        request=OpportunityCreateSerializer,
        responses={201: OpportunitySerializer},
        examples=[
            _example(
                "Open opportunity",
                {"account": 1, "name": "Printers for the new plant", "amount": "250000.00", "source": "referral"},
                request_only=True,
            ),
            _example(
                "Back-filled loss (directors)",
                {
                    "account": 1,
                    "name": "2024 tender",
                    "amount": "80000.00",
                    "stage": "needs",
                    "status": "lost",
                    "closed_at": "2024-11-20T10:00:00+08:00",
                    "loss_reason": "price",
                    "lost_to": 1,
                },
                request_only=True,
            ),
        ],
    ),
    retrieve=extend_schema(summary="An opportunity, with the unmet exit criteria of its stage"),
    update=extend_schema(
        summary="Change an opportunity's plain fields (send version for the optimistic lock)",
        request=OpportunityUpdateSerializer,
        responses={200: OpportunitySerializer},
    ),
    partial_update=extend_schema(
        summary="Change some plain fields of an opportunity (send version for the optimistic lock)",
        request=OpportunityUpdateSerializer,
        responses={200: OpportunitySerializer},
        examples=[_example("New amount", {"amount": "300000.00", "version": 3}, request_only=True)],
    ),
    history=history_schema("opportunities"),
)
class OpportunityViewSet(HistoryActionMixin, SalesFlowViewSet):
    """Opportunities (商机) you can see. Stage, status and loss fields change only through the actions;
    `version` is the optimistic lock (409 when stale). Every representation, the list included, carries the
    unmet exit criteria of the current stage; a list evaluates them for the whole page at once."""

    serializer_class = OpportunitySerializer
    export_table = staticmethod(opportunity_table)
    create_serializer_class = OpportunityCreateSerializer
    update_serializer_class = OpportunityUpdateSerializer
    filterset_class = filters.OpportunityFilter
    search_fields = ["name", "account__name"]
    ordering_fields = [
        "created_at",
        "updated_at",
        "amount",
        "probability",
        "expected_close_date",
        "closed_at",
        "stage_entered_at",
        "name",
        "stage__order",
    ]
    ordering = ["-created_at", "-id"]
    versioned = True

    def get_queryset(self):
        return (
            Opportunity.objects.visible_to(self.request.user)
            .select_related("pipeline", "stage", "furthest_stage", "account", "owner")
            .prefetch_related("competitors", "stage__criteria")
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {**self.get_serializer_context(), "criteria": evaluate_current_stage_criteria(opportunities=page)}
        return self.get_paginated_response(OpportunitySerializer(page, many=True, context=context).data)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        status, stage_code = data.pop("status", Opportunity.Status.OPEN), data.pop("stage", None)
        if status == Opportunity.Status.OPEN:
            return create_opportunity(created_by=self.request.user, stage_code=stage_code, **data)
        return record_closed_opportunity(
            created_by=self.request.user,
            status=status,
            stage_code=stage_code,
            closed_at=data.pop("closed_at", None),
            **data,
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        opportunity, owner = serializer.instance, data.pop("owner", None)
        if owner is not None and owner.pk == opportunity.owner_id:
            owner = None  # sending back the current owner (a PUT of what a GET returned) is not a reassignment
        # With no plain field this still checks the version under the same rules.
        return edit_opportunity(
            opportunity=opportunity,
            changed_by=self.request.user,
            owner=owner,
            expected_version=data.pop("version", None),
            **data,
        )

    def run_action(self, serializer_class, service):
        """Validates the body, calls `service(opportunity, user, data)` and answers the opportunity as it is now."""
        opportunity = self.get_object()
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        opportunity = service(opportunity, self.request.user, dict(serializer.validated_data))
        return Response(self.get_output_serializer(self.reload(opportunity)).data)

    @_action_schema(
        MoveSerializer,
        "Move to another stage (forward needs the exit criteria, or a manager's override reason)",
        [
            _example("Move", {"stage": "status", "version": 2}, request_only=True),
            _example(
                "Override (managers and directors)",
                {"stage": "needs", "override_reason": "Customer confirmed by phone; visit report follows."},
                request_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        return self.run_action(
            MoveSerializer,
            lambda o, user, data: move_opportunity(
                opportunity=o,
                to_stage_code=data["stage"],
                moved_by=user,
                override_reason=data.get("override_reason", ""),
                expected_version=data.get("version"),
            ),
        )

    @_action_schema(VersionSerializer, "Win (needs the exit criteria up to the closing stage)")
    @action(detail=True, methods=["post"])
    def win(self, request, pk=None):
        return self.run_action(
            VersionSerializer,
            lambda o, user, data: win_opportunity(opportunity=o, won_by=user, expected_version=data.get("version")),
        )

    @_action_schema(
        LoseSerializer,
        "Lose, with a reason (an untouched loss also needs its cause)",
        [_example("Lost on price", {"reason": "price", "lost_to": 1, "note": "15% cheaper"}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def lose(self, request, pk=None):
        return self.run_action(
            LoseSerializer,
            lambda o, user, data: lose_opportunity(
                opportunity=o,
                lost_by=user,
                reason=data["reason"],
                lost_to=data.get("lost_to"),
                note=data.get("note", ""),
                untouched_cause=data.get("untouched_cause", ""),
                expected_version=data.get("version"),
            ),
        )

    @_action_schema(VersionSerializer, "Reopen a won or lost opportunity (managers and directors)")
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self.run_action(
            VersionSerializer,
            lambda o, user, data: reopen_opportunity(
                opportunity=o, reopened_by=user, expected_version=data.get("version")
            ),
        )

    @_action_schema(
        ReassignSerializer,
        "Give to another owner from your team (managers and directors)",
        [_example("Reassign", {"owner": 7}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        return self.run_action(
            ReassignSerializer,
            lambda o, user, data: edit_opportunity(
                opportunity=o, changed_by=user, owner=data["owner"], expected_version=data.get("version")
            ),
        )

    @_action_schema(
        CriterionValueSerializer,
        "Fill in a manual exit criterion (checkbox, text or date)",
        [
            _example("Checkbox", {"code": "problem_acknowledged", "value": True}, request_only=True),
            _example("Text", {"code": "visit_purpose", "value": "Present the new service plan"}, request_only=True),
        ],
    )
    @action(detail=True, methods=["post"])
    def criteria(self, request, pk=None):
        def set_value(o, user, data):
            with fields_renamed({data["code"]: "value"}):
                return set_criterion_value(
                    opportunity=o,
                    code=data["code"],
                    value=data["value"],
                    changed_by=user,
                    expected_version=data.get("version"),
                )

        return self.run_action(CriterionValueSerializer, set_value)
