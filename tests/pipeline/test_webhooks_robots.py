"""WeCom and DingTalk group robots as endpoints (issue 14), against a fake robot on 127.0.0.1 that checks the message
format and DingTalk's signed URL; an answer with errcode ≠ 0 is retried; messages in the endpoint's language."""

import base64
import hashlib
import hmac
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pipeline.models import WebhookDelivery, WebhookEndpoint
from pipeline.services.moves import move_opportunity
from pipeline.services.webhooks import create_endpoint, send_test_event
from pipeline.webhooks.sending import send_delivery
from tests.factories import AccountFactory, OpportunityFactory, default_stage
from tests.webhook_receiver import Answer, Receiver

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 18, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
DING_SECRET = "SEC0123456789abcdef"
Event = WebhookEndpoint.Event


def robot(director, kind: str, url: str, **fields) -> WebhookEndpoint:
    values = {"name": kind, "kind": kind, "url": url, "events": [Event.OPPORTUNITY_STAGE_CHANGED]}
    return create_endpoint(created_by=director, **{**values, **fields})


def moved_back(owner, **opportunity_fields) -> WebhookDelivery:
    account = AccountFactory(owner=owner, name="华东机械有限公司")
    opportunity = OpportunityFactory(owner=owner, account=account, stage=default_stage("needs"), **opportunity_fields)
    move_opportunity(opportunity=opportunity, to_stage_code="prep", moved_by=owner)
    return WebhookDelivery.objects.get()


def test_a_wecom_robot_gets_a_markdown_message_in_chinese(org, settings, time_machine):
    settings.SITE_URL = "https://crm.example.com"
    time_machine.move_to(T0, tick=False)
    with Receiver(answers=[Answer(200, {"errcode": 0, "errmsg": "ok"})]) as fake:
        robot(org.director, "wecom", fake.url + "?key=abc")
        delivery = moved_back(org.rep_a1, name="二期扩产", amount=1250000)

        assert send_delivery(delivery_id=delivery.pk, now=T0) is True

    [request] = fake.received
    assert (request.path, request.query) == ("/hook", {"key": ["abc"]})
    assert "X-SalesFlow-Signature" not in request.headers
    needs, prep = default_stage("needs").name_zh, default_stage("prep").name_zh
    opportunity_id = delivery.payload["data"]["opportunity"]["id"]
    assert request.json == {
        "msgtype": "markdown",
        "markdown": {
            "content": "### 阶段变更：二期扩产\n"
            "- 客户：华东机械有限公司\n"
            "- 金额：¥1,250,000\n"
            "- 负责人：rep_a1\n"
            f"- 阶段：{needs} → {prep}\n\n"
            f"[在 SalesFlow 中打开](https://crm.example.com/opportunities/{opportunity_id}/)"
        },
    }


def test_a_dingtalk_robot_gets_title_and_text_in_english_at_a_signed_url(org, time_machine):
    time_machine.move_to(T0, tick=True)
    with Receiver(answers=[Answer(200, {"errcode": 0, "errmsg": "ok"})]) as fake:
        robot(org.director, "dingtalk", fake.url + "?access_token=tok", secret=DING_SECRET, language="en")
        delivery = moved_back(org.rep_a1, name="Phase 2")

        assert send_delivery(delivery_id=delivery.pk) is True

    [request] = fake.received
    timestamp = request.query["timestamp"][0]
    expected = hmac.new(DING_SECRET.encode(), f"{timestamp}\n{DING_SECRET}".encode(), hashlib.sha256).digest()
    assert request.query["access_token"] == ["tok"]
    assert request.query["sign"] == [base64.b64encode(expected).decode()]  # DingTalk's check of the signed URL
    assert abs(int(timestamp) - time.time() * 1000) < 60_000  # DingTalk refuses a timestamp an hour off
    message = request.json
    assert message["msgtype"] == "markdown"
    assert message["markdown"]["title"] == "Stage changed: Phase 2"
    assert message["markdown"]["text"].splitlines()[:4] == [
        "### Stage changed: Phase 2",
        "- Account: 华东机械有限公司",
        "- Amount: ¥100,000",
        "- Owner: rep_a1",
    ]


def test_a_robot_answering_errcode_is_retried_then_delivered(org, time_machine):
    time_machine.move_to(T0, tick=False)
    refused = Answer(200, {"errcode": 45009, "errmsg": "api freq out of limit"})
    with Receiver(answers=[refused, Answer(200, {"errcode": 0, "errmsg": "ok"})]) as fake:
        robot(org.director, "wecom", fake.url)
        delivery = moved_back(org.rep_a1)

        assert send_delivery(delivery_id=delivery.pk, now=T0) is False
        delivery.refresh_from_db()
        assert (delivery.status, delivery.last_status_code, delivery.last_error) == (
            "pending",
            200,
            "errcode 45009: api freq out of limit",
        )
        assert delivery.next_attempt_at == T0 + timedelta(minutes=1)

        assert send_delivery(delivery_id=delivery.pk, now=T0 + timedelta(minutes=1)) is True
    assert len(fake.received) == 2


def test_a_test_event_reaches_a_robot_whatever_it_subscribes_to(org):
    with Receiver(answers=[Answer(200, {"errcode": 0})]) as fake:
        endpoint = robot(org.director, "wecom", fake.url, events=[Event.OPPORTUNITY_WON])
        delivery = send_test_event(endpoint=endpoint, sent_by=org.director)

        assert send_delivery(delivery_id=delivery.pk) is True

    assert fake.received[0].json == {
        "msgtype": "markdown",
        "markdown": {"content": "### SalesFlow 测试消息\n- 看到这条消息，说明机器人已设置成功。"},
    }
