"""Outgoing webhooks and group robots (issue 14): endpoints a director registers, one delivery per event and
endpoint, and each attempt to send it. How they are sent: pipeline/webhooks/ (see its package docstring)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WebhookEndpointQuerySet(models.QuerySet):
    def visible_to(self, user) -> WebhookEndpointQuerySet:
        """Directors see every endpoint; nobody else any."""
        return self if getattr(user, "is_director", False) else self.none()

    def active(self) -> WebhookEndpointQuerySet:
        return self.filter(is_active=True)


class WebhookEndpoint(models.Model):
    """Where events go: a URL of the customer's own (signed JSON) or a WeCom / DingTalk group robot (markdown)."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", _("Webhook (signed JSON)")
        WECOM = "wecom", _("WeCom group robot")
        DINGTALK = "dingtalk", _("DingTalk group robot")

    class Event(models.TextChoices):
        OPPORTUNITY_CREATED = "opportunity.created", _("Opportunity created")
        OPPORTUNITY_STAGE_CHANGED = "opportunity.stage_changed", _("Opportunity changed stage")
        OPPORTUNITY_WON = "opportunity.won", _("Opportunity won")
        OPPORTUNITY_LOST = "opportunity.lost", _("Opportunity lost")
        VISIT_DONE = "visit.done", _("Visit done")
        ACCOUNT_REASSIGNED = "account.reassigned", _("Account reassigned")
        # Robots only, and only bound to a team: its members' daily reminders and its manager's weekly summary.
        DAILY_REMINDER = "reminder.daily", _("Daily reminders (robots)")
        WEEKLY_SUMMARY = "summary.weekly", _("Weekly summary (robots)")
        TEST = "test", _("Test event")

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", "简体中文"
        EN = "en", "English"

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.WEBHOOK)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("secret"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list, blank=True)
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="webhook_endpoints",
        help_text=_("Only this team's events, reminders and summary; empty: the whole company's events."),
    )
    language = models.CharField(_("language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["name", "id"], name="webhookendpoint_name_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_robot(self) -> bool:
        return self.kind in (self.Kind.WECOM, self.Kind.DINGTALK)

    def wants(self, event: str, team_id: int | None) -> bool:
        """Whether an event of `team_id`'s (None: no team) goes to this endpoint; a test event always does."""
        if event == self.Event.TEST:
            return True
        return event in self.events and (self.team_id is None or self.team_id == team_id)


class WebhookDelivery(models.Model):
    """One event (or robot message) for one endpoint: sent until delivered, retried with backoff until it expires.

    `key` makes a message exactly-once per endpoint (a user's reminder of a day, a team's summary of a week);
    events leave it empty. `event_id` is what a receiver keys its own idempotency on: retries and resends keep it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    # CASCADE: a delivery log means nothing without its endpoint.
    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(_("event"), max_length=40)
    event_id = models.UUIDField(_("event ID"), default=uuid.uuid4)
    key = models.CharField(_("key"), max_length=100, blank=True)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("retried until"))
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "key"], condition=~Q(key=""), name="webhookdelivery_unique_key_per_endpoint"
            ),
        ]
        indexes = [
            # The deliveries page and API list an endpoint's deliveries newest first.
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhookdelivery_endpoint_idx"),
            # The sweeper: pending deliveries that are due, and claims left by a dead worker.
            models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id}"


class WebhookAttempt(models.Model):
    """One try at sending a delivery: when, the answer's status code (none on a timeout or connection error), the
    error, and how long it took."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["delivery", "at", "id"]
        indexes = [models.Index(fields=["delivery", "at", "id"], name="webhookattempt_delivery_idx")]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
