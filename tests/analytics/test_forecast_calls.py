"""POST /api/v1/analytics/forecast/calls/: a manager's call per rep and period, shown beside the forecast, with
history (the clock: 15 May 2026, Q2)."""

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from pipeline.models import ForecastCall, ForecastCallChange

pytestmark = pytest.mark.django_db
URL = "/api/v1/analytics/forecast/calls/"
Q2 = {"period_type": "quarter", "year": 2026, "period": 2}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def call(user, **body):
    return client_for(user).post(URL, {**Q2, **body}, format="json")


def history() -> list[tuple]:
    return list(ForecastCallChange.objects.order_by("pk").values_list("field", "old", "new", "by"))


def test_a_managers_call_is_kept_beside_the_reps_forecast_with_its_history(org, now):
    first = call(org.manager_a, owner=org.rep_a1.pk, amount="900000", note="大单在谈")
    second = call(org.manager_a, owner=org.rep_a1.pk, amount="800000.00", note="大单在谈")
    again = call(org.manager_a, owner=org.rep_a1.pk, amount="800000", note="大单在谈")

    assert [r.status_code for r in (first, second, again)] == [200, 200, 200]
    assert {k: second.json()[k] for k in ("owner", "period_type", "period_start", "amount", "note", "called_by")} == {
        "owner": org.rep_a1.pk,
        "period_type": "quarter",
        "period_start": "2026-04-01",
        "amount": "800000.00",
        "note": "大单在谈",
        "called_by": org.manager_a.pk,
    }
    assert ForecastCall.objects.count() == 1
    manager = org.manager_a.pk
    assert history() == [
        ("amount", None, "900000.00", manager),
        ("note", "", "大单在谈", manager),
        ("amount", "900000.00", "800000.00", manager),
    ]
    forecast = client_for(org.manager_a).get("/api/v1/analytics/forecast/", Q2).json()
    assert {r["owner"]: r["call"] for r in forecast["rows"]} == {
        org.manager_a.pk: None,
        org.rep_a1.pk: "800000.00",
        org.rep_a2.pk: None,
    }
    assert forecast["totals"]["call"] == "800000.00"
    month = client_for(org.manager_a).get("/api/v1/analytics/forecast/", {**Q2, "period_type": "month"}).json()
    assert month["totals"]["call"] is None  # a call is for its own period only


def test_a_director_calls_a_manager(org, now):
    response = call(org.director, owner=org.manager_a.pk, period_type="year", period=1, amount="5")

    assert response.status_code == 200
    assert ForecastCall.objects.get().period_start == date(2026, 1, 1)


@pytest.mark.parametrize(
    ("caller", "owner", "status"),
    [
        ("rep_a1", "rep_a1", 403),  # a rep makes no call
        ("rep_a1", "rep_a2", 404),  # nor sees the other rep
        ("manager_a", "manager_a", 400),  # nobody calls their own numbers (refused on the owner field)
        ("manager_a", "rep_b1", 404),  # another team's rep
    ],
)
def test_a_call_the_caller_may_not_make_is_refused_and_nothing_is_written(org, now, caller, owner, status):
    response = call(getattr(org, caller), owner=getattr(org, owner).pk, amount="1")

    assert response.status_code == status
    assert (ForecastCall.objects.count(), ForecastCallChange.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"period": 5}, "period"),
        ({"period_type": "week"}, "period_type"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"note": "x" * 2001}, "note"),
        ({"owner": None}, "owner"),
    ],
)
def test_bad_input_answers_400_naming_the_field(org, now, body, field):
    response = call(org.manager_a, **{"owner": org.rep_a1.pk, "amount": "10", **body})

    assert response.status_code == 400
    assert field in response.json()
    assert ForecastCall.objects.count() == 0


def test_a_call_amount_keeps_its_cents(org, now):
    call(org.manager_a, owner=org.rep_a1.pk, amount="10.50")

    assert ForecastCall.objects.get().amount == Decimal("10.50")


def test_a_retry_with_the_same_idempotency_key_records_the_call_once(org, now):
    client = client_for(org.manager_a)
    body = {**Q2, "owner": org.rep_a1.pk, "amount": "10"}

    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="call-1")
    retry = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="call-1")

    assert (first.status_code, retry.status_code, retry.headers.get("Idempotent-Replayed")) == (200, 200, "true")
    assert ForecastCallChange.objects.count() == 1
