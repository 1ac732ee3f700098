"""An index for the board's cards (issue 10): each open stage's opportunities largest first, so that a column reads
the cards it shows rather than ranking the whole stage. Built without blocking writes on PostgreSQL."""

from django.db import migrations, models

import core.indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("pipeline", "0019_funnel_scope_and_stay_length_indexes"),
    ]

    operations = [
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="opportunity",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["stage", "amount", "id"],
                name="opp_open_stage_amount_idx",
            ),
        ),
    ]
