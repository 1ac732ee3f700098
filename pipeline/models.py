"""Sales processes, opportunities, visits and targets (SPEC §3–§6)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import VisibleQuerySet
from accounts.visibility import visibility_filter


class BilingualMixin:
    """Picks the `<field>_zh` or `<field>_en` value for the active language."""

    def localized(self, field: str) -> str:
        if get_language() == "en":
            return getattr(self, f"{field}_en") or getattr(self, f"{field}_zh")
        return getattr(self, f"{field}_zh") or getattr(self, f"{field}_en")


class Pipeline(BilingualMixin, models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["-is_default", "code"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="pipeline_one_default"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.localized("name")


class Stage(BilingualMixin, models.Model):
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages")
    order = models.PositiveSmallIntegerField(_("order"))
    code = models.SlugField(_("code"), max_length=40)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    probability = models.PositiveSmallIntegerField(
        _("default win probability (%)"),
        null=True,
        blank=True,
        help_text=_("Empty for a stage after the sale, where the opportunity keeps its probability."),
    )
    buying_stage_zh = models.CharField(_("customer buying stage (Chinese)"), max_length=100, blank=True)
    buying_stage_en = models.CharField(_("customer buying stage (English)"), max_length=100, blank=True)
    guidance_zh = models.TextField(_("guidance (Chinese)"), blank=True)
    guidance_en = models.TextField(_("guidance (English)"), blank=True)
    main_tasks_zh = models.TextField(_("main tasks (Chinese)"), blank=True)
    main_tasks_en = models.TextField(_("main tasks (English)"), blank=True)
    engaged = models.BooleanField(_("customer engaged"), default=False, help_text=_("The customer has been met."))
    is_closing = models.BooleanField(_("closing stage"), default=False)
    is_after_sales = models.BooleanField(_("after-sales stage"), default=False)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "order"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "order"], name="stage_order_unique_in_pipeline"),
            models.UniqueConstraint(fields=["pipeline", "code"], name="stage_code_unique_in_pipeline"),
            models.CheckConstraint(
                condition=Q(probability__isnull=True) | Q(probability__lte=100), name="stage_probability_0_100"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.localized("name")

    @property
    def buying_stage(self) -> str:
        return self.localized("buying_stage")

    @property
    def guidance(self) -> str:
        return self.localized("guidance")

    @property
    def main_tasks(self) -> str:
        return self.localized("main_tasks")


class StageCriterion(BilingualMixin, models.Model):
    """An exit criterion of a stage: automatic (a check in pipeline/criteria.py)

    or manual (a value stored on the opportunity).
    """

    class Kind(models.TextChoices):
        AUTOMATIC = "automatic", _("Automatic")
        MANUAL = "manual", _("Manual")

    class InputType(models.TextChoices):
        CHECKBOX = "checkbox", _("Checkbox")
        TEXT = "text", _("Text")
        DATE = "date", _("Date")

    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="criteria")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    code = models.SlugField(_("code"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    input_type = models.CharField(
        _("input"),
        max_length=10,
        choices=InputType.choices,
        blank=True,
        help_text=_("For a manual criterion: how it is filled in on the opportunity."),
    )
    label_zh = models.CharField(_("Chinese label"), max_length=200)
    label_en = models.CharField(_("English label"), max_length=200)

    class Meta:
        verbose_name = _("exit criterion")
        verbose_name_plural = _("exit criteria")
        ordering = ["stage", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["stage", "code"], name="criterion_code_unique_in_stage"),
            models.CheckConstraint(
                condition=Q(kind="automatic", input_type="") | (Q(kind="manual") & ~Q(input_type="")),
                name="criterion_manual_has_input",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.localized("label")


class OpportunityQuerySet(VisibleQuerySet):
    def open(self) -> OpportunityQuerySet:
        return self.filter(status=Opportunity.Status.OPEN)

    def won(self) -> OpportunityQuerySet:
        return self.filter(status=Opportunity.Status.WON)

    def lost(self) -> OpportunityQuerySet:
        return self.filter(status=Opportunity.Status.LOST)

    def closed_between(self, start, end) -> OpportunityQuerySet:
        return self.filter(closed_at__gte=start, closed_at__lt=end)


class Opportunity(models.Model):
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

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="opportunities"
    )
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities")
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="opportunities"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="opportunities"
    )
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    amount = models.DecimalField(_("amount (CNY)"), max_digits=14, decimal_places=2, default=0)
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), default=0)
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


class StageChangeQuerySet(VisibleQuerySet):
    owner_path = "opportunity__owner"


class StageChange(models.Model):
    """One move of an opportunity between stages; time in stage is read from these rows."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="stage_changes"
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

    objects = StageChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["opportunity", "changed_at", "pk"]
        indexes = [
            models.Index(fields=["opportunity", "changed_at"], name="stagechange_opp_at_idx"),
            models.Index(fields=["changed_at"], name="stagechange_at_idx"),
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
        on_delete=models.CASCADE,
        related_name="reassignments",
    )
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
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


class VisitQuerySet(VisibleQuerySet):
    def done(self) -> VisitQuerySet:
        return self.filter(status=Visit.Status.DONE)

    def planned(self) -> VisitQuerySet:
        return self.filter(status=Visit.Status.PLANNED)


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

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="visits"
    )
    contact = models.ForeignKey(
        "accounts.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="visits"
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
            models.Index(fields=["status", "done_at"], name="visit_status_done_idx"),
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


class WeekCommentQuerySet(VisibleQuerySet):
    owner_path = "rep"


class VisitWeekComment(models.Model):
    """A manager's comment on a rep's week of visits (the C and A of P-D-C-A)."""

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.CASCADE, related_name="week_comments"
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
        indexes = [models.Index(fields=["rep", "week_start"], name="weekcomment_rep_week_idx")]

    def __str__(self) -> str:
        return f"{self.rep} {self.week_start}"


class SalesTargetQuerySet(models.QuerySet):
    def visible_to(self, user) -> SalesTargetQuerySet:
        return self.filter(visibility_filter(user, "owner_user", team_path="owner_team"))


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
        on_delete=models.CASCADE,
        related_name="targets",
    )
    owner_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
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
        indexes = [models.Index(fields=["period_type", "period_start"], name="target_period_idx")]

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
