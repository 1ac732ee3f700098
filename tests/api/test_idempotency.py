"""`Idempotency-Key` on every API POST: a retried request runs once and gets the first answer again (issue 11 §9)."""

import threading
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account, Contact
from core.idempotency import purge_expired_keys
from core.models import IdempotencyKey
from pipeline.models import Opportunity, SalesTarget, Visit, VisitWeekComment
from tests.factories import AccountFactory, UserFactory, VisitFactory

pytestmark = pytest.mark.django_db

KEY = "3f1c2b7e-6a0d-4a8e-9c55-0d5e0a4b9f11"


def done_visit(account: Account, summary: str = "Met the buyer") -> dict:
    return {"account": account.pk, "status": "done", "done_at": timezone.now().isoformat(), "summary": summary}


def post(client: APIClient, path: str, body: dict, key: str | None = KEY):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(path, body, format="json", headers=headers)


def test_twenty_identical_posts_with_one_key_log_one_visit_and_answer_the_same_twenty_times(api, org):
    account = AccountFactory(owner=org.rep_a1)
    client = api(org.rep_a1)
    body = done_visit(account)

    responses = [post(client, "/api/v1/visits/", body) for _ in range(20)]

    assert Visit.objects.count() == 1
    assert {(r.status_code, r.content) for r in responses} == {(201, responses[0].content)}
    assert responses[0].json()["id"] == Visit.objects.get().pk
    assert [r.headers.get("Idempotent-Replayed") for r in responses] == [None] + ["true"] * 19


def test_two_keys_log_two_visits(api, org):
    account = AccountFactory(owner=org.rep_a1)
    client = api(org.rep_a1)

    first = post(client, "/api/v1/visits/", done_visit(account), key="key-1")
    second = post(client, "/api/v1/visits/", done_visit(account), key="key-2")

    assert (first.status_code, second.status_code) == (201, 201)
    assert Visit.objects.count() == 2


def test_no_key_means_no_protection(api, org):
    account = AccountFactory(owner=org.rep_a1)
    client = api(org.rep_a1)

    post(client, "/api/v1/visits/", done_visit(account), key=None)
    post(client, "/api/v1/visits/", done_visit(account), key=None)

    assert (Visit.objects.count(), IdempotencyKey.objects.count()) == (2, 0)


def test_the_same_key_with_another_body_is_refused_and_runs_nothing(api, org):
    account = AccountFactory(owner=org.rep_a1)
    client = api(org.rep_a1)
    post(client, "/api/v1/visits/", done_visit(account, "First"))

    response = post(client, "/api/v1/visits/", done_visit(account, "Second"))

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert list(Visit.objects.values_list("summary", flat=True)) == ["First"]


def test_the_same_key_on_another_endpoint_is_refused(api, org):
    account = AccountFactory(owner=org.rep_a1)
    client = api(org.rep_a1)
    post(client, "/api/v1/visits/", done_visit(account))

    response = post(client, "/api/v1/opportunities/", {"account": account.pk, "name": "Deal"})

    assert (response.status_code, Opportunity.objects.count()) == (422, 0)


def test_the_same_key_from_another_user_is_theirs_alone(api, org):
    mine = AccountFactory(owner=org.rep_a1)
    theirs = AccountFactory(owner=org.rep_a2)

    first = post(api(org.rep_a1), "/api/v1/visits/", done_visit(mine))
    second = post(api(org.rep_a2), "/api/v1/visits/", done_visit(theirs))

    assert (first.status_code, second.status_code) == (201, 201)
    assert sorted(Visit.objects.values_list("owner__username", flat=True)) == ["rep_a1", "rep_a2"]


def test_the_body_is_compared_as_json_so_key_order_does_not_matter(api, org):
    account = AccountFactory(owner=org.rep_a1)
    client = api(org.rep_a1)
    body = done_visit(account)

    first = post(client, "/api/v1/visits/", body)
    again = post(client, "/api/v1/visits/", dict(reversed(list(body.items()))))

    assert (again.status_code, again.content) == (201, first.content)
    assert Visit.objects.count() == 1


def test_a_refused_request_keeps_no_key_so_the_fixed_one_may_reuse_it(api, org):
    account = AccountFactory(owner=org.rep_a1)
    client = api(org.rep_a1)

    refused = post(client, "/api/v1/visits/", {**done_visit(account), "satisfaction": 11})
    fixed = post(client, "/api/v1/visits/", done_visit(account))

    assert (refused.status_code, fixed.status_code) == (400, 201)
    assert Visit.objects.count() == 1


