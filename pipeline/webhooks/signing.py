"""Signatures: ours on every webhook body, and DingTalk's on a robot's URL.

Ours: `X-SalesFlow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. A receiver recomputes the
HMAC over the timestamp, a dot and the raw body bytes with the endpoint's secret, compares it in constant time, and
rejects a timestamp more than SIGNATURE_TOLERANCE_SECONDS away from its clock, so a captured request cannot be
replayed later; within that window it drops a repeated `X-SalesFlow-Delivery` (the event id) it has seen already.
`verify_signature` is that check, for receivers written in Python and for our tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import quote_plus

SIGNATURE_HEADER = "X-SalesFlow-Signature"
EVENT_HEADER = "X-SalesFlow-Event"
DELIVERY_HEADER = "X-SalesFlow-Delivery"
SIGNATURE_TOLERANCE_SECONDS = 5 * 60


def new_secret() -> str:
    """A fresh random secret for an endpoint: 32 bytes, URL-safe text."""
    return secrets.token_urlsafe(32)


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, *, timestamp: int) -> str:
    """The X-SalesFlow-Signature value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, now: float, *, tolerance: int = SIGNATURE_TOLERANCE_SECONDS
) -> bool:
    """Whether `header` signs `body` with `secret` at a timestamp within `tolerance` seconds of `now` (unix time)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), _digest(secret, timestamp, body))


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature: base64(HMAC-SHA256(secret, "<timestamp ms>\\n<secret>")), not yet URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dingtalk_signed_url(url: str, secret: str, *, timestamp_ms: int) -> str:
    """A DingTalk robot's webhook URL with `&timestamp=...&sign=...` added (DingTalk refuses it after an hour)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={quote_plus(dingtalk_sign(secret, timestamp_ms))}"
