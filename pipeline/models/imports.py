"""Imports from the browser and the API (issue 14): the uploaded file, its dry run and the run that writes it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import VisibleQuerySet


class ImportJobQuerySet(VisibleQuerySet):
    """Seen by the user who uploaded it, their manager's side and directors (the one visibility rule)."""

    owner_path = "uploaded_by"

    def claimable(self, *, stale_before) -> ImportJobQuerySet:
        """Jobs a worker may start: queued, or running under a claim older than the task time limit (its worker
        died; its transaction rolled back, so nothing of it was written)."""
        return self.filter(
            Q(status=ImportJob.Status.QUEUED) | Q(status=ImportJob.Status.RUNNING, started_at__lt=stale_before)
        )


class ImportJob(models.Model):
    """One uploaded file of one kind, from its dry run to the report of the run that wrote it (all or nothing).

    The file is kept in the row (at most settings.IMPORT_MAX_BYTES), so any worker can read it. `errors` holds the
    first MAX_ERRORS refusals of the dry run or the run (`error_count` all of them); `rows_done` is the progress of a
    run as last saved (while it runs, the cache holds the live count: pipeline/services/imports.py).
    """

    MAX_ERRORS = 200

    class Kind(models.TextChoices):
        ACCOUNTS = "accounts", _("Accounts")
        CONTACTS = "contacts", _("Contacts")
        INSTALLED_BASE = "installed_base", _("Installed base")
        ACCOUNT_YEARS = "account_years", _("Yearly figures")
        TARGETS = "targets", _("Targets")

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        CHECKED = "checked", _("Checked")
        REJECTED = "rejected", _("Rejected")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    content = models.BinaryField(_("file"), editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="import_jobs"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    reassigned_count = models.PositiveIntegerField(_("reassigned"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["uploaded_by", "-created_at", "-id"], name="importjob_uploader_idx"),
            models.Index(fields=["-created_at", "-id"], name="importjob_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.file_name}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("pipeline:import_job", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.REJECTED, self.Status.DONE, self.Status.FAILED)
