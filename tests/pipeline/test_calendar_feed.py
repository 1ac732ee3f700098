"""The calendar feed (issue 12): /calendar/<token>.ics, a secret URL per user that a phone calendar subscribes to,
valid iCalendar parsed back here with the icalendar library; regenerating the token makes the old URL 404."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.urls import reverse

from accounts.services import calendar_token_for
from pipeline.selectors.calendar_feed import FEED_MAX_EVENTS
from tests.factories import AccountFactory, ContactFactory, UserFactory, VisitFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 20, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rep(db):
    return UserFactory(username="rep", time_zone="Asia/Shanghai")


def _visit(owner, at: datetime, **fields):
    account = fields.pop("account", None) or AccountFactory(owner=owner, name="宁波博远连锁超市有限公司")
    return VisitFactory(owner=owner, account=account, planned_at=at, **fields)


def _feed(client, user) -> icalendar.Calendar:
    response = client.get(reverse("calendar_feed", args=[calendar_token_for(user=user)]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def test_the_feed_has_an_event_per_visit_of_the_user_in_the_window_with_account_purpose_and_link(client, rep):
    account = AccountFactory(owner=rep, name="宁波博远连锁超市有限公司")
    contact = ContactFactory(account=account, name="李经理")
    inside = [
        _visit(rep, NOW - timedelta(days=13), account=account, purpose="回顾上次演示"),
        _visit(rep, NOW + timedelta(hours=5), account=account, contact=contact, purpose="报价讨论"),
        _visit(rep, NOW + timedelta(days=59), account=account),
    ]
    done = VisitFactory(
        owner=rep, account=account, status="done", planned_at=NOW - timedelta(days=2), done_at=NOW - timedelta(days=2)
    )
    _visit(rep, NOW - timedelta(days=15))  # too old
    _visit(rep, NOW + timedelta(days=61))  # too far ahead
    VisitFactory(owner=rep, account=account, status="cancelled", planned_at=NOW + timedelta(days=1))
    _visit(UserFactory(), NOW + timedelta(days=1))  # someone else's

    calendar = _feed(client, rep)
    events = {event["UID"]: event for event in calendar.walk("VEVENT")}

    expected = sorted([*inside, done], key=lambda v: v.planned_at)
    assert list(events) == [f"visit-{v.pk}@127.0.0.1" for v in expected]
    for visit in expected:
        event = events[f"visit-{visit.pk}@127.0.0.1"]
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start == visit.planned_at and end - start == timedelta(hours=1)
        assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
        assert str(event["SUMMARY"]).endswith("宁波博远连锁超市有限公司")
        assert str(event["URL"]) == f"http://127.0.0.1:8000/visits/{visit.pk}/"
        assert f"/visits/{visit.pk}/" in str(event["DESCRIPTION"])
    talk = events[f"visit-{inside[1].pk}@127.0.0.1"]
    assert "报价讨论" in str(talk["DESCRIPTION"]) and "李经理" in str(talk["DESCRIPTION"])
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]


def test_times_are_in_the_users_own_zone(client, db):
    berlin = UserFactory(username="berlin", time_zone="Europe/Berlin")
    visit = _visit(berlin, datetime(2026, 5, 21, 9, 30, tzinfo=ZoneInfo("Europe/Berlin")))

    calendar = _feed(client, berlin)
    (event,) = calendar.walk("VEVENT")

    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event.decoded("DTSTART").strftime("%Y-%m-%d %H:%M") == "2026-05-21 09:30"  # Berlin wall-clock time
    assert event.decoded("DTSTART") == visit.planned_at
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]


def test_the_uid_stays_the_same_when_the_visit_moves(client, rep):
    visit = _visit(rep, NOW + timedelta(days=1))
    before = _feed(client, rep).walk("VEVENT")[0]["UID"]
    visit.planned_at = NOW + timedelta(days=3)
    visit.save()

    after = _feed(client, rep).walk("VEVENT")[0]

    assert after["UID"] == before and after.decoded("DTSTART") == NOW + timedelta(days=3)


def test_an_empty_plan_is_still_a_valid_calendar(client, rep):
    calendar = _feed(client, rep)

    assert calendar.walk("VEVENT") == [] and calendar["VERSION"] == "2.0"


def test_the_feed_needs_no_sign_in_but_an_unknown_token_answers_404(client, rep):
    calendar_token_for(user=rep)

    assert client.get(reverse("calendar_feed", args=["not-a-token"])).status_code == 404
    assert client.get(reverse("calendar_feed", args=["x" * 65])).status_code == 404


def test_an_inactive_users_feed_answers_404(client, rep):
    token = calendar_token_for(user=rep)
    rep.is_active = False
    rep.save()

    assert client.get(reverse("calendar_feed", args=[token])).status_code == 404


def test_regenerating_on_the_profile_page_retires_the_old_url(client, rep):
    client.force_login(rep)
    page = client.get(reverse("profile")).content.decode()
    old = calendar_token_for(user=rep)
    assert f"/calendar/{old}.ics" in page

    response = client.post(reverse("profile_calendar_regenerate"))

    rep.refresh_from_db()
    assert response.status_code == 302 and rep.calendar_token != old and len(rep.calendar_token) >= 40
    assert client.get(reverse("calendar_feed", args=[old])).status_code == 404
    assert client.get(reverse("calendar_feed", args=[rep.calendar_token])).status_code == 200
    assert f"/calendar/{rep.calendar_token}.ics" in client.get(reverse("profile")).content.decode()


def test_each_user_gets_their_own_token_once(rep):
    other = UserFactory(username="other")

    first = calendar_token_for(user=rep)

    assert calendar_token_for(user=rep) == first
    assert calendar_token_for(user=other) != first


def test_the_feed_is_bounded_and_costs_two_queries(client, rep, django_assert_num_queries):
    account = AccountFactory(owner=rep)
    VisitFactory.create_batch(FEED_MAX_EVENTS + 5, owner=rep, account=account, planned_at=NOW + timedelta(days=1))
    url = reverse("calendar_feed", args=[calendar_token_for(user=rep)])

    with django_assert_num_queries(2):  # the user by token, the visits
        response = client.get(url)

    assert len(icalendar.Calendar.from_ical(response.content).walk("VEVENT")) == FEED_MAX_EVENTS
