"""The digest in the browser: preview it and opt out of it (SPEC §8)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from accounts.models import User
from accounts.services import set_digest_opt_out
from analytics.models import DigestDelivery
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PREVIEW, OPT_OUT = "/digest/preview/", "/digest/opt-out/"


@pytest.fixture(autouse=True)
def wednesday():
    with time_machine.travel(datetime(2026, 5, 20, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def rep(db):
    return UserFactory(username="rep", email="rep@example.com", language="en")


def test_the_routes_are_named_in_the_digest_namespace():
    assert (reverse("digest:preview"), reverse("digest:opt_out")) == (PREVIEW, OPT_OUT)


def test_the_preview_shows_this_weeks_email_of_the_signed_in_user(client, rep):
    client.force_login(rep)

    response = client.get(PREVIEW)

    assert response.status_code == 200
    assert response.context["week_start"].isoformat() == "2026-05-18"
    assert response.context["rendered"].subject == "SalesFlow weekly digest, week of 2026-05-18"
    assert "Your weekly digest" in response.context["rendered"].html
    assert 'srcdoc="&lt;!DOCTYPE html&gt;' in response.content.decode()
    assert not DigestDelivery.objects.exists()  # previewing sends and records nothing


def test_the_preview_frame_is_sized_to_the_email_by_a_static_script_not_a_fixed_inline_height(client, rep):
    client.force_login(rep)

    html = client.get(PREVIEW).content.decode()

    frame = html.split("<iframe", 1)[1].split(">", 1)[0]
    assert 'class="digest-frame" data-fit-content' in frame
    assert " style=" not in frame.split("srcdoc=", 1)[0]
    assert 'sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"' in frame  # measurable, no scripts
    assert '<script src="/static/js/digest-frame.js" defer></script>' in html


def test_the_preview_of_another_week_starts_on_its_monday(client, rep):
    client.force_login(rep)

    assert client.get(PREVIEW, {"week": "2026-05-06"}).context["week_start"].isoformat() == "2026-05-04"
    assert client.get(PREVIEW, {"week": "not a date"}).context["week_start"].isoformat() == "2026-05-18"


def test_the_preview_as_plain_text(client, rep):
    client.force_login(rep)

    response = client.get(PREVIEW, {"format": "text", "week": "2026-05-18"})

    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().startswith("SalesFlow weekly digest, week of 2026-05-18\n")


def test_the_preview_needs_a_signed_in_user(client):
    response = client.get(PREVIEW)

    assert (response.status_code, response.url) == (302, f"/login/?next={PREVIEW}")


def test_the_preview_page_runs_a_fixed_number_of_queries(client, rep, django_assert_num_queries):
    client.force_login(rep)

    with django_assert_num_queries(20):  # session, user, the rep's digest (18)
        client.get(PREVIEW)


def test_opting_out_and_back_in_from_the_preview_page(client, rep):
    client.force_login(rep)

    response = client.post(OPT_OUT, {"opt_out": "1"})
    assert (response.status_code, response.url) == (302, PREVIEW)
    assert User.objects.get(pk=rep.pk).digest_opt_out is True
    page = client.get(PREVIEW).content.decode()
    assert 'data-digest-opt-out="1"' in page and 'name="opt_out" value="0"' in page

    client.post(OPT_OUT, {"opt_out": "0"})
    assert User.objects.get(pk=rep.pk).digest_opt_out is False


def test_a_post_without_a_choice_switches_the_current_one(client, rep):
    client.force_login(rep)

    client.post(OPT_OUT)
    assert User.objects.get(pk=rep.pk).digest_opt_out is True
    client.post(OPT_OUT)
    assert User.objects.get(pk=rep.pk).digest_opt_out is False


def test_opting_out_refuses_get_and_nonsense_and_changes_nothing(client, rep):
    client.force_login(rep)

    assert client.get(OPT_OUT).status_code == 405
    assert client.post(OPT_OUT, {"opt_out": "maybe"}).status_code == 400
    assert User.objects.get(pk=rep.pk).digest_opt_out is False


def test_opting_out_needs_a_signed_in_user(client, rep):
    response = client.post(OPT_OUT, {"opt_out": "1"})

    assert response.status_code == 302
    assert User.objects.get(pk=rep.pk).digest_opt_out is False


def test_the_service_writes_only_the_opt_out(rep):
    User.objects.filter(pk=rep.pk).update(first_name="Changed elsewhere")

    set_digest_opt_out(user=rep, opt_out=True)

    stored = User.objects.get(pk=rep.pk)
    assert (stored.digest_opt_out, stored.first_name, rep.digest_opt_out) == (True, "Changed elsewhere", True)
