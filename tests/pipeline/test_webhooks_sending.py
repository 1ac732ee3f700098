"""Sending webhooks (issue 14) against a real HTTP server on 127.0.0.1 (tests/webhook_receiver.py): the signature,
retries with backoff (500 then 200, a timeout, a dead endpoint until the retry window ends), exactly one effect per
send, and the user's request only queuing the delivery."""

import io
import json
import socket
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from pipeline.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from pipeline.services.moves import move_opportunity
from pipeline.services.webhooks import create_endpoint
from pipeline.tasks import sweep_webhook_deliveries
from pipeline.webhooks.sending import backoff, send_delivery
from pipeline.webhooks.signing import signature_header, verify_signature
from tests.celery_process import publishing_to
from tests.factories import OpportunityFactory, default_stage
from tests.webhook_receiver import Answer, Receiver

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 18, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SECRET = "whsec-test-0123456789"
Event = WebhookEndpoint.Event


def webhook(director, url: str, **fields) -> WebhookEndpoint:
    values = {"name": "CRM sync", "kind": "webhook", "url": url, "events": [Event.OPPORTUNITY_STAGE_CHANGED]}
    return create_endpoint(created_by=director, secret=SECRET, **{**values, **fields})


def move_back(owner) -> WebhookDelivery:
    """Moves an opportunity back from needs to prep (always allowed) and returns the one delivery it emitted."""
    opportunity = OpportunityFactory(owner=owner, stage=default_stage("needs"))
    move_opportunity(opportunity=opportunity, to_stage_code="prep", moved_by=owner)
    return WebhookDelivery.objects.get()


def attempts(delivery) -> list[tuple]:
    return list(WebhookAttempt.objects.filter(delivery=delivery).values_list("at", "status_code", "error"))


def dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"  # nothing listens there once the probe is closed


# --- the signature ---------------------------------------------------------------------------------------------------


def test_a_signature_verifies_and_a_tampered_body_an_old_timestamp_or_another_secret_does_not():
    body, now = b'{"event":"test"}', 1_800_000_000
    header = signature_header(SECRET, body, timestamp=now)

    assert header.startswith(f"t={now},v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature(SECRET, header, body, now + 299)
    assert not verify_signature(SECRET, header, b'{"event":"tEst"}', now)
    assert not verify_signature(SECRET, header, body, now + 301)  # a replay after five minutes
    assert not verify_signature("another-secret", header, body, now)
    assert not verify_signature(SECRET, "v1=" + header.split("v1=")[1], body, now)  # no timestamp


# --- 500, then 200 ---------------------------------------------------------------------------------------------------


def test_a_500_is_retried_after_a_minute_and_the_200_delivers_it_once(org, time_machine):
    time_machine.move_to(T0, tick=False)
    with Receiver(answers=[Answer(500), Answer(200)], secret=SECRET) as receiver:
        webhook(org.director, receiver.url)
        delivery = move_back(org.rep_a1)

        assert send_delivery(delivery_id=delivery.pk, now=T0) is False
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
            "pending",
            1,
            T0 + timedelta(minutes=1),
        )
        assert (delivery.last_status_code, delivery.last_error) == (500, 'HTTP 500: {"ok": true}')
        assert send_delivery(delivery_id=delivery.pk, now=T0 + timedelta(seconds=59)) is False  # not due yet

        assert send_delivery(delivery_id=delivery.pk, now=T0 + timedelta(minutes=1)) is True
        assert send_delivery(delivery_id=delivery.pk, now=T0 + timedelta(minutes=5)) is False  # a repeat: no effect

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.delivered_at) == ("delivered", 2, T0 + timedelta(minutes=1))
    assert [(at, code) for at, code, _ in attempts(delivery)] == [(T0, 500), (T0 + timedelta(minutes=1), 200)]
    assert len(receiver.received) == 2
    assert all(request.signature_ok for request in receiver.received)
    assert {request.headers["X-SalesFlow-Delivery"] for request in receiver.received} == {str(delivery.event_id)}
    assert receiver.acted == [str(delivery.event_id)]
    first = receiver.received[0]
    assert first.headers["X-SalesFlow-Event"] == "opportunity.stage_changed"
    assert first.headers["Content-Type"] == "application/json; charset=utf-8"
    assert first.json == delivery.payload
    assert first.json["event_id"] == str(delivery.event_id)


# --- a timeout -------------------------------------------------------------------------------------------------------


def test_an_endpoint_slower_than_the_timeout_is_logged_as_a_timeout_and_retried(org, settings, time_machine):
    settings.SALESFLOW_WEBHOOK_TIMEOUT_SECONDS = 0.5
    time_machine.move_to(T0, tick=False)
    with Receiver(answers=[Answer(200, delay=2)], secret=SECRET) as receiver:
        webhook(org.director, receiver.url)
        delivery = move_back(org.rep_a1)
        started = time.monotonic()

        assert send_delivery(delivery_id=delivery.pk, now=T0) is False

        waited = time.monotonic() - started
    assert 0.5 <= waited < 1.5
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at, delivery.last_status_code) == (
        "pending",
        T0 + timedelta(minutes=1),
        None,
    )
    [(at, code, error)] = attempts(delivery)
    assert (at, code, error) == (T0, None, "timeout after 0.5 s")
    assert 500 <= WebhookAttempt.objects.get().duration_ms < 1500


