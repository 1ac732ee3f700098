"""Sending one delivery: claim it, POST it, record the attempt and what comes next (see the package docstring)."""

from __future__ import annotations

import json
import logging
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from pipeline.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from pipeline.webhooks import messages, signing

logger = logging.getLogger(__name__)
Status = WebhookDelivery.Status

FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)
SWEEP_LIMIT = 500  # deliveries one sweep publishes; the next minute's sweep takes the rest
USER_AGENT = "SalesFlow-Webhooks/1"


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try: 1, 2, 4, ... minutes, at most an hour."""
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def retry_window() -> timedelta:
    return timedelta(hours=settings.SALESFLOW_WEBHOOK_RETRY_HOURS)


def claimable(now: datetime) -> Q:
    """Pending and due, or claimed by a worker that died (a claim older than the task time limit)."""
    stale_claim = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(status=Status.SENDING, claimed_at__lt=stale_claim)


def due_deliveries(*, now: datetime) -> list[int]:
    """Ids of the deliveries to send now (see `claimable`), longest waiting first, at most SWEEP_LIMIT; one query."""
    rows = WebhookDelivery.objects.filter(claimable(now)).order_by("next_attempt_at", "pk")
    return list(rows.values_list("pk", flat=True)[:SWEEP_LIMIT])


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return not self.error


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx is an answer (a failure), never a second request elsewhere


_opener = urllib.request.build_opener(_NoRedirects)


def _request(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> urllib.request.Request:
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    url = endpoint.url
    if endpoint.is_robot:
        body = json.dumps(messages.robot_body(endpoint, delivery.event, delivery.payload), ensure_ascii=False)
        if endpoint.kind == WebhookEndpoint.Kind.DINGTALK and endpoint.secret:
            url = signing.dingtalk_signed_url(url, endpoint.secret, timestamp_ms=int(time.time() * 1000))
    else:
        body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"))
        headers[signing.EVENT_HEADER] = delivery.event
        headers[signing.DELIVERY_HEADER] = str(delivery.event_id)
        headers[signing.SIGNATURE_HEADER] = signing.signature_header(
            endpoint.secret, body.encode(), timestamp=int(time.time())
        )
    return urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")


def _robot_error(body: bytes) -> str:
    """A robot answers 200 with {"errcode": N, "errmsg": ...}; anything but errcode 0 is a failure."""
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return "robot answer is not JSON"
    if isinstance(answer, dict) and answer.get("errcode", 0) != 0:
        return f"errcode {answer.get('errcode')}: {answer.get('errmsg', '')}"[:500]
    return ""


def post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> Answer:
    """One POST of the delivery to its endpoint, within SALESFLOW_WEBHOOK_TIMEOUT_SECONDS; never raises."""
    timeout = settings.SALESFLOW_WEBHOOK_TIMEOUT_SECONDS
    started = time.monotonic()

    def answer(code: int | None, error: str) -> Answer:
        return Answer(code, error[:2000], int((time.monotonic() - started) * 1000))

    try:
        request = _request(endpoint, delivery)
        with _opener.open(request, timeout=timeout) as response:
            body = response.read(64 * 1024)
            code = response.status
    except urllib.error.HTTPError as error:
        excerpt = error.read(500).decode("utf-8", "replace") if error.fp else ""
        return answer(error.code, f"HTTP {error.code}: {excerpt}".strip())
    except TimeoutError:
        return answer(None, f"timeout after {timeout} s")
    except urllib.error.URLError as error:
        if isinstance(error.reason, (TimeoutError, socket.timeout)):
            return answer(None, f"timeout after {timeout} s")
        return answer(None, f"connection error: {error.reason}")
    except (OSError, ValueError) as error:
        return answer(None, f"{type(error).__name__}: {error}")
    if not 200 <= code < 300:
        return answer(code, f"HTTP {code}")
    return answer(code, _robot_error(body) if endpoint.is_robot else "")


def send_delivery(*, delivery_id: int, now: datetime | None = None) -> bool:
    """Sends a due delivery once and records the attempt; returns True if this call delivered it.

    Does nothing (False) when the delivery is not due, already delivered or failed, or claimed by a live worker. A
    failed try schedules the next one after `backoff`, or fails the delivery when that would fall after its
    `expires_at`. Safe to repeat and to run concurrently: the claim is a compare-and-set.
    """
    now = now or timezone.now()
    claim = WebhookDelivery.objects.filter(pk=delivery_id).filter(claimable(now))
    if not claim.update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1):
        return False
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    answer = post(endpoint, delivery) if endpoint.is_active else Answer(None, "endpoint switched off", 0)
    WebhookAttempt.objects.create(
        delivery=delivery, at=now, status_code=answer.status_code, error=answer.error, duration_ms=answer.duration_ms
    )
    record = {"last_status_code": answer.status_code, "last_error": answer.error, "claimed_at": None}
    mine = WebhookDelivery.objects.filter(pk=delivery_id, status=Status.SENDING, claimed_at=now)
    if answer.ok:
        mine.update(status=Status.DELIVERED, delivered_at=now, next_attempt_at=None, **record)
        return True
    next_at = now + backoff(delivery.attempts)
    if next_at > delivery.expires_at or not endpoint.is_active:
        mine.update(status=Status.FAILED, next_attempt_at=None, **record)
    else:
        mine.update(status=Status.PENDING, next_attempt_at=next_at, **record)
    logger.info("Webhook delivery %s to %s failed (attempt %s): %s", delivery_id, endpoint, delivery.attempts, answer)
    return False
