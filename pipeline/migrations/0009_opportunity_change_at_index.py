"""An index on when opportunity history rows were written, for "what changed since a day", built without blocking
writes on PostgreSQL."""

from django.db import migrations, models

import core.indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("pipeline", "0008_forecast_categories"),
    ]

    operations = [
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="opportunitychange",
            index=models.Index(fields=["at"], name="oppchange_at_idx"),
        ),
    ]
