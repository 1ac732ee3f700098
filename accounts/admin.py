"""Back-office admin for users, teams, territory and customers.

Teams, accounts and contacts are archived, never deleted: they have no delete permission, and the "archive" and
"restore" actions call the archiving services. The last active director cannot be demoted or deactivated here either.
"""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import (
    Account,
    AccountChange,
    AccountYear,
    Competitor,
    Contact,
    Industry,
    InstalledBase,
    Region,
    Team,
    User,
)
from accounts.services import (
    ACCOUNT_REFERENCES,
    archive_account,
    archive_contact,
    archive_team,
    check_team_assignable,
    ensure_an_active_director_remains,
    record_back_office_edit,
    restore_account,
    restore_contact,
    restore_team,
)
from accounts.tokens import ApiToken
from core.errors import SalesFlowError


class ArchivedListFilter(admin.SimpleListFilter):
    title = _("archived")
    parameter_name = "archived"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("no", _("Active")), ("yes", _("Archived"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "no":
            return queryset.active()
        if self.value() == "yes":
            return queryset.archived()
        return queryset


class ArchivableAdminMixin:
    """No delete: the archive and restore actions instead; archived rows are no choice in other pages' pickers."""

    archive_service: Callable
    restore_service: Callable
    service_argument = ""  # the services' keyword for the row: "account", "contact", "team"

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        if request.path == reverse("admin:autocomplete"):
            queryset = queryset.active()
        return super().get_search_results(request, queryset, search_term)

    @admin.action(description=_("Archive the selected rows (kept for history and analytics)"), permissions=["change"])
    def archive(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, self.archive_service, "archived_by")

    @admin.action(description=_("Restore the selected archived rows"), permissions=["change"])
    def restore(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, self.restore_service, "restored_by")

    def _apply(self, request: HttpRequest, queryset: QuerySet, service: Callable, by: str) -> None:
        done = 0
        for row in queryset:
            try:
                service(**{self.service_argument: row, by: request.user, "back_office": True})
            except SalesFlowError as error:
                self.message_user(request, f"{row}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, ngettext("%d row done.", "%d rows done.", done) % done, messages.SUCCESS)


class SalesFlowUserChangeForm(UserChangeForm):
    """Refuses to leave the company without an active director, or to put someone into an archived team."""

    def clean(self) -> dict:
        cleaned = super().clean()
        user = self.instance
        try:
            ensure_an_active_director_remains(
                user=user, role=cleaned.get("role", user.role), is_active=cleaned.get("is_active", user.is_active)
            )
            if "team" in cleaned:
                check_team_assignable(user=user, team=cleaned["team"])
        except SalesFlowError as error:
            raise forms.ValidationError({error.field: str(error.message)}) from error
        return cleaned


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = SalesFlowUserChangeForm
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("SalesFlow"), {"fields": ("role", "team", "language", "time_zone", "digest_opt_out", "reminder_opt_out")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("SalesFlow"), {"fields": ("role", "team", "language", "time_zone")}),
    )
    list_display = ("username", "display_name", "email", "role", "team", "language", "digest_opt_out", "is_active")
    list_filter = ("role", "team", "language", "digest_opt_out", "is_active", "is_staff", "is_superuser")
    list_select_related = ("team",)
    search_fields = ("username", "first_name", "last_name", "email")
    autocomplete_fields = ("team",)

    @admin.display(description=_("name"), ordering="last_name")
    def display_name(self, user: User) -> str:
        return user.display_name

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and obj.is_active and obj.is_director:
            others = User.objects.filter(role=User.Role.DIRECTOR, is_active=True).exclude(pk=obj.pk)
            if not others.exists():
                return False  # the last active director stays
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        directors = User.objects.filter(role=User.Role.DIRECTOR, is_active=True)
        if not directors.exclude(pk__in=queryset.values("pk")).exists() and directors.exists():
            self.message_user(request, _("The last active sales director cannot be deleted."), messages.ERROR)
            return
        super().delete_queryset(request, queryset)


class MemberInline(admin.TabularInline):
    model = User
    fk_name = "team"
    fields = ("username", "first_name", "last_name", "role", "is_active")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # users are created on the user page, where the password is set


@admin.register(Team)
class TeamAdmin(ArchivableAdminMixin, admin.ModelAdmin):
    list_display = ("name", "manager", "member_count", "created_at", "archived_at")
    list_filter = (ArchivedListFilter,)
    list_select_related = ("manager",)
    search_fields = ("name",)
    autocomplete_fields = ("manager",)
    readonly_fields = ("archived_at", "archived_by")
    inlines = (MemberInline,)
    actions = ("archive", "restore")
    archive_service = staticmethod(archive_team)
    restore_service = staticmethod(restore_team)
    service_argument = "team"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, team: Team) -> int:
        return team.member_count


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "level", "parent", "sort_order")
    list_editable = ("sort_order",)  # the company's region order, set in the list at a glance
    list_filter = ("level",)
    list_select_related = ("parent",)
    search_fields = ("code", "name", "name_en")
    autocomplete_fields = ("parent",)


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "spend_per_employee")
    search_fields = ("code", "name", "name_en")


