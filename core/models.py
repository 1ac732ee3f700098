"""Abstract models every app may build on; core itself stores nothing."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Delivery(models.Model):
    """One message that must go out exactly once (a digest, a reminder): claimed, sent, recorded.

    A concrete delivery adds its natural key (user and week, user and day) as a unique constraint, so a second
    request for the same message finds the same row; `core.mail.deliver_once` does the claiming and recording.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        abstract = True

    @staticmethod
    def claimable() -> Q:
        """Pending or failed, or claimed by a worker that died (a claim older than the task time limit)."""
        stale_claim = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
        return Q(status__in=["pending", "failed"]) | Q(status="sending", claimed_at__lt=stale_claim)
