"""What the webhook pages and API show a director: the endpoints with their delivery counts, and one endpoint's
deliveries newest first with each one's attempts."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import User
from pipeline.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

DELIVERIES_PER_PAGE = 25
Status = WebhookDelivery.Status


@dataclass(frozen=True)
class EndpointRow:
    endpoint: WebhookEndpoint
    pending: int
    delivered: int
    failed: int


def endpoint_rows(*, viewer: User) -> list[EndpointRow]:
    """Every endpoint the viewer may see (directors: all) by name, with its team and its deliveries counted by
    status; one query."""
    endpoints = (
        WebhookEndpoint.objects.visible_to(viewer)
        .select_related("team")
        .annotate(
            pending=Count("deliveries", filter=Q(deliveries__status__in=[Status.PENDING, Status.SENDING])),
            delivered=Count("deliveries", filter=Q(deliveries__status=Status.DELIVERED)),
            failed=Count("deliveries", filter=Q(deliveries__status=Status.FAILED)),
        )
        .order_by("name", "id")
    )
    return [EndpointRow(e, e.pending, e.delivered, e.failed) for e in endpoints]


def deliveries_of(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first, each with its attempts in the order made (one query for a page's)."""
    attempts = Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("at", "id"))
    return endpoint.deliveries.order_by("-created_at", "-id").prefetch_related(attempts)


def delivery_page(*, endpoint: WebhookEndpoint, page: str | int | None) -> Page:
    """One page of an endpoint's deliveries with their attempts; three queries (count, page, attempts)."""
    return Paginator(deliveries_of(endpoint), DELIVERIES_PER_PAGE).get_page(page)
