"""Settings come from the environment (12-factor): each case loads them in a fresh process with a clean environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent

READ_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "db_engine": db["ENGINE"], "db_name": str(db["NAME"]), "db_host": db.get("HOST", ""), "db_port": db.get("PORT"),
    "db_user": db.get("USER", ""), "conn_max_age": db["CONN_MAX_AGE"],
    "db_options": db.get("OPTIONS", {}).get("options", ""),
    "eager": s.CELERY_TASK_ALWAYS_EAGER, "broker": s.CELERY_BROKER_URL, "result_backend": s.CELERY_RESULT_BACKEND,
    "time_zone": s.TIME_ZONE, "celery_time_zone": s.CELERY_TIMEZONE, "language_code": s.LANGUAGE_CODE,
    "use_tz": s.USE_TZ, "email_backend": s.EMAIL_BACKEND, "email_host": s.EMAIL_HOST, "email_port": s.EMAIL_PORT,
    "email_use_tls": s.EMAIL_USE_TLS, "email_user": s.EMAIL_HOST_USER, "email_password": s.EMAIL_HOST_PASSWORD,
    "debug": s.DEBUG, "static_storage": s.STORAGES["staticfiles"]["BACKEND"], "ssl_redirect": s.SECURE_SSL_REDIRECT,
    "allowed_hosts": s.ALLOWED_HOSTS, "stale_days": s.SALESFLOW_STALE_DAYS,
    "follow_up_days": s.SALESFLOW_FOLLOW_UP_DAYS, "cv_threshold": s.SALESFLOW_CV_THRESHOLD,
}))
"""


def settings_with(**environment: str) -> dict:
    """The settings a new process gets with only `environment` (plus PATH) set."""
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "salesflow.settings", **environment}
    result = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_database_defaults_to_sqlite_in_the_project_folder():
    loaded = settings_with()

    assert (loaded["db_engine"], loaded["db_name"]) == ("django.db.backends.sqlite3", str(BASE_DIR / "db.sqlite3"))


def test_database_follows_database_url():
    loaded = settings_with(DATABASE_URL="postgres://sales:secret@db.internal:5433/salesflow", CONN_MAX_AGE="0")

    assert {k: loaded[k] for k in ("db_engine", "db_name", "db_host", "db_port", "db_user", "conn_max_age")} == {
        "db_engine": "django.db.backends.postgresql",
        "db_name": "salesflow",
        "db_host": "db.internal",
        "db_port": 5433,
        "db_user": "sales",
        "conn_max_age": 0,
    }


def test_postgresql_connections_plan_for_memory_and_prepared_statements_unless_told_otherwise():
    url = "postgres://sales@db.internal/salesflow"

    assert settings_with(DATABASE_URL=url)["db_options"] == (
        "-c random_page_cost=1.1 -c plan_cache_mode=force_generic_plan"
    )
    assert (
        settings_with(DATABASE_URL=url, DATABASE_RANDOM_PAGE_COST="2", DATABASE_PREPARED_STATEMENTS="0")["db_options"]
        == "-c random_page_cost=2.0"
    )
    # behind PgBouncer in transaction mode: no startup option at all
    assert (
        settings_with(DATABASE_URL=url, DATABASE_RANDOM_PAGE_COST="", DATABASE_PREPARED_STATEMENTS="0")["db_options"]
        == ""
    )
    assert settings_with()["db_options"] == ""  # SQLite


def test_a_random_page_cost_that_is_not_a_number_stops_the_settings():
    environment = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "salesflow.settings"}
    result = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS],
        cwd=BASE_DIR,
        env={**environment, "DATABASE_RANDOM_PAGE_COST": "fast"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "could not convert string to float: 'fast'" in result.stderr


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's setting")
@pytest.mark.django_db
def test_the_connection_runs_with_the_random_page_cost():
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "1.1"


def test_celery_runs_tasks_in_process_without_redis_url():
    loaded = settings_with()

    assert (loaded["eager"], loaded["broker"], loaded["result_backend"]) == (True, "memory://", None)


def test_celery_uses_the_redis_broker_when_redis_url_is_set():
    loaded = settings_with(REDIS_URL="redis://cache.internal:6379/3")

    assert (loaded["eager"], loaded["broker"], loaded["result_backend"]) == (
        False,
        "redis://cache.internal:6379/3",
        "redis://cache.internal:6379/3",
    )


def test_time_zone_and_language_are_shanghai_and_simplified_chinese():
    loaded = settings_with()

    assert (loaded["time_zone"], loaded["celery_time_zone"], loaded["language_code"], loaded["use_tz"]) == (
        "Asia/Shanghai",
        "Asia/Shanghai",
        "zh-hans",
        True,
    )


def test_email_goes_to_the_console_by_default():
    assert settings_with()["email_backend"] == "django.core.mail.backends.console.EmailBackend"


def test_email_url_smtp_sets_host_and_port_without_tls():
    loaded = settings_with(EMAIL_URL="smtp://mailpit:1025")

    assert {k: loaded[k] for k in ("email_backend", "email_host", "email_port", "email_use_tls")} == {
        "email_backend": "django.core.mail.backends.smtp.EmailBackend",
        "email_host": "mailpit",
        "email_port": 1025,
        "email_use_tls": False,
    }


def test_email_url_smtp_with_tls_carries_credentials():
    loaded = settings_with(EMAIL_URL="smtp+tls://mailer:p%40ss@smtp.example.com:587")

    assert {k: loaded[k] for k in ("email_host", "email_port", "email_use_tls", "email_user", "email_password")} == {
        "email_host": "smtp.example.com",
        "email_port": 587,
        "email_use_tls": True,
        "email_user": "mailer",
        "email_password": "p@ss",
    }


def test_production_defaults_redirect_to_https_and_serve_hashed_static_files():
    loaded = settings_with(ALLOWED_HOSTS="sales.example.com,www.example.com")

    assert {k: loaded[k] for k in ("debug", "ssl_redirect", "static_storage", "allowed_hosts")} == {
        "debug": False,
        "ssl_redirect": True,
        "static_storage": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "allowed_hosts": ["sales.example.com", "www.example.com"],
    }


def test_debug_serves_plain_static_files_over_http():
    loaded = settings_with(DEBUG="1")

    assert (loaded["debug"], loaded["ssl_redirect"], loaded["static_storage"]) == (
        True,
        False,
        "django.contrib.staticfiles.storage.StaticFilesStorage",
    )


def test_salesflow_numbers_are_overridable_from_the_environment():
    defaults = settings_with()
    overridden = settings_with(
        SALESFLOW_STALE_DAYS="14", SALESFLOW_FOLLOW_UP_DAYS="3,10", SALESFLOW_CV_THRESHOLD="500000"
    )

    assert (defaults["stale_days"], defaults["follow_up_days"], defaults["cv_threshold"]) == (21, [7, 30], None)
    assert (overridden["stale_days"], overridden["follow_up_days"], overridden["cv_threshold"]) == (
        14,
        [3, 10],
        500000.0,
    )
