"""Back-office admin for sales processes, opportunities, visits and targets.

History rows (stage changes, reassignments, field changes) are read-only here: services write them, edits made here
included (an opportunity's plain fields, targets through the target services). Opportunities and visits are
never deleted (an opportunity is lost, a visit cancelled), so their history and analytics stay whole.
"""

from django import forms
from django.contrib import admin
from django.db.models import Count, F, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.errors import SalesFlowError
from core.forms import add_service_error
from pipeline.models import (
    ForecastCall,
    ForecastCallChange,
    ImportJob,
    Opportunity,
    OpportunityChange,
    Pipeline,
    Reassignment,
    SalesTarget,
    Stage,
    StageChange,
    StageCriterion,
    TargetChange,
    Visit,
    VisitWeekComment,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from pipeline.services.opportunities import BACK_OFFICE_RELATED, record_back_office_edit
from pipeline.services.targets import (
    TARGET_FIELDS,
    check_may_set_target,
    check_target_values,
    create_target,
    update_target,
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
    fields = (
        "order",
        "code",
        "name_zh",
        "name_en",
        "probability",
        "forecast_category",
        "engaged",
        "is_closing",
        "is_after_sales",
    )
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
        (
            None,
            {
                "fields": (
                    "name",
                    "account",
                    "owner",
                    "amount",
                    "expected_close_date",
                    "probability",
                    "forecast_category",
                    "source",
                )
            },
        ),
        (_("Stage"), {"fields": ("pipeline", "stage", "furthest_stage", "stage_entered_at", "criteria_values")}),
        (_("Outcome"), {"fields": ("status", "closed_at", "loss_reason", "lost_to", "loss_note")}),
        (_("Untouched loss"), {"fields": ("is_untouched_loss", "untouched_cause")}),
        (_("Record"), {"fields": ("competitors", "created_at", "updated_at", "version")}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created through the pages, the API or seed/import, which record the first StageChange

    def has_delete_permission(self, request: HttpRequest, obj: Opportunity | None = None) -> bool:
        return False  # lost, not deleted: its stage history and the analytics built on it stay

    def get_readonly_fields(self, request: HttpRequest, obj: Opportunity | None = None) -> tuple[str, ...]:
        return (*self.readonly_fields, *self.rule_fields)

    def save_model(self, request: HttpRequest, obj: Opportunity, form, change: bool) -> None:
        # An edit here is a change like any other: bump the optimistic-lock token so open forms see it as stale.
        if change:
            if form is not None:
                rows = Opportunity.objects.select_related(*BACK_OFFICE_RELATED).prefetch_related("competitors")
                form.history_before = rows.get(pk=obj.pk)  # the form lives for this request only
            obj.version = F("version") + 1
        super().save_model(request, obj, form, change)
        if change:
            obj.refresh_from_db(fields=["version"])

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # competitors are saved here
        if change and hasattr(form, "history_before"):
            record_back_office_edit(before=form.history_before, changed_by=request.user, fields=form.changed_data)


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


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Imports are made on /imports/ (dry run, confirm, run); the back office only reads them."""

    list_display = ("created_at", "kind", "file_name", "uploaded_by", "status", "total_rows", "error_count")
    list_filter = ("kind", "status")
    list_select_related = ("uploaded_by",)
    search_fields = ("file_name", "uploaded_by__username")
    date_hierarchy = "created_at"
    exclude = ("content",)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Endpoints are registered on /settings/webhooks/ (the secret shown once); the back office only reads them."""

    list_display = ("name", "kind", "team", "language", "is_active", "created_by", "created_at")
    list_filter = ("kind", "is_active")
    list_select_related = ("team", "created_by")
    exclude = ("secret",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "endpoint", "event", "status", "attempts", "last_status_code", "delivered_at")
    list_filter = ("status", "event")
    list_select_related = ("endpoint",)
    date_hierarchy = "created_at"


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "delivery", "status_code", "duration_ms", "error")
    list_select_related = ("delivery", "delivery__endpoint")


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ("account", "kind", "status", "owner", "planned_at", "done_at", "opportunity", "satisfaction")
    list_filter = ("status", "kind", ("owner", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("account", "owner", "opportunity")
    search_fields = ("account__name", "owner__username", "purpose", "summary", "contact__name", "opportunity__name")
    autocomplete_fields = ("account", "contact", "opportunity", "owner", "stage_when_done")
    readonly_fields = ("updated_at",)

    def has_delete_permission(self, request: HttpRequest, obj: Visit | None = None) -> bool:
        return False  # cancelled, not deleted: plan adherence and activity analytics count it


@admin.register(VisitWeekComment)
class VisitWeekCommentAdmin(admin.ModelAdmin):
    list_display = ("rep", "week_start", "author", "created_at")
    list_select_related = ("rep", "author")
    search_fields = ("rep__username", "author__username", "text")
    autocomplete_fields = ("rep", "author")


@admin.register(SalesTarget)
class SalesTargetAdmin(admin.ModelAdmin):
    """Targets are set through the target services: their rules hold here too and each change is recorded."""

    list_display = ("owner_user", "owner_team", "period_type", "period_start", "amount")
    list_filter = ("period_type", "owner_team")
    list_select_related = ("owner_user", "owner_team")
    search_fields = ("owner_user__username", "owner_user__last_name", "owner_team__name")
    autocomplete_fields = ("owner_user", "owner_team")

    def get_form(self, request: HttpRequest, obj: SalesTarget | None = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type("SalesTargetAdminForm", (TargetRulesForm, form), {"actor": request.user})

    def save_model(self, request: HttpRequest, obj: SalesTarget, form, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in TARGET_FIELDS if name in form.cleaned_data}
        if change:
            update_target(target=obj, changed_by=request.user, **values)
            return
        created = create_target(created_by=request.user, **values)
        obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db


class TargetRulesForm(forms.ModelForm):
    """Refuses, on the form, a target the target services would refuse (who may set it, its period, one a period)."""

    actor = None

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            if self.instance.pk is not None:  # the instance still holds the saved values here
                check_may_set_target(
                    actor=self.actor, owner_user=self.instance.owner_user, owner_team=self.instance.owner_team
                )
            owners = {"owner_user": cleaned.get("owner_user"), "owner_team": cleaned.get("owner_team")}
            check_may_set_target(actor=self.actor, **owners)
            check_target_values(
                **owners,
                period_type=cleaned.get("period_type"),
                period_start=cleaned.get("period_start"),
                amount=cleaned.get("amount"),
                exclude_pk=self.instance.pk,
            )
        except SalesFlowError as error:
            add_service_error(self, error)
        return cleaned


@admin.register(OpportunityChange)
class OpportunityChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "opportunity", "field", "old", "new", "by", "reason")
    list_filter = ("field",)
    list_select_related = ("opportunity", "by")
    search_fields = ("opportunity__name", "field", "reason")
    date_hierarchy = "at"


@admin.register(TargetChange)
class TargetChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "target", "field", "old", "new", "by")
    list_filter = ("field",)
    list_select_related = ("target__owner_user", "target__owner_team", "by")
    search_fields = ("target__owner_user__username", "target__owner_team__name", "field")
    date_hierarchy = "at"


@admin.register(ForecastCall)
class ForecastCallAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Calls are made through the forecast API, which checks who may call whom and records each change."""

    list_display = ("owner_user", "period_type", "period_start", "amount", "called_by", "called_at")
    list_filter = ("period_type",)
    list_select_related = ("owner_user", "called_by")
    search_fields = ("owner_user__username", "owner_user__last_name")


@admin.register(ForecastCallChange)
class ForecastCallChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "call", "field", "old", "new", "by")
    list_filter = ("field",)
    list_select_related = ("call__owner_user", "by")
    search_fields = ("call__owner_user__username", "field")
    date_hierarchy = "at"
