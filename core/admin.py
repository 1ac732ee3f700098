"""Back-office admin for core's records: who exported what (issue 14), read only."""

from django.contrib import admin
from django.http import HttpRequest

from core.models import ExportRecord


@admin.register(ExportRecord)
class ExportRecordAdmin(admin.ModelAdmin):
    """Written when an export is sent; never added, changed or deleted by hand."""

    list_display = ("created_at", "user", "what", "format", "encoding", "row_count", "is_complete")
    list_filter = ("what", "format", "is_complete")
    list_select_related = ("user",)
    search_fields = ("user__username", "what")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