# --- backoff until the retry window ends -----------------------------------------------------------------------------


def test_backoff_doubles_from_a_minute_up_to_an_hour():
    assert [backoff(n) for n in (1, 2, 3, 6, 7, 8, 30)] == [timedelta(minutes=m) for m in (1, 2, 4, 32, 60, 60, 60)]


def test_a_dead_endpoint_is_tried_on_the_backoff_schedule_and_failed_after_24_hours(org, time_machine):
    time_machine.move_to(T0, tick=False)
    webhook(org.director, dead_url())
    delivery = move_back(org.rep_a1)
    assert delivery.expires_at == T0 + timedelta(hours=24)

    now, tried_at = T0, []
    while (delivery := WebhookDelivery.objects.get(pk=delivery.pk)).status == "pending":
        now = delivery.next_attempt_at
        assert send_delivery(delivery_id=delivery.pk, now=now) is False
        tried_at.append(int((now - T0).total_seconds() // 60))

    # 0, 1, 3, 7, 15, 31, 63 minutes, then hourly up to 1383; the next (1443) would fall after 24 h (1440).
    assert tried_at == [0, 1, 3, 7, 15, 31, 63, *range(123, 1384, 60)]
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 29, None)
    assert delivery.last_error.startswith("connection error:")
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 29
    assert send_delivery(delivery_id=delivery.pk, now=now + timedelta(hours=1)) is False


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_the_task_time_limit(org, settings, time_machine):
    time_machine.move_to(T0, tick=False)
    with Receiver(secret=SECRET) as receiver:
        webhook(org.director, receiver.url)
        delivery = move_back(org.rep_a1)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status="sending", claimed_at=T0)
        limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)

        assert send_delivery(delivery_id=delivery.pk, now=T0 + limit) is False  # the claim may still be live
        assert send_delivery(delivery_id=delivery.pk, now=T0 + limit + timedelta(seconds=1)) is True
    assert len(receiver.received) == 1


# --- only the change's commit sends, and never inside the request -----------------------------------------------------


def test_a_rolled_back_change_emits_nothing(org, django_capture_on_commit_callbacks):
    webhook(org.director, dead_url())
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        move_opportunity(opportunity=opportunity, to_stage_code="prep", moved_by=org.rep_a1)
        raise RuntimeError("the caller's transaction fails after the move")

    assert WebhookDelivery.objects.count() == 0
    assert callbacks == []


def test_the_users_request_only_queues_the_delivery_and_the_sweeper_sends_it(
    org, client, celery_eager, django_capture_on_commit_callbacks
):
    with Receiver(answers=[Answer(200, delay=1)], secret=SECRET) as receiver:
        webhook(org.director, receiver.url)
        opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))
        client.force_login(org.rep_a1)

        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post(
                reverse("pipeline:opportunity_move", args=[opportunity.pk]), {"stage": "prep", "version": 1}
            )
        took = time.monotonic() - started

        assert response.status_code == 302
        assert len(callbacks) == 1  # the publish, run: eagerly it sends nothing
        assert took < 0.9 and receiver.received == []
        assert WebhookDelivery.objects.get().status == "pending"

        assert sweep_webhook_deliveries() == 1  # beat's sweeper (or manage.py send_webhooks) sends it
        assert sweep_webhook_deliveries() == 0

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert len(receiver.received) == 1 and receiver.received[0].signature_ok
    assert json.loads(receiver.received[0].body)["data"]["opportunity"]["id"] == opportunity.pk


def test_a_broker_that_cannot_take_the_task_does_not_fail_the_users_request(
    org, client, django_capture_on_commit_callbacks
):
    webhook(org.director, dead_url())
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))
    client.force_login(org.rep_a1)

    dead_broker = dead_url().replace("http://", "redis://").replace("/hook", "/0")
    with publishing_to(dead_broker, "nowhere"), django_capture_on_commit_callbacks(execute=True):
        started = time.monotonic()
        response = client.post(
            reverse("pipeline:opportunity_move", args=[opportunity.pk]), {"stage": "prep", "version": 1}
        )
        took = time.monotonic() - started

    assert response.status_code == 302 and took < 2
    assert WebhookDelivery.objects.get().status == "pending"  # the sweeper publishes it a minute later


def test_manage_py_send_webhooks_sends_what_is_due_once(org, celery_eager):
    with Receiver(secret=SECRET) as receiver:
        webhook(org.director, receiver.url)
        move_back(org.rep_a1)
        out = io.StringIO()

        call_command("send_webhooks", stdout=out)
        call_command("send_webhooks", stdout=out)

    assert out.getvalue() == "1 due\n0 due\n"
    assert len(receiver.received) == 1 and WebhookDelivery.objects.get().status == "delivered"
