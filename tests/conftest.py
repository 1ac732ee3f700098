import pytest
from django.core.cache import caches
from django.utils import timezone, translation

from pipeline.models import Pipeline, Stage
from tests.factories import TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # Tests talk plain HTTP to the test client and render templates without a collected manifest.
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Each test process counts throttled requests and failed sign-ins in its own memory, from zero: a Redis cache
    # (CI sets REDIS_URL) would be shared by parallel test processes, and clearing it would flush the broker's database.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    caches["default"].clear()


@pytest.fixture(autouse=True)
def _default_language_and_time_zone(settings):
    # Each test starts in the company defaults (zh-hans, Asia/Shanghai), whatever an earlier test in this process
    # left active on the thread.
    translation.activate(settings.LANGUAGE_CODE)
    timezone.deactivate()
    yield
    translation.deactivate()
    timezone.deactivate()


@pytest.fixture
def default_pipeline(db) -> Pipeline:
    return Pipeline.objects.get(is_default=True)


@pytest.fixture
def stage(default_pipeline):
    """stage("needs") -> the default pipeline's stage with that code."""

    def get(code: str) -> Stage:
        return default_pipeline.stages.get(code=code)

    return get


@pytest.fixture
def org(db):
    """A small company: a director, two teams each with a manager and two reps."""

    class Org:
        director = UserFactory(username="director", role="director")
        team_a = TeamFactory(name="A")
        team_b = TeamFactory(name="B")
        manager_a = UserFactory(username="manager_a", role="manager", team=team_a)
        manager_b = UserFactory(username="manager_b", role="manager", team=team_b)
        rep_a1 = UserFactory(username="rep_a1", team=team_a)
        rep_a2 = UserFactory(username="rep_a2", team=team_a)
        rep_b1 = UserFactory(username="rep_b1", team=team_b)

    Org.team_a.manager = Org.manager_a
    Org.team_a.save()
    Org.team_b.manager = Org.manager_b
    Org.team_b.save()
    return Org


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """With REDIS_URL set or redis-server installed, on SQLite the test database is a file, so a real Celery worker
    process can open it too (tests marked celery_worker, and those that start a Redis of their own:
    tests/redis_server.py); PostgreSQL test databases are reachable by name already."""
    import os
    import shutil

    from django.conf import settings

    database = settings.DATABASES["default"]
    on_sqlite = database["ENGINE"] == "django.db.backends.sqlite3"
    workers_possible = os.environ.get("REDIS_URL") or shutil.which("redis-server")
    if workers_possible and on_sqlite and not database.get("TEST", {}).get("NAME"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture
def celery_eager():
    """Runs Celery tasks in-process for this test even when REDIS_URL points at a real broker (as in CI)."""
    from salesflow.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved
