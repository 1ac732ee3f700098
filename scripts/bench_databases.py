"""The bench's throwaway databases: one per scale, each with its own connection and cache so the scales can alternate
run by run; created, switched to and dropped on the configured server (temporary files for SQLite)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scripts.bench_targets import fmt_scale


@dataclass
class BenchDatabase:
    """A throwaway database of one scale, with its own connection and cache so the scales can alternate."""

    scale: float
    name: str
    wrapper: object
    cache: object
    seed_seconds: float | None = None


def throwaway_name(configured: str, scale: float, folder: Path, vendor: str) -> str:
    label = fmt_scale(scale).replace(".", "_")
    if vendor == "sqlite":
        return str(folder / f"bench_s{label}.sqlite3")
    return f"{configured}_bench_s{label}"


def make_database(scale: float, name: str) -> BenchDatabase:
    from django.conf import settings
    from django.db import connections
    from django.db.utils import load_backend
    from django.utils.module_loading import import_string

    base = connections["default"].settings_dict
    # The test client never closes its connection, so one connection per scale stays open for the whole run.
    wrapper = load_backend(base["ENGINE"]).DatabaseWrapper({**base, "NAME": name}, "default")
    params = dict(settings.CACHES["default"])
    backend, location = params.pop("BACKEND"), params.pop("LOCATION", "")
    params["KEY_PREFIX"] = f"{params.get('KEY_PREFIX', '')}bench-s{fmt_scale(scale)}"
    cache = import_string(backend)(location, params)
    return BenchDatabase(scale=scale, name=name, wrapper=wrapper, cache=cache)


def use(db: BenchDatabase) -> None:
    """Makes `db` the default database and cache for everything that follows (views, ORM, query capture)."""
    from django.core.cache import caches
    from django.db import connections

    connections["default"] = db.wrapper
    caches["default"] = db.cache


def server_command(base_wrapper, sql: str) -> None:
    """Runs CREATE/DROP DATABASE on the server, outside any database of ours."""
    with base_wrapper._nodb_cursor() as cursor:
        cursor.execute(sql)


def database_exists(base_wrapper, db: BenchDatabase) -> bool:
    if base_wrapper.vendor == "sqlite":
        return Path(db.name).exists()
    with base_wrapper._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db.name])
        return cursor.fetchone() is not None


def create_database(base_wrapper, db: BenchDatabase) -> None:
    if base_wrapper.vendor == "sqlite":
        Path(db.name).unlink(missing_ok=True)
        return
    server_command(base_wrapper, f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
    server_command(base_wrapper, f'CREATE DATABASE "{db.name}"')


def drop_database(base_wrapper, db: BenchDatabase) -> None:
    db.wrapper.close()
    if base_wrapper.vendor == "sqlite":
        Path(db.name).unlink(missing_ok=True)
    else:
        server_command(base_wrapper, f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
