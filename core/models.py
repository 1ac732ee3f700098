"""Abstract models every app may build on; core itself stores nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

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


class FieldChange(models.Model):
    """One field of one record changed: who, when, which field, from what to what (SPEC §1 change history).

    A concrete history table adds the foreign key to its parent, names it in `parent_field`, and indexes
    (parent, -at, -id). Services write these rows through `core.history.record_changes`, in the transaction of the
    change; values are stored as `core.history.stored_value` makes them (ids with a label, ISO dates, decimals as
    strings), so they read the same whatever becomes of the rows they name.
    """

    parent_field: ClassVar[str] = ""

    at = models.DateTimeField(_("changed at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    field = models.CharField(_("field"), max_length=100)
    old = models.JSONField(_("old value"), null=True, blank=True)
    new = models.JSONField(_("new value"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        abstract = True
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.field}: {self.old!r} → {self.new!r}"


class ArchivableQuerySet(models.QuerySet):
    """Rows that are archived, never deleted: kept for history and analytics, hidden from lists, pickers and choices.

    Lists, pickers and form choices start from `.active()`; history, analytics and a record's own page do not.
    """

    def active(self) -> ArchivableQuerySet:
        return self.filter(archived_at__isnull=True)

    def archived(self) -> ArchivableQuerySet:
        return self.filter(archived_at__isnull=False)


class Archivable(models.Model):
    """A record that is archived instead of deleted (teams, accounts, contacts): when and by whom. A concrete model's
    Meta extends `Archivable.Meta` (its constraints included); its QuerySet extends ArchivableQuerySet."""

    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, editable=False)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("archived by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(archived_at__isnull=False) | Q(archived_by__isnull=True),
                name="%(class)s_archived_by_only_when_archived",
            ),
        ]


class IdempotencyKey(models.Model):
    """A POST that ran once for a user and the key the client sent with it, and the answer it gave.

    A retry with the same key within SALESFLOW_IDEMPOTENCY_HOURS gets that answer again instead of running twice
    (`core.idempotency.run_once`). The row is written in the transaction of the request it guards, so a committed
    row always holds its answer, and the unique (user, key) makes a concurrent duplicate wait for the first.
    """

    # CASCADE: a cache of answers, with no business meaning of its own.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    fingerprint = models.CharField(
        _("request fingerprint"), max_length=64, help_text=_("SHA-256 of method, path and body.")
    )
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    # JSON text exactly as answered: a replay sends the same bytes (PostgreSQL's jsonb would reorder the keys).
    response_body = models.TextField(_("response body"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key}"


class ExportRecord(models.Model):
    """One export a user downloaded (issue 14): what, in which format, with which filters and how many rows.

    Written when the export's last row is written; a CSV download broken off is recorded with the rows sent and
    `is_complete` off."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    # PROTECT: users are deactivated, not deleted, and who took the data out must stay known.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="exports"
    )
    what = models.CharField(_("what was exported"), max_length=50)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    encoding = models.CharField(_("encoding"), max_length=10, blank=True)
    row_count = models.PositiveIntegerField(_("rows"))
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    is_complete = models.BooleanField(_("complete"), default=True)
    created_at = models.DateTimeField(_("exported at"), default=timezone.now)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="export_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.what} ({self.format}, {self.row_count})"
