"""The webhook lists read from their indexes (issue 14): an endpoint's deliveries newest first (pages and API), and the
sweeper's due deliveries. Read from PostgreSQL's plans over enough rows, after ANALYZE."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from pipeline.models import WebhookDelivery
from pipeline.selectors.webhooks import deliveries_of
from pipeline.services.webhooks import create_endpoint
from pipeline.webhooks.sending import SWEEP_LIMIT, claimable

pytestmark = [
    # Committed and vacuumed, as autovacuum leaves a production table (see tests/pipeline/test_index_use.py).
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's query plans"),
]


def index_serving(plan: str) -> set[str]:
    return set(re.findall(r"Index (?:Only )?Scan(?: Backward)? using (\w+)|Bitmap Index Scan on (\w+)", plan)[0])


@pytest.fixture
def deliveries(org):
    now = timezone.now()
    endpoints = [
        create_endpoint(
            created_by=org.director, name=f"e{n}", kind="webhook", url="http://127.0.0.1:9/", events=["visit.done"]
        )
        for n in range(20)
    ]
    statuses = ["delivered"] * 18 + ["failed", "pending"]
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoints[n % 20],
            event="visit.done",
            status=statuses[n % 20] if n % 997 else "pending",
            created_at=now - timedelta(minutes=n),
            next_attempt_at=now + timedelta(minutes=n % 50) if n % 20 == 19 else None,
            expires_at=now + timedelta(hours=24),
        )
        for n in range(20000)
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE pipeline_webhookdelivery")
    return endpoints, now


def test_an_endpoints_deliveries_newest_first_read_from_their_index(deliveries):
    endpoints, _ = deliveries

    plan = deliveries_of(endpoints[3])[:25].explain()

    assert "webhookdelivery_endpoint_idx" in index_serving(plan), plan
    assert "Sort" not in plan.split("Index")[0], plan


def test_the_sweepers_due_deliveries_read_from_their_index(deliveries):
    _, now = deliveries

    plan = WebhookDelivery.objects.filter(claimable(now)).order_by("next_attempt_at", "pk")[:SWEEP_LIMIT].explain()

    assert "webhookdelivery_due_idx" in plan, plan
