"""A director registers a webhook in the browser, sends a test event to an HTTP server on 127.0.0.1, sees the
delivery with its attempt, and resends it (issue 14); on a desktop and a phone, with no console error."""

import pytest
from playwright.sync_api import expect

from pipeline.models import WebhookEndpoint
from pipeline.tasks import sweep_webhook_deliveries
from tests.e2e.conftest import make_user, sign_in
from tests.e2e.helpers import install_default_pipeline, shot
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SECRET = "e2e-webhook-secret"


@pytest.fixture(autouse=True)
def default_pipeline(db):
    return install_default_pipeline()


def errors_of(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_a_director_registers_an_endpoint_sends_a_test_event_and_resends_it(page, celery_eager):
    director = make_user(username="boss_hooks", role="director", language="en")
    errors = errors_of(page)
    sign_in(page, director, language="en")

    with Receiver(secret=SECRET) as receiver:
        page.locator(".nav-more summary").click()
        page.get_by_role("link", name="Webhooks").click()
        expect(page.get_by_text("No endpoint yet.")).to_be_visible()
        page.get_by_role("link", name="New endpoint").click()
        page.fill("input[name=name]", "ERP sync")
        page.select_option("select[name=kind]", "webhook")
        page.fill("input[name=url]", receiver.url)
        page.fill("input[name=secret]", SECRET)
        page.get_by_label("Opportunity won").check()
        page.get_by_label("Visit done").check()
        shot(page, "webhooks-form")
        page.get_by_role("button", name="Register endpoint").click()

        endpoint = WebhookEndpoint.objects.get()
        assert (endpoint.url, endpoint.secret, endpoint.events) == (
            receiver.url,
            SECRET,
            ["opportunity.won", "visit.done"],
        )
        expect(page.locator("h1")).to_have_text("ERP sync")
        expect(page.get_by_text("Nothing sent to this endpoint yet.")).to_be_visible()

        page.get_by_role("button", name="Send test event").click()
        row = page.locator("[data-delivery]")
        expect(row).to_have_attribute("data-status", "pending")
        expect(row).to_contain_text("not tried yet")
        assert receiver.received == []  # the director's request only queued it

        assert sweep_webhook_deliveries() == 1  # beat's sweeper, a minute later
        page.reload()
        expect(row).to_have_attribute("data-status", "delivered")
        expect(row.locator("[data-attempts] li")).to_have_count(1)
        expect(row.locator("[data-attempts]")).to_contain_text("200")
        shot(page, "webhooks-deliveries")

        row.get_by_role("button", name="Resend").click()
        expect(row).to_have_attribute("data-status", "pending")
        assert sweep_webhook_deliveries() == 1
        page.reload()
        expect(row).to_have_attribute("data-status", "delivered")
        expect(row.locator("[data-attempts] li")).to_have_count(2)

    assert len(receiver.received) == 2
    assert all(request.signature_ok for request in receiver.received)
    assert len({request.headers["X-SalesFlow-Delivery"] for request in receiver.received}) == 1
    assert receiver.received[0].json["event"] == "test"
    assert errors == []


def test_the_deliveries_page_reads_on_a_phone(phone_page, celery_eager):
    director = make_user(username="boss_phone", role="director")
    errors = errors_of(phone_page)
    sign_in(phone_page, director)
    with Receiver(secret=SECRET) as receiver:
        from pipeline.services.webhooks import create_endpoint, send_test_event

        endpoint = create_endpoint(
            created_by=director, name="企业微信群", kind="wecom", url=receiver.url, events=["opportunity.won"]
        )
        send_test_event(endpoint=endpoint, sent_by=director)
        sweep_webhook_deliveries()
        phone_page.goto(f"{phone_page.base_url}/settings/webhooks/{endpoint.pk}/deliveries/")
        expect(phone_page.locator("h1")).to_have_text("企业微信群")
        expect(phone_page.locator("[data-delivery]")).to_have_attribute("data-status", "delivered")
        width = phone_page.evaluate("document.documentElement.scrollWidth")
        shot(phone_page, "webhooks-deliveries-phone")
    assert width <= 390
    assert errors == []