@admin.register(Competitor)
class CompetitorAdmin(admin.ModelAdmin):
    list_display = ("name", "name_en")
    search_fields = ("name", "name_en")

    def has_delete_permission(self, request: HttpRequest, obj: Competitor | None = None) -> bool:
        # Opportunities name their competitors in play through link rows a delete would silently remove.
        if obj is not None and obj.opportunities.exists():
            return False
        return super().has_delete_permission(request, obj)


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ("name", "title", "department", "phone", "email", "buying_role", "communication_style", "archived_at")
    readonly_fields = ("archived_at",)
    extra = 0
    can_delete = False  # contacts are archived (on the contact's page), never deleted
    show_change_link = True


class InstalledBaseInline(admin.TabularInline):
    model = InstalledBase
    fields = ("is_ours", "competitor", "product", "units", "year")
    autocomplete_fields = ("competitor",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[InstalledBase]:
        return super().get_queryset(request).select_related("competitor")


class AccountYearInline(admin.TabularInline):
    model = AccountYear
    fields = ("year", "other_revenue", "potential_value")
    extra = 0


@admin.register(Account)
class AccountAdmin(ArchivableAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "owner",
        "region",
        "industry",
        "employee_count",
        "size_band",
        "is_target",
        "target_since",
        "is_headquarters",
        "archived_at",
    )
    list_filter = (
        ArchivedListFilter,
        "is_target",
        "is_headquarters",
        "industry",
        "region__level",
        ("owner", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("owner", "region", "industry")
    search_fields = (
        "name",
        "name_pinyin",
        "name_initials",
        "external_key",
        "address",
        "owner__username",
        "owner__last_name",
        "owner__first_name",
    )
    autocomplete_fields = ("owner", "industry", "region", "parent")
    readonly_fields = ("updated_at", "archived_at", "archived_by")
    inlines = (ContactInline, InstalledBaseInline, AccountYearInline)
    actions = ("archive", "restore")
    archive_service = staticmethod(archive_account)
    restore_service = staticmethod(restore_account)
    service_argument = "account"

    @admin.display(description=_("size band"), ordering="employee_count")
    def size_band(self, account: Account) -> str:
        return account.size_band

    def save_model(self, request: HttpRequest, obj: Account, form, change: bool) -> None:
        # An edit here is recorded in the account's history like any other.
        before = Account.objects.select_related(*ACCOUNT_REFERENCES).get(pk=obj.pk) if change else None
        super().save_model(request, obj, form, change)
        if before is not None:
            record_back_office_edit(before=before, changed_by=request.user, fields=form.changed_data)


@admin.register(Contact)
class ContactAdmin(ArchivableAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "account",
        "title",
        "department",
        "buying_role",
        "communication_style",
        "phone",
        "email",
        "archived_at",
    )
    list_filter = (ArchivedListFilter, "buying_role", "communication_style")
    list_select_related = ("account",)
    search_fields = ("name", "name_pinyin", "name_initials", "account__name", "phone", "email", "title", "department")
    autocomplete_fields = ("account",)
    readonly_fields = ("archived_at", "archived_by")
    actions = ("archive", "restore")
    archive_service = staticmethod(archive_contact)
    restore_service = staticmethod(restore_contact)
    service_argument = "contact"


@admin.register(InstalledBase)
class InstalledBaseAdmin(admin.ModelAdmin):
    list_display = ("account", "is_ours", "competitor", "product", "units", "year")
    list_filter = ("is_ours", "competitor")
    list_select_related = ("account", "competitor")
    search_fields = ("account__name", "product", "competitor__name")
    autocomplete_fields = ("account", "competitor")


@admin.register(AccountYear)
class AccountYearAdmin(admin.ModelAdmin):
    list_display = ("account", "year", "other_revenue", "potential_value")
    list_filter = ("year",)
    list_select_related = ("account",)
    search_fields = ("account__name",)
    autocomplete_fields = ("account",)


@admin.register(AccountChange)
class AccountChangeAdmin(admin.ModelAdmin):
    """Account history written by the services: viewable, never added, changed or deleted by hand."""

    list_display = ("at", "account", "field", "old", "new", "by")
    list_filter = ("field",)
    list_select_related = ("account", "by")
    search_fields = ("account__name", "field")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens are issued by POST /api/v1/auth/token/ only; here they are seen and revoked (deleted)."""

    list_display = ("user", "created_at", "expires_at")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    date_hierarchy = "created_at"
    fields = readonly_fields = ("user", "created_at", "expires_at")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
