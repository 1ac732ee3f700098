"""The account list's order (name, id), built without blocking writes on PostgreSQL."""

from django.db import migrations, models

import core.indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("accounts", "0005_api_tokens"),
    ]

    operations = [
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="account",
            index=models.Index(fields=["name", "id"], name="account_name_idx"),
        ),
    ]
