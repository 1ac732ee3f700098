"""Snapshot rows of the nightly analytics (SPEC §7), the weekly forecast snapshot (issue 13) and digest deliveries
(SPEC §8)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import AccountRowQuerySet, VisibleQuerySet
from core.indexes import NullsOrderedIndex
from core.models import Delivery


class Quadrant(models.TextChoices):
    CORE = "core", _("Core")
    DEVELOP = "develop", _("Develop")
    MAINTAIN = "maintain", _("Maintain")
    OBSERVE = "observe", _("Observe")


class MatrixRun(models.Model):
    """One computation of the CV/PV matrix of a year: its thresholds and when it ran. Replaced on each run."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    # Empty when the matrix has no account and no fixed threshold is set: there is no median to split at.
    cv_threshold = models.DecimalField(_("CV threshold"), max_digits=16, decimal_places=2, null=True, blank=True)
    pv_threshold = models.DecimalField(_("PV threshold"), max_digits=16, decimal_places=2, null=True, blank=True)
    thresholds_fixed = models.BooleanField(_("fixed thresholds"), default=False)

    class Meta:
        verbose_name = _("CV/PV matrix run")
        verbose_name_plural = _("CV/PV matrix runs")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} @ {self.computed_at:%Y-%m-%d %H:%M}"


class AccountValueQuerySet(AccountRowQuerySet):
    """An account's values are visible with the account."""


class AccountValue(models.Model):
    """An account's CV, PV and quadrant in one year's matrix."""

    class PvSource(models.TextChoices):
        EXPLICIT = "explicit", _("Explicit estimate")
        INSTALLED_BASE = "installed_base", _("Installed base")
        EMPLOYEES = "employees", _("Employees × industry spend")
        CURRENT_VALUE = "current_value", _("Current value (the estimate was lower)")

    class CustomerType(models.TextChoices):
        OURS = "ours", _("Our installed base only")
        COMPETITOR = "competitor", _("Competitors' installed base only")
        MIXED = "mixed", _("Ours and competitors'")
        NONE = "none", _("No installed base")

    # Snapshot rows (here and in the flags below) reference their run, account or opportunity without a database
    # foreign key (db_constraint=False): the nightly job writes them from those very rows in one statement, and a
    # foreign key would check every new row one by one at commit (a lookup and a row lock on the account each), which
    # costs a first run as much again as computing the snapshot. Deleting through Django still cascades to them.
    run = models.ForeignKey(
        MatrixRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="values", db_constraint=False
    )
    # No index of its own: the unique (account, year) constraint's index starts with the account.
    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="values",
        db_index=False,
        db_constraint=False,
    )
    year = models.PositiveSmallIntegerField(_("year"))
    cv = models.DecimalField(_("current value"), max_digits=16, decimal_places=2)
    pv = models.DecimalField(_("potential value"), max_digits=16, decimal_places=2)
    pv_source = models.CharField(_("PV source"), max_length=20, choices=PvSource.choices, blank=True)
    share = models.FloatField(_("share of wallet"), null=True, blank=True)
    quadrant = models.CharField(_("quadrant"), max_length=10, choices=Quadrant.choices)
    customer_type = models.CharField(
        _("customer type"), max_length=10, choices=CustomerType.choices, default=CustomerType.NONE
    )
    # Company-wide visit priority (1 first) in the decks' order; empty for an account outside the visit list.
    priority = models.PositiveIntegerField(_("visit priority"), null=True, blank=True)
    # The run that last changed one of the values above (a run that changes nothing keeps it); MatrixRun.computed_at
    # is when the matrix was last computed.
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    objects = AccountValueQuerySet.as_manager()

    class Meta:
        verbose_name = _("account value")
        verbose_name_plural = _("account values")
        ordering = ["year", "account"]
        constraints = [models.UniqueConstraint(fields=["account", "year"], name="account_value_unique_per_year")]
        indexes = [
            models.Index(fields=["year", "quadrant"], name="acctvalue_year_quadrant_idx"),
            # The matrix's accounts in visit-priority order (NULL last, PostgreSQL's default for ascending keys).
            models.Index(fields=["year", "priority"], name="acctvalue_year_priority_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.year}: {self.quadrant}"


class UntouchedFlagQuerySet(VisibleQuerySet):
    owner_path = "account__owner"


class UntouchedFlag(models.Model):
    """A target account with no completed visit in SALESFLOW_UNTOUCHED_DAYS, as of the last run."""

    account = models.OneToOneField(
        "accounts.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="untouched_flag",
        db_constraint=False,  # a snapshot row, as AccountValue's
    )
    last_visit_at = models.DateTimeField(_("last completed visit"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    objects = UntouchedFlagQuerySet.as_manager()

    class Meta:
        verbose_name = _("untouched target account")
        verbose_name_plural = _("untouched target accounts")
        ordering = ["last_visit_at"]

    def __str__(self) -> str:
        return str(self.account)


class StaleFlagQuerySet(VisibleQuerySet):
    owner_path = "opportunity__owner"


class StaleFlag(models.Model):
    """An open opportunity with no stage change and no completed visit in SALESFLOW_STALE_DAYS, as of the last run."""

    opportunity = models.OneToOneField(
        "pipeline.Opportunity",
        verbose_name=_("opportunity"),
        on_delete=models.CASCADE,
        related_name="stale_flag",
        db_constraint=False,  # a snapshot row, as AccountValue's
    )
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    objects = StaleFlagQuerySet.as_manager()

    class Meta:
        verbose_name = _("stale opportunity")
        verbose_name_plural = _("stale opportunities")
        ordering = ["last_activity_at"]
        # The stale list's order: longest without activity first, never active before all.
        indexes = [
            NullsOrderedIndex(
                F("last_activity_at").asc(nulls_first=True), F("opportunity"), name="staleflag_activity_idx"
            )
        ]

    def __str__(self) -> str:
        return str(self.opportunity)


class JobRun(models.Model):
    """When each nightly job last completed, so pages can say how fresh their numbers are."""

    UNTOUCHED = "flag_untouched"
    STALE = "flag_stale"

    job = models.CharField(_("job"), max_length=50, unique=True)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")

    def __str__(self) -> str:
        return f"{self.job} @ {self.computed_at:%Y-%m-%d %H:%M}"


class RolledMonth(models.Model):
    """A past month of the company summed in the monthly rollups by the nightly job: its closed opportunities (kind
    CLOSED, into ClosedMonthSum) or its completed visits (kind VISITS, into VisitMonthSum).

    Database triggers (PostgreSQL, migration 0010) delete the row in the transaction that inserts, changes or deletes
    a row of that month the sums depend on, so a month is read from its sums only while they are exact; otherwise
    from the rows themselves until the next night."""

    class Kind(models.TextChoices):
        CLOSED = "closed", _("Closed opportunities")
        VISITS = "visits", _("Completed visits")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    month = models.DateField(_("month"))  # its first day, company time
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        verbose_name = _("rolled-up month")
        verbose_name_plural = _("rolled-up months")
        constraints = [models.UniqueConstraint(fields=["kind", "month"], name="rolled_month_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.month:%Y-%m}"


class ClosedMonthSum(models.Model):
    """Won and lost counts and amounts of the company's opportunities closed in a month, per value of one dimension
    (`dimension` names the column that holds the value; the others are empty): what win/loss and a director's activity
    read for the months they cover."""

    month = models.DateField(_("month"))
    dimension = models.CharField(_("dimension"), max_length=20)
    # NULL in the rows of the other dimensions; "" is a value: not recorded.
    loss_reason = models.CharField(max_length=20, null=True)  # noqa: DJ001
    furthest_stage_id = models.IntegerField(null=True)
    untouched_cause = models.CharField(max_length=40, null=True)  # noqa: DJ001
    source = models.CharField(max_length=20, null=True)  # noqa: DJ001
    competitor_id = models.IntegerField(null=True)
    owner_id = models.IntegerField(null=True)
    won = models.IntegerField(_("won"))
    lost = models.IntegerField(_("lost"))
    won_amount = models.DecimalField(_("won (CNY)"), max_digits=18, decimal_places=2)
    lost_amount = models.DecimalField(_("lost (CNY)"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("closed opportunities of a month")
        verbose_name_plural = _("closed opportunities of months")
        indexes = [models.Index(fields=["month", "dimension"], name="closed_month_sum_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.dimension}: {self.won} won, {self.lost} lost"


class VisitMonthSum(models.Model):
    """Completed visits of an owner in a month."""

    month = models.DateField(_("month"))
    owner_id = models.IntegerField()
    done = models.IntegerField(_("completed visits"))

    class Meta:
        verbose_name = _("completed visits of a month")
        verbose_name_plural = _("completed visits of months")
        indexes = [models.Index(fields=["month", "owner_id"], name="visit_month_sum_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} #{self.owner_id}: {self.done}"


class TerritorySnapshot(models.Model):
    """The whole company's territory sums of one dimension on a day, taken by the nightly roll-up: a director's
    territory table that day reads them (as of `computed_at`) instead of summing every account of the company.
    `sums` holds [group key, territory sums] pairs (analytics.territory.TOTALS; money as text). The dimension
    "target_coverage" holds the company's target coverage the same way (one pair with an empty key)."""

    dimension = models.CharField(_("dimension"), max_length=20, unique=True)
    on = models.DateField(_("day"))
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    sums = models.JSONField(_("sums"), default=list)

    class Meta:
        verbose_name = _("territory snapshot")
        verbose_name_plural = _("territory snapshots")

    def __str__(self) -> str:
        return f"{self.dimension} {self.on}"


class JobAttempt(models.Model):
    """One run of a scheduled job, from being queued (or started) to its end, kept for KEEP_DAYS.

    The Jobs page shows them to the director; the catch-up tick (analytics.jobs) enqueues a nightly job again when it
    has no succeeded attempt since it was due. A worker killed mid-run leaves its attempt running; the task's
    redelivery takes the same row over.
    """

    KEEP_DAYS = 30

    class Job(models.TextChoices):
        NIGHTLY_ANALYTICS = "nightly_analytics", _("Nightly analytics (enqueues the jobs below)")
        COMPUTE_MATRIX = "compute_matrix", _("CV/PV matrix")
        FLAG_UNTOUCHED = "flag_untouched", _("Untouched target accounts")
        FLAG_STALE = "flag_stale", _("Stale opportunities")
        WEEKLY_DIGESTS = "weekly_digests", _("Weekly digests (enqueues those due)")
        CATCH_UP = "catch_up", _("Catch-up of missed nightly jobs")
        DAILY_REMINDERS = "daily_reminders", _("Daily reminders (enqueues those due)")
        FORECAST_SNAPSHOT = "forecast_snapshot", _("Weekly forecast snapshot")
        ROLL_UP = "roll_up", _("Company-wide sums (months that are over, territory)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", pgettext_lazy("job run", "Failed")

    job = models.CharField(_("job"), max_length=30, choices=Job.choices)
    key = models.CharField(_("for"), max_length=20, blank=True)  # the year of a matrix; empty for other jobs
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("job attempt")
        verbose_name_plural = _("job attempts")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["job", "key", "created_at"], name="jobattempt_job_key_created_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["succeeded", "failed"]) | Q(finished_at__isnull=False),
                name="jobattempt_finished_has_finished_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job}{f' {self.key}' if self.key else ''} {self.status} @ {self.created_at:%Y-%m-%d %H:%M}"


class ForecastSnapshotQuerySet(VisibleQuerySet):
    owner_path = "owner_user"


class ForecastSnapshot(models.Model):
    """One person's forecast of a period as it stood at the start of a week (Monday 00:00, company time): the current
    month, quarter and year are kept every week, so the forecast page shows how the numbers and the manager's call
    moved over the period. A week's rows are replaced together, so taking the snapshot twice keeps one."""

    taken_on = models.DateField(_("week starting"))
    period_type = models.CharField(_("period"), max_length=10)
    period_start = models.DateField(_("period start"))
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        on_delete=models.CASCADE,
        related_name="forecast_snapshots",
        db_constraint=False,  # a snapshot row, as AccountValue's
    )
    target = models.DecimalField(_("target (CNY)"), max_digits=14, decimal_places=2, null=True, blank=True)
    won = models.DecimalField(_("won (CNY)"), max_digits=14, decimal_places=2)
    commit = models.DecimalField(_("commit (CNY)"), max_digits=14, decimal_places=2)
    best_case = models.DecimalField(_("best case (CNY)"), max_digits=14, decimal_places=2)
    pipeline = models.DecimalField(_("pipeline (CNY)"), max_digits=14, decimal_places=2)
    call = models.DecimalField(_("manager's call (CNY)"), max_digits=14, decimal_places=2, null=True, blank=True)
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now)

    objects = ForecastSnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("forecast snapshot")
        verbose_name_plural = _("forecast snapshots")
        ordering = ["period_type", "period_start", "taken_on", "owner_user"]
        constraints = [
            models.UniqueConstraint(
                fields=["period_type", "period_start", "taken_on", "owner_user"], name="forecast_snapshot_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_user_id} {self.period_type} {self.period_start} @ {self.taken_on}"


class DigestDeliveryQuerySet(VisibleQuerySet):
    owner_path = "user"


class DigestDelivery(Delivery):
    """One weekly digest for one user: sent exactly once per user and week."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="digests"
    )
    week_start = models.DateField(_("week starting"))

    objects = DigestDeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("digest delivery")
        verbose_name_plural = _("digest deliveries")
        ordering = ["-week_start", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "week_start"], name="digest_once_per_user_week"),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="digest_sent_has_sent_at"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.week_start} {self.status}"


class ReminderDeliveryQuerySet(VisibleQuerySet):
    owner_path = "user"


class ReminderDelivery(Delivery):
    """One daily reminder for one user: sent exactly once per user and day (the user's own date)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="reminders"
    )
    day = models.DateField(_("day"))

    objects = ReminderDeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("reminder delivery")
        verbose_name_plural = _("reminder deliveries")
        ordering = ["-day", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="reminder_once_per_user_day"),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="reminder_sent_has_sent_at"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.day} {self.status}"
