"""Forecast categories: a default per stage and a category on every opportunity.

Existing stages get the default process_templates.forecast_category gives their win probability (a frozen copy of
that rule below: editing the templates later never changes this migration), and open opportunities take their
stage's default. Closed ones keep "pipeline": the forecast counts open opportunities only.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def stage_default(probability):
    if probability is None or probability >= 80:
        return "commit"
    return "best_case" if probability >= 50 else "pipeline"


def set_stage_defaults(apps, schema_editor):
    Stage = apps.get_model("pipeline", "Stage")
    Opportunity = apps.get_model("pipeline", "Opportunity")
    for stage in Stage.objects.only("pk", "probability"):  # a few dozen rows: one update each
        Stage.objects.filter(pk=stage.pk).update(forecast_category=stage_default(stage.probability))
    Opportunity.objects.filter(status="open").update(
        forecast_category=Subquery(Stage.objects.filter(pk=OuterRef("stage_id")).values("forecast_category")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0007_opportunity_name_search_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="opportunity",
            name="forecast_category",
            field=models.CharField(
                choices=[
                    ("pipeline", "Pipeline"),
                    ("best_case", "Best case"),
                    ("commit", "Commit"),
                    ("omitted", "Omitted"),
                ],
                db_default="pipeline",
                default="pipeline",
                help_text="The stage's default until the owner changes it; a stage change resets it.",
                max_length=10,
                verbose_name="forecast category",
            ),
        ),
        migrations.AddField(
            model_name="stage",
            name="forecast_category",
            field=models.CharField(
                choices=[
                    ("pipeline", "Pipeline"),
                    ("best_case", "Best case"),
                    ("commit", "Commit"),
                    ("omitted", "Omitted"),
                ],
                db_default="pipeline",
                default="pipeline",
                help_text="The forecast category an opportunity takes when it enters the stage.",
                max_length=10,
                verbose_name="default forecast category",
            ),
        ),
        migrations.RunPython(set_stage_defaults, migrations.RunPython.noop),
    ]
