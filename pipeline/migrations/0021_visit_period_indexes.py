"""A period's visits counted per owner from an index alone (issue 10), built and dropped without blocking writes on
PostgreSQL:
- completed visits by completion time: a director's win/loss page counted a year of the company's visits per rep from
  the table's pages (55 ms at scale 10; 11 ms from this index). It replaces (status, done_at), whose every use asks for
  completed visits;
- visits by planned time, whatever their status: a director's home page read the whole table for the week's plan
  adherence per person (21 ms at scale 10; 0.4 ms)."""

from django.db import migrations, models

import core.indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE / DROP INDEX CONCURRENTLY run outside a transaction

    dependencies = [
        ("pipeline", "0020_board_cards_index"),
    ]

    operations = [
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="visit",
            index=models.Index(
                condition=models.Q(("status", "done")),
                fields=["done_at"],
                include=["owner", "id"],
                name="visit_done_owner_idx",
            ),
        ),
        core.indexes.RemoveIndexConcurrentlyWhereSupported(model_name="visit", name="visit_status_done_idx"),
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="visit",
            index=models.Index(fields=["planned_at"], include=["owner", "status", "id"], name="visit_planned_week_idx"),
        ),
    ]
