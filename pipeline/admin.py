"""Back-office admin for sales processes, opportunities, visits and targets.

History rows (stage changes, reassignments) are read-only here: services write them.
"""

from django.contrib import admin
from django.db.models import Count, F, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from pipeline.models import (
    Opportunity,
    Pipeline,
    Reassignment,
    SalesTarget,
    Stage,
    StageChange,
    StageCriterion,
    Visit,
    VisitWeekComment,
)


class ReadOnlyAdminMixin:
    """History written by services: viewable, never added, changed or deleted by hand."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class StageInline(admin.TabularInline):
    model = Stage
    fields = ("order", "code", "name_zh", "name_en", "probability", "engaged", "is_closing", "is_after_sales")
    extra = 0
    show_change_link = True
    ordering = ("order",)


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "is_default", "is_active", "stage_count")
    list_filter = ("is_default", "is_active")
    search_fields = ("code", "name_zh", "name_en")
    inlines = (StageInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Pipeline]:
        return super().get_queryset(request).annotate(stage_count=Count("stages"))

    @admin.display(description=_("stages"), ordering="stage_count")
    def stage_count(self, pipeline: Pipeline) -> int:
        return pipeline.stage_count


class StageCriterionInline(admin.TabularInline):
    model = StageCriterion
    fields = ("order", "code", "kind", "input_type", "label_zh", "label_en")
    extra = 0


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = (
        "name_zh",
        "name_en",
        "pipeline",
        "order",
        "code",
        "probability",
        "engaged",
        "is_closing",
        "is_after_sales",
    )
    list_filter = ("pipeline", "engaged", "is_closing", "is_after_sales")
    list_select_related = ("pipeline",)
    search_fields = ("code", "name_zh", "name_en", "pipeline__code")
    autocomplete_fields = ("pipeline",)
    ordering = ("pipeline", "order")
    inlines = (StageCriterionInline,)


@admin.register(StageCriterion)
class StageCriterionAdmin(admin.ModelAdmin):
    list_display = ("label_zh", "label_en", "code", "stage", "pipeline", "order", "kind", "input_type")
    list_filter = ("kind", "input_type", "stage__pipeline")
    list_select_related = ("stage__pipeline",)
    search_fields = ("code", "label_zh", "label_en", "stage__code")
    autocomplete_fields = ("stage",)
    ordering = ("stage__pipeline", "stage__order", "order")

    @admin.display(description=_("pipeline"), ordering="stage__pipeline")
    def pipeline(self, criterion: StageCriterion) -> Pipeline:
        return criterion.stage.pipeline


class StageChangeInline(admin.TabularInline):
    model = StageChange
    fields = ("changed_at", "from_stage", "to_stage", "changed_by", "override_reason", "is_backfill")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[StageChange]:
        return super().get_queryset(request).select_related("from_stage", "to_stage", "changed_by")


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "account",
        "owner",
        "stage",
        "status",
        "amount",
        "probability",
        "expected_close_date",
        "is_untouched_loss",
        "updated_at",
    )
    list_filter = ("status", "pipeline", "source", "loss_reason", "is_untouched_loss", "untouched_cause")
    list_select_related = ("account", "owner", "stage")
    search_fields = ("name", "account__name", "owner__username", "owner__last_name", "owner__first_name")
    autocomplete_fields = ("account", "owner", "pipeline", "stage", "furthest_stage", "competitors", "lost_to")
    readonly_fields = ("version", "is_untouched_loss", "updated_at")
    # Stage, outcome and owner change only through the services (move, win, lose, reopen, reassign), which check the
    # rules and write history; the admin edits plain fields only and cannot create opportunities without history.
    rule_fields = (
        "owner",
        "pipeline",
        "stage",
        "furthest_stage",
        "stage_entered_at",
        "status",
        "closed_at",
        "loss_reason",
        "lost_to",
        "untouched_cause",
        "created_at",
    )
    date_hierarchy = "created_at"
    inlines = (StageChangeInline,)
    fieldsets = (
        (None, {"fields": ("name", "account", "owner", "amount", "expected_close_date", "probability", "source")}),
        (_("Stage"), {"fields": ("pipeline", "stage", "furthest_stage", "stage_entered_at", "criteria_values")}),
        (_("Outcome"), {"fields": ("status", "closed_at", "loss_reason", "lost_to", "loss_note")}),
        (_("Untouched loss"), {"fields": ("is_untouched_loss", "untouched_cause")}),
        (_("Record"), {"fields": ("competitors", "created_at", "updated_at", "version")}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created through the pages, the API or seed/import, which record the first StageChange

    def get_readonly_fields(self, request: HttpRequest, obj: Opportunity | None = None) -> tuple[str, ...]:
        return (*self.readonly_fields, *self.rule_fields)

    def save_model(self, request: HttpRequest, obj: Opportunity, form, change: bool) -> None:
        # An edit here is a change like any other: bump the optimistic-lock token so open forms see it as stale.
        if change:
            obj.version = F("version") + 1
        super().save_model(request, obj, form, change)
        if change:
            obj.refresh_from_db(fields=["version"])


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("opportunity", "from_stage", "to_stage", "changed_at", "changed_by", "is_backfill")
    list_filter = ("is_backfill", "to_stage__pipeline")
    list_select_related = ("opportunity", "from_stage", "to_stage", "changed_by")
    search_fields = ("opportunity__name", "override_reason")
    date_hierarchy = "changed_at"


@admin.register(Reassignment)
class ReassignmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("reassigned_at", "account", "opportunity", "from_owner", "to_owner", "reassigned_by")
    list_select_related = ("account", "opportunity", "from_owner", "to_owner", "reassigned_by")
    search_fields = ("account__name", "opportunity__name", "from_owner__username", "to_owner__username")
    date_hierarchy = "reassigned_at"


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ("account", "kind", "status", "owner", "planned_at", "done_at", "opportunity", "satisfaction")
    list_filter = ("status", "kind", ("owner", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("account", "owner", "opportunity")
    search_fields = ("account__name", "owner__username", "purpose", "summary", "contact__name", "opportunity__name")
    autocomplete_fields = ("account", "contact", "opportunity", "owner", "stage_when_done")
    readonly_fields = ("updated_at",)


@admin.register(VisitWeekComment)
class VisitWeekCommentAdmin(admin.ModelAdmin):
    list_display = ("rep", "week_start", "author", "created_at")
    list_select_related = ("rep", "author")
    search_fields = ("rep__username", "author__username", "text")
    autocomplete_fields = ("rep", "author")


@admin.register(SalesTarget)
class SalesTargetAdmin(admin.ModelAdmin):
    list_display = ("owner_user", "owner_team", "period_type", "period_start", "amount")
    list_filter = ("period_type", "owner_team")
    list_select_related = ("owner_user", "owner_team")
    search_fields = ("owner_user__username", "owner_user__last_name", "owner_team__name")
    autocomplete_fields = ("owner_user", "owner_team")
