from django.db import migrations


def create_default_pipeline(apps, schema_editor):
    from pipeline.process_templates import DEFAULT_PIPELINE, install_pipeline

    install_pipeline(
        DEFAULT_PIPELINE,
        pipeline_model=apps.get_model("pipeline", "Pipeline"),
        stage_model=apps.get_model("pipeline", "Stage"),
        criterion_model=apps.get_model("pipeline", "StageCriterion"),
    )


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0001_initial")]

    operations = [migrations.RunPython(create_default_pipeline, migrations.RunPython.noop)]
