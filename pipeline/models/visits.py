"""Visits and a manager's comments on a rep's week of them (SPEC §5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.indexes import NullsOrderedIndex
from pipeline.models.opportunities import Opportunity
from pipeline.models.process import Stage
from pipeline.querysets import (
    VisitQuerySet,
    WeekCommentQuerySet,
)


class Visit(models.Model):
    class Kind(models.TextChoices):
        VISIT = "visit", _("Visit")
        PHONE = "phone", _("Phone call")
        EMAIL = "email", _("Email")
        DEMO = "demo", _("Demo")
        PROPOSAL = "proposal", _("Proposal")
        DELIVERY = "delivery", _("Delivery")
        FOLLOW_UP = "follow_up", _("Follow-up")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    account = models.ForeignKey(  # indexed by visit_account_owner_idx and visit_account_status_done_idx
        "accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="visits", db_index=False
    )
    contact = models.ForeignKey(
        "accounts.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    opportunity = models.ForeignKey(  # indexed by visit_opp_status_idx (opportunity_id, status)
        Opportunity,
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
        db_index=False,
    )
    owner = models.ForeignKey(  # indexed by visit_owner_account_idx and visit_owner_status_planned_idx
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="visits",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.VISIT)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    planned_at = models.DateTimeField(_("planned for"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    purpose = models.TextField(_("purpose"), blank=True)
    summary = models.TextField(_("summary / outcome"), blank=True)
    next_step = models.TextField(_("next step"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (0–10)"), null=True, blank=True)
    stage_when_done = models.ForeignKey(
        Stage,
        verbose_name=_("opportunity stage when done"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-planned_at", "-done_at"]
        indexes = [
            models.Index(fields=["account", "status", "done_at"], name="visit_account_status_done_idx"),
            models.Index(fields=["owner", "status", "planned_at"], name="visit_owner_status_planned_idx"),
            models.Index(fields=["opportunity", "status"], name="visit_opp_status_idx"),
            # Completed visits of a period (recent activity, visits per rep), counted by owner from the index alone.
            models.Index(
                fields=["done_at"], include=["owner", "id"], condition=Q(status="done"), name="visit_done_owner_idx"
            ),
            # The same for a few owners (a manager's team, a rep), whatever the size of the company.
            models.Index(
                fields=["owner", "done_at"], include=["id"], condition=Q(status="done"), name="visit_owner_done_idx"
            ),
            # The visit list's order (`-when`, pipeline/selectors/visits.py) and the API's.
            NullsOrderedIndex(
                Coalesce("done_at", "planned_at").desc(nulls_last=True), F("id").desc(), name="visit_when_idx"
            ),
            models.Index(fields=["-created_at", "-id"], name="visit_created_idx"),
            # The visibility rule's lists (accounts/visibility.py), read from the index alone.
            models.Index(fields=["account", "owner"], name="visit_account_owner_idx"),
            models.Index(fields=["owner", "account"], name="visit_owner_account_idx"),
            # The to-do's overdue visits and due follow-ups (and the calendar feed): planned visits by time, a small
            # part of the table.
            models.Index(
                fields=["owner", "planned_at"], condition=Q(status="planned"), name="visit_planned_owner_at_idx"
            ),
            models.Index(fields=["planned_at"], condition=Q(status="planned"), name="visit_planned_at_idx"),
            # A week's plan adherence per person (planned visits by status), from the index alone.
            models.Index(fields=["planned_at"], include=["owner", "status", "id"], name="visit_planned_week_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__lte=10), name="visit_satisfaction_0_10"
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(done_at__isnull=False), name="visit_done_has_done_at"
            ),
            models.CheckConstraint(
                condition=~Q(status="planned") | Q(planned_at__isnull=False, done_at__isnull=True),
                name="visit_planned_has_planned_at",
            ),
        ]

    def __str__(self) -> str:
        when = self.done_at or self.planned_at
        return f"{self.account} · {self.get_kind_display()} · {when:%Y-%m-%d}" if when else str(self.account)

    def get_absolute_url(self) -> str:
        return reverse("pipeline:visit", args=[self.pk])


class VisitWeekComment(models.Model):
    """A manager's comment on a rep's week of visits (the C and A of P-D-C-A)."""

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.PROTECT, related_name="week_comments"
    )
    week_start = models.DateField(_("week starting"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = WeekCommentQuerySet.as_manager()

    class Meta:
        verbose_name = _("week comment")
        verbose_name_plural = _("week comments")
        ordering = ["rep", "-week_start", "created_at"]
        indexes = [
            models.Index(fields=["rep", "week_start"], name="weekcomment_rep_week_idx"),
            models.Index(fields=["-week_start", "created_at", "id"], name="weekcomment_week_idx"),  # the API's order
        ]

    def __str__(self) -> str:
        return f"{self.rep} {self.week_start}"
