"""The visit plan: a rep's week (Mon–Sun), plan adherence (SPEC §5), marking visits done or cancelled from the
week, and the manager's comment on a rep's week."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pipeline.models import Visit, VisitWeekComment
from pipeline.selectors.planning import plan_adherence, plan_adherence_by_owner, visit_plan_week
from tests.factories import AccountFactory, ContactFactory, VisitFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 18, 15, 30, tzinfo=SHANGHAI)  # Wednesday of the week of Monday 2025-06-16
WEEK = date(2025, 6, 16)


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in June 2025, Shanghai time."""
    return datetime(2025, 6, day, hour, minute, tzinfo=SHANGHAI)


def _done(account, planned_at, done_at, **kwargs):
    return VisitFactory(account=account, planned_at=planned_at, status="done", done_at=done_at, **kwargs)


@pytest.fixture
def rep_a1_week(org):
    """rep_a1's week of 2025-06-16 with every kind of visit, counted by hand in EXPECTED_ADHERENCE."""
    account = AccountFactory(owner=org.rep_a1, name="东方机械")
    other = AccountFactory(owner=org.rep_a1, name="西城印务")
    _done(account, at(16, 0, 0), at(16, 10))  # planned at the first minute of Monday: in the week, done
    _done(other, at(17, 9), at(17, 11))  # planned and done
    _done(account, at(20, 14), at(18, 9))  # planned for Friday, done early on Wednesday: still planned for this week
    VisitFactory(account=account, planned_at=at(18, 10), status="cancelled")  # planned, then cancelled
    VisitFactory(account=other, planned_at=at(19, 10))  # still planned
    VisitFactory(account=account, planned_at=at(22, 23, 59))  # Sunday night: in the week, still planned
    # Not part of this week's plan:
    _done(account, None, at(17, 15))  # logged directly as done, never planned
    VisitFactory(account=account, planned_at=at(23, 0, 0))  # next Monday 00:00
    _done(account, at(13, 10), at(16, 9))  # planned last Friday, done this Monday
    VisitFactory(account=AccountFactory(owner=org.rep_a2), planned_at=at(18, 9))  # another rep's
    return org


EXPECTED_ADHERENCE = {"planned": 6, "done": 3, "cancelled": 1, "open": 2}


def test_plan_adherence_counts_the_visits_planned_for_the_week_in_one_query(rep_a1_week, django_assert_num_queries):
    with django_assert_num_queries(1):
        adherence = plan_adherence(rep=rep_a1_week.rep_a1, week_start=WEEK)

    assert (adherence.planned, adherence.done, adherence.cancelled, adherence.open) == (6, 3, 1, 2)
    assert adherence.rate == 0.5
    assert adherence.percent == 50


def test_adherence_by_owner_of_one_team_counts_only_its_people(rep_a1_week, django_assert_num_queries):
    org = rep_a1_week
    VisitFactory(account=AccountFactory(owner=org.rep_b1), planned_at=at(18, 9))  # team B's

    with django_assert_num_queries(1):
        team_a = plan_adherence_by_owner(viewer=org.director, week_start=WEEK, team=org.team_a)
    everyone = plan_adherence_by_owner(viewer=org.director, week_start=WEEK)

    assert {pk: a.planned for pk, a in team_a.items()} == {org.rep_a1.pk: 6, org.rep_a2.pk: 1}
    assert {pk: a.planned for pk, a in everyone.items()} == {org.rep_a1.pk: 6, org.rep_a2.pk: 1, org.rep_b1.pk: 1}


def test_plan_adherence_of_a_week_with_nothing_planned_is_undefined(org):
    _done(AccountFactory(owner=org.rep_a1), None, at(17, 15))  # logged, not planned

    adherence = plan_adherence(rep=org.rep_a1, week_start=WEEK)

    assert (adherence.planned, adherence.done, adherence.rate, adherence.percent) == (0, 0, None, None)


def test_the_week_has_seven_days_from_monday_with_each_visit_on_its_planned_day(rep_a1_week):
    days = visit_plan_week(rep=rep_a1_week.rep_a1, week_start=WEEK)

    assert [d.day for d in days] == [WEEK + timedelta(days=i) for i in range(7)]
    assert [d.is_today for d in days] == [False, False, True, False, False, False, False]
    per_day = {d.day.isoformat(): [(v.status, v.planned_at is None) for v in d.visits] for d in days}
    assert per_day == {
        "2025-06-16": [("done", False)],
        "2025-06-17": [("done", False), ("done", True)],  # the logged visit shows on the day it was done
        "2025-06-18": [("cancelled", False)],
        "2025-06-19": [("planned", False)],
        "2025-06-20": [("done", False)],
        "2025-06-21": [],
        "2025-06-22": [("planned", False)],
    }


