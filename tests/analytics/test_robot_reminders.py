"""Daily reminders and the managers' weekly summary posted to a team's group robots (issue 14): in the robot's
language, exactly once per robot and day (or week) however often the send runs, only to the member's own team's
robots that subscribe, and delivered as the robot's markdown message to a fake robot on 127.0.0.1."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from analytics.digests.sending import send_weekly_digest
from analytics.reminders import send_daily_reminder
from pipeline.models import WebhookDelivery, WebhookEndpoint
from pipeline.services.webhooks import create_endpoint
from pipeline.tasks import sweep_webhook_deliveries
from tests.factories import AccountFactory, TeamFactory, UserFactory, VisitFactory
from tests.webhook_receiver import Answer, Receiver

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 5, 20)
NINE = datetime(2026, 5, 20, 9, 0, tzinfo=SHANGHAI)
Event = WebhookEndpoint.Event


@pytest.fixture
def team(db):
    director = UserFactory(username="boss", role="director")
    team = TeamFactory(name="华东")
    team.director = director
    return team


def robot(team, url, *, events, language="zh-hans", kind="wecom", name="robot") -> WebhookEndpoint:
    director = UserFactory(username=f"d-{name}", role="director")
    return create_endpoint(
        created_by=director, name=name, kind=kind, url=url, events=events, team=team, language=language
    )


def rep_with_overdue_visit(team, username="wang") -> object:
    rep = UserFactory(username=username, last_name="王", first_name="伟", email=f"{username}@example.com", team=team)
    VisitFactory(
        owner=rep,
        account=AccountFactory(owner=rep, name="宁波博远"),
        planned_at=datetime(2026, 5, 19, 15, 0, tzinfo=SHANGHAI),
    )
    return rep


def test_a_reps_reminder_goes_once_to_the_teams_subscribed_robot_in_its_language(team, celery_eager):
    with Receiver(answers=[Answer(200, {"errcode": 0})]) as fake:
        robot(team, fake.url, events=[Event.DAILY_REMINDER], language="en")
        robot(team, fake.url, events=[Event.OPPORTUNITY_WON], name="not subscribed")
        robot(TeamFactory(name="华南"), fake.url, events=[Event.DAILY_REMINDER], name="other team")
        rep = rep_with_overdue_visit(team)

        assert send_daily_reminder(user_id=rep.pk, day=DAY, now=NINE) is True
        assert send_daily_reminder(user_id=rep.pk, day=DAY, now=NINE) is False  # the task ran twice
        assert sweep_webhook_deliveries() == 1

    assert len(mail.outbox) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint.name, delivery.key) == ("robot", f"reminder:{rep.pk}:2026-05-20")
    assert delivery.status == "delivered"
    [request] = fake.received
    assert request.json == {
        "msgtype": "markdown",
        "markdown": {
            "content": "### To-do for 王伟: 1 due or overdue\n"
            "**Overdue visits: 1**\n"
            "- 05-19 宁波博远\n\n"
            "[Open the to-do](http://127.0.0.1:8000/#todo)"
        },
    }


def test_a_member_without_a_team_or_a_team_without_a_robot_posts_nothing(team):
    robot(TeamFactory(name="华南"), "http://127.0.0.1:9/", events=[Event.DAILY_REMINDER])
    lone = rep_with_overdue_visit(None, username="lone")
    member = rep_with_overdue_visit(team, username="member")

    send_daily_reminder(user_id=lone.pk, day=DAY, now=NINE)
    send_daily_reminder(user_id=member.pk, day=DAY, now=NINE)

    assert WebhookDelivery.objects.count() == 0
    assert len(mail.outbox) == 2


def test_a_managers_weekly_summary_goes_once_to_each_of_their_teams_robots(team, time_machine):
    time_machine.move_to(datetime(2026, 5, 18, 8, 30, tzinfo=SHANGHAI), tick=False)
    manager = UserFactory(username="li", last_name="李", first_name="强", role="manager", email="li@example.com")
    team.manager = manager
    team.save()
    manager.team = team
    manager.save()
    rep_with_overdue_visit(team)
    summary = robot(team, "http://127.0.0.1:9/", events=[Event.WEEKLY_SUMMARY], kind="dingtalk")

    assert send_weekly_digest(user_id=manager.pk, week_start=date(2026, 5, 18)) is True
    assert send_weekly_digest(user_id=manager.pk, week_start=date(2026, 5, 18)) is False

    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint, delivery.event, delivery.key) == (summary, "summary.weekly", "summary:2026-05-18")
    assert delivery.payload["title"] == "华东：2026-05-11 这一周"
    assert delivery.payload["text"].splitlines()[0] == "### 华东：2026-05-11 这一周"
    assert "- 王伟：完成拜访 0 次，赢单 0 / 输单 0，进行中商机 0 个（¥0）" in delivery.payload["text"].splitlines()


def test_a_reps_digest_posts_no_summary(team, time_machine):
    time_machine.move_to(datetime(2026, 5, 18, 8, 30, tzinfo=SHANGHAI), tick=False)
    robot(team, "http://127.0.0.1:9/", events=[Event.WEEKLY_SUMMARY])
    rep = rep_with_overdue_visit(team)

    send_weekly_digest(user_id=rep.pk, week_start=date(2026, 5, 18))

    assert WebhookDelivery.objects.count() == 0
