"""Indexes for the matrix's visit-priority order and the stale list's order, built without blocking writes on
PostgreSQL."""

from django.db import migrations, models

import core.indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("accounts", "0006_account_list_order_index"),
        ("analytics", "0004_job_attempt"),
        ("pipeline", "0005_list_order_and_visibility_indexes"),
    ]

    operations = [
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="accountvalue",
            index=models.Index(fields=["year", "priority"], name="acctvalue_year_priority_idx"),
        ),
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="staleflag",
            index=core.indexes.NullsOrderedIndex(
                models.OrderBy(models.F("last_activity_at"), nulls_first=True),
                models.F("opportunity"),
                name="staleflag_activity_idx",
            ),
        ),
    ]
