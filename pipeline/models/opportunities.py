"""Opportunities and their history: stage changes and reassignments (SPEC §4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.indexes import ComputedKeyIndex, TrigramIndex
from pipeline.models.process import ForecastCategory, Pipeline, Stage
from pipeline.querysets import (
    OpportunityQuerySet,
    StageChangeQuerySet,
)


class Opportunity(models.Model):
    ForecastCategory = ForecastCategory

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    class Source(models.TextChoices):
        WARM = "warm", _("Warm contact")
        REFERRAL = "referral", _("Referral")
        COLD_VISIT = "cold_visit", _("Cold visit")
        TARGET_MARKET = "target_market", _("Target market")
        GROUP = "group", _("Group / association")
        INBOUND = "inbound", _("Inbound call or visit")
        EVENT = "event", _("Event / trade show")
        EXISTING_CUSTOMER = "existing_customer", _("Existing customer")
        OTHER = "other", _("Other")

    class LossReason(models.TextChoices):
        PRICE = "price", _("Price")
        PRODUCT_FIT = "product_fit", _("Product fit")
        RELATIONSHIP = "relationship", _("Relationship")
        TIMING = "timing", _("Timing")
        BUDGET = "budget", _("Budget")
        NO_DECISION = "no_decision", _("No decision")
        OTHER = "other", _("Other")

    class UntouchedCause(models.TextChoices):
        NO_PLAN = "no_plan", _("No visit plan")
        THOUGHT_UNNEEDED = "thought_unneeded", _("Thought a visit was not needed")
        VISITED_BEFORE = "visited_before", _("Visited before, did not bother")
        NO_MOTIVATION = "no_motivation", _("Not in the mood to visit")
        COMPETITOR_RELATIONSHIP = "competitor_relationship", _("Competitor has a good relationship")
        NOTICED_LATE = "noticed_late", _("Noticed, but too late")
        REJECTED_NOT_REVISITED = "rejected_not_revisited", _("Rejected, never visited again")
        WRONG_DEPARTMENT = "wrong_department", _("Visited the wrong department")
        MISSED_TIMING = "missed_timing", _("Thought there was no chance now and missed it")
        PLAN_NOT_EXECUTED = "plan_not_executed", _("Planned, but the plan was not carried out")

    pipeline = models.ForeignKey(  # indexed by opp_pipeline_status_stage_idx (pipeline_id, status, stage_id)
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="opportunities", db_index=False
    )
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities")
    account = models.ForeignKey(  # indexed by opp_account_status_idx (account_id, status)
        "accounts.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="opportunities",
        db_index=False,
    )
    owner = models.ForeignKey(  # indexed by opp_owner_account_idx and opp_owner_status_stage_idx
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="opportunities",
        db_index=False,
    )
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    amount = models.DecimalField(_("amount (CNY)"), max_digits=14, decimal_places=2, default=0)
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), default=0)
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=10,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
        db_default=ForecastCategory.PIPELINE,
        help_text=_("The stage's default until the owner changes it; a stage change resets it."),
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    competitors = models.ManyToManyField(
        "accounts.Competitor", verbose_name=_("competitors in play"), blank=True, related_name="opportunities"
    )
    criteria_values = models.JSONField(
        _("manual criteria values"),
        default=dict,
        blank=True,
        help_text=_("Values of the manual exit criteria, by criterion code."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    stage_entered_at = models.DateTimeField(_("stage entered at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    furthest_stage = models.ForeignKey(
        Stage, verbose_name=_("furthest stage reached"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    loss_reason = models.CharField(_("loss reason"), max_length=20, choices=LossReason.choices, blank=True)
    lost_to = models.ForeignKey(
        "accounts.Competitor",
        verbose_name=_("lost to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities_won",
    )
    loss_note = models.TextField(_("loss note"), blank=True)
    is_untouched_loss = models.BooleanField(_("untouched loss"), default=False, editable=False)
    untouched_cause = models.CharField(
        _("untouched-loss cause"), max_length=30, choices=UntouchedCause.choices, blank=True
    )

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "status", "stage"], name="opp_owner_status_stage_idx"),
            models.Index(fields=["account", "status"], name="opp_account_status_idx"),
            models.Index(fields=["status", "closed_at"], name="opp_status_closed_idx"),
            models.Index(fields=["pipeline", "status", "stage"], name="opp_pipeline_status_stage_idx"),
            models.Index(fields=["created_at"], name="opp_created_idx"),
            # An opportunity's owner from the index alone: a period's stage changes join their opportunities' owners
            # (and teams) row by row instead of reading every opportunity.
            models.Index(fields=["id"], include=["owner"], name="opp_id_owner_idx"),
            # The open funnel by owner and stage (sums of amount and weighted amount), from the index alone.
            models.Index(
                fields=["pipeline", "owner", "stage"],
                include=["id", "amount", "probability"],
                condition=Q(status="open"),
                name="opp_open_funnel_idx",
            ),
            # A board column's cards: an open stage's opportunities, largest first (read backwards), a few per stage.
            models.Index(
                fields=["stage", "amount", "id"], condition=Q(status="open"), name="opp_open_stage_amount_idx"
            ),
            # The funnel flow's outcomes of the opportunities created in a period, from the index alone.
            models.Index(
                fields=["pipeline", "created_at"],
                include=["id", "owner", "furthest_stage", "status", "is_untouched_loss"],
                name="opp_created_outcomes_idx",
            ),
            # The opportunities closed in a period: the latest first (the digest's list), counted by status and owner
            # (win rate, outcomes) and summed by each win/loss dimension, from the index alone. Open ones have no
            # closed_at and sit at its end.
            models.Index(
                fields=["closed_at", "id"],
                include=[
                    "pipeline",
                    "owner",
                    "status",
                    "is_untouched_loss",
                    "amount",
                    "furthest_stage",
                    "loss_reason",
                    "untouched_cause",
                    "source",
                ],
                name="opp_closed_idx",
            ),
            # A scope's (a manager's team, a rep) opportunities created in a period: the flow's outcomes, and the
            # ids its stays are reached from, from the index alone, whatever the size of the company.
            models.Index(
                fields=["owner", "pipeline", "created_at"],
                include=["id", "furthest_stage", "status", "is_untouched_loss"],
                name="opp_owner_created_outcomes_idx",
            ),
            # The same for a few owners (a manager's team, a rep): their closed opportunities of a period, not the
            # whole company's, from the index alone (also a scope's win rate, and the won amounts per owner and
            # period of attainment, stability and the targets pivot).
            models.Index(
                fields=["owner", "closed_at"],
                include=[
                    "id",
                    "pipeline",
                    "status",
                    "is_untouched_loss",
                    "amount",
                    "furthest_stage",
                    "loss_reason",
                    "untouched_cause",
                    "source",
                ],
                condition=Q(closed_at__isnull=False),
                name="opp_owner_closed_idx",
            ),
            # The visibility rule's list of accounts with an opportunity of the visible owners, from the index alone.
            models.Index(fields=["owner", "account"], name="opp_owner_account_idx"),
            # The to-do's open opportunities past their expected close date, most overdue first.
            models.Index(
                fields=["owner", "expected_close_date"], condition=Q(status="open"), name="opp_open_owner_close_idx"
            ),
            models.Index(fields=["expected_close_date"], condition=Q(status="open"), name="opp_open_close_idx"),
            # The open pipeline per account (territory analysis), a director's from the whole index, anyone else's
            # by owner: from the index alone, never the opportunities' pages.
            models.Index(
                fields=["owner", "account"],
                include=["amount"],
                condition=Q(status="open"),
                name="opp_open_owner_account_idx",
            ),
            # Search: `icontains` on the name (see core.indexes.TrigramIndex).
            TrigramIndex(Upper("name"), name="opp_name_trgm_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_not_negative"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="opportunity_probability_0_100"),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True) | (~Q(status="open") & Q(closed_at__isnull=False)),
                name="opportunity_closed_at_iff_closed",
            ),
            models.CheckConstraint(
                condition=Q(status="lost") & ~Q(loss_reason="") | ~Q(status="lost") & Q(loss_reason=""),
                name="opportunity_loss_reason_iff_lost",
            ),
            models.CheckConstraint(
                condition=Q(status="lost") | Q(lost_to__isnull=True, is_untouched_loss=False, untouched_cause=""),
                name="opportunity_loss_fields_only_when_lost",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("pipeline:opportunity", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def weighted_amount(self):
        return self.amount * self.probability / 100


class StageChange(models.Model):
    """One move of an opportunity between stages; time in stage is read from these rows."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.PROTECT, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        Stage, verbose_name=_("from stage"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, verbose_name=_("to stage"), on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    override_reason = models.TextField(_("override reason"), blank=True)
    is_backfill = models.BooleanField(_("back-filled history"), default=False)
    # The stay this change ended, and the opportunity's facts that never change, written once with the row
    # (pipeline/services/stage_changes.py), so the funnel's median days read one index range of the period.
    entered_at = models.DateTimeField(
        _("stage entered at"), help_text=_("When the stay this change ended began: the change before, or creation.")
    )
    opportunity_created_at = models.DateTimeField(_("opportunity created at"))
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+", db_index=False
    )

    objects = StageChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["opportunity", "changed_at", "pk"]
        indexes = [
            # An opportunity's history in order; with the stay's columns, a scope's stays come from the index alone.
            models.Index(
                fields=["opportunity", "changed_at"],
                include=["from_stage", "entered_at"],
                name="stagechange_opp_stays_idx",
            ),
            # A period's changes newest first, and counted as moves (new, forward, back) from the index alone.
            models.Index(
                fields=["changed_at", "id"],
                include=["opportunity", "from_stage", "to_stage"],
                name="stagechange_at_moves_idx",
            ),
            # The whole company's stays of opportunities created in a period, stage by stage, from the index alone.
            models.Index(
                fields=["pipeline", "from_stage", "opportunity_created_at"],
                include=["entered_at", "changed_at"],
                condition=Q(from_stage__isnull=False),
                name="stagechange_stays_idx",
            ),
            # The same stays stage by stage in order of length (the stays a median reads, as
            # analytics.selectors.funnel._measured keeps them): the middle of a stage is reached by walking the
            # index, without sorting the stage's stays.
            ComputedKeyIndex(
                "pipeline",
                "from_stage",
                F("changed_at") - F("entered_at"),
                include=["opportunity_created_at", "entered_at", "changed_at"],
                condition=Q(from_stage__isnull=False, changed_at__gte=F("entered_at")),
                name="stagechange_stay_length_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity}: {self.from_stage} → {self.to_stage}"


class Reassignment(models.Model):
    """A record that an account or an opportunity passed from one rep to another."""

    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reassignments",
    )
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reassignments",
    )
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("from"), on_delete=models.PROTECT, related_name="+"
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+"
    )
    reassigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reassigned by"), on_delete=models.PROTECT, related_name="+"
    )
    reassigned_at = models.DateTimeField(_("reassigned at"), default=timezone.now)

    class Meta:
        verbose_name = _("reassignment")
        verbose_name_plural = _("reassignments")
        ordering = ["-reassigned_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False, opportunity__isnull=True)
                | Q(account__isnull=True, opportunity__isnull=False),
                name="reassignment_of_an_account_or_an_opportunity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account or self.opportunity}: {self.from_owner} → {self.to_owner}"
