"""A few owners' completed visits of a period from an index alone (issue 10): a manager's win/loss page counted their
team's visits of the year by reading the company's year of completed visits (visit_done_owner_idx) and filtering the
owners (5.3 ms at scale 10, growing with the company; 0.8 ms from this index). Built without blocking writes on
PostgreSQL."""

from django.db import migrations, models

import core.indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("pipeline", "0021_visit_period_indexes"),
    ]

    operations = [
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="visit",
            index=models.Index(
                condition=models.Q(("status", "done")),
                fields=["owner", "done_at"],
                include=["id"],
                name="visit_owner_done_idx",
            ),
        ),
    ]
