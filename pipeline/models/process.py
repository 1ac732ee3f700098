"""The sales process a pipeline follows: its stages and their exit criteria (SPEC §3)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _


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


class ForecastCategory(models.TextChoices):
    """How an open opportunity counts in the forecast: a stage's default, which the owner may change."""

    PIPELINE = "pipeline", pgettext_lazy("forecast category", "Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    OMITTED = "omitted", _("Omitted")


class Stage(BilingualMixin, models.Model):
    # CASCADE: a stage is part of its pipeline's definition; one in use is protected by its opportunities.
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
    forecast_category = models.CharField(
        _("default forecast category"),
        max_length=10,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
        db_default=ForecastCategory.PIPELINE,
        help_text=_("The forecast category an opportunity takes when it enters the stage."),
    )
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

    # CASCADE: a criterion is part of its stage's definition; opportunities keep only their manual values.
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