def test_the_plan_page_shows_the_weeks_adherence_and_visits(client, rep_a1_week):
    client.force_login(rep_a1_week.rep_a1)

    response = client.get(reverse("pipeline:visit_plan"), {"week": "2025-06-19"})  # any day picks its week

    assert response.status_code == 200
    assert response.context["week_start"] == WEEK
    adherence = response.context["adherence"]
    assert (adherence.planned, adherence.done, adherence.cancelled, adherence.open) == (6, 3, 1, 2)
    html = response.content.decode()
    assert re.search(r"data-adherence>\s*50%", html)
    assert html.count('class="plan-visit ') == 7
    assert "week=2025-06-09" in html  # previous week
    assert "week=2025-06-23" in html  # next week


def test_an_unreadable_week_falls_back_to_this_week(client, org):
    client.force_login(org.rep_a1)

    response = client.get(reverse("pipeline:visit_plan"), {"week": "next tuesday"})

    assert response.context["week_start"] == WEEK


# --- who may see whose week ------------------------------------------------------------------------------------

PLAN_ACCESS = [
    ("rep_a1", "rep_a1", 200),
    ("rep_a1", "rep_a2", 404),
    ("rep_a1", "rep_b1", 404),
    ("manager_a", "rep_a1", 200),
    ("manager_a", "rep_b1", 404),
    ("manager_b", "rep_a1", 404),
    ("manager_b", "rep_b1", 200),
    ("director", "rep_a1", 200),
    ("director", "rep_b1", 200),
]


@pytest.mark.parametrize(("viewer", "rep", "status"), PLAN_ACCESS)
def test_a_weeks_plan_is_visible_to_the_rep_their_manager_and_directors_only(client, org, viewer, rep, status):
    client.force_login(getattr(org, viewer))

    response = client.get(reverse("pipeline:visit_plan"), {"rep": getattr(org, rep).pk})

    assert response.status_code == status


def test_a_manager_picks_a_rep_from_the_team_and_a_director_from_everyone(client, org):
    client.force_login(org.manager_a)
    manager_choices = {u.username for u in client.get(reverse("pipeline:visit_plan")).context["reps"]}
    client.force_login(org.director)
    director_choices = {u.username for u in client.get(reverse("pipeline:visit_plan")).context["reps"]}
    client.force_login(org.rep_a1)
    rep_choices = {u.username for u in client.get(reverse("pipeline:visit_plan")).context["reps"]}

    assert manager_choices == {"manager_a", "rep_a1", "rep_a2"}
    assert director_choices == {"director", "manager_a", "manager_b", "rep_a1", "rep_a2", "rep_b1"}
    assert rep_choices == {"rep_a1"}


# --- marking done and cancelling from the week (htmx) ----------------------------------------------------------


def test_marking_a_visit_done_from_the_week_answers_with_its_card_and_the_new_adherence(client, org):
    account = AccountFactory(owner=org.rep_a1)
    visit = VisitFactory(account=account, contact=ContactFactory(account=account), planned_at=at(18, 10))
    VisitFactory(account=account, planned_at=at(19, 10))
    client.force_login(org.rep_a1)
    url = reverse("pipeline:visit_complete", args=[visit.pk])

    form = client.get(url, {"inline": "1"}, headers={"HX-Request": "true"})
    response = client.post(
        url,
        {"inline": "1", f"visit-{visit.pk}-summary": "客户确认需求"},
        headers={"HX-Request": "true"},
    )

    assert f'name="visit-{visit.pk}-summary"' in form.content.decode()
    visit.refresh_from_db()
    assert (visit.status, visit.done_at, visit.summary) == ("done", NOW, "客户确认需求")
    html = response.content.decode()
    assert response.headers["HX-Retarget"] == f"#visit-{visit.pk}"
    assert f'id="visit-{visit.pk}" class="plan-visit plan-visit--done"' in html
    assert 'id="plan-adherence"' in html and 'hx-swap-oob="true"' in html
    assert re.search(r"data-adherence>\s*50%", html)


def test_an_inline_completion_without_summary_shows_the_error_in_the_form(client, org):
    visit = VisitFactory(account=AccountFactory(owner=org.rep_a1), planned_at=at(18, 10))
    client.force_login(org.rep_a1)

    response = client.post(
        reverse("pipeline:visit_complete", args=[visit.pk]),
        {"inline": "1", f"visit-{visit.pk}-summary": ""},
        headers={"HX-Request": "true"},
    )

    assert "HX-Retarget" not in response.headers
    assert "field__error" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == "planned"


def test_cancelling_from_the_week_answers_with_the_cancelled_card_and_adherence(client, org):
    visit = VisitFactory(account=AccountFactory(owner=org.rep_a1), planned_at=at(18, 10))
    client.force_login(org.rep_a1)

    response = client.post(reverse("pipeline:visit_cancel", args=[visit.pk]), headers={"HX-Request": "true"})

    visit.refresh_from_db()
    assert visit.status == "cancelled"
    html = response.content.decode()
    assert "plan-visit--cancelled" in html
    assert re.search(r"data-adherence>\s*0%", html)


def test_cancelling_a_visit_that_is_already_done_is_refused(client, org):
    visit = _done(AccountFactory(owner=org.rep_a1), at(17, 10), at(17, 11))
    client.force_login(org.rep_a1)

    response = client.post(reverse("pipeline:visit_cancel", args=[visit.pk]), headers={"HX-Request": "true"})

    assert response.status_code == 400
    visit.refresh_from_db()
    assert visit.status == "done"


