"""Back-office admin for users, teams, territory and customers."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, AccountYear, Competitor, Contact, Industry, InstalledBase, Region, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("SalesFlow"), {"fields": ("role", "team", "language", "time_zone", "digest_opt_out")}),
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
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager", "member_count", "created_at")
    list_select_related = ("manager",)
    search_fields = ("name",)
    autocomplete_fields = ("manager",)
    inlines = (MemberInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, team: Team) -> int:
        return team.member_count


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "level", "parent")
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


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ("name", "title", "department", "phone", "email", "buying_role", "communication_style")
    extra = 0
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
class AccountAdmin(admin.ModelAdmin):
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
    )
    list_filter = (
        "is_target",
        "is_headquarters",
        "industry",
        "region__level",
        ("owner", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("owner", "region", "industry")
    search_fields = ("name", "external_key", "address", "owner__username", "owner__last_name", "owner__first_name")
    autocomplete_fields = ("owner", "industry", "region", "parent")
    readonly_fields = ("updated_at",)
    inlines = (ContactInline, InstalledBaseInline, AccountYearInline)

    @admin.display(description=_("size band"), ordering="employee_count")
    def size_band(self, account: Account) -> str:
        return account.size_band


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "account", "title", "department", "buying_role", "communication_style", "phone", "email")
    list_filter = ("buying_role", "communication_style")
    list_select_related = ("account",)
    search_fields = ("name", "account__name", "phone", "email", "title", "department")
    autocomplete_fields = ("account",)


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
