"""A real Celery worker process for integration tests, consuming a queue of the test's own from a Redis of the test's
own (tests/redis_server.py), against the test database; and publishing to that Redis from the test process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import quote

from django.conf import settings

from salesflow.celery import app


def database_url(database: dict) -> str:
    """A DATABASE_URL naming the database this test runs against (the test database, not the configured one)."""
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    user = quote(database.get("USER") or "", safe="")
    password = quote(database.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{credentials}{database.get('HOST') or ''}{port}/{database['NAME']}"


def wait_until(condition: Callable[[], bool], *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@contextmanager
def publishing_to(broker_url: str, queue: str) -> Iterator[None]:
    """Tasks sent from this process (`.delay()`, groups) go to `queue` on `broker_url`, not run in-process."""
    conf = app.conf
    saved = conf.broker_url, conf.task_always_eager, conf.task_default_queue
    conf.broker_url, conf.task_always_eager, conf.task_default_queue = broker_url, False, queue
    app._pool, app.amqp._producer_pool = None, None  # connections are pooled per app: make new ones to this broker
    try:
        yield
    finally:
        # Not closed: kombu keeps one pool per broker URL for the process, and a closed one is never made again.
        app._pool, app.amqp._producer_pool = None, None
        conf.broker_url, conf.task_always_eager, conf.task_default_queue = saved


class Worker:
    """`celery worker` (prefork, one child) in a session of its own, so `kill()` can SIGKILL it with its child."""

    def __init__(self, *, broker_url: str, queue: str, environment: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "salesflow", "worker", "-Q", queue,
             "-n", f"{queue}-{time.monotonic_ns()}@localhost", "--pool", "prefork", "--concurrency", "1",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
            cwd=settings.BASE_DIR,
            env={
                **os.environ,
                "REDIS_URL": broker_url,
                "DATABASE_URL": database_url(settings.DATABASES["default"]),
                **(environment or {}),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )  # fmt: skip
        self.output = ""

    def kill(self) -> None:
        """SIGKILL to the worker and its pool child at once, as a crash or the OOM killer would: nothing acks."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.output += self.process.stdout.read()

    def stop(self) -> str:
        """Stops the worker (warm shutdown, then SIGKILL) and returns what it logged."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            self.output += self.process.stdout.read()
        return self.output
