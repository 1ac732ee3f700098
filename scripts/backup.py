"""Backs up the configured database to a file, and restores such a file into the configured database.

Usage:
  python scripts/backup.py backup [--dir backups]        # make backup
  python scripts/backup.py restore FILE [--force]        # make restore FILE=... [FORCE=1]

The database is the one DATABASE_URL names (as the app reads it, .env included). PostgreSQL: `pg_dump -Fc` (custom
format: compressed, restorable table by table) to <dir>/<database>-<UTC timestamp>.dump, restored with `pg_restore`
in one transaction, without owners or privileges (the restoring role owns what it restores). SQLite: an online copy
(SQLite's backup API) to <dir>/<database>-<UTC timestamp>.sqlite3, copied back the same way.

A restore refuses a target that already has tables (a migrated or used database) unless --force: then PostgreSQL
objects in the dump are dropped and recreated (`--clean --if-exists`), and a SQLite file is overwritten. Exits 0 on
success, 1 when pg_dump/pg_restore fails or the target is refused, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


class Refused(Exception):
    """The restore target is not empty and --force was not given."""


def database() -> dict:
    """The configured default database, as Django's settings read DATABASE_URL."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesflow.settings")
    from django.conf import settings

    return settings.DATABASES["default"]


def _libpq(db: dict) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump/pg_restore/psql, with the password in the environment, not the command line."""
    options = [f"--dbname={db['NAME']}"]
    if db.get("HOST"):
        options.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        options.append(f"--port={db['PORT']}")
    if db.get("USER"):
        options.append(f"--username={db['USER']}")
    environment = {**os.environ}
    if db.get("PASSWORD"):
        environment["PGPASSWORD"] = str(db["PASSWORD"])
    return options, environment


def _is_postgresql(db: dict) -> bool:
    return "postgresql" in db["ENGINE"]


def backup(*, directory: Path, db: dict | None = None) -> Path:
    """Writes a backup of the database to a new file in `directory`; returns its path."""
    db = db or database()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = Path(str(db["NAME"])).stem if not _is_postgresql(db) else str(db["NAME"])
    if _is_postgresql(db):
        target = directory / f"{name}-{stamp}.dump"
        options, environment = _libpq(db)
        subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", *options],
            env=environment,
            check=True,
        )
        return target
    target = directory / f"{name}-{stamp}.sqlite3"
    with sqlite3.connect(db["NAME"]) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return target


def _table_count(db: dict) -> int:
    if _is_postgresql(db):
        options, environment = _libpq(db)
        query = "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        result = subprocess.run(
            ["psql", "--no-psqlrc", "--tuples-only", "--no-align", f"--command={query}", *options],
            env=environment,
            check=True,
            capture_output=True,
            text=True,
        )
        return int(result.stdout.strip())
    if not Path(db["NAME"]).exists():
        return 0
    with sqlite3.connect(db["NAME"]) as connection:
        return connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]


def restore(file: Path, *, force: bool, db: dict | None = None) -> None:
    """Restores `file` (a backup of this kind of database) into the database; raises Refused for a target with
    tables unless `force`."""
    db = db or database()
    tables = _table_count(db)
    if tables and not force:
        raise Refused(
            f"The database {db['NAME']} already has {tables} tables; restore into an empty database (createdb), "
            "or set FORCE=1 to replace what the backup holds."
        )
    if _is_postgresql(db):
        options, environment = _libpq(db)
        clean = ["--clean", "--if-exists"] if tables else []
        subprocess.run(
            ["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", *clean,
             *options, str(file)],
            env=environment,
            check=True,
        )  # fmt: skip
        return
    with sqlite3.connect(file) as source, sqlite3.connect(db["NAME"]) as target:
        source.backup(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="back up the configured database")
    make.add_argument("--dir", type=Path, default=BASE_DIR / "backups", help="where the file goes (default: backups)")
    back = commands.add_parser("restore", help="restore a backup file into the configured database")
    back.add_argument("file", type=Path)
    back.add_argument("--force", action="store_true", help="replace what a non-empty database holds")
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "backup":
            print(backup(directory=arguments.dir))  # noqa: T201
        else:
            if not arguments.file.is_file():
                parser.error(f"no such file: {arguments.file}")
            restore(arguments.file, force=arguments.force)
            print(f"Restored {arguments.file} into {database()['NAME']}.")  # noqa: T201
    except Refused as refused:
        print(refused, file=sys.stderr)  # noqa: T201
        return 1
    except subprocess.CalledProcessError as error:
        print(f"{error.cmd[0]} failed (exit {error.returncode}).", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
