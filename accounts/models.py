"""Users, teams, territory and customers (SPEC §1–§2)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.history import AccountChange  # noqa: F401  (registered with this app; services write its rows)
from accounts.names import PinyinNamed
from accounts.tokens import ApiToken  # noqa: F401  (registered with this app; its services live beside it)
from accounts.visibility import (
    VIEWER_SHAPE,
    account_row_visibility_filter,
    account_visibility_filter,
    as_boolean,
    team_visibility_filter,
    visibility_filter,
)
from core.indexes import TrigramIndex
from core.models import Archivable, ArchivableQuerySet


class VisibleQuerySet(models.QuerySet):
    """A QuerySet whose rows belong to an owner; `owner_path` names the lookup to the owning user.

    `of_visible_owners(user)` are the rows owned by the user's visible owners (themself; a manager's team; for a
    director everyone): what they may change (`editable_by`) and what per-person figures count. `visible_to(user)` is
    what they may see: the same rows, except for models whose visibility reaches beyond their owner's side (accounts
    and their rows, visits), seen read-only there.
    """

    owner_path = "owner"
    viewer_shape = VIEWER_SHAPE  # the fields of a viewer `visible_to` reads besides their keys (core.statements)

    def visible_to(self, user) -> VisibleQuerySet:
        return self.filter(visibility_filter(user, self.owner_path))

    def of_visible_owners(self, user) -> VisibleQuerySet:
        return self.filter(visibility_filter(user, self.owner_path))

    def editable_by(self, user) -> VisibleQuerySet:
        return self.of_visible_owners(user)

    def annotate_is_editable(self, user) -> VisibleQuerySet:
        """Adds `is_editable`, whether `user` may change the row (as `editable_by` decides), in the same query."""
        return self.annotate(is_editable=as_boolean(visibility_filter(user, self.owner_path)))


class TeamQuerySet(ArchivableQuerySet):
    def visible_to(self, user) -> TeamQuerySet:
        return self.filter(team_visibility_filter(user))


class Team(Archivable):
    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        "accounts.User",
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="managed_teams",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = TeamQuerySet.as_manager()

    class Meta(Archivable.Meta):
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserQuerySet(VisibleQuerySet):
    owner_path = ""  # a user is visible as the owner of their own records


class SalesFlowUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


def display_name(username: str, first_name: str, last_name: str) -> str:
    """How a user is named on every page: family name then given name, as in Chinese, else the username; for rows read
    with values() as much as for a User."""
    full = f"{last_name}{first_name}".strip()
    return full or username


class User(AbstractUser):
    class Role(models.TextChoices):
        REP = "rep", _("Sales rep")
        MANAGER = "manager", _("Sales manager")
        DIRECTOR = "director", _("Sales director")

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", "简体中文"
        EN = "en", "English"

    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.REP)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    language = models.CharField(_("language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    digest_opt_out = models.BooleanField(_("opted out of the weekly digest"), default=False)
    reminder_opt_out = models.BooleanField(_("opted out of the daily reminder"), default=False)
    # The secret of the user's calendar feed URL (/calendar/<token>.ics); empty until first shown, replaced on request.
    calendar_token = models.CharField(_("calendar feed token"), max_length=64, unique=True, null=True, blank=True)

    objects = SalesFlowUserManager()

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return display_name(self.username, self.first_name, self.last_name)

    @property
    def is_rep(self) -> bool:
        return self.role == self.Role.REP

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER

    @property
    def is_director(self) -> bool:
        return self.role == self.Role.DIRECTOR

    @property
    def can_override_exit_criteria(self) -> bool:
        return self.role in (self.Role.MANAGER, self.Role.DIRECTOR)


class Region(models.Model):
    class Level(models.IntegerChoices):
        AREA = 1, _("Area")
        PROVINCE = 2, _("Province / city")
        DISTRICT = 3, _("District")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # The company's region order (the decks' 地域-1 → 地域-2 → 地域-3), lower first; regions of equal order follow
    # their code. Visit priority within a group and the territory views list regions in this order.
    sort_order = models.PositiveIntegerField(
        _("sort order"), default=0, help_text=_("Position in the company's region order: lower comes first.")
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["sort_order", "code"]
        indexes = [models.Index(fields=["sort_order", "code"], name="region_sort_order_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=3), name="region_level_1_to_3"),
            models.CheckConstraint(
                condition=Q(level=1, parent__isnull=True) | Q(level__gt=1, parent__isnull=False),
                name="region_parent_iff_below_top",
            ),
        ]

    def __str__(self) -> str:
        return self.localized_name

    @property
    def localized_name(self) -> str:
        return self.name_en if get_language() == "en" and self.name_en else self.name


class Industry(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    spend_per_employee = models.DecimalField(
        _("spend per employee (CNY/year)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Used to estimate potential value; empty means the company default."),
    )

    class Meta:
        verbose_name = _("industry")
        verbose_name_plural = _("industries")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(spend_per_employee__isnull=True) | Q(spend_per_employee__gte=0),
                name="industry_spend_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name_en if get_language() == "en" and self.name_en else self.name

    @property
    def effective_spend_per_employee(self):
        if self.spend_per_employee is not None:
            return self.spend_per_employee
        return settings.SALESFLOW_SPEND_PER_EMPLOYEE


class Competitor(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name_en if get_language() == "en" and self.name_en else self.name


class AccountQuerySet(ArchivableQuerySet, VisibleQuerySet):
    def visible_to(self, user) -> AccountQuerySet:
        return self.filter(account_visibility_filter(user))

    def targets(self) -> AccountQuerySet:
        return self.filter(is_target=True)


SIZE_BANDS: list[tuple[int, str]] = [(1000, "1000+"), (300, "300-999"), (100, "100-299"), (50, "50-99"), (0, "1-49")]


def size_band_for(employee_count: int | None) -> str:
    """The size band of SPEC §2 for an employee count; empty when unknown."""
    if employee_count is None:
        return ""
    return next(band for floor, band in SIZE_BANDS if employee_count >= floor)


class Account(PinyinNamed, Archivable):
    class SizeBand(models.TextChoices):
        XS = "1-49", "1-49"
        S = "50-99", "50-99"
        M = "100-299", "100-299"
        L = "300-999", "300-999"
        XL = "1000+", "1000+"

    name = models.CharField(_("name"), max_length=200)
    industry = models.ForeignKey(
        Industry, verbose_name=_("industry"), null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    employee_count = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    region = models.ForeignKey(  # indexed by account_region_idx (Meta)
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
        db_index=False,
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    owner = models.ForeignKey(  # indexed by account_owner_target_idx (owner_id, is_target)
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="accounts",
        db_index=False,
    )
    is_target = models.BooleanField(_("target account"), default=False)
    target_since = models.DateField(_("target since"), null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("headquarters"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="branches",
    )
    is_headquarters = models.BooleanField(
        _("headquarters"), default=False, help_text=_("Set for an account with branches or flagged as HQ.")
    )
    external_key = models.CharField(_("external key"), max_length=100, null=True, blank=True, unique=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = AccountQuerySet.as_manager()

    class Meta(Archivable.Meta):
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["owner", "is_target"], name="account_owner_target_idx"),
            models.Index(fields=["is_target", "target_since"], name="account_target_since_idx"),
            models.Index(fields=["region"], name="account_region_idx"),
            # The account list's and API's order; also the order of contacts, installed base and figures by account.
            models.Index(fields=["name", "id"], name="account_name_idx"),
            # Search (`icontains` compares UPPER(name)) and its pinyin columns; see core.indexes.TrigramIndex.
            TrigramIndex(Upper("name"), name="account_name_trgm_idx"),
            TrigramIndex(fields=["name_pinyin", "name_initials"], name="account_pinyin_trgm_idx"),
        ]
        constraints = [
            *Archivable.Meta.constraints,
            models.CheckConstraint(
                condition=Q(is_target=True) | Q(target_since__isnull=True), name="account_target_since_only_for_targets"
            ),
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="account_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("accounts:detail", args=[self.pk])

    @property
    def size_band(self) -> str:
        return size_band_for(self.employee_count)


class AccountRowQuerySet(VisibleQuerySet):
    """Rows that belong to an account are visible with the account, and changed by the account owner's side."""

    owner_path = "account__owner"

    def visible_to(self, user) -> AccountRowQuerySet:
        return self.filter(account_row_visibility_filter(user))


