"""Field-level change history of opportunities and targets (SPEC §1); stage moves also have StageChange rows."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import FieldChange
from pipeline.models.opportunities import Opportunity
from pipeline.models.targets import ForecastCall, SalesTarget


class OpportunityChange(FieldChange):
    """One field of an opportunity changed (amount, stage, status, owner, ...); written by the pipeline services.

    A closed opportunity's amount changed by a director carries the director's reason.
    """

    parent_field = "opportunity"

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.PROTECT, related_name="changes"
    )

    class Meta(FieldChange.Meta):
        verbose_name = _("opportunity change")
        verbose_name_plural = _("opportunity changes")
        indexes = [
            models.Index(fields=["opportunity", "-at", "-id"], name="oppchange_opportunity_at_idx"),
            # What changed since a day (analytics/selectors/changes.py), newest first.
            models.Index(fields=["at"], name="oppchange_at_idx"),
        ]


class TargetChange(FieldChange):
    """One field of a sales target changed; written by the target services."""

    parent_field = "target"

    target = models.ForeignKey(
        SalesTarget, verbose_name=_("sales target"), on_delete=models.PROTECT, related_name="changes"
    )

    class Meta(FieldChange.Meta):
        verbose_name = _("sales target change")
        verbose_name_plural = _("sales target changes")
        indexes = [models.Index(fields=["target", "-at", "-id"], name="targetchange_target_at_idx")]


class ForecastCallChange(FieldChange):
    """One field of a manager's forecast call changed (the first call records its amount and note from nothing)."""

    parent_field = "call"

    call = models.ForeignKey(
        ForecastCall, verbose_name=_("forecast call"), on_delete=models.PROTECT, related_name="changes"
    )

    class Meta(FieldChange.Meta):
        verbose_name = _("forecast call change")
        verbose_name_plural = _("forecast call changes")
        indexes = [models.Index(fields=["call", "-at", "-id"], name="callchange_call_at_idx")]
