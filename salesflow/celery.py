"""The Celery app. Without REDIS_URL tasks run eagerly in-process (see settings).

A worker checks at start that the Redis broker persists what it holds (append-only file): without it, a Redis restart
silently drops every queued task (the nightly jobs and digests are caught up by the next beat tick, but nothing else
would be), so the worker logs a warning saying how to turn it on.
"""

from __future__ import annotations

import logging
import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesflow.settings")

logger = logging.getLogger(__name__)

app = Celery("salesflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def broker_persistence_problem(url: str) -> str | None:
    """Why the Redis server at `url` may lose queued tasks on a restart (no append-only file), or None when it keeps
    them or is not Redis. Asks the server (CONFIG GET appendonly / save); says so when it cannot."""
    if not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        appendonly = client.config_get("appendonly").get("appendonly")
        save = client.config_get("save").get("save", "")
    except redis.RedisError as error:
        return (
            f"Could not check that the Redis broker persists queued tasks ({type(error).__name__}: {error}). "
            "Make sure it runs with an append-only file (appendonly yes)."
        )
    finally:
        client.close()
    if appendonly == "yes":
        return None
    if save:
        loses = f"only snapshots are taken (save {save}): a restart loses every task queued since the last one"
    else:
        loses = "no snapshots are taken either: a restart loses every queued task"
    return (
        f"The Redis broker does not persist queued tasks: appendonly is {appendonly} and {loses}. Run redis-server "
        "with --appendonly yes (or CONFIG SET appendonly yes, then CONFIG REWRITE to keep it)."
    )


@worker_ready.connect
def warn_if_the_broker_does_not_persist(sender=None, **kwargs) -> None:
    """At worker start: logs a warning when the broker would lose queued tasks on a restart."""
    problem = broker_persistence_problem(app.conf.broker_url or "")
    if problem:
        logger.warning(problem)
