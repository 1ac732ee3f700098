"""A covering index for the open pipeline per account (territory analysis, issue 10), built without blocking writes on
PostgreSQL: a director's open opportunities summed per account from the index alone instead of from every open
opportunity's page; anyone else's by owner."""

from django.db import migrations, models

import core.indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("pipeline", "0017_closed_winloss_covering_indexes"),
    ]

    operations = [
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="opportunity",
            index=models.Index(
                fields=["owner", "account"],
                include=["amount"],
                condition=models.Q(status="open"),
                name="opp_open_owner_account_idx",
            ),
        ),
    ]
