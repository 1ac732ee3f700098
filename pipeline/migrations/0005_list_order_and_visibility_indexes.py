"""Indexes for the lists' default orders (the visit list's `-when`, the visits, targets and week-comments API) and for
the visibility rule's lists of ids (accounts/visibility.py), built without blocking writes on PostgreSQL."""

import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models

import core.indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("accounts", "0006_account_list_order_index"),
        ("pipeline", "0004_protect_business_rows"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="opportunity",
            index=models.Index(fields=["owner", "account"], name="opp_owner_account_idx"),
        ),
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="salestarget",
            index=models.Index(fields=["-period_start", "period_type", "id"], name="target_start_idx"),
        ),
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="visit",
            index=core.indexes.NullsOrderedIndex(
                models.OrderBy(
                    django.db.models.functions.comparison.Coalesce("done_at", "planned_at"),
                    descending=True,
                    nulls_last=True,
                ),
                models.OrderBy(models.F("id"), descending=True),
                name="visit_when_idx",
            ),
        ),
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="visit",
            index=models.Index(fields=["-created_at", "-id"], name="visit_created_idx"),
        ),
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="visit",
            index=models.Index(fields=["account", "owner"], name="visit_account_owner_idx"),
        ),
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="visit",
            index=models.Index(fields=["owner", "account"], name="visit_owner_account_idx"),
        ),
        core.indexes.AddIndexConcurrentlyWhereSupported(
            model_name="visitweekcomment",
            index=models.Index(fields=["-week_start", "created_at", "id"], name="weekcomment_week_idx"),
        ),
    ]
