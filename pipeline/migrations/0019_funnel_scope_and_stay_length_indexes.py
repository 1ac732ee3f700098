"""Indexes for the funnel and attainment endpoints (issue 10), built without blocking writes on PostgreSQL: a scope's
opportunities created in a period (the flow's outcomes and the ids its stays are reached from), led by the owner so
that a manager's or a rep's read does not grow with the company (an owner's closed opportunities of a period, for the
win rate and the won amounts per owner and period, come from opp_owner_closed_idx of 0017); and the stays of each stage in order of length, so that a
director's median days walk to the middle of a stage instead of sorting its stays."""

from django.db import migrations, models

import core.indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("pipeline", "0018_open_pipeline_by_account_index"),
    ]

    operations = [
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="opportunity",
            index=models.Index(
                fields=["owner", "pipeline", "created_at"],
                include=["id", "furthest_stage", "status", "is_untouched_loss"],
                name="opp_owner_created_outcomes_idx",
            ),
        ),
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="stagechange",
            index=core.indexes.ComputedKeyIndex(
                models.F("pipeline"),
                models.F("from_stage"),
                models.F("changed_at") - models.F("entered_at"),
                include=["opportunity_created_at", "entered_at", "changed_at"],
                condition=models.Q(from_stage__isnull=False, changed_at__gte=models.F("entered_at")),
                name="stagechange_stay_length_idx",
            ),
        ),
    ]
