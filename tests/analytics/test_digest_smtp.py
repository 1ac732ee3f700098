"""The weekly digest through Django's SMTP backend to a real SMTP server on loopback."""

from datetime import date, datetime
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
import time_machine

from analytics.digests.sending import send_weekly_digest
from analytics.models import DigestDelivery
from tests.factories import AccountFactory, UserFactory, VisitFactory
from tests.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db

WEEK = date(2026, 5, 18)


@pytest.fixture(autouse=True)
def monday():
    with time_machine.travel(datetime(2026, 5, 18, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


def use_smtp(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False


def test_a_digest_arrives_over_smtp_with_a_text_and_an_html_part(settings):
    rep = UserFactory(username="rep", email="rep@example.com", language="zh-hans")
    VisitFactory(
        account=AccountFactory(owner=rep, name="上海测试客户"),
        planned_at=datetime(2026, 5, 19, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
    )

    with SmtpSink() as sink:
        use_smtp(settings, sink.port)
        assert send_weekly_digest(user_id=rep.pk, week_start=WEEK) is True

    (received,) = sink.messages
    assert received.recipients == ["rep@example.com"]
    message = message_from_bytes(received.data, policy=policy.default)
    assert message["To"] == "rep@example.com"
    assert [part.get_content_type() for part in message.walk()] == ["multipart/alternative", "text/plain", "text/html"]
    assert "上海测试客户" in message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert html.startswith("<!DOCTYPE html>") and "上海测试客户" in html
    assert DigestDelivery.objects.get().status == "sent"


def test_when_the_smtp_server_is_down_the_delivery_is_failed_with_the_connection_error(settings):
    rep = UserFactory(username="rep", email="rep@example.com")
    with SmtpSink() as sink:
        port = sink.port  # nothing listens here once the sink is closed
    use_smtp(settings, port)

    with pytest.raises(ConnectionRefusedError):
        send_weekly_digest(user_id=rep.pk, week_start=WEEK)

    delivery = DigestDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error.startswith("ConnectionRefusedError: ")
