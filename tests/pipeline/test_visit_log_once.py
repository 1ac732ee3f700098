"""The visit-log form logs a visit once: sent again (a double tap, a reload, a retry on a bad network) it shows the
visit it already logged instead of logging a second one (issue 11 §9)."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from pipeline.models import Visit
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 18, 15, 30, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def rep_client(client, org):
    org.rep_a1.language = "en"
    org.rep_a1.save(update_fields=["language"])
    client.force_login(org.rep_a1)
    return client


def form_token(client) -> str:
    html = client.get(reverse("pipeline:visit_log")).content.decode()
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def visit_form(account, token: str, **changes) -> dict:
    done_at = timezone.localtime(NOW - timedelta(hours=1), SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    return {
        "account": account.pk,
        "kind": "visit",
        "done_at": done_at,
        "summary": "谈了换机需求",
        "next_visit_at": timezone.localtime(NOW + timedelta(days=7), SHANGHAI).strftime("%Y-%m-%dT%H:%M"),
        "form_token": token,
        **changes,
    }


def test_each_form_carries_its_own_one_time_token_and_disables_its_button_once_sent(rep_client):
    html = rep_client.get(reverse("pipeline:visit_log")).content.decode()

    assert "data-submit-once" in html
    assert form_token(rep_client) != form_token(rep_client)


def test_a_form_sent_twice_logs_one_visit_and_the_second_lands_on_it(rep_client, org):
    account = AccountFactory(owner=org.rep_a1)
    data = visit_form(account, form_token(rep_client))

    first = rep_client.post(reverse("pipeline:visit_log"), data)
    second = rep_client.post(reverse("pipeline:visit_log"), data, follow=True)

    done = Visit.objects.get(status="done")
    assert (first.status_code, first.url) == (302, account.get_absolute_url())
    assert second.redirect_chain == [(done.get_absolute_url(), 302)]
    assert [str(m) for m in second.context["messages"]] == [
        "Visit logged and the next one planned.",  # the first answer's, not shown since it was not followed
        "This visit was already saved; it was not logged twice.",
    ]
    assert list(Visit.objects.order_by("pk").values_list("status", flat=True)) == ["done", "planned"]


def test_five_resends_still_log_one_visit_and_plan_one_next_visit(rep_client, org):
    account = AccountFactory(owner=org.rep_a1)
    data = visit_form(account, form_token(rep_client))

    statuses = [rep_client.post(reverse("pipeline:visit_log"), data).status_code for _ in range(5)]

    assert statuses == [302] * 5
    assert Visit.objects.count() == 2


def test_two_forms_log_two_visits(rep_client, org):
    account = AccountFactory(owner=org.rep_a1)

    rep_client.post(reverse("pipeline:visit_log"), visit_form(account, form_token(rep_client)))
    rep_client.post(reverse("pipeline:visit_log"), visit_form(account, form_token(rep_client)))

    assert Visit.objects.filter(status="done").count() == 2


def test_a_spent_form_sent_with_other_values_asks_before_logging_another_visit(rep_client, org):
    account = AccountFactory(owner=org.rep_a1)
    token = form_token(rep_client)
    rep_client.post(reverse("pipeline:visit_log"), visit_form(account, token))

    changed = rep_client.post(reverse("pipeline:visit_log"), visit_form(account, token, summary="另一次拜访"))

    assert changed.status_code == 200
    assert changed.context["form"].non_field_errors() == [
        "This form was already used to log a visit. Send it again to log another one."
    ]
    assert changed.context["form_token"] != token
    assert Visit.objects.filter(status="done").count() == 1
    again = rep_client.post(
        reverse("pipeline:visit_log"), visit_form(account, changed.context["form_token"], summary="另一次拜访")
    )
    assert again.status_code == 302
    assert Visit.objects.filter(status="done").count() == 2


def test_a_form_refused_once_keeps_its_token_and_logs_once_when_fixed(rep_client, org):
    account = AccountFactory(owner=org.rep_a1)
    token = form_token(rep_client)

    refused = rep_client.post(reverse("pipeline:visit_log"), visit_form(account, token, summary=""))
    fixed = visit_form(account, refused.context["form_token"])
    statuses = [rep_client.post(reverse("pipeline:visit_log"), fixed).status_code for _ in range(2)]

    assert (refused.status_code, refused.context["form_token"], statuses) == (200, token, [302, 302])
    assert Visit.objects.filter(status="done").count() == 1


def test_a_form_without_a_token_still_logs_a_visit(rep_client, org):
    account = AccountFactory(owner=org.rep_a1)
    data = visit_form(account, "")
    del data["form_token"]

    response = rep_client.post(reverse("pipeline:visit_log"), data)

    assert response.status_code == 302
    assert Visit.objects.filter(status="done").count() == 1
