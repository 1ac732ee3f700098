"""make backup / make restore (scripts/backup.py): a seeded PostgreSQL database dumped with pg_dump -Fc and restored
with pg_restore into a new database holds the same rows in every table; a restore into a database with tables is
refused unless forced. The SQLite path copies the file with SQLite's backup API."""

import os
import shutil
import sqlite3
import subprocess
import sys
from importlib import import_module
from io import StringIO

import psycopg2
import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from scripts.backup import Refused, backup, restore
from tests.celery_process import database_url

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql" or not shutil.which("pg_restore"),
    reason="pg_dump and pg_restore back up PostgreSQL only",
)


def run_script(*args: str, database: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/backup.py", *args],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": database_url(database)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def row_counts(cursor) -> dict[str, int]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [name for (name,) in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # table names from the catalog
        counts[table] = cursor.fetchone()[0]
    return counts


@pytest.fixture
def empty_database():
    """A new, empty PostgreSQL database beside the test database, dropped afterwards."""
    original = settings.DATABASES["default"]
    name = f"{original['NAME']}_restored"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield {**original, "NAME": name}
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_seeded_database_dumped_and_restored_into_a_new_one_has_the_same_rows_in_every_table(
    tmp_path, empty_database
):
    # seed_demo builds on the default pipeline a migration writes, which an earlier transactional test's flush removed.
    import_module("pipeline.migrations.0002_default_pipeline").create_default_pipeline(apps, None)
    call_command("seed_demo", scale=0.05, stdout=StringIO())
    original = settings.DATABASES["default"]
    with connection.cursor() as cursor:
        before = row_counts(cursor)

    dumped = run_script("backup", "--dir", str(tmp_path), database=original)
    assert dumped.returncode == 0, dumped.stderr
    (dump,) = tmp_path.glob("*.dump")
    assert dumped.stdout.strip() == str(dump)
    restored = run_script("restore", str(dump), database=empty_database)
    assert restored.returncode == 0, restored.stderr

    with (
        psycopg2.connect(
            dbname=empty_database["NAME"],
            user=original.get("USER") or None,
            password=original.get("PASSWORD") or None,
            host=original.get("HOST") or None,
            port=original.get("PORT") or None,
        ) as restored_connection,
        restored_connection.cursor() as cursor,
    ):
        after = row_counts(cursor)
    restored_connection.close()
    assert after == before
    assert len(before) > 30
    assert before["accounts_account"] > 0 and before["pipeline_opportunity"] > 0


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_restore_into_a_database_with_tables_is_refused_unless_forced(tmp_path, empty_database):
    original = settings.DATABASES["default"]
    dump = backup(directory=tmp_path, db=original)
    with connection.cursor() as cursor:
        before = row_counts(cursor)

    refused = run_script("restore", str(dump), database=original)

    assert refused.returncode == 1
    assert "already has" in refused.stderr and "FORCE=1" in refused.stderr
    with connection.cursor() as cursor:
        assert row_counts(cursor) == before
    restore(dump, force=False, db=empty_database)  # empty: restored
    restore(dump, force=True, db=empty_database)  # has tables now: replaced when forced


def test_a_sqlite_database_is_copied_and_restored_and_a_restore_over_tables_is_refused(tmp_path):
    source = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "app.sqlite3")}
    with sqlite3.connect(source["NAME"]) as db:
        db.execute("CREATE TABLE account (name TEXT)")
        db.executemany("INSERT INTO account VALUES (?)", [("甲",), ("乙",)])
    copy = backup(directory=tmp_path / "backups", db=source)
    target = {**source, "NAME": str(tmp_path / "restored.sqlite3")}

    restore(copy, force=False, db=target)

    with sqlite3.connect(target["NAME"]) as db:
        assert db.execute("SELECT name FROM account ORDER BY name").fetchall() == [("乙",), ("甲",)]
    with pytest.raises(Refused):
        restore(copy, force=False, db=target)
