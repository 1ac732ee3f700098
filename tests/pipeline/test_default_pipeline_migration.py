"""Migration 0002 installs the default pipeline from its own frozen copy, which must match today's b2b template."""

from importlib import import_module
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from pipeline.models import Opportunity, Pipeline, Stage, StageCriterion
from pipeline.process_templates import TEMPLATES
from tests.factories import OpportunityFactory, default_stage

pytestmark = pytest.mark.django_db

MIGRATION = import_module("pipeline.migrations.0002_default_pipeline")
FORECAST_MIGRATION = import_module("pipeline.migrations.0008_forecast_categories")
PIPELINE_FIELDS = ["code", "name_zh", "name_en", "is_default", "is_active"]
STAGE_FIELDS = [f.name for f in Stage._meta.concrete_fields if f.name not in ("id", "pipeline")]
CRITERION_FIELDS = [f.name for f in StageCriterion._meta.concrete_fields if f.name not in ("id", "stage")]


def installed(code: str) -> tuple[dict, list[dict], list[dict]]:
    """The pipeline row, its stages and their criteria as the database holds them, field by field."""
    pipeline = Pipeline.objects.filter(code=code).values(*PIPELINE_FIELDS).get()
    stages = list(Stage.objects.filter(pipeline__code=code).order_by("order").values(*STAGE_FIELDS))
    criteria = list(
        StageCriterion.objects.filter(stage__pipeline__code=code)
        .order_by("stage__order", "order")
        .values("stage__code", *CRITERION_FIELDS)
    )
    return pipeline, stages, criteria


def from_template(template: dict) -> tuple[dict, list[dict], list[dict]]:
    """The same three, as process_templates.install_pipeline would write them from the template."""
    pipeline = {
        "code": template["code"],
        "name_zh": template["name_zh"],
        "name_en": template["name_en"],
        "is_default": template.get("is_default", False),
        "is_active": True,
    }
    stages = [
        {**{k: v for k, v in stage.items() if k != "criteria"}, "order": order}
        for order, stage in enumerate(template["stages"], start=1)
    ]
    criteria = [
        {"stage__code": stage["code"], **criterion, "order": position}
        for stage in template["stages"]
        for position, criterion in enumerate(stage["criteria"], start=1)
    ]
    return pipeline, stages, criteria


def run_migration() -> None:
    """Runs 0002's data function, then 0008's stage defaults (0002 predates forecast categories), each with the
    historical models it gets during `migrate`."""
    loader = MigrationExecutor(connection).loader
    MIGRATION.create_default_pipeline(loader.project_state(("pipeline", "0002_default_pipeline")).apps, None)
    FORECAST_MIGRATION.set_stage_defaults(loader.project_state(("pipeline", "0008_forecast_categories")).apps, None)


def test_the_migrated_default_pipeline_matches_todays_b2b_template_field_by_field():
    pipeline, stages, criteria = installed("b2b")
    expected_pipeline, expected_stages, expected_criteria = from_template(TEMPLATES["b2b"])

    assert pipeline == expected_pipeline
    assert [s["code"] for s in stages] == [s["code"] for s in expected_stages]
    for stage, expected in zip(stages, expected_stages, strict=True):
        assert stage == {field: expected[field] for field in STAGE_FIELDS}, stage["code"]
    assert [(c["stage__code"], c["code"]) for c in criteria] == [
        (c["stage__code"], c["code"]) for c in expected_criteria
    ]
    for criterion, expected in zip(criteria, expected_criteria, strict=True):
        assert criterion == {field: expected[field] for field in ["stage__code", *CRITERION_FIELDS]}, criterion["code"]


def test_the_frozen_copy_installs_the_template_on_an_empty_database_and_changes_nothing_when_run_again():
    Pipeline.objects.all().delete()  # stages and criteria go with it; rolled back after the test

    run_migration()
    once = installed("b2b")
    run_migration()

    assert installed("b2b") == once == from_template(TEMPLATES["b2b"])
    assert (Pipeline.objects.count(), Stage.objects.count(), StageCriterion.objects.count()) == (1, 9, 20)


@pytest.mark.parametrize("migration", [MIGRATION, FORECAST_MIGRATION])
def test_the_migration_does_not_read_the_live_templates(migration):
    source = Path(migration.__file__).read_text(encoding="utf-8")

    assert "pipeline.process_templates" not in source


def test_the_forecast_migration_sets_stage_defaults_and_fills_open_opportunities_only():
    Stage.objects.update(forecast_category="pipeline")  # as 0008 finds them right after adding the column
    at_commit = OpportunityFactory(stage=default_stage("commit"))
    at_propose = OpportunityFactory(stage=default_stage("propose"))
    lost = OpportunityFactory(
        stage=default_stage("commit"), status="lost", loss_reason="price", closed_at=timezone.now()
    )
    Opportunity.objects.update(forecast_category="pipeline")

    state = MigrationExecutor(connection).loader.project_state(("pipeline", "0008_forecast_categories"))
    FORECAST_MIGRATION.set_stage_defaults(state.apps, None)

    assert dict(Stage.objects.filter(pipeline__code="b2b").values_list("code", "forecast_category")) == {
        s["code"]: s["forecast_category"] for s in TEMPLATES["b2b"]["stages"]
    }
    categories = dict(Opportunity.objects.values_list("pk", "forecast_category"))
    assert (categories[at_commit.pk], categories[at_propose.pk], categories[lost.pk]) == (
        "commit",
        "best_case",
        "pipeline",
    )
