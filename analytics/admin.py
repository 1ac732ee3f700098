"""Back-office admin for analytics snapshots and digest deliveries.

Every row here is written by a nightly job or the digest sender, so the admin only shows them.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from analytics.models import (
    AccountValue,
    ClosedMonthSum,
    DigestDelivery,
    ForecastSnapshot,
    JobAttempt,
    JobRun,
    MatrixRun,
    ReminderDelivery,
    RolledMonth,
    StaleFlag,
    TerritorySnapshot,
    UntouchedFlag,
    VisitMonthSum,
)


class ReadOnlyAdminMixin:
    """Rows computed by jobs: viewable, never added, changed or deleted by hand."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(MatrixRun)
class MatrixRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("year", "computed_at", "cv_threshold", "pv_threshold", "thresholds_fixed")


@admin.register(AccountValue)
class AccountValueAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("account", "year", "quadrant", "cv", "pv", "pv_source", "share", "computed_at")
    list_filter = ("year", "quadrant", "pv_source")
    list_select_related = ("account",)
    search_fields = ("account__name",)


@admin.register(UntouchedFlag)
class UntouchedFlagAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("account", "account_owner", "last_visit_at", "computed_at")
    list_select_related = ("account__owner",)
    search_fields = ("account__name",)

    @admin.display(description=_("owner"), ordering="account__owner")
    def account_owner(self, flag: UntouchedFlag):
        return flag.account.owner


@admin.register(StaleFlag)
class StaleFlagAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("opportunity", "opportunity_owner", "last_activity_at", "computed_at")
    list_select_related = ("opportunity__owner",)
    search_fields = ("opportunity__name", "opportunity__account__name")

    @admin.display(description=_("owner"), ordering="opportunity__owner")
    def opportunity_owner(self, flag: StaleFlag):
        return flag.opportunity.owner


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("job", "computed_at")


@admin.register(JobAttempt)
class JobAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("job", "key", "status", "created_at", "started_at", "finished_at")
    list_filter = ("job", "status")
    search_fields = ("error",)


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "week_start", "status", "attempts", "claimed_at", "sent_at")
    list_filter = ("status", "week_start")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email", "last_error")


@admin.register(ReminderDelivery)
class ReminderDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "day", "status", "attempts", "claimed_at", "sent_at")
    list_filter = ("status", "day")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email", "last_error")


@admin.register(ForecastSnapshot)
class ForecastSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("taken_on", "period_type", "period_start", "owner_user", "target", "won", "commit", "call")
    list_filter = ("period_type", "taken_on")
    list_select_related = ("owner_user",)


@admin.register(RolledMonth)
class RolledMonthAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("kind", "month", "starts_at", "ends_at", "computed_at")
    list_filter = ("kind",)


@admin.register(ClosedMonthSum)
class ClosedMonthSumAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("month", "dimension", "won", "lost", "won_amount", "lost_amount")
    list_filter = ("dimension",)


@admin.register(VisitMonthSum)
class VisitMonthSumAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("month", "owner_id", "done")


@admin.register(TerritorySnapshot)
class TerritorySnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("dimension", "on", "computed_at")
