"""Exactly-once email: claim a delivery row, send, record the outcome.

Every message that must go out once per key (a user's weekly digest, a user's daily reminder) has a concrete
`core.models.Delivery` row with a unique natural key. `deliver_once` claims it with a compare-and-set whose row count
says who won, so two workers (or a task redelivered after a crash) never both send; a claim older than the task time
limit counts as abandoned and is taken over. A failed send is recorded and re-raised so the task can retry it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.mail import EmailMessage
from django.db.models import F
from django.utils import timezone

from core.models import Delivery

logger = logging.getLogger(__name__)


def deliver_once(*, model: type[Delivery], key: dict[str, Any], build: Callable[[], EmailMessage]) -> bool:
    """Sends the message `build` returns at most once for the delivery `key`; returns True if this call sent it.

    A send that raises leaves the delivery failed with the error (claimable again) and re-raises.
    """
    delivery, _created = model.objects.get_or_create(**key)
    claim = model.objects.filter(pk=delivery.pk).filter(model.claimable())
    if not claim.update(status=Delivery.Status.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1):
        return False  # already sent, or another worker holds a live claim
    try:
        build().send()
    except Exception as error:
        model.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.FAILED, last_error=f"{type(error).__name__}: {error}"[:2000]
        )
        logger.warning("%s %s failed: %s", model.__name__, key, error)
        raise
    model.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SENT, sent_at=timezone.now(), last_error="")
    return True