# --- the manager's comment on a rep's week ---------------------------------------------------------------------


def _comment(client, rep, text="周三的拜访太集中，下周分散到周四、周五", week="2025-06-18", htmx=False):
    return client.post(
        reverse("pipeline:visit_week_comment"),
        {"rep": rep.pk, "week": week, "text": text},
        headers={"HX-Request": "true"} if htmx else {},
    )


def test_the_reps_manager_comments_on_the_reps_week_and_the_rep_sees_it(client, org):
    client.force_login(org.manager_a)

    response = _comment(client, org.rep_a1)

    assert response.status_code == 302
    comment = VisitWeekComment.objects.get()
    assert (comment.rep, comment.author, comment.week_start) == (org.rep_a1, org.manager_a, WEEK)
    client.force_login(org.rep_a1)
    page = client.get(reverse("pipeline:visit_plan"), {"week": "2025-06-16"})
    assert "周三的拜访太集中" in page.content.decode()
    assert page.context["can_comment"] is False
    assert "visit_week_comment" not in page.content.decode() and 'name="text"' not in page.content.decode()


def test_a_director_comments_on_any_reps_week_through_htmx(client, org):
    client.force_login(org.director)

    response = _comment(client, org.rep_b1, text="好", htmx=True)

    assert response.status_code == 200
    assert 'id="week-comments"' in response.content.decode()
    assert VisitWeekComment.objects.get().author == org.director


def test_a_rep_cannot_comment_on_their_own_week(client, org):
    client.force_login(org.rep_a1)

    response = _comment(client, org.rep_a1)

    assert response.status_code == 403
    assert VisitWeekComment.objects.count() == 0


def test_a_rep_cannot_comment_on_a_colleagues_week_which_they_cannot_see(client, org):
    client.force_login(org.rep_a1)

    response = _comment(client, org.rep_a2)

    assert response.status_code == 404
    assert VisitWeekComment.objects.count() == 0


def test_another_teams_manager_gets_404_and_writes_nothing(client, org):
    client.force_login(org.manager_b)

    response = _comment(client, org.rep_a1)

    assert response.status_code == 404
    assert VisitWeekComment.objects.count() == 0


def test_an_empty_comment_is_refused_on_its_field_in_both_languages(client, org):
    for language, message in (("en", "This field is required."), ("zh-hans", None)):
        org.manager_a.language = language
        org.manager_a.save(update_fields=["language"])
        client.force_login(org.manager_a)
        response = _comment(client, org.rep_a1, text="  ", htmx=True)
        html = response.content.decode()
        if message:
            assert message in html
        else:
            assert "必填" in html and "This field is required." not in html
    assert VisitWeekComment.objects.count() == 0


def test_the_manager_sees_the_comment_form_on_a_reps_week_and_not_on_their_own(client, org):
    client.force_login(org.manager_a)

    on_rep = client.get(reverse("pipeline:visit_plan"), {"rep": org.rep_a1.pk})
    on_self = client.get(reverse("pipeline:visit_plan"))

    assert (on_rep.context["can_comment"], on_self.context["can_comment"]) == (True, False)


# --- query counts ----------------------------------------------------------------------------------------------


def _week_of_visits(org, n: int) -> None:
    accounts = AccountFactory.create_batch(n, owner=org.rep_a1)
    for i, account in enumerate(accounts):
        contact = ContactFactory(account=account)
        VisitFactory(account=account, contact=contact, planned_at=at(16 + i % 7, 9 + i % 8))
        _done(account, at(16 + i % 3, 8), at(16 + i % 3, 9), contact=contact)
        VisitWeekComment.objects.create(rep=org.rep_a1, week_start=WEEK, author=org.manager_a, text=f"第{i}条")


def test_the_plan_page_runs_the_same_number_of_queries_for_ten_times_the_visits(client, org, django_assert_num_queries):
    client.force_login(org.manager_a)
    url = reverse("pipeline:visit_plan")
    params = {"rep": org.rep_a1.pk, "week": "2025-06-16"}
    _week_of_visits(org, 3)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, params).status_code == 200

    _week_of_visits(org, 27)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url, params)

    assert sum(len(d.visits) for d in response.context["days"]) == 60
    assert len(response.context["comments"]) == 30
    assert Visit.objects.count() == 60


def test_an_empty_comment_without_javascript_ends_on_the_week_plan_with_the_reason_as_a_message(client, org):
    org.manager_a.language = "en"
    org.manager_a.save(update_fields=["language"])
    client.force_login(org.manager_a)

    response = _comment(client, org.rep_a1, text="  ", htmx=False)
    page = client.get(response["Location"])

    assert response.status_code == 302
    assert response["Location"].startswith(f"{reverse('pipeline:visit_plan')}?rep={org.rep_a1.pk}&week=")
    assert "This field is required." in page.content.decode()
    assert VisitWeekComment.objects.count() == 0
