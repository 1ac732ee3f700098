"""`send_digests [--week YYYY-MM-DD] [--dry-run]`: the weekly digest by hand, through the same service."""

from datetime import date, datetime
from io import StringIO
from smtplib import SMTPException
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from analytics.models import DigestDelivery
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    """The output is asserted in English; commands speak the active language (zh-hans by default)."""
    with translation.override("en"):
        yield


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise SMTPException("421 Service not available")


@pytest.fixture(autouse=True)
def wednesday():
    """Wednesday 20 May 2026 in Shanghai: this week starts on Monday 18 May."""
    with time_machine.travel(datetime(2026, 5, 20, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def users(db):
    class Users:
        ann = UserFactory(username="ann", email="ann@example.com")
        bob = UserFactory(username="bob", email="bob@example.com", role="manager")
        out = UserFactory(username="out", email="out@example.com", digest_opt_out=True)
        gone = UserFactory(username="gone", email="gone@example.com", is_active=False)

    return Users


def run(*args: str) -> str:
    out = StringIO()
    call_command("send_digests", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_sends_this_weeks_digest_to_every_active_user_who_did_not_opt_out(users):
    output = run()

    assert sorted(m.to[0] for m in mail.outbox) == ["ann@example.com", "bob@example.com"]
    assert sorted(DigestDelivery.objects.values_list("user__username", "week_start", "status")) == [
        ("ann", date(2026, 5, 18), "sent"),
        ("bob", date(2026, 5, 18), "sent"),
    ]
    assert output.strip().endswith("Week of 2026-05-18: 2 digests sent, 0 failed")


def test_a_rerun_sends_nothing_twice(users):
    run("--week", "2026-05-11")
    output = run("--week", "2026-05-11")

    assert len(mail.outbox) == 2
    assert DigestDelivery.objects.filter(week_start=date(2026, 5, 11), status="sent").count() == 2
    assert output.strip().endswith("Week of 2026-05-11: 0 digests sent, 0 failed")


def test_a_rerun_sends_only_to_whoever_did_not_get_it_yet(users):
    DigestDelivery.objects.create(user=users.ann, week_start=date(2026, 5, 18), status="sent", sent_at=timezone.now())

    run()

    assert [m.to for m in mail.outbox] == [["bob@example.com"]]


def test_dry_run_lists_who_would_get_it_and_sends_and_writes_nothing(users):
    output = run("--dry-run", "--week", "2026-05-18")

    assert output.splitlines() == [
        "Would send to ann <ann@example.com>",
        "Would send to bob <bob@example.com>",
        "Week of 2026-05-18: 2 digests would be sent (dry run)",
    ]
    assert mail.outbox == []
    assert not DigestDelivery.objects.exists()


def test_failed_sends_are_kept_failed_reported_and_exit_non_zero(users, settings):
    settings.EMAIL_BACKEND = "tests.analytics.test_digest_command.FailingBackend"

    with pytest.raises(CommandError, match="2 digests failed"):
        run()

    assert sorted(DigestDelivery.objects.values_list("user__username", "status", "attempts")) == [
        ("ann", "failed", 1),
        ("bob", "failed", 1),
    ]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    run()
    assert len(mail.outbox) == 2


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("next monday", "--week must be a date as YYYY-MM-DD, got 'next monday'."),
        ("2026-05-20", "--week must be a Monday; 2026-05-20 is a Wednesday (that week's Monday is 2026-05-18)."),
    ],
)
def test_a_week_that_is_not_a_monday_is_refused_and_nothing_is_sent(users, week, message):
    with pytest.raises(CommandError) as refused:
        run("--week", week)

    assert str(refused.value) == message
    assert mail.outbox == []
    assert not DigestDelivery.objects.exists()
