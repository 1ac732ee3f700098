"""Every StageChange has its stay's start and its opportunity's created_at and pipeline (filled by the migration
before, written by pipeline/services/stage_changes.py since); the funnel's stays of a period come from one index."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0013_stage_change_stays"),
    ]

    operations = [
        migrations.AlterField(
            model_name="stagechange",
            name="entered_at",
            field=models.DateTimeField(
                help_text="When the stay this change ended began: the change before, or creation.",
                verbose_name="stage entered at",
            ),
        ),
        migrations.AlterField(
            model_name="stagechange",
            name="opportunity_created_at",
            field=models.DateTimeField(verbose_name="opportunity created at"),
        ),
        migrations.AlterField(
            model_name="stagechange",
            name="pipeline",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="pipeline.pipeline",
                verbose_name="pipeline",
            ),
        ),
        migrations.RemoveIndex(model_name="stagechange", name="stagechange_opp_at_idx"),
        migrations.AddIndex(
            model_name="stagechange",
            index=models.Index(
                fields=["opportunity", "changed_at"],
                include=("from_stage", "entered_at"),
                name="stagechange_opp_stays_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="stagechange",
            index=models.Index(
                condition=models.Q(("from_stage__isnull", False)),
                fields=["pipeline", "from_stage", "opportunity_created_at"],
                include=("entered_at", "changed_at"),
                name="stagechange_stays_idx",
            ),
        ),
    ]
