"""Each StageChange keeps when the stay it ended began (`entered_at`: the opportunity's change before it, in the order
of changed_at then id, or the opportunity's creation) and the opportunity's created_at and pipeline, which never
change: the funnel's median days then read the period's stays from one index, without a join or a window (issue 10).

Added nullable and filled here in one set-based UPDATE (the same SQL on PostgreSQL and SQLite ≥ 3.33); the next
migration makes them required and adds the index, in its own transaction (PostgreSQL refuses to alter a table with
the foreign-key checks of this UPDATE still pending)."""

import django.db.models.deletion
from django.db import migrations, models

FILL_STAYS = """
UPDATE pipeline_stagechange AS target
SET entered_at = stay.entered_at, opportunity_created_at = stay.created_at, pipeline_id = stay.pipeline_id
FROM (
    SELECT c.id,
           COALESCE(
               LAG(c.changed_at) OVER (PARTITION BY c.opportunity_id ORDER BY c.changed_at, c.id), o.created_at
           ) AS entered_at,
           o.created_at,
           o.pipeline_id
    FROM pipeline_stagechange c
    JOIN pipeline_opportunity o ON o.id = c.opportunity_id
) stay
WHERE target.id = stay.id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0012_webhooks"),
    ]

    operations = [
        migrations.AddField(
            model_name="stagechange",
            name="entered_at",
            field=models.DateTimeField(
                null=True,
                help_text="When the stay this change ended began: the change before, or creation.",
                verbose_name="stage entered at",
            ),
        ),
        migrations.AddField(
            model_name="stagechange",
            name="opportunity_created_at",
            field=models.DateTimeField(null=True, verbose_name="opportunity created at"),
        ),
        migrations.AddField(
            model_name="stagechange",
            name="pipeline",
            field=models.ForeignKey(
                null=True,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="pipeline.pipeline",
                verbose_name="pipeline",
            ),
        ),
        migrations.RunSQL(FILL_STAYS, migrations.RunSQL.noop),
    ]
