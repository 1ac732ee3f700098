"""The `webhooks` resource (directors only; everyone else 404): endpoints and group robots, their deliveries with
each attempt, resending a delivery and sending a test event. The secret is write-only."""

from __future__ import annotations

from typing import ClassVar

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.models import Team
from core.api import ModelSerializer, Pagination, PrimaryKeyField, SalesFlowViewSet, parse_pk
from pipeline.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from pipeline.selectors.webhooks import deliveries_of
from pipeline.services.webhooks import (
    SUBSCRIBABLE_EVENTS,
    create_endpoint,
    delete_endpoint,
    resend_delivery,
    send_test_event,
    update_endpoint,
)


class WebhookEndpointSerializer(ModelSerializer):
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_("Write-only. Webhooks: empty on creation generates one (read it from the page once); robots: "
                    "DingTalk's signing secret. Left out of an update, the current secret stays."),
    )  # fmt: skip
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS),
        help_text=_("Events sent to the endpoint; reminder.daily and summary.weekly for a team's robot only."),
    )
    team = PrimaryKeyField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Team id: only that team's events (and its reminders and summary); null: the whole company's."),
    )
    has_secret = serializers.SerializerMethodField(help_text=_("Whether a secret is set."))

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id", "name", "kind", "url", "secret", "has_secret", "events", "team", "language", "is_active",
            "created_by", "created_at",
        ]  # fmt: skip
        read_only_fields = ["created_by", "created_at"]

    check_constraints = False  # the service checks the rules

    def get_has_secret(self, endpoint: WebhookEndpoint) -> bool:
        return bool(endpoint.secret)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["at", "status_code", "error", "duration_ms"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True, help_text=_("Each try, oldest first."))

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "event", "event_id", "status", "attempts", "created_at", "next_attempt_at", "expires_at",
            "delivered_at", "last_status_code", "last_error", "payload", "attempt_log",
        ]  # fmt: skip
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="List webhook endpoints and group robots (directors)"),
    create=extend_schema(summary="Register a webhook endpoint or group robot (directors)"),
    retrieve=extend_schema(summary="A webhook endpoint"),
    update=extend_schema(summary="Change a webhook endpoint (directors)"),
    partial_update=extend_schema(summary="Change some fields of a webhook endpoint (directors)"),
    destroy=extend_schema(summary="Delete a webhook endpoint with its delivery log (directors)"),
)
class WebhookEndpointViewSet(mixins.DestroyModelMixin, SalesFlowViewSet):
    """Outgoing webhooks and WeCom / DingTalk robots: see the README's "Webhooks" section for the signature and
    retries. Directors only: for anyone else every URL here answers 404."""

    http_method_names: ClassVar[list[str]] = ["get", "post", "put", "patch", "delete", "head", "options"]
    serializer_class = WebhookEndpointSerializer
    filter_backends = ()
    ordering = ["name", "id"]

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if not request.user.is_director:
            raise NotFound()

    def get_queryset(self):
        return WebhookEndpoint.objects.visible_to(self.request.user).order_by("name", "id")

    def perform_create(self, serializer):
        return create_endpoint(created_by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        return update_endpoint(endpoint=serializer.instance, changed_by=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        delete_endpoint(endpoint=instance, deleted_by=self.request.user)

    @extend_schema(summary="The endpoint's deliveries, newest first, each with its attempts", request=None,
                   responses=WebhookDeliverySerializer(many=True))  # fmt: skip
    @action(detail=True, methods=["get"], pagination_class=Pagination)
    def deliveries(self, request, pk=None):
        page = self.paginate_queryset(deliveries_of(self.get_object()))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Send a delivery again, with the same event id",
        request=None,
        responses=WebhookDeliverySerializer,
        parameters=[OpenApiParameter("delivery_pk", int, OpenApiParameter.PATH, description="Delivery id.")],
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_pk>[^/.]+)/resend")
    def resend(self, request, pk=None, delivery_pk=None):
        endpoint = self.get_object()
        if parse_pk(delivery_pk) is None:
            raise NotFound()
        delivery = get_object_or_404(WebhookDelivery, endpoint=endpoint, pk=parse_pk(delivery_pk))
        delivery = resend_delivery(delivery=delivery, resent_by=request.user)
        return Response(WebhookDeliverySerializer(deliveries_of(endpoint).get(pk=delivery.pk)).data)

    @extend_schema(summary="Send a test event to the endpoint", request=None, responses=WebhookDeliverySerializer)
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        endpoint = self.get_object()
        delivery = send_test_event(endpoint=endpoint, sent_by=request.user)
        return Response(
            WebhookDeliverySerializer(deliveries_of(endpoint).get(pk=delivery.pk)).data, status=status.HTTP_201_CREATED
        )
