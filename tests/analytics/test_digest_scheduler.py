"""Monday 08:00 in each user's own time zone (SPEC §8): the 15-minute scheduler picks who is due."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from analytics.digests.sending import digests_due
from analytics.models import DigestDelivery
from analytics.tasks import enqueue_weekly_digests, enqueue_weekly_digests_task
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")
WEEK = date(2026, 5, 18)


@pytest.fixture
def people(db):
    class People:
        shanghai = UserFactory(username="shanghai", email="sh@example.com", time_zone="Asia/Shanghai")
        berlin = UserFactory(username="berlin", email="be@example.com", time_zone="Europe/Berlin")

    return People


def test_a_shanghai_user_is_due_at_0805_on_monday_but_not_at_0755(people):
    assert digests_due(now=datetime(2026, 5, 18, 7, 55, tzinfo=SHANGHAI)) == []
    assert digests_due(now=datetime(2026, 5, 18, 8, 5, tzinfo=SHANGHAI)) == [(people.shanghai.pk, WEEK)]


def test_a_berlin_user_is_due_at_0800_in_berlin_independently(people):
    before, after = datetime(2026, 5, 18, 7, 55, tzinfo=BERLIN), datetime(2026, 5, 18, 8, 5, tzinfo=BERLIN)

    assert digests_due(now=before) == [(people.shanghai.pk, WEEK)]  # 13:55 in Shanghai
    assert digests_due(now=after) == [(people.shanghai.pk, WEEK), (people.berlin.pk, WEEK)]


def test_nobody_is_due_on_sunday_evening_or_on_tuesday(people):
    assert digests_due(now=datetime(2026, 5, 17, 23, 0, tzinfo=SHANGHAI)) == []
    assert digests_due(now=datetime(2026, 5, 19, 8, 5, tzinfo=BERLIN)) == []


def test_a_user_already_sent_the_weeks_digest_is_not_due_but_one_whose_send_failed_is(people):
    DigestDelivery.objects.create(user=people.shanghai, week_start=WEEK, status="sent", sent_at=timezone.now())
    DigestDelivery.objects.create(user=people.berlin, week_start=WEEK, status="failed", attempts=6)

    assert digests_due(now=datetime(2026, 5, 18, 9, 0, tzinfo=BERLIN)) == [(people.berlin.pk, WEEK)]


def test_opted_out_inactive_and_addressless_users_are_never_due(db):
    UserFactory(email="out@example.com", digest_opt_out=True)
    UserFactory(email="gone@example.com", is_active=False)
    UserFactory(email="")

    assert digests_due(now=datetime(2026, 5, 18, 9, 0, tzinfo=SHANGHAI)) == []


def test_a_user_with_an_unknown_time_zone_gets_it_on_the_companys_clock(db):
    odd = UserFactory(email="odd@example.com", time_zone="Mars/Olympus_Mons")

    assert digests_due(now=datetime(2026, 5, 18, 7, 55, tzinfo=SHANGHAI)) == []
    assert digests_due(now=datetime(2026, 5, 18, 8, 5, tzinfo=SHANGHAI)) == [(odd.pk, WEEK)]


def test_picking_who_is_due_is_one_query(people, django_assert_num_queries):
    with django_assert_num_queries(1):
        digests_due(now=datetime(2026, 5, 18, 9, 0, tzinfo=BERLIN))


def test_the_scheduler_sends_each_due_digest_once_however_often_it_runs(
    people, django_capture_on_commit_callbacks, celery_eager
):
    with (
        time_machine.travel(datetime(2026, 5, 18, 8, 5, tzinfo=SHANGHAI), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert enqueue_weekly_digests(now=timezone.now()) == 1
        enqueue_weekly_digests_task.delay()
    assert [m.to for m in mail.outbox] == [["sh@example.com"]]

    with (
        time_machine.travel(datetime(2026, 5, 18, 8, 5, tzinfo=BERLIN), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        enqueue_weekly_digests_task.delay()
        enqueue_weekly_digests_task.delay()
    assert [m.to for m in mail.outbox] == [["sh@example.com"], ["be@example.com"]]
    assert sorted(DigestDelivery.objects.values_list("user__username", "week_start", "status")) == [
        ("berlin", WEEK, "sent"),
        ("shanghai", WEEK, "sent"),
    ]


def test_the_scheduler_enqueues_only_after_the_surrounding_transaction_commits(
    people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        enqueue_weekly_digests(now=datetime(2026, 5, 18, 9, 0, tzinfo=SHANGHAI))
        assert mail.outbox == []

    assert len(callbacks) == 1
