"""Search by name and pinyin (issue 12): each account's and contact's name in pinyin (full and initials), filled for
the rows there are, and trigram indexes on the names and the pinyin so `LIKE '%...%'` reads an index on PostgreSQL.

`TrigramExtension` (pg_trgm) does nothing on other databases, and `TrigramIndex` is a plain index there.
"""

import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

import core.indexes

BATCH_SIZE = 1000


def fill_pinyin(apps, schema_editor):
    from accounts.names import with_pinyin

    for model_name in ("Account", "Contact"):
        model = apps.get_model("accounts", model_name)
        rows = model.objects.only("pk", "name").order_by("pk")
        last_pk = 0
        while batch := list(rows.filter(pk__gt=last_pk)[:BATCH_SIZE]):
            model.objects.bulk_update(with_pinyin(batch), ["name_pinyin", "name_initials"])
            last_pk = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_reminder_opt_out_and_calendar_token"),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddField(
            model_name="account",
            name="name_initials",
            field=models.CharField(
                blank=True, editable=False, max_length=400, verbose_name="initials of the name in pinyin"
            ),
        ),
        migrations.AddField(
            model_name="account",
            name="name_pinyin",
            field=models.CharField(blank=True, editable=False, max_length=1200, verbose_name="name in pinyin"),
        ),
        migrations.AddField(
            model_name="contact",
            name="name_initials",
            field=models.CharField(
                blank=True, editable=False, max_length=400, verbose_name="initials of the name in pinyin"
            ),
        ),
        migrations.AddField(
            model_name="contact",
            name="name_pinyin",
            field=models.CharField(blank=True, editable=False, max_length=1200, verbose_name="name in pinyin"),
        ),
        migrations.RunPython(fill_pinyin, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="account",
            index=core.indexes.TrigramIndex(
                django.db.models.functions.text.Upper("name"), name="account_name_trgm_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="account",
            index=core.indexes.TrigramIndex(fields=["name_pinyin", "name_initials"], name="account_pinyin_trgm_idx"),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=core.indexes.TrigramIndex(
                django.db.models.functions.text.Upper("name"), name="contact_name_trgm_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=core.indexes.TrigramIndex(fields=["name_pinyin", "name_initials"], name="contact_pinyin_trgm_idx"),
        ),
    ]
