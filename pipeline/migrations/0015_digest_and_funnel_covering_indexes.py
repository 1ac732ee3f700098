"""Covering indexes for a director's digest and funnel (issue 10), built without blocking writes on PostgreSQL: an
opportunity's owner by id, the open funnel by owner and stage, the outcomes of the opportunities created in a period,
the opportunities closed in a period, and a period's stage changes as moves (replacing the plain index on changed_at)."""

from django.db import migrations, models

import core.indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("pipeline", "0014_stage_change_stays_required"),
    ]

    operations = [
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="opportunity",
            index=models.Index(fields=["id"], include=["owner"], name="opp_id_owner_idx"),
        ),
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="opportunity",
            index=models.Index(
                fields=["pipeline", "owner", "stage"],
                include=["id", "amount", "probability"],
                condition=models.Q(status="open"),
                name="opp_open_funnel_idx",
            ),
        ),
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="opportunity",
            index=models.Index(
                fields=["pipeline", "created_at"],
                include=["id", "owner", "furthest_stage", "status", "is_untouched_loss"],
                name="opp_created_outcomes_idx",
            ),
        ),
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="opportunity",
            index=models.Index(
                fields=["closed_at", "id"],
                include=["pipeline", "owner", "status", "is_untouched_loss"],
                name="opp_closed_idx",
            ),
        ),
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="stagechange",
            index=models.Index(
                fields=["changed_at", "id"],
                include=["opportunity", "from_stage", "to_stage"],
                name="stagechange_at_moves_idx",
            ),
        ),
        core.indexes.RemoveIndexConcurrentlyWhereSupported(model_name="stagechange", name="stagechange_at_idx"),
    ]
