"""Queued tasks and a Redis restart (issue 11, finding 6), against a real redis-server the test starts and restarts.

Without persistence the restart drops every queued digest and nightly job; the next beat ticks enqueue them again
(digests: not sent this week; nightly jobs: no success since 01:00) and a real worker sends each digest once. With
an append-only file the queued tasks survive the restart. The worker warns at start when Redis does not persist.
"""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from analytics import jobs, tasks
from analytics.models import AccountValue, DigestDelivery, JobAttempt, MatrixRun
from salesflow.celery import broker_persistence_problem
from tests.celery_process import Worker, publishing_to, wait_until
from tests.factories import AccountFactory, AccountYearFactory, UserFactory
from tests.redis_server import REDIS_SERVER, RedisServer
from tests.smtp_sink import SmtpSink

pytestmark = [
    pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed"),
    pytest.mark.django_db(transaction=True),
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DIGESTS_DUE = datetime(2026, 5, 18, 8, 5, tzinfo=SHANGHAI)
NEXT_DIGEST_TICK = datetime(2026, 5, 18, 8, 20, tzinfo=SHANGHAI)
NIGHTLY = datetime(2026, 5, 18, 1, 0, tzinfo=SHANGHAI)
CATCH_UP_TICK = datetime(2026, 5, 18, 1, 20, tzinfo=SHANGHAI)
NIGHTLY_JOBS = [
    ("compute_matrix", "2025"),
    ("compute_matrix", "2026"),
    ("flag_untouched", ""),
    ("flag_stale", ""),
    ("roll_up", ""),
]
WAIT_SECONDS = 30


def queued(redis: RedisServer, queue: str) -> list[str]:
    """The names of the tasks waiting in `queue`, sorted."""
    messages = redis.client().lrange(queue, 0, -1)
    return sorted(json.loads(message)["headers"]["task"].rsplit(".", 1)[1] for message in messages)


def enqueue_digests_and_nightly_jobs(redis: RedisServer, queue: str, *, now: datetime) -> None:
    with publishing_to(redis.url, queue):
        with time_machine.travel(NIGHTLY, tick=False):
            tasks.enqueue_nightly_analytics_task()
        assert tasks.enqueue_weekly_digests(now=now) == 3


EXPECTED_QUEUE = sorted(
    ["compute_matrix_task", "compute_matrix_task", "flag_stale_task", "flag_untouched_task", "roll_up_task"]
    + ["send_weekly_digest_task"] * 3
)


def succeeded_nightly_jobs() -> int:
    return JobAttempt.objects.filter(status="succeeded", job__in={job for job, _ in NIGHTLY_JOBS}).count()


@pytest.fixture
def company(db):
    users = [
        UserFactory(username=f"user{n}", email=f"user{n}@example.com", time_zone="Asia/Shanghai") for n in range(3)
    ]
    account = AccountFactory(employee_count=None, is_target=True)
    AccountYearFactory(account=account, year=2026, potential_value=5000)
    return users


@pytest.mark.parametrize("appendonly", [False, True], ids=["without-aof", "with-aof"])
def test_queued_digests_and_nightly_jobs_lost_in_a_restart_are_caught_up_by_the_next_ticks(
    company, tmp_path, appendonly
):
    queue = f"loss-{tmp_path.name}"
    with RedisServer(tmp_path, appendonly=appendonly) as redis, SmtpSink() as sink:
        enqueue_digests_and_nightly_jobs(redis, queue, now=DIGESTS_DUE)
        assert queued(redis, queue) == EXPECTED_QUEUE

        redis.restart()

        if appendonly:
            assert queued(redis, queue) == EXPECTED_QUEUE  # the append-only file kept them
        else:
            assert queued(redis, queue) == []  # gone, with no trace in Redis
            with publishing_to(redis.url, queue):
                with time_machine.travel(CATCH_UP_TICK, tick=False):
                    tasks.catch_up_nightly_analytics_task()
                assert tasks.enqueue_weekly_digests(now=NEXT_DIGEST_TICK) == 3
            # The tick also takes this Monday's forecast snapshot, due at 00:00 and never taken here.
            assert queued(redis, queue) == sorted([*EXPECTED_QUEUE, "take_forecast_snapshot_task"])
            lost = JobAttempt.objects.filter(error=jobs.LOST).values_list("job", "key", "status")
            assert sorted(lost) == sorted((job, key, "failed") for job, key in NIGHTLY_JOBS)

        worker = Worker(broker_url=redis.url, queue=queue, environment={"EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"})
        try:
            assert wait_until(
                lambda: DigestDelivery.objects.filter(status="sent").count() == 3 and succeeded_nightly_jobs() == 5,
                seconds=WAIT_SECONDS,
            )
        finally:
            output = worker.stop()
        print(output)  # shown when the test fails  # noqa: T201

    assert sorted(message.recipients[0] for message in sink.messages) == [
        "user0@example.com",
        "user1@example.com",
        "user2@example.com",
    ]
    assert (MatrixRun.objects.count(), AccountValue.objects.filter(year=2026).count()) == (2, 1)
    assert ("does not persist queued tasks" in output) is not appendonly
    with time_machine.travel(CATCH_UP_TICK, tick=False):
        assert jobs.missed_nightly_jobs(now=CATCH_UP_TICK) == []  # every nightly job succeeded: nothing to catch up


@pytest.mark.parametrize(
    ("appendonly", "problem"),
    [(True, None), (False, "appendonly is no and no snapshots are taken either: a restart loses every queued task")],
    ids=["with-aof", "without-aof"],
)
def test_the_persistence_check_asks_the_redis_server(tmp_path, appendonly, problem):
    with RedisServer(tmp_path, appendonly=appendonly) as redis:
        found = broker_persistence_problem(redis.url)

    assert found is None if problem is None else problem in found


def test_the_persistence_check_names_snapshots_as_not_enough_and_skips_other_brokers(tmp_path):
    with RedisServer(tmp_path, appendonly=False) as redis:
        redis.client().config_set("save", "3600 1")
        found = broker_persistence_problem(redis.url)

    assert "only snapshots are taken (save 3600 1)" in found
    assert broker_persistence_problem("memory://") is None
