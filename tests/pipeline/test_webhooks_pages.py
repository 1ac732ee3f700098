"""The director's webhook pages and API (issue 14): register and change an endpoint (secret generated once, write-only),
deliveries with their attempts and "resend", "send test event"; 404 for managers and reps; query counts pinned."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from pipeline.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from pipeline.services.webhooks import create_endpoint, send_test_event
from pipeline.webhooks.sending import send_delivery

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 18, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
DEAD = "http://127.0.0.1:9/hook"


def endpoint(org, name="ERP", **fields) -> WebhookEndpoint:
    values = {"kind": "webhook", "url": DEAD, "events": ["opportunity.won"], "secret": "s3cret"}
    return create_endpoint(created_by=org.director, name=name, **{**values, **fields})


def delivered_and_failed(org, endpoint_, n: int) -> None:
    for _ in range(n):
        delivery = send_test_event(endpoint=endpoint_, sent_by=org.director)
        send_delivery(delivery_id=delivery.pk)  # nothing listens on port 9: one failed attempt


# --- pages -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("pipeline:webhook_list", []),
        ("pipeline:webhook_create", []),
        ("pipeline:webhook_edit", ["ep"]),
        ("pipeline:webhook_deliveries", ["ep"]),
    ],
)
@pytest.mark.parametrize("role", ["manager_a", "rep_a1"])
def test_managers_and_reps_get_404_on_every_webhook_page(org, client, name, args, role):
    ep = endpoint(org)
    client.force_login(getattr(org, role))

    response = client.get(reverse(name, args=[ep.pk if a == "ep" else a for a in args]))

    assert response.status_code == 404


@pytest.mark.parametrize("role", ["manager_a", "rep_a1"])
def test_managers_and_reps_cannot_post_a_test_event_or_a_resend(org, client, role):
    ep = endpoint(org)
    delivery = send_test_event(endpoint=ep, sent_by=org.director)
    client.force_login(getattr(org, role))

    assert client.post(reverse("pipeline:webhook_test", args=[ep.pk])).status_code == 404
    resend = reverse("pipeline:webhook_delivery_resend", args=[ep.pk, delivery.pk])
    assert client.post(resend).status_code == 404
    assert WebhookDelivery.objects.count() == 1


def test_the_nav_shows_webhooks_to_directors_only(org, client):
    client.force_login(org.director)
    assert reverse("pipeline:webhook_list") in client.get(reverse("home")).content.decode()
    client.force_login(org.manager_a)
    assert reverse("pipeline:webhook_list") not in client.get(reverse("home")).content.decode()


def test_a_director_registers_a_webhook_and_sees_its_generated_secret_once(org, client):
    client.force_login(org.director)

    response = client.post(
        reverse("pipeline:webhook_create"),
        {
            "name": "ERP",
            "kind": "webhook",
            "url": "https://erp.example.com/hooks/salesflow",
            "events": ["opportunity.won", "opportunity.lost"],
            "team": "",
            "language": "en",
            "is_active": "on",
        },
        follow=True,
    )

    ep = WebhookEndpoint.objects.get()
    assert (ep.name, ep.kind, ep.events, ep.team, ep.language, ep.is_active, ep.created_by) == (
        "ERP",
        "webhook",
        ["opportunity.won", "opportunity.lost"],
        None,
        "en",
        True,
        org.director,
    )
    assert len(ep.secret) >= 40
    assert response.redirect_chain == [(reverse("pipeline:webhook_deliveries", args=[ep.pk]), 302)]
    assert ep.secret in response.content.decode()
    assert ep.secret not in client.get(reverse("pipeline:webhook_deliveries", args=[ep.pk])).content.decode()
    assert ep.secret not in client.get(reverse("pipeline:webhook_edit", args=[ep.pk])).content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"events": ["reminder.daily"]}, "events", "Only a group robot gets reminders and summaries."),
        ({"kind": "wecom", "events": ["summary.weekly"]}, "team", "Reminders and summaries go to a team's robot"),
        ({"url": "ftp://example.com/x"}, "url", "Enter the endpoint's full http:// or https:// address."),
        ({"events": []}, "events", "This field is required."),
    ],
)
def test_a_refused_endpoint_shows_the_fields_error_and_writes_nothing(org, client, changes, field, message):
    client.force_login(org.director)
    org.director.language = "en"
    org.director.save()
    data = {"name": "x", "kind": "webhook", "url": "https://example.com/", "events": ["opportunity.won"]}
    data.update({"language": "en", **changes})

    response = client.post(reverse("pipeline:webhook_create"), data)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert WebhookEndpoint.objects.count() == 0


def test_editing_with_an_empty_secret_keeps_it_and_a_new_one_replaces_it(org, client):
    ep = endpoint(org)
    client.force_login(org.director)
    form = {"name": "ERP 2", "kind": "webhook", "url": DEAD, "events": ["opportunity.lost"], "language": "zh-hans"}

    client.post(reverse("pipeline:webhook_edit", args=[ep.pk]), {**form, "secret": ""})
    ep.refresh_from_db()
    assert (ep.name, ep.events, ep.secret, ep.is_active) == ("ERP 2", ["opportunity.lost"], "s3cret", False)

    client.post(reverse("pipeline:webhook_edit", args=[ep.pk]), {**form, "secret": "new-one", "is_active": "on"})
    ep.refresh_from_db()
    assert (ep.secret, ep.is_active) == ("new-one", True)


def test_the_list_counts_each_endpoints_deliveries_in_a_fixed_number_of_queries(org, client, django_assert_num_queries):
    first = endpoint(org, "A")
    delivered_and_failed(org, first, 1)
    client.force_login(org.director)
    url = reverse("pipeline:webhook_list")
    client.get(url)  # warm the session and the user

    with django_assert_num_queries(3) as one:  # session, user, endpoints with their counts
        response = client.get(url)
    second = endpoint(org, "B", team=org.team_a)
    delivered_and_failed(org, second, 3)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)

    assert [(r.endpoint.name, r.pending, r.delivered, r.failed) for r in response.context["rows"]] == [
        ("A", 1, 0, 0),
        ("B", 3, 0, 0),
    ]


def test_the_deliveries_page_shows_attempts_and_resend_queues_a_new_cycle(org, client, time_machine):
    time_machine.move_to(T0, tick=False)
    ep = endpoint(org)
    delivery = send_test_event(endpoint=ep, sent_by=org.director)
    send_delivery(delivery_id=delivery.pk, now=T0)
    client.force_login(org.director)
    page = client.get(reverse("pipeline:webhook_deliveries", args=[ep.pk]))
    assert str(delivery.event_id) in page.content.decode()
    assert "connection error" in page.content.decode()

    time_machine.move_to(T0 + timedelta(minutes=10), tick=False)
    client.post(reverse("pipeline:webhook_delivery_resend", args=[ep.pk, delivery.pk]))

    delivery.refresh_from_db()
    now = T0 + timedelta(minutes=10)
    assert (delivery.status, delivery.next_attempt_at, delivery.expires_at, delivery.attempts) == (
        "pending",
        now,
        now + timedelta(hours=24),
        1,
    )


def test_the_deliveries_page_costs_the_same_whatever_the_number_of_deliveries(org, client, django_assert_num_queries):
    ep = endpoint(org)
    delivered_and_failed(org, ep, 2)
    client.force_login(org.director)
    url = reverse("pipeline:webhook_deliveries", args=[ep.pk])
    client.get(url)

    # session, user, endpoint, count, page, attempts
    with django_assert_num_queries(6):
        client.get(url)
    delivered_and_failed(org, ep, 5)
    with django_assert_num_queries(6):
        response = client.get(url)

    assert len(response.context["page_obj"].object_list) == 7
    assert WebhookAttempt.objects.count() == 7


# --- API -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager_a", "rep_a1"])
def test_the_api_answers_404_to_managers_and_reps(org, client, role):
    ep = endpoint(org)
    client.force_login(getattr(org, role))

    assert client.get("/api/v1/webhooks/").status_code == 404
    assert client.get(f"/api/v1/webhooks/{ep.pk}/deliveries/").status_code == 404
    body = {"name": "x", "kind": "webhook", "url": DEAD, "events": ["opportunity.won"]}
    assert client.post("/api/v1/webhooks/", body, content_type="application/json").status_code == 404
    assert WebhookEndpoint.objects.count() == 1


def test_the_api_creates_an_endpoint_without_ever_showing_the_secret(org, client):
    client.force_login(org.director)
    body = {
        "name": "Team A robot",
        "kind": "dingtalk",
        "url": "https://oapi.dingtalk.com/robot/send?access_token=t",
        "secret": "SECabc",
        "events": ["opportunity.won", "reminder.daily"],
        "team": org.team_a.pk,
        "language": "zh-hans",
    }

    created = client.post("/api/v1/webhooks/", body, content_type="application/json")

    assert created.status_code == 201, created.json()
    data = created.json()
    assert "secret" not in data and data["has_secret"] is True
    assert (data["events"], data["team"], data["created_by"]) == (
        ["opportunity.won", "reminder.daily"],
        org.team_a.pk,
        org.director.pk,
    )
    assert WebhookEndpoint.objects.get().secret == "SECabc"
    assert "secret" not in client.get(f"/api/v1/webhooks/{data['id']}/").json()


def test_the_api_refuses_reminders_for_a_plain_webhook_with_a_field_error(org, client):
    client.force_login(org.director)
    body = {"name": "x", "kind": "webhook", "url": DEAD, "events": ["summary.weekly"]}

    response = client.post("/api/v1/webhooks/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "events" in response.json()
    assert WebhookEndpoint.objects.count() == 0


def test_the_api_lists_deliveries_with_attempts_resends_and_sends_a_test(org, client, django_assert_num_queries):
    ep = endpoint(org)
    delivered_and_failed(org, ep, 2)
    client.force_login(org.director)

    client.get(f"/api/v1/webhooks/{ep.pk}/deliveries/")
    with django_assert_num_queries(6):  # session, user, endpoint, count, page, attempts
        listed = client.get(f"/api/v1/webhooks/{ep.pk}/deliveries/").json()
    assert listed["count"] == 2
    first = listed["results"][0]
    assert (first["event"], first["status"], first["attempts"]) == ("test", "pending", 1)
    assert [a["error"][:17] for a in first["attempt_log"]] == ["connection error:"]

    resent = client.post(f"/api/v1/webhooks/{ep.pk}/deliveries/{first['id']}/resend/")
    assert resent.status_code == 200 and resent.json()["status"] == "pending"
    tested = client.post(f"/api/v1/webhooks/{ep.pk}/test/")
    assert tested.status_code == 201 and tested.json()["event"] == "test"
    assert WebhookDelivery.objects.count() == 3
    assert client.post(f"/api/v1/webhooks/{ep.pk}/deliveries/999999/resend/").status_code == 404


def test_the_api_deletes_an_endpoint_with_its_log(org, client):
    ep = endpoint(org)
    delivered_and_failed(org, ep, 1)
    client.force_login(org.director)

    assert client.delete(f"/api/v1/webhooks/{ep.pk}/").status_code == 204
    assert (WebhookEndpoint.objects.count(), WebhookDelivery.objects.count()) == (0, 0)
