"""Sales targets per user or team and period (SPEC §6)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pipeline.querysets import (
    SalesTargetQuerySet,
)


class SalesTarget(models.Model):
    class PeriodType(models.TextChoices):
        YEAR = "year", _("Year")
        QUARTER = "quarter", _("Quarter")
        MONTH = "month", _("Month")
        WEEK = "week", _("Week")

    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
    )
    owner_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
    )
    period_type = models.CharField(_("period"), max_length=10, choices=PeriodType.choices)
    period_start = models.DateField(_("period start"))
    amount = models.DecimalField(_("target amount (CNY)"), max_digits=14, decimal_places=2)

    objects = SalesTargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        ordering = ["-period_start", "period_type"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="target_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(owner_user__isnull=False, owner_team__isnull=True)
                | Q(owner_user__isnull=True, owner_team__isnull=False),
                name="target_owner_is_user_or_team",
            ),
            models.UniqueConstraint(
                fields=["owner_user", "period_type", "period_start"],
                condition=Q(owner_user__isnull=False),
                name="target_unique_per_user_period",
            ),
            models.UniqueConstraint(
                fields=["owner_team", "period_type", "period_start"],
                condition=Q(owner_team__isnull=False),
                name="target_unique_per_team_period",
            ),
        ]
        indexes = [
            models.Index(fields=["period_type", "period_start"], name="target_period_idx"),
            models.Index(fields=["-period_start", "period_type", "id"], name="target_start_idx"),  # the API's order
        ]

    def __str__(self) -> str:
        return f"{self.owner_user or self.owner_team} {self.get_period_type_display()} {self.period_start}"

    @property
    def owner(self):
        return self.owner_user or self.owner_team

    @property
    def period_end(self) -> date:
        """The first day after the period."""
        from core.calendar import period_end

        return period_end(self.period_type, self.period_start)


class ForecastCall(models.Model):
    """A manager's own call of what a rep will close in a period, kept beside the rep's forecast (issue 13); each
    change is a ForecastCallChange, so the page can show how the call moved."""

    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.PROTECT, related_name="forecast_calls"
    )
    period_type = models.CharField(_("period"), max_length=10, choices=SalesTarget.PeriodType.choices)
    period_start = models.DateField(_("period start"))
    amount = models.DecimalField(_("called amount (CNY)"), max_digits=14, decimal_places=2)
    note = models.TextField(_("note"), blank=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("called by"), on_delete=models.PROTECT, related_name="+"
    )
    called_at = models.DateTimeField(_("called at"), default=timezone.now)

    class Meta:
        verbose_name = _("forecast call")
        verbose_name_plural = _("forecast calls")
        ordering = ["-period_start", "owner_user"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="forecast_call_amount_not_negative"),
            models.UniqueConstraint(
                fields=["owner_user", "period_type", "period_start"], name="forecast_call_unique_per_rep_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_user} {self.get_period_type_display()} {self.period_start}: {self.amount}"
