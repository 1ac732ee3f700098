"""The daily reminder (issue 12): at 08:00 in each user's own zone, only when something of theirs is due or overdue,
exactly once per user and day through the shared delivery, in their language; opted-out users get none."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from analytics.models import ReminderDelivery
from analytics.reminders import reminders_due, send_daily_reminder
from analytics.tasks import enqueue_daily_reminders_task
from pipeline.models import Visit
from tests.factories import AccountFactory, OpportunityFactory, UserFactory, VisitFactory

pytestmark = pytest.mark.django_db

SHANGHAI, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")
DAY = date(2026, 5, 20)


def _overdue_visit(user, *, at: datetime, **fields) -> Visit:
    return VisitFactory(owner=user, account=AccountFactory(owner=user, name="宁波博远"), planned_at=at, **fields)


@pytest.fixture
def rep(db):
    user = UserFactory(username="rep", email="rep@example.com", time_zone="Asia/Shanghai", language="zh-hans")
    _overdue_visit(user, at=datetime(2026, 5, 19, 15, 0, tzinfo=SHANGHAI), purpose="报价")
    return user


def _tick(when: datetime, callbacks) -> None:
    with time_machine.travel(when, tick=False), callbacks(execute=True):
        enqueue_daily_reminders_task.delay()


def test_the_scheduler_sends_one_reminder_per_user_and_day_however_often_it_runs(
    rep, django_capture_on_commit_callbacks, celery_eager
):
    _tick(datetime(2026, 5, 20, 7, 59, tzinfo=SHANGHAI), django_capture_on_commit_callbacks)
    assert mail.outbox == []

    _tick(datetime(2026, 5, 20, 8, 1, tzinfo=SHANGHAI), django_capture_on_commit_callbacks)
    _tick(datetime(2026, 5, 20, 8, 1, tzinfo=SHANGHAI), django_capture_on_commit_callbacks)
    _tick(datetime(2026, 5, 20, 13, 30, tzinfo=SHANGHAI), django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["rep@example.com"]]

    _tick(datetime(2026, 5, 21, 8, 15, tzinfo=SHANGHAI), django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["rep@example.com"], ["rep@example.com"]]
    assert sorted(ReminderDelivery.objects.values_list("day", "status", "attempts")) == [
        (DAY, "sent", 1),
        (DAY + timedelta(days=1), "sent", 1),
    ]


def test_the_send_service_is_safe_to_repeat(rep):
    now = datetime(2026, 5, 20, 9, 0, tzinfo=SHANGHAI)

    assert send_daily_reminder(user_id=rep.pk, day=DAY, now=now) is True
    assert send_daily_reminder(user_id=rep.pk, day=DAY, now=now) is False
    assert len(mail.outbox) == 1


def test_nobody_is_due_before_0800_their_time(rep):
    assert reminders_due(now=datetime(2026, 5, 20, 7, 59, tzinfo=SHANGHAI)) == []
    assert send_daily_reminder(user_id=rep.pk, day=DAY, now=datetime(2026, 5, 20, 7, 59, tzinfo=SHANGHAI)) is False
    assert reminders_due(now=datetime(2026, 5, 20, 8, 0, tzinfo=SHANGHAI)) == [(rep.pk, DAY)]


def test_a_user_in_berlin_gets_it_at_0800_berlin_time_on_their_own_date(rep):
    berlin = UserFactory(username="berlin", email="be@example.com", time_zone="Europe/Berlin")
    _overdue_visit(berlin, at=datetime(2026, 5, 19, 10, 0, tzinfo=BERLIN))

    # 07:59 in Berlin is 13:59 in Shanghai: only the Shanghai rep is due
    assert reminders_due(now=datetime(2026, 5, 20, 7, 59, tzinfo=BERLIN)) == [(rep.pk, DAY)]
    assert reminders_due(now=datetime(2026, 5, 20, 8, 1, tzinfo=BERLIN)) == [(rep.pk, DAY), (berlin.pk, DAY)]
    # 23:30 in Berlin on the 20th is 05:30 on the 21st in Shanghai: Berlin still on the 20th, Shanghai not yet due
    assert reminders_due(now=datetime(2026, 5, 20, 23, 30, tzinfo=BERLIN)) == [(berlin.pk, DAY)]


def test_no_reminder_when_nothing_is_due(db):
    idle = UserFactory(username="idle", email="idle@example.com")
    VisitFactory(owner=idle, account=AccountFactory(owner=idle), planned_at=datetime(2026, 5, 21, 9, tzinfo=SHANGHAI))
    OpportunityFactory(owner=idle, expected_close_date=DAY)  # due today, not past
    now = datetime(2026, 5, 20, 9, 0, tzinfo=SHANGHAI)

    assert reminders_due(now=now) == []
    assert send_daily_reminder(user_id=idle.pk, day=DAY, now=now) is False
    assert mail.outbox == [] and not ReminderDelivery.objects.exists()


def test_opted_out_inactive_and_addressless_users_get_none(db):
    now = datetime(2026, 5, 20, 9, 0, tzinfo=SHANGHAI)
    users = [
        UserFactory(username="out", email="out@example.com", reminder_opt_out=True),
        UserFactory(username="gone", email="gone@example.com", is_active=False),
        UserFactory(username="nomail", email=""),
    ]
    for user in users:
        _overdue_visit(user, at=now - timedelta(days=1))

    assert reminders_due(now=now) == []
    assert [send_daily_reminder(user_id=u.pk, day=DAY, now=now) for u in users] == [False, False, False]
    assert mail.outbox == []


def test_a_sent_reminder_is_not_due_again_but_a_failed_one_is(rep):
    other = UserFactory(username="other", email="o@example.com")
    _overdue_visit(other, at=datetime(2026, 5, 19, 9, 0, tzinfo=SHANGHAI))
    sent_at = datetime(2026, 5, 20, 8, 0, tzinfo=SHANGHAI)
    ReminderDelivery.objects.create(user=rep, day=DAY, status="sent", sent_at=sent_at)
    ReminderDelivery.objects.create(user=other, day=DAY, status="failed", attempts=1)

    assert reminders_due(now=datetime(2026, 5, 20, 9, 0, tzinfo=SHANGHAI)) == [(other.pk, DAY)]


def test_a_reminder_for_a_day_that_has_passed_is_not_sent(rep):
    assert send_daily_reminder(user_id=rep.pk, day=DAY, now=datetime(2026, 5, 21, 9, 0, tzinfo=SHANGHAI)) is False


def test_picking_who_is_due_is_two_queries(rep, django_assert_num_queries):
    UserFactory(username="berlin", email="be@example.com", time_zone="Europe/Berlin")

    with django_assert_num_queries(2):
        reminders_due(now=datetime(2026, 5, 20, 9, 0, tzinfo=SHANGHAI))


def test_the_email_gives_each_count_and_the_first_items_in_the_users_language(db):
    now = datetime(2026, 5, 20, 9, 0, tzinfo=SHANGHAI)
    zh = UserFactory(username="zh", email="zh@example.com", last_name="王", first_name="芳")
    for days in range(1, 8):
        _overdue_visit(zh, at=now - timedelta(days=days))
    VisitFactory(
        owner=zh,
        account=AccountFactory(owner=zh, name="回访客户"),
        kind=Visit.Kind.FOLLOW_UP,
        planned_at=now + timedelta(hours=3),
    )
    OpportunityFactory(owner=zh, name="过期商机", expected_close_date=date(2026, 4, 1))
    en = UserFactory(username="en", email="en@example.com", language="en")
    _overdue_visit(en, at=now - timedelta(hours=2))

    assert send_daily_reminder(user_id=zh.pk, day=DAY, now=now) is True
    assert send_daily_reminder(user_id=en.pk, day=DAY, now=now) is True

    chinese, english = mail.outbox
    assert chinese.subject == "SalesFlow 提醒：9 项到期或逾期"
    assert "== 逾期拜访: 7 ==" in chinese.body and "== 到期回访: 1 ==" in chinese.body
    assert "== 已过预计成交日期: 1 ==" in chinese.body and "过期商机" in chinese.body and "回访客户" in chinese.body
    assert chinese.body.count("宁波博远") == 5  # the first five of seven, and how many more
    html = chinese.alternatives[0][0]
    assert 'data-figure="overdue">7<' in html and 'data-figure="past-close">1<' in html and 'lang="zh-hans"' in html
    assert english.subject == "SalesFlow reminder: 1 due or overdue"
    assert "== Overdue visits: 1 ==" in english.body and "== Follow-ups due: 0 ==" in english.body
    assert english.extra_headers["List-Unsubscribe"].endswith(f"{reverse('profile')}>")


# Opt-out on the profile page ------------------------------------------------------------------------------------


def test_the_profile_page_switches_the_reminder_off_and_on(client, rep):
    client.force_login(rep)

    page = client.get(reverse("profile"))
    off = client.post(reverse("profile_reminders"), {"opt_out": "1"})
    rep.refresh_from_db()
    assert page.status_code == 200 and 'data-reminder-opt-out="0"' in page.content.decode()
    assert off.status_code == 302 and off.url == reverse("profile") and rep.reminder_opt_out is True
    assert 'data-reminder-opt-out="1"' in client.get(reverse("profile")).content.decode()

    client.post(reverse("profile_reminders"), {"opt_out": "0"})
    rep.refresh_from_db()
    assert rep.reminder_opt_out is False


def test_the_profile_refuses_an_unclear_choice_and_changes_nothing(client, rep):
    client.force_login(rep)

    response = client.post(reverse("profile_reminders"), {"opt_out": "maybe"})

    rep.refresh_from_db()
    assert response.status_code == 400 and rep.reminder_opt_out is False


def test_the_profile_page_needs_a_signed_in_user(client):
    response = client.get(reverse("profile"))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_failed_send_stays_failed_and_the_next_tick_sends_it(rep, settings):
    from smtplib import SMTPException

    settings.EMAIL_BACKEND = "tests.analytics.test_digest_delivery.FailingBackend"
    now = datetime(2026, 5, 20, 8, 5, tzinfo=SHANGHAI)

    with pytest.raises(SMTPException):
        send_daily_reminder(user_id=rep.pk, day=DAY, now=now)

    delivery = ReminderDelivery.objects.get(user=rep, day=DAY)
    assert (delivery.status, delivery.attempts, mail.outbox) == ("failed", 1, [])
    assert reminders_due(now=now + timedelta(minutes=15)) == [(rep.pk, DAY)]  # failed: picked again

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_daily_reminder(user_id=rep.pk, day=DAY, now=now + timedelta(minutes=15)) is True
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(mail.outbox)) == ("sent", 2, 1)
    assert reminders_due(now=now + timedelta(minutes=30)) == []


def test_the_command_sends_what_is_due_once(rep):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    with time_machine.travel(datetime(2026, 5, 20, 9, 0, tzinfo=SHANGHAI), tick=False):
        call_command("send_reminders", stdout=out)
        call_command("send_reminders", stdout=out)

    assert len(mail.outbox) == 1
    assert out.getvalue().splitlines() == ["已发送 1 封提醒，0 封失败", "已发送 0 封提醒，0 封失败"]