class ContactQuerySet(AccountRowQuerySet):
    """Contacts are archived, never deleted; a contact of an archived account counts as archived too."""

    def active(self) -> ContactQuerySet:
        return self.filter(archived_at__isnull=True, account__archived_at__isnull=True)

    def archived(self) -> ContactQuerySet:
        return self.filter(Q(archived_at__isnull=False) | Q(account__archived_at__isnull=False))


class Contact(PinyinNamed, Archivable):
    class BuyingRole(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Decision maker")
        INFLUENCER = "influencer", _("Influencer")
        USER = "user", _("User")
        GATEKEEPER = "gatekeeper", _("Gatekeeper")

    class CommunicationStyle(models.TextChoices):
        DOMINANT = "dominant", _("Dominant")
        ANALYTICAL = "analytical", _("Analytical")
        SOCIAL = "social", _("Social")

    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="contacts")
    name = models.CharField(_("full name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    buying_role = models.CharField(_("buying role"), max_length=20, choices=BuyingRole.choices, blank=True)
    communication_style = models.CharField(
        _("communication style"), max_length=20, choices=CommunicationStyle.choices, blank=True
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # The contact's key in the system it is imported from: a re-import finds it again by account and this key. NULL,
    # not "", for none, as Account.external_key: the unique constraint leaves contacts without a key alone.
    external_key = models.CharField(_("external key"), max_length=100, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = ContactQuerySet.as_manager()

    class Meta(Archivable.Meta):
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["account", "name"]
        indexes = [
            models.Index(fields=["account", "buying_role"], name="contact_account_role_idx"),
            TrigramIndex(Upper("name"), name="contact_name_trgm_idx"),
            TrigramIndex(fields=["name_pinyin", "name_initials"], name="contact_pinyin_trgm_idx"),
        ]
        constraints = [
            *Archivable.Meta.constraints,
            models.UniqueConstraint(
                fields=["account", "external_key"],
                condition=Q(external_key__isnull=False),
                name="contact_external_key_unique_per_account",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InstalledBase(models.Model):
    """Machines/products in field (MIF) at an account: ours, or a competitor's."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="installed_base"
    )
    is_ours = models.BooleanField(_("ours"), default=False)
    competitor = models.ForeignKey(
        Competitor,
        verbose_name=_("competitor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="installed_base",
    )
    product = models.CharField(_("product / category"), max_length=100)
    units = models.PositiveIntegerField(_("units"))
    year = models.PositiveSmallIntegerField(_("year installed"), null=True, blank=True)

    objects = AccountRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("installed base")
        verbose_name_plural = _("installed base")
        ordering = ["account", "-is_ours", "competitor"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_ours=True, competitor__isnull=True) | Q(is_ours=False, competitor__isnull=False),
                name="installed_base_vendor_is_us_or_a_competitor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} · {self.product} × {self.units}"


class AccountYear(models.Model):
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="years")
    year = models.PositiveSmallIntegerField(_("year"))
    other_revenue = models.DecimalField(
        _("other revenue (CNY)"),
        max_digits=14,
        decimal_places=2,
        default=0,
        help_text=_("Service and consumables revenue imported from billing."),
    )
    potential_value = models.DecimalField(
        _("potential value (CNY)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("An explicit estimate; empty means it is derived from installed base or company size."),
    )

    objects = AccountRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("account year")
        verbose_name_plural = _("account years")
        ordering = ["account", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["account", "year"], name="account_year_unique"),
            models.CheckConstraint(condition=Q(other_revenue__gte=0), name="account_year_revenue_not_negative"),
            models.CheckConstraint(
                condition=Q(potential_value__isnull=True) | Q(potential_value__gte=0),
                name="account_year_potential_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.year}"
