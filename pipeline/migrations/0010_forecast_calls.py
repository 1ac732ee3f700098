"""A manager's forecast call per rep and period, and its change history."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0009_opportunity_change_at_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ForecastCall",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "period_type",
                    models.CharField(
                        choices=[("year", "Year"), ("quarter", "Quarter"), ("month", "Month"), ("week", "Week")],
                        max_length=10,
                        verbose_name="period",
                    ),
                ),
                ("period_start", models.DateField(verbose_name="period start")),
                ("amount", models.DecimalField(decimal_places=2, max_digits=14, verbose_name="called amount (CNY)")),
                ("note", models.TextField(blank=True, verbose_name="note")),
                ("called_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="called at")),
                (
                    "called_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="called by",
                    ),
                ),
                (
                    "owner_user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="forecast_calls",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="rep",
                    ),
                ),
            ],
            options={
                "verbose_name": "forecast call",
                "verbose_name_plural": "forecast calls",
                "ordering": ["-period_start", "owner_user"],
            },
        ),
        migrations.CreateModel(
            name="ForecastCallChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="changed at")),
                ("field", models.CharField(max_length=100, verbose_name="field")),
                ("old", models.JSONField(blank=True, null=True, verbose_name="old value")),
                ("new", models.JSONField(blank=True, null=True, verbose_name="new value")),
                ("reason", models.TextField(blank=True, verbose_name="reason")),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="changed by",
                    ),
                ),
                (
                    "call",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="changes",
                        to="pipeline.forecastcall",
                        verbose_name="forecast call",
                    ),
                ),
            ],
            options={
                "verbose_name": "forecast call change",
                "verbose_name_plural": "forecast call changes",
                "ordering": ["-at", "-id"],
                "abstract": False,
            },
        ),
        migrations.AddConstraint(
            model_name="forecastcall",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0)), name="forecast_call_amount_not_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="forecastcall",
            constraint=models.UniqueConstraint(
                fields=("owner_user", "period_type", "period_start"), name="forecast_call_unique_per_rep_period"
            ),
        ),
        migrations.AddIndex(
            model_name="forecastcallchange",
            index=models.Index(fields=["call", "-at", "-id"], name="callchange_call_at_idx"),
        ),
    ]
