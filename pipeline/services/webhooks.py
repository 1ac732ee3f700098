"""Webhook writes: emit an event to the endpoints that want it, post a robot message once per key, register and
change endpoints (directors only), resend a delivery, send a test event. How deliveries are sent: pipeline/webhooks/.

Every delivery is created in the caller's transaction and published to the worker only once it commits
(`transaction.on_commit`), so a rolled-back change sends nothing and no user's request waits for an endpoint.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from celery import current_app
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Team, User
from core.errors import NotVisible, ValidationFailed
from pipeline.models import WebhookDelivery, WebhookEndpoint
from pipeline.webhooks.payloads import iso
from pipeline.webhooks.sending import retry_window
from pipeline.webhooks.signing import new_secret

logger = logging.getLogger(__name__)
Event = WebhookEndpoint.Event
Kind = WebhookEndpoint.Kind
SEND_TASK = "pipeline.tasks.send_webhook_delivery_task"
ROBOT_ONLY_EVENTS = frozenset({Event.DAILY_REMINDER, Event.WEEKLY_SUMMARY})
SUBSCRIBABLE_EVENTS = [event for event in Event.values if event != Event.TEST]


def publish(delivery_ids: list[int]) -> None:
    """Once the current transaction commits, publishes a send task per delivery to the worker. Eagerly (no broker)
    nothing is published: the request must not wait for an endpoint; the sweeper sends it. A publish that fails is
    logged, not raised: the sweeper publishes it within a minute."""

    def send() -> None:
        if current_app.conf.task_always_eager:
            return
        try:
            for delivery_id in delivery_ids:
                current_app.send_task(SEND_TASK, args=[delivery_id], retry=False)
        except Exception:
            # The change has committed: a broker that cannot take the task must not fail the user's request. The
            # deliveries are due, so the sweeper's next minute publishes them.
            logger.exception("Could not publish webhook deliveries %s; the sweeper will", delivery_ids)

    if delivery_ids:
        transaction.on_commit(send)


def _create_deliveries(
    endpoints: list[WebhookEndpoint], *, event: str, payload: dict[str, Any], now: datetime, key: str = ""
) -> list[int]:
    event_id = uuid.UUID(payload["event_id"]) if "event_id" in payload else uuid.uuid4()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint,
            event=event,
            event_id=event_id,
            key=key,
            payload=payload,
            created_at=now,
            next_attempt_at=now,
            expires_at=now + retry_window(),
        )
        for endpoint in endpoints
    )
    ids = [delivery.pk for delivery in deliveries]
    publish(ids)
    return ids


def emit(
    event: str,
    *,
    team_ids: Iterable[int | None] | Callable[[], Iterable[int | None]],
    data: dict[str, Any] | Callable[[], dict[str, Any]],
) -> list[int]:
    """Creates a delivery of `event` for each active endpoint that wants it (company-wide ones, and those bound to one
    of `team_ids`, the teams the event belongs to) in the caller's transaction and publishes them once it commits;
    returns their ids.

    `team_ids` and `data` may be callables, run only when some endpoint wants the event: one query when none does,
    then theirs and one insert.
    """
    endpoints = [endpoint for endpoint in WebhookEndpoint.objects.active() if event in (endpoint.events or [])]
    if endpoints and any(endpoint.team_id is not None for endpoint in endpoints):
        teams = set(team_ids() if callable(team_ids) else team_ids)
        endpoints = [endpoint for endpoint in endpoints if endpoint.team_id is None or endpoint.team_id in teams]
    if not endpoints:
        return []
    now = timezone.now()
    body = {
        "event": event,
        "event_id": str(uuid.uuid4()),
        "occurred_at": iso(now),
        "data": data() if callable(data) else data,
    }
    return _create_deliveries(endpoints, event=event, payload=body, now=now)


@transaction.atomic
def post_robot_message(
    *, event: str, team_id: int, key: str, render: Callable[[str], tuple[str, str]], now: datetime | None = None
) -> list[int]:
    """Queues a markdown message for each active robot bound to `team_id` that subscribes to `event` (a reminder or
    summary), at most once per robot and `key`; `render(language)` gives (title, text). Returns the ids of the
    deliveries this call created; one query when the team has no such robot, two when every robot had it."""
    now = now or timezone.now()
    robots = [
        endpoint
        for endpoint in WebhookEndpoint.objects.active().filter(team_id=team_id, kind__in=[Kind.WECOM, Kind.DINGTALK])
        if event in endpoint.events
    ]
    if not robots:
        return []
    already = set(WebhookDelivery.objects.filter(endpoint__in=robots, key=key).values_list("endpoint_id", flat=True))
    new = [robot for robot in robots if robot.pk not in already]
    ids = []
    for robot in new:  # a team has a robot or two
        title, text = render(robot.language)
        payload = {"event": event, "event_id": str(uuid.uuid4()), "title": title, "text": text}
        # A partial unique constraint on (endpoint, key): a concurrent second post of the same key fails here.
        ids += _create_deliveries([robot], event=event, payload=payload, now=now, key=key)
    return ids


# --- endpoints, as a director registers and changes them -------------------------------------------------------------


def _check_director(user: User) -> None:
    if not user.is_director:
        raise NotVisible()


def _clean_endpoint(fields: dict[str, Any]) -> dict[str, Any]:
    kind = fields.get("kind")
    if kind not in Kind.values:
        raise ValidationFailed(gettext("Choose a kind of endpoint."), field="kind")
    name = (fields.get("name") or "").strip()
    if not name:
        raise ValidationFailed(gettext("Give the endpoint a name."), field="name")
    url = (fields.get("url") or "").strip()
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise ValidationFailed(gettext("Enter the endpoint's full http:// or https:// address."), field="url")
    events = list(dict.fromkeys(fields.get("events") or []))
    if not events:
        raise ValidationFailed(gettext("Choose at least one event."), field="events")
    if unknown := [event for event in events if event not in SUBSCRIBABLE_EVENTS]:
        raise ValidationFailed(gettext("Unknown event: %(event)s.") % {"event": unknown[0]}, field="events")
    team = fields.get("team")
    if ROBOT_ONLY_EVENTS & set(events):
        if kind == Kind.WEBHOOK:
            raise ValidationFailed(gettext("Only a group robot gets reminders and summaries."), field="events")
        if team is None:
            message = gettext("Reminders and summaries go to a team's robot: choose the team.")
            raise ValidationFailed(message, field="team")
    language = fields.get("language") or WebhookEndpoint.Language.ZH_HANS
    if language not in WebhookEndpoint.Language.values:
        raise ValidationFailed(gettext("Choose a language."), field="language")
    if team is not None and not isinstance(team, Team):
        raise ValidationFailed(gettext("Choose a team."), field="team")
    return {
        "name": name[:100],
        "kind": kind,
        "url": url,
        "events": events,
        "team": team,
        "language": language,
        "is_active": bool(fields.get("is_active", True)),
    }


@transaction.atomic
def create_endpoint(*, created_by: User, secret: str = "", **fields: Any) -> WebhookEndpoint:
    """Registers an endpoint (directors only); a webhook without a secret gets a generated one. Writes nothing if it
    raises."""
    _check_director(created_by)
    values = _clean_endpoint(fields)
    secret = (secret or "").strip()
    if not secret and values["kind"] == Kind.WEBHOOK:
        secret = new_secret()
    return WebhookEndpoint.objects.create(created_by=created_by, secret=secret, **values)


@transaction.atomic
def update_endpoint(
    *, endpoint: WebhookEndpoint, changed_by: User, secret: str | None = None, **fields: Any
) -> WebhookEndpoint:
    """Changes an endpoint (directors only); the secret only when a new one is given. Writes nothing if it raises."""
    _check_director(changed_by)
    current = {
        "name": endpoint.name,
        "kind": endpoint.kind,
        "url": endpoint.url,
        "events": endpoint.events,
        "team": endpoint.team,
        "language": endpoint.language,
        "is_active": endpoint.is_active,
    }
    values = _clean_endpoint({**current, **fields})
    if secret and secret.strip():
        values["secret"] = secret.strip()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(**values)
    endpoint.refresh_from_db()
    return endpoint


@transaction.atomic
def delete_endpoint(*, endpoint: WebhookEndpoint, deleted_by: User) -> None:
    """Deletes an endpoint with its delivery log (directors only)."""
    _check_director(deleted_by)
    endpoint.delete()


@transaction.atomic
def resend_delivery(*, delivery: WebhookDelivery, resent_by: User) -> WebhookDelivery:
    """Sends a delivery again (directors only), with the same event id, retried for another retry window; a
    delivery being sent right now is left to finish. Writes nothing if it raises."""
    _check_director(resent_by)
    now = timezone.now()
    updated = WebhookDelivery.objects.filter(pk=delivery.pk).exclude(status=WebhookDelivery.Status.SENDING)
    if updated.update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=now, expires_at=now + retry_window(), delivered_at=None
    ):
        publish([delivery.pk])
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def send_test_event(*, endpoint: WebhookEndpoint, sent_by: User) -> WebhookDelivery:
    """Queues a `test` event to one endpoint (directors only), whatever it subscribes to."""
    _check_director(sent_by)
    now = timezone.now()
    body = {
        "event": Event.TEST,
        "event_id": str(uuid.uuid4()),
        "occurred_at": iso(now),
        "data": {"message": "SalesFlow test event", "sent_by": sent_by.username},
    }
    [delivery_id] = _create_deliveries([endpoint], event=Event.TEST, payload=body, now=now)
    return WebhookDelivery.objects.get(pk=delivery_id)
