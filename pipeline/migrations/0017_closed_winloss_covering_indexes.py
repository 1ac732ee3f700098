"""The closed opportunities' indexes carry the win/loss dimensions and amounts (issue 10), built without blocking
writes on PostgreSQL: opp_closed_idx (a period's closed opportunities) is rebuilt wider, so a director's win/loss
reads only its entries; opp_owner_closed_idx gives a manager or a rep their owners' closed opportunities of a period
instead of the whole company's period filtered by owner."""

from django.db import migrations, models

import core.indexes

# What the reports of closed opportunities count, sum and group by.
OUTCOMES = ["status", "is_untouched_loss", "amount", "furthest_stage", "loss_reason", "untouched_cause", "source"]


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("pipeline", "0016_drop_redundant_fk_indexes"),
    ]

    operations = [
        core.indexes.RemoveIndexConcurrentlyWhereSupported(model_name="opportunity", name="opp_closed_idx"),
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="opportunity",
            index=models.Index(
                fields=["closed_at", "id"], include=["pipeline", "owner", *OUTCOMES], name="opp_closed_idx"
            ),
        ),
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="opportunity",
            index=models.Index(
                fields=["owner", "closed_at"],
                include=["id", "pipeline", *OUTCOMES],
                condition=models.Q(closed_at__isnull=False),
                name="opp_owner_closed_idx",
            ),
        ),
    ]
