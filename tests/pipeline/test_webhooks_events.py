"""Each event a pipeline service emits to webhooks (issue 14), with its payload, to the endpoints that want it: a
company-wide endpoint gets every team's events, one bound to a team only that team's; nothing for events it does not
subscribe to, nor for a switched-off endpoint; one query per change when no endpoint wants the event."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pipeline.models import WebhookDelivery, WebhookEndpoint
from pipeline.services.moves import lose_opportunity, move_opportunity, win_opportunity
from pipeline.services.opportunities import create_opportunity
from pipeline.services.reassignment import reassign_account
from pipeline.services.visits import complete_visit, log_visit
from pipeline.services.webhooks import create_endpoint, emit
from tests.factories import (
    AccountFactory,
    CompetitorFactory,
    OpportunityFactory,
    VisitFactory,
    default_stage,
    satisfy_exit_criteria,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 18, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
UTC_NOW = "2026-05-18T01:00:00+00:00"
SITE = "http://testserver.example"
Event = WebhookEndpoint.Event


@pytest.fixture(autouse=True)
def frozen(time_machine, settings):
    time_machine.move_to(NOW, tick=False)
    settings.SITE_URL = SITE


@pytest.fixture
def everything(org) -> WebhookEndpoint:
    return create_endpoint(
        created_by=org.director, name="all", kind="webhook", url="http://127.0.0.1:9/all", events=Event.values[:6]
    )


def only_delivery(event: str) -> dict:
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event, delivery.status, delivery.next_attempt_at) == (event, "pending", NOW)
    assert delivery.payload["event"] == event
    assert delivery.payload["event_id"] == str(delivery.event_id)
    assert delivery.payload["occurred_at"] == UTC_NOW
    return delivery.payload["data"]


def user(u) -> dict:
    return {"id": u.pk, "username": u.username, "name": u.display_name}


def stage(code: str) -> dict:
    s = default_stage(code)
    return {"code": code, "name_zh": s.name_zh, "name_en": s.name_en}


def opportunity_body(opportunity, **overrides) -> dict:
    opportunity.refresh_from_db()
    return {
        "id": opportunity.pk,
        "name": opportunity.name,
        "status": opportunity.status,
        "amount": "100000.00",
        "currency": "CNY",
        "probability": opportunity.probability,
        "expected_close_date": None,
        "closed_at": None,
        "stage": stage(opportunity.stage.code),
        "account": {"id": opportunity.account_id, "name": opportunity.account.name},
        "owner": user(opportunity.owner),
        "loss_reason": "",
        "lost_to": None,
        "url": f"{SITE}/opportunities/{opportunity.pk}/",
        **overrides,
    }


def test_creating_an_opportunity_emits_opportunity_created(org, everything):
    account = AccountFactory(owner=org.rep_a1)

    opportunity = create_opportunity(created_by=org.rep_a1, account=account, name="新机型", amount=Decimal("100000"))

    assert only_delivery("opportunity.created") == {"opportunity": opportunity_body(opportunity)}
    assert WebhookDelivery.objects.get().endpoint == everything


def test_moving_emits_stage_changed_with_both_stages(org, everything):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))

    move_opportunity(opportunity=opportunity, to_stage_code="prep", moved_by=org.rep_a1)

    assert only_delivery("opportunity.stage_changed") == {
        "opportunity": opportunity_body(opportunity),
        "from_stage": stage("needs"),
        "to_stage": stage("prep"),
    }


def test_moving_to_the_current_stage_emits_nothing(org, everything):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))

    move_opportunity(opportunity=opportunity, to_stage_code="needs", moved_by=org.rep_a1)

    assert WebhookDelivery.objects.count() == 0


def test_winning_emits_opportunity_won_only(org, everything):
    opportunity = satisfy_exit_criteria(OpportunityFactory(owner=org.rep_a1, stage=default_stage("close")), "close")

    win_opportunity(opportunity=opportunity, won_by=org.rep_a1)

    assert only_delivery("opportunity.won") == {
        "opportunity": opportunity_body(opportunity, closed_at=UTC_NOW, probability=100)
    }


def test_losing_emits_opportunity_lost_with_the_reason_and_competitor(org, everything):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))
    competitor = CompetitorFactory(name="对手甲")

    satisfy_exit_criteria(opportunity, "prep", "status")  # engaged and visited: not an untouched loss
    lose_opportunity(opportunity=opportunity, lost_by=org.rep_a1, reason="price", lost_to=competitor)

    assert only_delivery("opportunity.lost") == {
        "opportunity": opportunity_body(
            opportunity, closed_at=UTC_NOW, probability=0, loss_reason="price", lost_to="对手甲"
        )
    }


def test_logging_and_completing_a_visit_emit_visit_done(org, everything):
    account = AccountFactory(owner=org.rep_a1)
    logged = log_visit(logged_by=org.rep_a1, account=account, done_at=NOW - timedelta(hours=1), summary="演示")
    planned = VisitFactory(account=account, owner=org.rep_a1)

    completed = complete_visit(visit=planned, completed_by=org.rep_a1, summary="谈了价格", next_step="报价")

    bodies = [d.payload["data"]["visit"] for d in WebhookDelivery.objects.order_by("pk")]
    assert [d.event for d in WebhookDelivery.objects.all()] == ["visit.done", "visit.done"]
    assert bodies == [
        {
            "id": logged.pk,
            "kind": "visit",
            "done_at": (NOW - timedelta(hours=1)).astimezone(UTC).isoformat(),
            "account": {"id": account.pk, "name": account.name},
            "owner": user(org.rep_a1),
            "opportunity": None,
            "purpose": "",
            "summary": "演示",
            "next_step": "",
            "satisfaction": None,
            "url": f"{SITE}/visits/{logged.pk}/",
        },
        {
            "id": completed.pk,
            "kind": planned.kind,
            "done_at": UTC_NOW,
            "account": {"id": account.pk, "name": account.name},
            "owner": user(org.rep_a1),
            "opportunity": None,
            "purpose": planned.purpose,
            "summary": "谈了价格",
            "next_step": "报价",
            "satisfaction": None,
            "url": f"{SITE}/visits/{completed.pk}/",
        },
    ]


def test_reassigning_an_account_emits_account_reassigned_to_both_teams_robots(org):
    bound = {
        team: create_endpoint(
            created_by=org.director,
            name=team.name,
            kind="wecom",
            url="http://127.0.0.1:9/robot",
            events=[Event.ACCOUNT_REASSIGNED],
            team=team,
        )
        for team in (org.team_a, org.team_b)
    }
    account = AccountFactory(owner=org.rep_a1)

    reassign_account(account=account, to_owner=org.rep_b1, reassigned_by=org.director)

    deliveries = WebhookDelivery.objects.order_by("endpoint__name")
    assert [d.endpoint for d in deliveries] == [bound[org.team_a], bound[org.team_b]]
    assert deliveries[0].payload["data"] == {
        "account": {"id": account.pk, "name": account.name, "url": f"{SITE}/accounts/{account.pk}/"},
        "from_owner": user(org.rep_a1),
        "to_owner": user(org.rep_b1),
        "reassigned_by": user(org.director),
    }
    assert deliveries[0].event_id == deliveries[1].event_id  # one event, two endpoints


def test_a_team_endpoint_gets_only_its_teams_events_and_an_unsubscribed_or_inactive_one_none(org, everything):
    def endpoint(name, **fields):
        values = {"kind": "webhook", "url": "http://127.0.0.1:9/x", "events": [Event.OPPORTUNITY_STAGE_CHANGED]}
        return create_endpoint(created_by=org.director, name=name, **{**values, **fields})

    team_a, team_b = endpoint("team a", team=org.team_a), endpoint("team b", team=org.team_b)
    endpoint("won only", events=[Event.OPPORTUNITY_WON])
    endpoint("switched off", is_active=False)

    for owner in (org.rep_a1, org.rep_b1):
        opportunity = OpportunityFactory(owner=owner, stage=default_stage("needs"))
        move_opportunity(opportunity=opportunity, to_stage_code="prep", moved_by=owner)

    received = sorted(WebhookDelivery.objects.values_list("endpoint__name", "payload__data__opportunity__owner__id"))
    assert received == [
        ("all", org.rep_a1.pk),
        ("all", org.rep_b1.pk),
        ("team a", org.rep_a1.pk),
        ("team b", org.rep_b1.pk),
    ]
    assert team_a.pk != team_b.pk


def test_emitting_to_no_endpoint_costs_one_query_and_builds_no_payload(org, django_assert_num_queries):
    def data():
        raise AssertionError("built although nobody wants it")

    with django_assert_num_queries(1):
        assert emit(Event.OPPORTUNITY_WON, team_ids=[org.team_a.pk], data=data) == []


def test_emitting_to_endpoints_costs_two_queries_whatever_their_number(org, django_assert_num_queries):
    for n in range(3):
        create_endpoint(
            created_by=org.director, name=f"e{n}", kind="webhook", url="http://127.0.0.1:9/", events=["opportunity.won"]
        )

    with django_assert_num_queries(2):
        ids = emit(Event.OPPORTUNITY_WON, team_ids=[None], data={"x": 1})

    assert len(ids) == 3
    assert len({uuid.UUID(str(e)) for e in WebhookDelivery.objects.values_list("event_id", flat=True)}) == 1
