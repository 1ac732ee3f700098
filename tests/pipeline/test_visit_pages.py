"""Visit logging and completing pages: a day's work on a phone, the 30-day back-dating rule, planning the next visit
in the same submit, the htmx account picker, and visibility for every page and role."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from pipeline.models import Visit
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, VisitFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 18, 15, 30, tzinfo=SHANGHAI)  # a Wednesday afternoon


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def _local(moment: datetime) -> str:
    """A datetime as a datetime-local input sends it."""
    return timezone.localtime(moment, SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def zh(message: str, **values) -> str:
    """The zh-hans text of an English message, as the catalogs (Django's and ours) give it; never the English."""
    with translation.override("zh-hans"):
        chinese = translation.gettext(message) % values if values else translation.gettext(message)
    assert chinese != (message % values if values else message), f"no Chinese for {message!r}"
    return chinese


def _login(client, user, language="en"):
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)
    return client


def _log(client, **data):
    return client.post(reverse("pipeline:visit_log"), {"kind": "visit", "summary": "谈了换机需求", **data})


# --- logging a visit -------------------------------------------------------------------------------------------


def test_a_rep_logs_a_visit_done_today_and_lands_on_the_account_page(client, org):
    account = AccountFactory(owner=org.rep_a1)
    contact = ContactFactory(account=account)
    opportunity = OpportunityFactory(owner=org.rep_a1, account=account)
    _login(client, org.rep_a1)

    response = _log(
        client,
        account=account.pk,
        contact=contact.pk,
        opportunity=opportunity.pk,
        done_at=_local(NOW - timedelta(hours=2)),
        purpose="了解打印量",
        next_step="发报价",
    )

    assert response.status_code == 302
    assert response.url == account.get_absolute_url()
    visit = Visit.objects.get()
    assert (visit.status, visit.owner, visit.account, visit.contact, visit.opportunity) == (
        "done",
        org.rep_a1,
        account,
        contact,
        opportunity,
    )
    assert (visit.done_at, visit.planned_at) == (NOW - timedelta(hours=2), None)
    assert (visit.summary, visit.purpose, visit.next_step) == ("谈了换机需求", "了解打印量", "发报价")
    assert visit.stage_when_done == opportunity.stage


def test_logging_a_visit_done_30_days_ago_is_allowed(client, org):
    account = AccountFactory(owner=org.rep_a1)
    _login(client, org.rep_a1)

    response = _log(client, account=account.pk, done_at=_local(NOW - timedelta(days=30)))

    assert response.status_code == 302
    assert Visit.objects.get().done_at == NOW - timedelta(days=30)


def test_logging_a_visit_done_31_days_ago_is_refused_on_the_date_field_in_english(client, org):
    account = AccountFactory(owner=org.rep_a1)
    _login(client, org.rep_a1, language="en")

    response = _log(client, account=account.pk, done_at=_local(NOW - timedelta(days=31)))

    assert response.status_code == 200
    assert response.context["form"].errors == {"done_at": ["A visit can be logged at most 30 days back."]}
    assert "A visit can be logged at most 30 days back." in response.content.decode()
    assert Visit.objects.count() == 0


def test_logging_a_visit_done_31_days_ago_is_refused_in_chinese_for_a_chinese_user(client, org):
    account = AccountFactory(owner=org.rep_a1)
    _login(client, org.rep_a1, language="zh-hans")
    chinese = zh("A visit can be logged at most %(days)d days back.", days=30)
    assert "30" in chinese

    response = _log(client, account=account.pk, done_at=_local(NOW - timedelta(days=31)))

    assert response.context["form"].errors == {"done_at": [chinese]}
    assert Visit.objects.count() == 0


def test_logging_a_visit_plans_the_next_visit_in_the_same_submit(client, org):
    account = AccountFactory(owner=org.rep_a1)
    contact = ContactFactory(account=account)
    _login(client, org.rep_a1)

    response = _log(
        client,
        account=account.pk,
        contact=contact.pk,
        done_at=_local(NOW - timedelta(hours=1)),
        next_visit_at=_local(NOW + timedelta(days=7)),
        next_visit_purpose="演示彩色机",
    )

    assert response.status_code == 302
    done, planned = Visit.objects.order_by("pk")
    assert (done.status, planned.status) == ("done", "planned")
    assert (planned.planned_at, planned.purpose, planned.account, planned.contact, planned.owner) == (
        NOW + timedelta(days=7),
        "演示彩色机",
        account,
        contact,
        org.rep_a1,
    )


