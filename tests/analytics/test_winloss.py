"""GET /api/v1/analytics/winloss/ per dimension, against hand-computed numbers (the clock: 15 May 2026)."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from analytics.selectors.winloss import win_loss
from pipeline.models import Opportunity
from tests.analytics.conftest import at
from tests.factories import CompetitorFactory, OpportunityFactory, default_stage

pytestmark = pytest.mark.django_db
URL = "/api/v1/analytics/winloss/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def closed(owner, status: str, amount: str, closed_at, *, stage="implement", competitors=(), **fields):
    opportunity = OpportunityFactory(
        owner=owner,
        status=status,
        amount=Decimal(amount),
        closed_at=closed_at,
        stage=default_stage(stage),
        furthest_stage=default_stage(stage),
        **fields,
    )
    opportunity.competitors.set(competitors)
    return opportunity


@pytest.fixture
def company(org, now):
    """Team a: W1 100,000 (referral; X), W2 50,000 (no source; X, Y), L1 price 30,000 at needs (referral; X),
    L2 timing 20,000 untouched/no_plan at prep (cold visit), L4 price 10,000 untouched/no_plan at prep (referral,
    rep_a2); L3 closed in 2025. Team b: W3 7,777."""
    x, y = CompetitorFactory(name="X"), CompetitorFactory(name="Y")
    lost = {"status": "lost", "stage": "prep"}
    closed(org.rep_a1, "won", "100000", at(2026, 2, 10), source="referral", competitors=[x])
    closed(org.rep_a1, "won", "50000", at(2026, 3, 10), competitors=[x, y])
    closed(org.rep_a1, "lost", "30000", at(2026, 4, 1), stage="needs", loss_reason="price", source="referral",
           competitors=[x], lost_to=x)  # fmt: skip
    untouched = {"is_untouched_loss": True, "untouched_cause": "no_plan", "lost_to": y}
    closed(org.rep_a1, **lost, amount="20000", closed_at=at(2026, 4, 2), loss_reason="timing", source="cold_visit",
           **untouched)  # fmt: skip
    closed(org.rep_a2, **lost, amount="10000", closed_at=at(2026, 5, 1), loss_reason="price", source="referral",
           **untouched)  # fmt: skip
    closed(org.rep_a1, **lost, amount="999", closed_at=at(2025, 12, 31), loss_reason="price")
    closed(org.rep_b1, "won", "7777", at(2026, 2, 1), source="referral")
    return {"X": x, "Y": y}


def numbers(body: dict) -> list[tuple]:
    return [(r["key"], r["won"], r["lost"], r["won_amount"], r["lost_amount"], r["win_rate"]) for r in body["rows"]]


def get(user, **params) -> dict:
    response = client_for(user).get(URL, params)
    assert response.status_code == 200, response.json()
    return response.json()


def test_by_loss_reason(org, company):
    body = get(org.manager_a, dimension="reason")

    assert (body["dimension"], body["start"], body["end"]) == ("reason", "2026-01-01", "2026-05-15")
    assert numbers(body) == [
        ("price", 0, 2, "0.00", "40000.00", 0.0),
        ("timing", 0, 1, "0.00", "20000.00", 0.0),
        (None, 2, 0, "150000.00", "0.00", 1.0),
    ]
    with translation.override("zh-hans"):
        assert body["rows"][0]["label"] == str(Opportunity.LossReason.PRICE.label)


def test_by_competitor_in_play(org, company):
    x, y = company["X"], company["Y"]

    body = get(org.manager_a, dimension="competitor")

    assert numbers(body) == [
        (str(x.pk), 2, 1, "150000.00", "30000.00", 2 / 3),
        (str(y.pk), 1, 0, "50000.00", "0.00", 1.0),
        (None, 0, 2, "0.00", "30000.00", 0.0),
    ]
    assert [r["label"] for r in body["rows"][:2]] == ["X", "Y"]


def test_by_furthest_stage(org, company):
    body = get(org.manager_a, dimension="stage")

    assert numbers(body) == [
        ("prep", 0, 2, "0.00", "30000.00", 0.0),
        ("needs", 0, 1, "0.00", "30000.00", 0.0),
        ("implement", 2, 0, "150000.00", "0.00", 1.0),
    ]
    assert body["rows"][0]["label"] == default_stage("prep").name_zh


def test_by_untouched_cause(org, company):
    body = get(org.manager_a, dimension="untouched_cause")

    assert numbers(body) == [
        ("no_plan", 0, 2, "0.00", "30000.00", 0.0),
        (None, 2, 1, "150000.00", "30000.00", 2 / 3),
    ]


def test_by_source_over_a_chosen_period(org, company):
    everything = get(org.manager_a, dimension="source")
    spring = get(org.manager_a, dimension="source", start="2026-04-01", end="2026-04-01")

    assert numbers(everything) == [
        ("cold_visit", 0, 1, "0.00", "20000.00", 0.0),
        ("referral", 1, 2, "100000.00", "40000.00", 1 / 3),
        (None, 1, 0, "50000.00", "0.00", 1.0),
    ]
    assert numbers(spring) == [("referral", 0, 1, "0.00", "30000.00", 0.0)]


def test_each_role_counts_what_it_sees(org, company):
    assert numbers(get(org.rep_a2, dimension="reason")) == [("price", 0, 1, "0.00", "10000.00", 0.0)]
    assert numbers(get(org.director, dimension="reason"))[-1] == (None, 3, 0, "157777.00", "0.00", 1.0)
    assert numbers(get(org.director, dimension="reason", team=org.team_b.pk)) == [(None, 1, 0, "7777.00", "0.00", 1.0)]
    assert numbers(get(org.manager_a, dimension="reason", owner=org.rep_a2.pk)) == [
        ("price", 0, 1, "0.00", "10000.00", 0.0)
    ]


@pytest.mark.parametrize(
    ("viewer", "params"),
    [("rep_a1", {"owner": "rep_a2"}), ("manager_a", {"owner": "rep_b1"}), ("manager_a", {"team": "team_b"})],
)
def test_a_rep_or_team_the_viewer_cannot_see_answers_404(org, company, viewer, params):
    ids = {key: getattr(org, value).pk for key, value in params.items()}

    assert client_for(getattr(org, viewer)).get(URL, {"dimension": "reason", **ids}).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "dimension"),
        ({"dimension": "mood"}, "dimension"),
        ({"dimension": "reason", "start": "2026-05-02", "end": "2026-05-01"}, "end"),
        ({"dimension": "reason", "start": "spring"}, "start"),
    ],
)
def test_bad_parameters_answer_400_naming_the_field(org, company, params, field):
    response = client_for(org.manager_a).get(URL, params)

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("dimension", ["reason", "competitor", "stage", "untouched_cause", "source"])
def test_each_dimension_is_one_query(org, company, dimension, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = win_loss(viewer=org.manager_a, dimension=dimension, start=date(2026, 1, 1), end=date(2026, 5, 15))

    assert sum(r.won + r.lost for r in rows) >= 5
