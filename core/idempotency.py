"""Requests that run at most once: a client's `Idempotency-Key` (API) or a form's one-time token (pages).

A phone on a bad network retries a POST it never saw answered; the retry must not create a second visit. The first
request with a key runs and its answer is stored with the key, in the same transaction; a retry by the same user
with the same key within SALESFLOW_IDEMPOTENCY_HOURS gets that answer back and runs nothing. A retry with the same
key but another request (method, path or body) is refused: the key was meant for something else. Two requests with
the same key at once are safe: the unique (user, key) makes the second wait for the first (PostgreSQL waits on the
index; SQLite on its write lock), then answer what the first answered.

Only successful answers (below 400) are kept: a refused request changed nothing, so it may be retried with the same
key once the client has fixed it. Expired keys are deleted as new ones are written.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import SalesFlowError, ValidationFailed
from core.models import IdempotencyKey

HEADER = "Idempotency-Key"
# Visible ASCII, as a header carries it; a UUID is the usual choice.
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
# Expired keys deleted per write: enough to keep up with any write rate, never a long delete.
PURGE_BATCH = 200


class InvalidIdempotencyKey(ValidationFailed):
    code = "invalid_idempotency_key"
    field = HEADER
    default_message = _("An Idempotency-Key is 1 to 255 visible ASCII characters, such as a UUID.")


class IdempotencyKeyReused(SalesFlowError):
    """The key was used for another request (another endpoint or another body) within the key's lifetime."""

    status = 422
    code = "idempotency_key_reused"
    default_message = _(
        "This Idempotency-Key was already used for a different request. Send a new key for a new request."
    )


class IdempotencyKeyInUse(SalesFlowError):
    """The first request with this key neither finished nor failed in time; the client should retry later."""

    status = 409
    code = "idempotency_key_in_use"
    default_message = _("A request with this Idempotency-Key is still being processed. Retry in a moment.")


@dataclass(frozen=True)
class Answer:
    """What a request answered: its status and a JSON-ready body; `replayed` when it is a stored answer."""

    status: int
    body: Any
    replayed: bool = False


class _NotKept(Exception):
    """Rolls the key back with a refused answer, which is returned but not stored."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer


class _KeyTaken(Exception):
    """Another request holds, or held, this key."""


def parse_key(value: str) -> str:
    """The key as sent, or InvalidIdempotencyKey (400) when it is not 1–255 visible ASCII characters."""
    if not KEY_PATTERN.match(value or ""):
        raise InvalidIdempotencyKey()
    return value


def fingerprint(*, method: str, path: str, body: Any) -> str:
    """SHA-256 of the request: method, path and body, the body as canonical JSON (key order does not matter)."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def lifetime() -> timedelta:
    return timedelta(hours=settings.SALESFLOW_IDEMPOTENCY_HOURS)


def purge_expired_keys(*, limit: int = PURGE_BATCH) -> int:
    """Deletes up to `limit` keys older than their lifetime, oldest first, in one query; returns how many. Safe to
    run anywhere, any number of times (also as a periodic job)."""
    expired = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - lifetime()).order_by("created_at")
    deleted, _rows = IdempotencyKey.objects.filter(pk__in=expired.values("pk")[:limit]).delete()
    return deleted


def run_once(*, user, key: str, request_fingerprint: str, produce: Callable[[], Answer]) -> Answer:
    """Runs `produce` at most once for (user, key) within the key's lifetime and returns its answer; a retry gets the
    stored answer with `replayed` set (in 2 queries). Raises IdempotencyKeyReused (422) for a key used with another
    fingerprint.

    `produce` runs inside this function's transaction, so what it writes and the stored answer commit together; an
    answer of 400 or more is rolled back (key included) and returned unstored, an exception rolls everything back.
    """
    purge_expired_keys()
    for _attempt in range(3):
        stored = IdempotencyKey.objects.filter(user=user, key=key).first()
        if stored is None:
            try:
                return _claim_and_produce(user=user, key=key, request_fingerprint=request_fingerprint, produce=produce)
            except _NotKept as refused:
                return refused.answer
            except _KeyTaken:
                continue  # a concurrent duplicate claimed it first and has finished: replay its answer
        elif stored.created_at < timezone.now() - lifetime():
            IdempotencyKey.objects.filter(pk=stored.pk, created_at=stored.created_at).delete()
        elif stored.fingerprint != request_fingerprint:
            raise IdempotencyKeyReused()
        elif stored.status_code is not None:
            return Answer(status=stored.status_code, body=json.loads(stored.response_body), replayed=True)
    raise IdempotencyKeyInUse()


@transaction.atomic
def _claim_and_produce(*, user, key: str, request_fingerprint: str, produce: Callable[[], Answer]) -> Answer:
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(user=user, key=key, fingerprint=request_fingerprint)
    except IntegrityError:
        raise _KeyTaken() from None
    answer = produce()
    if answer.status >= 400:
        raise _NotKept(answer)
    IdempotencyKey.objects.filter(pk=record.pk).update(status_code=answer.status, response_body=json.dumps(answer.body))
    return answer