def test_a_next_visit_purpose_without_its_date_is_refused_and_nothing_is_written(client, org):
    account = AccountFactory(owner=org.rep_a1)
    _login(client, org.rep_a1)

    response = _log(client, account=account.pk, done_at=_local(NOW), next_visit_purpose="演示")

    assert response.context["form"].errors == {
        "next_visit_at": ["Give the date and time of the next visit, or leave its purpose empty."]
    }
    assert Visit.objects.count() == 0


def test_a_visit_on_an_account_the_rep_cannot_see_is_refused_and_nothing_is_written(client, org):
    foreign = AccountFactory(owner=org.rep_b1)
    _login(client, org.rep_a1)

    response = _log(client, account=foreign.pk, done_at=_local(NOW))

    assert response.status_code == 404
    assert Visit.objects.count() == 0


def test_a_contact_of_another_account_is_refused_and_nothing_is_written(client, org):
    account = AccountFactory(owner=org.rep_a1)
    other_contact = ContactFactory(account=AccountFactory(owner=org.rep_a1))
    _login(client, org.rep_a1)

    response = _log(client, account=account.pk, contact=other_contact.pk, done_at=_local(NOW))

    assert list(response.context["form"].errors) == ["contact"]
    assert Visit.objects.count() == 0


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_missing_summary_is_reported_on_its_field_in_the_users_language(client, org, language):
    account = AccountFactory(owner=org.rep_a1)
    _login(client, org.rep_a1, language=language)
    required = "This field is required." if language == "en" else zh("This field is required.")
    assert language == "en" or "必填" in required

    response = client.post(reverse("pipeline:visit_log"), {"account": account.pk, "kind": "visit", "done_at": ""})

    assert response.context["form"].errors == {"summary": [required], "done_at": [required]}
    assert required in response.content.decode()
    assert Visit.objects.count() == 0


def test_a_missing_account_is_reported_in_english(client, org):
    _login(client, org.rep_a1, language="en")

    response = _log(client, done_at=_local(NOW))

    assert response.context["form"].errors == {"account": ["Choose the account you visited."]}
    assert "Choose the account you visited." in response.content.decode()


def test_the_log_page_prefills_the_account_from_the_account_page_link_and_lists_todays_planned_visits(client, org):
    account = AccountFactory(owner=org.rep_a1, name="东方机械")
    ContactFactory(account=account, name="王经理")
    VisitFactory(account=account, planned_at=NOW + timedelta(hours=1), purpose="送样机")
    VisitFactory(account=account, planned_at=NOW + timedelta(days=1), purpose="明天的")
    VisitFactory(account=account, planned_at=NOW - timedelta(days=2), purpose="前天没去")
    VisitFactory(account=account, planned_at=NOW - timedelta(days=8), purpose="太久以前")
    _login(client, org.rep_a1)

    response = client.get(reverse("pipeline:visit_log"), {"account": account.pk})

    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="account" value="{account.pk}"' in html
    assert "王经理" in html
    assert [v.purpose for v in response.context["todays_visits"].today] == ["送样机"]
    assert [v.purpose for v in response.context["todays_visits"].overdue] == ["前天没去"]


def test_logging_a_visit_is_one_tap_from_the_home_page(client, org):
    _login(client, org.rep_a1)

    html = client.get(reverse("home")).content.decode()

    assert f'href="{reverse("pipeline:visit_log")}"' in html


# --- completing a planned visit --------------------------------------------------------------------------------


def test_completing_a_planned_visit_marks_it_done_and_can_plan_the_next(client, org):
    planned = VisitFactory(account=AccountFactory(owner=org.rep_a1), planned_at=NOW - timedelta(hours=3))
    _login(client, org.rep_a1)

    response = client.post(
        reverse("pipeline:visit_complete", args=[planned.pk]),
        {
            "summary": "客户同意试用",
            "next_step": "安排演示",
            "satisfaction": "9",
            "next_visit_at": _local(NOW + timedelta(days=3)),
            "next_visit_purpose": "演示",
        },
    )

    assert response.status_code == 302
    planned.refresh_from_db()
    assert (planned.status, planned.done_at, planned.summary, planned.next_step, planned.satisfaction) == (
        "done",
        NOW,
        "客户同意试用",
        "安排演示",
        9,
    )
    following = Visit.objects.exclude(pk=planned.pk).get()
    assert (following.status, following.planned_at, following.purpose) == ("planned", NOW + timedelta(days=3), "演示")


