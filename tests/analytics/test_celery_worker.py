"""A real Celery worker consumes the analytics tasks from Redis and writes the snapshot into the test database.

Runs whenever REDIS_URL is set (CI sets it); skipped only without it, when tasks run eagerly in-process.
"""

import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.conf import settings

from analytics import tasks
from analytics.models import AccountValue, MatrixRun, UntouchedFlag
from salesflow.celery import app
from tests.factories import AccountFactory, AccountYearFactory

WAIT_SECONDS = 30


def database_url(database: dict) -> str:
    """A DATABASE_URL naming the database this test runs against (the test database, not the configured one)."""
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    user = quote(database.get("USER") or "", safe="")
    password = quote(database.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{credentials}{database.get('HOST') or ''}{port}/{database['NAME']}"


def wait_until(condition, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


@pytest.fixture
def worker_queue():
    """A queue of our own, so workers of other test processes sharing the Redis server never take our tasks."""
    queue = f"analytics-test-{uuid.uuid4().hex}"
    saved = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    yield queue
    app.conf.task_default_queue = saved


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_consuming_from_redis_writes_the_snapshots(worker_queue):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("REDIS_URL is unset: tasks run eagerly in-process")
    assert not app.conf.task_always_eager
    account = AccountFactory(employee_count=None, is_target=True)
    AccountYearFactory(account=account, year=2026, potential_value=Decimal("5000"))
    node = f"{worker_queue}@localhost"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "salesflow", "worker", "-Q", worker_queue, "-n", node,
         "--pool", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": database_url(settings.DATABASES["default"])},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        assert wait_until(lambda: bool(app.control.ping(destination=[node], timeout=0.5)), seconds=WAIT_SECONDS)

        tasks.compute_matrix_task.delay(2026)
        tasks.flag_untouched_task.delay()

        assert wait_until(lambda: UntouchedFlag.objects.exists() and MatrixRun.objects.exists(), seconds=WAIT_SECONDS)
        value = AccountValue.objects.get()
        assert (value.account_id, value.year, value.pv, value.pv_source) == (
            account.pk,
            2026,
            Decimal("5000.00"),
            "explicit",
        )
        assert UntouchedFlag.objects.get().account_id == account.pk
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        print(output)  # shown by pytest when the test fails  # noqa: T201
