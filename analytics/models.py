"""Snapshot rows of the nightly analytics (SPEC §7) and digest deliveries (SPEC §8)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import VisibleQuerySet
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


class AccountValueQuerySet(VisibleQuerySet):
    owner_path = "account__owner"


class AccountValue(models.Model):
    """An account's CV, PV and quadrant in one year's matrix."""

    class PvSource(models.TextChoices):
        EXPLICIT = "explicit", _("Explicit estimate")
        INSTALLED_BASE = "installed_base", _("Installed base")
        EMPLOYEES = "employees", _("Employees × industry spend")

    class CustomerType(models.TextChoices):
        OURS = "ours", _("Our installed base only")
        COMPETITOR = "competitor", _("Competitors' installed base only")
        MIXED = "mixed", _("Ours and competitors'")
        NONE = "none", _("No installed base")

    run = models.ForeignKey(MatrixRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="values")
    # No index of its own: the unique (account, year) constraint's index starts with the account.
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="values", db_index=False
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
        indexes = [models.Index(fields=["year", "quadrant"], name="acctvalue_year_quadrant_idx")]

    def __str__(self) -> str:
        return f"{self.account} {self.year}: {self.quadrant}"


class UntouchedFlagQuerySet(VisibleQuerySet):
    owner_path = "account__owner"


class UntouchedFlag(models.Model):
    """A target account with no completed visit in SALESFLOW_UNTOUCHED_DAYS, as of the last run."""

    account = models.OneToOneField(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="untouched_flag"
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
        "pipeline.Opportunity", verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="stale_flag"
    )
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    objects = StaleFlagQuerySet.as_manager()

    class Meta:
        verbose_name = _("stale opportunity")
        verbose_name_plural = _("stale opportunities")
        ordering = ["last_activity_at"]

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
