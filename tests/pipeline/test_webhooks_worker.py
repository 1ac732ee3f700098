"""The real path of a webhook (issue 14): a user's request changes something, the delivery is published when the
transaction commits, a real Celery worker (tests/celery_process.py, on a Redis of the test's own) sends it to an HTTP
server on 127.0.0.1. The request returns at once even when the endpoint is slower than the send timeout."""

import time

import pytest
from django.urls import reverse

from pipeline.models import WebhookAttempt, WebhookDelivery
from pipeline.services.webhooks import create_endpoint
from tests.celery_process import Worker, publishing_to, wait_until
from tests.e2e.helpers import install_default_pipeline
from tests.factories import OpportunityFactory, default_stage
from tests.redis_server import REDIS_SERVER, RedisServer
from tests.webhook_receiver import Answer, Receiver

pytestmark = [
    pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed"),
    pytest.mark.django_db(transaction=True),
]

SECRET = "worker-test-secret"
WAIT_SECONDS = 40


@pytest.fixture(autouse=True)
def default_pipeline(db):
    return install_default_pipeline()  # a transactional test empties every table after it


def move_back_through_the_page(client, org, redis, queue) -> float:
    """The rep moves an opportunity back a stage on its page; returns how long the request took, in seconds."""
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))
    client.force_login(org.rep_a1)
    with publishing_to(redis.url, queue):
        started = time.monotonic()
        response = client.post(
            reverse("pipeline:opportunity_move", args=[opportunity.pk]), {"stage": "prep", "version": 1}
        )
        took = time.monotonic() - started
    assert response.status_code == 302
    return took


def test_the_worker_delivers_a_changes_event_once_after_the_request_committed(org, client, tmp_path):
    queue = f"webhooks-{tmp_path.name}"
    with RedisServer(tmp_path, appendonly=True) as redis, Receiver(secret=SECRET) as receiver:
        create_endpoint(
            created_by=org.director,
            name="ERP",
            kind="webhook",
            url=receiver.url,
            secret=SECRET,
            events=["opportunity.stage_changed"],
        )
        worker = Worker(broker_url=redis.url, queue=queue)
        try:
            move_back_through_the_page(client, org, redis, queue)
            assert wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").exists(), seconds=WAIT_SECONDS)
        finally:
            output = worker.stop()
        print(output)  # shown when the test fails  # noqa: T201

    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, WebhookAttempt.objects.get().status_code) == (1, 200)
    [request] = receiver.received
    assert request.signature_ok is True
    assert receiver.acted == [str(delivery.event_id)]


def test_a_slow_endpoint_times_out_in_the_worker_and_the_request_did_not_wait(org, client, tmp_path):
    queue = f"webhooks-slow-{tmp_path.name}"
    with RedisServer(tmp_path, appendonly=True) as redis, Receiver([Answer(200, delay=6)], SECRET) as receiver:
        create_endpoint(
            created_by=org.director,
            name="slow",
            kind="webhook",
            url=receiver.url,
            secret=SECRET,
            events=["opportunity.stage_changed"],
        )
        worker = Worker(broker_url=redis.url, queue=queue, environment={"SALESFLOW_WEBHOOK_TIMEOUT_SECONDS": "1"})
        try:
            took = move_back_through_the_page(client, org, redis, queue)
            assert wait_until(lambda: WebhookAttempt.objects.exists(), seconds=WAIT_SECONDS)
        finally:
            output = worker.stop()
        print(output)  # noqa: T201

    # Sent from the request, the move could not answer before the endpoint (6 s) or the web's own timeout (5 s): the
    # bound leaves a loaded machine room (a CI run once took 1.6 s for the request) and still tells the two apart.
    assert took < 4.0
    delivery = WebhookDelivery.objects.get()
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.error) == (None, "timeout after 1.0 s")
    assert 1000 <= attempt.duration_ms < 3000
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert (delivery.next_attempt_at - attempt.at).total_seconds() == 60
    assert len(receiver.received) == 1