def test_a_key_expires_after_24_hours_and_is_purged(api, org):
    account = AccountFactory(owner=org.rep_a1)
    client = api(org.rep_a1)
    body = done_visit(account)
    post(client, "/api/v1/visits/", body)

    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        again = post(client, "/api/v1/visits/", body)
        assert purge_expired_keys() == 0  # the old one went when the new one was written

    assert again.status_code == 201
    assert Visit.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1


def test_within_24_hours_the_answer_is_replayed(api, org):
    account = AccountFactory(owner=org.rep_a1)
    client = api(org.rep_a1)
    body = done_visit(account)
    first = post(client, "/api/v1/visits/", body)

    with time_machine.travel(timezone.now() + timedelta(hours=23, minutes=59)):
        again = post(client, "/api/v1/visits/", body)

    assert (again.status_code, again.content) == (201, first.content)
    assert Visit.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\tkey"])
def test_a_malformed_key_is_refused(api, org, key):
    account = AccountFactory(owner=org.rep_a1)

    response = post(api(org.rep_a1), "/api/v1/visits/", done_visit(account), key=key)

    assert (response.status_code, response.json()["code"]) == (400, "invalid_idempotency_key")
    assert Visit.objects.count() == 0


def creations(org) -> list[tuple[str, object, dict, type]]:
    account = AccountFactory(owner=org.rep_a1)
    month = timezone.localdate().replace(day=1).isoformat()
    return [
        ("/api/v1/accounts/", org.rep_a1, {"name": "新客户"}, Account),
        ("/api/v1/contacts/", org.rep_a1, {"account": account.pk, "name": "李雷"}, Contact),
        ("/api/v1/opportunities/", org.rep_a1, {"account": account.pk, "name": "Deal"}, Opportunity),
        ("/api/v1/visits/", org.rep_a1, done_visit(account), Visit),
        (
            "/api/v1/targets/",
            org.director,
            {"owner_user": org.rep_a1.pk, "period_type": "month", "period_start": month, "amount": "1000"},
            SalesTarget,
        ),
        (
            "/api/v1/week-comments/",
            org.manager_a,
            {"rep": org.rep_a1.pk, "week_start": date(2026, 3, 2).isoformat(), "text": "Good week"},
            VisitWeekComment,
        ),
    ]


@pytest.mark.parametrize(
    "index", range(6), ids=["accounts", "contacts", "opportunities", "visits", "targets", "comments"]
)
def test_every_create_endpoint_creates_once_per_key(api, org, index):
    path, user, body, model = creations(org)[index]
    before = model.objects.count()
    client = api(user)

    first = post(client, path, body)
    second = post(client, path, body)

    assert first.status_code == 201, first.json()
    assert (second.status_code, second.content) == (201, first.content)
    assert model.objects.count() == before + 1


def test_completing_a_visit_twice_with_one_key_plans_the_next_visit_once(api, org):
    visit = VisitFactory(account=AccountFactory(owner=org.rep_a1))
    client = api(org.rep_a1)
    body = {"summary": "Agreed", "next_visit_at": (timezone.now() + timedelta(days=7)).isoformat()}

    first = post(client, f"/api/v1/visits/{visit.pk}/complete/", body)
    second = post(client, f"/api/v1/visits/{visit.pk}/complete/", body)

    assert (first.status_code, second.status_code, second.content) == (200, 200, first.content)
    assert list(Visit.objects.order_by("pk").values_list("status", flat=True)) == ["done", "planned"]


def test_a_replay_costs_two_queries(api, org, django_assert_num_queries):
    account = AccountFactory(owner=org.rep_a1)
    client = api(org.rep_a1)
    body = done_visit(account)
    post(client, "/api/v1/visits/", body)

    with django_assert_num_queries(2):  # purge expired keys, read the stored answer
        post(client, "/api/v1/visits/", body)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_run_once_and_answer_alike():
    rep = UserFactory(username="rep_x")
    account = AccountFactory(owner=rep)
    body = done_visit(account)
    barrier = threading.Barrier(8)
    answers: list[tuple[int, bytes]] = []

    def send() -> None:
        client = APIClient()
        client.force_authenticate(rep)
        try:
            barrier.wait()
            response = post(client, "/api/v1/visits/", body)
            answers.append((response.status_code, response.content))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Visit.objects.count() == 1
    assert len(answers) == 8
    assert len(set(answers)) == 1
    assert answers[0][0] == 201
