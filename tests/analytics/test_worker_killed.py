"""A worker killed mid-digest (issue 11, finding 6): `kill -9` of a real Celery worker talking to the SMTP server.

The task was acknowledged late, so it stays in Redis's unacked set and another worker gets it once the visibility
timeout (shortened here to 5 s, with a 3 s task time limit) has passed; the dead worker's claim on the delivery is
older than the time limit by then, so the new worker takes it over and sends. Every email is counted at a local SMTP
sink: each user gets theirs exactly once.
"""

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from analytics import tasks
from analytics.models import DigestDelivery
from tests.celery_process import Worker, publishing_to, wait_until
from tests.factories import UserFactory
from tests.redis_server import REDIS_SERVER, RedisServer
from tests.smtp_sink import SmtpSink

pytestmark = [
    pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed"),
    pytest.mark.django_db(transaction=True),
]

DUE = datetime(2026, 5, 18, 8, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
VISIBILITY_TIMEOUT = 5
SHORT_LIMITS = {
    "CELERY_TASK_TIME_LIMIT": "3",
    "CELERY_TASK_SOFT_TIME_LIMIT": "2",
    "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
}
WAIT_SECONDS = 30


class HoldingSink(SmtpSink):
    """Holds the first sender at its MAIL command until released, so the test can kill it mid-message."""

    def __init__(self) -> None:
        super().__init__()
        self.holding, self.release = threading.Event(), threading.Event()

    def on_mail(self) -> None:
        if not self.holding.is_set():
            self.holding.set()
            self.release.wait(WAIT_SECONDS)

    def handle_error(self, request, client_address) -> None:
        pass  # the killed worker's connection breaks mid-conversation: expected


def test_a_digest_whose_worker_is_killed_mid_send_is_redelivered_and_sent_exactly_once(tmp_path):
    users = [
        UserFactory(username=f"user{n}", email=f"user{n}@example.com", time_zone="Asia/Shanghai") for n in range(4)
    ]
    queue = f"killed-{tmp_path.name}"
    with RedisServer(tmp_path, appendonly=True) as redis, HoldingSink() as sink:
        environment = {**SHORT_LIMITS, "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"}
        with publishing_to(redis.url, queue):
            assert tasks.enqueue_weekly_digests(now=DUE) == 4
        first = Worker(broker_url=redis.url, queue=queue, environment=environment)
        try:
            assert sink.holding.wait(WAIT_SECONDS), first.stop()
            in_flight = DigestDelivery.objects.get(status="sending")
            first.kill()
            killed_at = time.monotonic()
        finally:
            sink.release.set()
            first.stop()
        assert redis.client().hlen("unacked") == 1  # the killed worker's task, not acknowledged

        second = Worker(broker_url=redis.url, queue=queue, environment=environment)
        try:
            assert wait_until(lambda: len(sink.messages) == 4, seconds=WAIT_SECONDS)
            redelivered_after = time.monotonic() - killed_at
            time.sleep(2)  # anything sent twice would arrive now
            assert redis.client().hlen("unacked") == 0  # every task acknowledged
        finally:
            output = second.stop()
        print(first.output, output, f"sent {redelivered_after:.1f} s after the kill")  # shown if it fails  # noqa: T201

    assert sorted(message.recipients[0] for message in sink.messages) == [user.email for user in users]
    assert redelivered_after < VISIBILITY_TIMEOUT + 15
    deliveries = {d.user_id: (d.status, d.attempts) for d in DigestDelivery.objects.all()}
    assert deliveries == {u.pk: ("sent", 2 if u.pk == in_flight.user_id else 1) for u in users}