def test_completing_needs_a_summary_in_both_languages(client, org):
    planned = VisitFactory(account=AccountFactory(owner=org.rep_a1))
    url = reverse("pipeline:visit_complete", args=[planned.pk])
    for language, message in (("en", "This field is required."), ("zh-hans", zh("This field is required."))):
        _login(client, org.rep_a1, language=language)
        response = client.post(url, {"summary": ""})
        assert response.context["form"].errors == {"summary": [message]}
    planned.refresh_from_db()
    assert planned.status == "planned"


def test_a_satisfaction_above_ten_is_refused(client, org):
    planned = VisitFactory(account=AccountFactory(owner=org.rep_a1))
    _login(client, org.rep_a1, language="en")

    response = client.post(reverse("pipeline:visit_complete", args=[planned.pk]), {"summary": "ok", "satisfaction": 11})

    assert response.context["form"].errors == {"satisfaction": ["Ensure this value is less than or equal to 10."]}
    planned.refresh_from_db()
    assert planned.status == "planned"


def test_completing_a_visit_that_is_no_longer_planned_shows_why_and_changes_nothing(client, org):
    done = VisitFactory(
        account=AccountFactory(owner=org.rep_a1), status="done", done_at=NOW - timedelta(days=1), summary="旧"
    )
    _login(client, org.rep_a1, language="en")

    response = client.post(reverse("pipeline:visit_complete", args=[done.pk]), {"summary": "新"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["This visit is no longer planned."]
    done.refresh_from_db()
    assert done.summary == "旧"


def test_opening_the_completion_of_a_done_visit_shows_the_visit_instead(client, org):
    done = VisitFactory(account=AccountFactory(owner=org.rep_a1), status="done", done_at=NOW - timedelta(days=1))
    _login(client, org.rep_a1)

    response = client.get(reverse("pipeline:visit_complete", args=[done.pk]))

    assert (response.status_code, response.url) == (302, done.get_absolute_url())


# --- the htmx account picker -----------------------------------------------------------------------------------


def test_account_search_returns_at_most_ten_visible_accounts_matching_names_starting_with_it_first(client, org):
    for n in range(12):
        AccountFactory(owner=org.rep_a1, name=f"华东{n:02d}机械")
    AccountFactory(owner=org.rep_a1, name="机械华东总部")
    AccountFactory(owner=org.rep_b1, name="华东99机械")  # another team's
    _login(client, org.rep_a1)

    response = client.get(reverse("pipeline:visit_account_search"), {"q": "华东"}, headers={"HX-Request": "true"})

    names = re.findall(r"<strong>([^<]+)</strong>", response.content.decode())
    assert names == [f"华东{n:02d}机械" for n in range(10)]


def test_account_search_finds_nothing_for_a_blank_query(client, org):
    AccountFactory(owner=org.rep_a1)
    _login(client, org.rep_a1)

    response = client.get(reverse("pipeline:visit_account_search"), {"q": "  "}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "<li" not in response.content.decode()


def test_choosing_an_account_offers_its_contacts_and_open_opportunities_only(client, org):
    account = AccountFactory(owner=org.rep_a1)
    ContactFactory(account=account, name="李工")
    ContactFactory(account=AccountFactory(owner=org.rep_a1), name="别家联系人")
    OpportunityFactory(account=account, owner=org.rep_a1, name="彩色机更新")
    _login(client, org.rep_a1)

    response = client.get(
        reverse("pipeline:visit_account_picker"), {"account": account.pk}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "李工" in html
    assert "彩色机更新" in html
    assert "别家联系人" not in html


# --- visibility: every page and htmx endpoint, every role ------------------------------------------------------

ROLES_SEEING_REP_A1 = {"rep_a1": True, "rep_a2": False, "manager_a": True, "manager_b": False, "director": True}


@pytest.fixture
def rep_a1_visit(org):
    account = AccountFactory(owner=org.rep_a1)
    return VisitFactory(account=account, planned_at=NOW + timedelta(days=1))


PAGES = {
    "visit": lambda v: (reverse("pipeline:visit", args=[v.pk]), {}),
    "visit_complete": lambda v: (reverse("pipeline:visit_complete", args=[v.pk]), {}),
    "visit_complete_inline": lambda v: (reverse("pipeline:visit_complete", args=[v.pk]), {"inline": "1"}),
    "visit_log_for_account": lambda v: (reverse("pipeline:visit_log"), {"account": v.account_id}),
    "visit_plan_create_for_account": lambda v: (reverse("pipeline:visit_plan_create"), {"account": v.account_id}),
    "visit_account_picker": lambda v: (reverse("pipeline:visit_account_picker"), {"account": v.account_id}),
    "visit_list_for_account": lambda v: (reverse("pipeline:visit_list"), {"account": v.account_id}),
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ROLES_SEEING_REP_A1)
def test_visit_pages_answer_404_to_whoever_cannot_see_the_visit(client, org, rep_a1_visit, page, role):
    url, params = PAGES[page](rep_a1_visit)
    client.force_login(getattr(org, role))

    response = client.get(url, params, headers={"HX-Request": "true"} if "inline" in params else {})

    assert response.status_code == (200 if ROLES_SEEING_REP_A1[role] else 404)


@pytest.mark.parametrize("role", ROLES_SEEING_REP_A1)
def test_cancelling_a_visit_is_404_and_changes_nothing_for_whoever_cannot_see_it(client, org, rep_a1_visit, role):
    client.force_login(getattr(org, role))

    response = client.post(reverse("pipeline:visit_cancel", args=[rep_a1_visit.pk]), headers={"HX-Request": "true"})

    rep_a1_visit.refresh_from_db()
    if ROLES_SEEING_REP_A1[role]:
        assert (response.status_code, rep_a1_visit.status) == (200, "cancelled")
    else:
        assert (response.status_code, rep_a1_visit.status) == (404, "planned")


@pytest.mark.parametrize("role", ROLES_SEEING_REP_A1)
def test_completing_a_visit_is_404_and_changes_nothing_for_whoever_cannot_see_it(client, org, rep_a1_visit, role):
    client.force_login(getattr(org, role))

    response = client.post(reverse("pipeline:visit_complete", args=[rep_a1_visit.pk]), {"summary": "见面"})

    rep_a1_visit.refresh_from_db()
    if ROLES_SEEING_REP_A1[role]:
        assert (response.status_code, rep_a1_visit.status) == (302, "done")
    else:
        assert (response.status_code, rep_a1_visit.status) == (404, "planned")


@pytest.mark.parametrize(
    "name", ["pipeline:visit_log", "pipeline:visit_plan", "pipeline:visit_list", "pipeline:visit_plan_create"]
)
def test_visit_pages_need_a_login(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_account_search_needs_a_login(client, db):
    response = client.get(reverse("pipeline:visit_account_search"), {"q": "a"})

    assert response.status_code == 302


# --- planning a visit ------------------------------------------------------------------------------------------


def test_a_rep_plans_a_visit_and_sees_it_in_the_week_plan(client, org):
    account = AccountFactory(owner=org.rep_a1)
    _login(client, org.rep_a1)

    response = client.post(
        reverse("pipeline:visit_plan_create"),
        {"account": account.pk, "kind": "demo", "planned_at": "2025-06-20T10:00", "purpose": "演示"},
    )

    visit = Visit.objects.get()
    assert (visit.status, visit.owner, visit.kind, visit.planned_at) == (
        "planned",
        org.rep_a1,
        "demo",
        datetime(2025, 6, 20, 10, 0, tzinfo=SHANGHAI),
    )
    assert response.url == f"{reverse('pipeline:visit_plan')}?rep={org.rep_a1.pk}&week=2025-06-16"


def test_a_manager_plans_a_visit_for_a_rep_of_the_team(client, org):
    account = AccountFactory(owner=org.rep_a1)
    _login(client, org.manager_a)

    client.post(
        reverse("pipeline:visit_plan_create"),
        {"account": account.pk, "kind": "visit", "planned_at": "2025-06-20T10:00", "owner": org.rep_a1.pk},
    )

    assert Visit.objects.get().owner == org.rep_a1


def test_planning_a_visit_in_the_past_is_refused_on_its_field(client, org):
    account = AccountFactory(owner=org.rep_a1)
    _login(client, org.rep_a1, language="en")

    response = client.post(
        reverse("pipeline:visit_plan_create"),
        {"account": account.pk, "kind": "visit", "planned_at": "2025-06-17T10:00"},
    )

    assert response.context["form"].errors == {"planned_at": ["Plan the visit for today or later."]}
    assert Visit.objects.count() == 0


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_malformed_plan_date_is_reported_in_the_users_language(client, org, language):
    account = AccountFactory(owner=org.rep_a1)
    _login(client, org.rep_a1, language=language)
    message = "Enter a valid date/time." if language == "en" else zh("Enter a valid date/time.")
    assert language == "en" or "日期" in message

    response = client.post(
        reverse("pipeline:visit_plan_create"), {"account": account.pk, "kind": "visit", "planned_at": "tomorrow"}
    )

    assert response.context["form"].errors == {"planned_at": [message]}
    assert Visit.objects.count() == 0
