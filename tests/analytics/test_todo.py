"""The home page's to-do (issue 12): overdue visits, follow-ups due, opportunities past their expected close date, stale
opportunities and untouched targets, each counted exactly and cut short, the viewer's own first; done, reschedule and
a new close date in place; the header's due badge."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from analytics.models import AccountValue, JobRun, MatrixRun, StaleFlag, UntouchedFlag
from analytics.selectors.coverage import stale_opportunities_shortlist, untouched_accounts_shortlist
from analytics.selectors.todo import todo_list
from pipeline.models import Opportunity, OpportunityChange, Visit
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, UserFactory, VisitFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 20, 10, 0, tzinfo=SHANGHAI)  # a Wednesday
TODAY = date(2026, 5, 20)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _visit(owner, hours: float, **fields) -> Visit:
    account = fields.pop("account", None) or AccountFactory(owner=owner)
    return VisitFactory(account=account, owner=owner, planned_at=NOW + timedelta(hours=hours), **fields)


@pytest.fixture
def todo_data(org):
    """rep_a1: 3 overdue visits, a visit later today, 2 follow-ups due (yesterday, this afternoon), one tomorrow, a
    cancelled and a done visit in the past; 2 open opportunities past their close date, a won one and one closing
    later. rep_a2 and manager_a have an overdue visit each, rep_b1 (team B) one."""
    a1 = org.rep_a1
    org.overdue = [_visit(a1, -2, purpose="报价跟进"), _visit(a1, -26), _visit(a1, -24 * 30)]
    _visit(a1, 3)  # later today: not overdue
    org.follow_ups = [_visit(a1, -20, kind=Visit.Kind.FOLLOW_UP), _visit(a1, 5, kind=Visit.Kind.FOLLOW_UP)]
    _visit(a1, 26, kind=Visit.Kind.FOLLOW_UP)  # tomorrow
    VisitFactory(owner=a1, account=AccountFactory(owner=a1), status="cancelled", planned_at=NOW - timedelta(days=1))
    VisitFactory(owner=a1, account=AccountFactory(owner=a1), status="done", planned_at=None, done_at=NOW)
    org.past_close = [
        OpportunityFactory(owner=a1, name="过期很久", expected_close_date=date(2025, 6, 1)),
        OpportunityFactory(owner=a1, name="昨天到期", expected_close_date=TODAY - timedelta(days=1)),
    ]
    OpportunityFactory(owner=a1, expected_close_date=TODAY)  # due today: not past
    OpportunityFactory(
        owner=a1, expected_close_date=date(2025, 1, 1), status="won", closed_at=timezone.now()
    )  # closed: not a to-do
    org.a2_visit = _visit(org.rep_a2, -3)
    org.manager_visit = _visit(org.manager_a, -1)
    org.b1_visit = _visit(org.rep_b1, -4)
    return org


@pytest.mark.parametrize(
    ("viewer", "counts"),
    [("rep_a1", (3, 2, 2)), ("manager_a", (5, 2, 2)), ("manager_b", (1, 0, 0)), ("director", (6, 2, 2))],
)
def test_counts_each_list_exactly_for_what_the_viewer_sees(todo_data, viewer, counts):
    todo = todo_list(viewer=getattr(todo_data, viewer))

    assert (todo.overdue.total, todo.follow_ups.total, todo.past_close.total) == counts
    assert todo.due_total == sum(counts)


def test_lists_are_cut_short_in_their_order_with_the_viewers_own_first(todo_data):
    rep = todo_list(viewer=todo_data.rep_a1, limit=2)
    manager = todo_list(viewer=todo_data.manager_a, limit=2)

    assert rep.overdue.items == todo_data.overdue[:2] and (rep.overdue.total, rep.overdue.more) == (3, 1)
    assert rep.follow_ups.items == todo_data.follow_ups  # soonest first
    assert [o.name for o in rep.past_close.items] == ["过期很久", "昨天到期"]  # longest past first
    assert manager.overdue.items == [todo_data.manager_visit, todo_data.overdue[0]]  # own first, then latest


def test_the_to_do_runs_one_query_whatever_the_data(org, django_assert_num_queries):
    for hours in range(1, 30):
        _visit(org.rep_a1, -hours, kind=Visit.Kind.FOLLOW_UP if hours % 3 else Visit.Kind.VISIT)
        OpportunityFactory(owner=org.rep_a2, expected_close_date=TODAY - timedelta(days=hours))

    with django_assert_num_queries(1):  # the five lists and when the flags ran, side by side
        todo = todo_list(viewer=org.manager_a)

    assert (todo.overdue.total, todo.follow_ups.total, todo.past_close.total) == (9, 20, 29)
    assert len(todo.follow_ups.items) == 5


@pytest.mark.parametrize("viewer", ["rep_a1", "manager_a", "director"])
def test_the_to_dos_flag_lists_are_the_shortlists_of_the_flags(org, viewer):
    """The stale and untouched lists read in the to-do's one query are those of coverage's own shortlists."""
    JobRun.objects.create(job=JobRun.STALE)
    run = MatrixRun.objects.create(year=2026)
    for i, owner in enumerate([org.rep_a1, org.rep_a1, org.rep_a2, org.rep_b1, org.rep_a1, org.manager_a, org.rep_a1]):
        account = AccountFactory(owner=owner, name=f"目标{i}", is_target=True)
        UntouchedFlag.objects.create(account=account, last_visit_at=NOW - timedelta(days=40 + i) if i % 3 else None)
        if i % 2:
            AccountValue.objects.create(run=run, account=account, year=2026, cv=1, pv=1, quadrant="core", priority=i)
        opportunity = OpportunityFactory(owner=owner, account=account, name=f"停滞{i}", amount=f"{1000 + i}.50")
        StaleFlag.objects.create(opportunity=opportunity, last_activity_at=NOW - timedelta(days=30 + i % 4))
    user = getattr(org, viewer)

    todo = todo_list(viewer=user, limit=3)

    assert todo.stale == stale_opportunities_shortlist(viewer=user, limit=3, on=TODAY)
    assert todo.untouched == untouched_accounts_shortlist(viewer=user, limit=3, on=TODAY)
    assert [
        (s.opportunity.name, s.opportunity.amount, s.opportunity.account.name, s.opportunity.stage.name)
        for s in todo.stale.items
    ] == [
        (s.opportunity.name, s.opportunity.amount, s.opportunity.account.name, s.opportunity.stage.name)
        for s in stale_opportunities_shortlist(viewer=user, limit=3, on=TODAY).items
    ]
    assert [(u.name, u.owner.display_name) for u in todo.untouched.items] == [
        (u.name, u.owner.display_name) for u in untouched_accounts_shortlist(viewer=user, limit=3, on=TODAY).items
    ]
    assert todo.stale_computed_at is not None and todo.untouched_computed_at is None


def test_the_to_do_of_an_inactive_user_is_empty(org, django_assert_num_queries):
    _visit(org.rep_a1, -2)
    former = UserFactory(username="former", role="director", is_active=False)

    with django_assert_num_queries(1):  # only when the flags ran: every list is empty before asking
        todo = todo_list(viewer=former)

    assert (todo.overdue.total, todo.follow_ups.total, todo.past_close.total, todo.stale.total) == (0, 0, 0, 0)
    assert todo.overdue.items == [] and todo.stale_computed_at is None


@pytest.mark.parametrize("viewer", ["rep_a1", "manager_a", "director"])
def test_home_with_every_list_of_the_to_do_filled_runs_nine_queries(
    client, todo_data, viewer, django_assert_num_queries
):
    JobRun.objects.create(job=JobRun.STALE)
    JobRun.objects.create(job=JobRun.UNTOUCHED)
    StaleFlag.objects.create(opportunity=todo_data.past_close[0], last_activity_at=NOW - timedelta(days=45))
    UntouchedFlag.objects.create(account=AccountFactory(owner=todo_data.rep_a1, name="久未拜访", is_target=True))
    todo_data.overdue[0].contact = ContactFactory(account=todo_data.overdue[0].account, name="王经理")
    todo_data.overdue[0].save()
    client.force_login(getattr(todo_data, viewer))
    client.get(reverse("home"))

    # session, user, default pipeline, the funnel, the to-do, attainment (targets, wins), the week's visits and
    # plan: nothing more for what the lists show (accounts, contacts, stages, owners)
    with django_assert_num_queries(9):
        html = client.get(reverse("home")).content.decode()

    assert "过期很久" in html and "久未拜访" in html and "王经理" in html and "报价跟进" in html
    assert 'data-count="stale">1<' in html and 'data-count="untouched">1<' in html


def test_a_user_in_another_zone_has_follow_ups_due_by_the_end_of_their_own_day(org):
    berlin = UserFactory(username="berlin", time_zone="Europe/Berlin")  # 04:00 there
    _visit(berlin, 15, kind=Visit.Kind.FOLLOW_UP)  # 19:00 in Berlin today: due
    _visit(berlin, 21, kind=Visit.Kind.FOLLOW_UP)  # 01:00 in Berlin tomorrow (07:00 in Shanghai): not due yet

    assert todo_list(viewer=berlin).follow_ups.total == 1


def _home(client, user):
    client.force_login(user)
    return client.get(reverse("home"))


def test_home_shows_the_to_do_first_with_its_counts_and_links(client, todo_data):
    html = _home(client, todo_data.rep_a1).content.decode()

    assert html.index('id="todo"') < html.index('data-total="count"')  # the first thing on the page
    assert '<strong data-count="due">7</strong>' in html
    assert 'data-count="overdue-visits">3<' in html and 'data-count="follow-ups">2<' in html
    assert 'data-count="past-close">2<' in html and "报价跟进" in html
    assert html.count('data-action="done"') == 5  # overdue visits and follow-ups, each with done and reschedule
    assert html.count('data-action="reschedule"') == 5


def test_home_links_to_the_full_list_when_a_list_is_cut(client, org):
    for hours in range(1, 8):
        _visit(org.rep_a1, -hours)
        OpportunityFactory(owner=org.rep_a1, expected_close_date=TODAY - timedelta(days=hours))

    html = _home(client, org.rep_a1).content.decode()
    past_close = f"/opportunities/?status=open&amp;close_to={(TODAY - timedelta(days=1)).isoformat()}&amp;sort=close"

    assert past_close in html
    listed = client.get(past_close.replace("&amp;", "&"))
    assert listed.status_code == 200 and listed.context["page_obj"].paginator.count == 7

    assert f"/visits/?status=planned&amp;date_to={TODAY.isoformat()}&amp;owner={org.rep_a1.pk}" in html


def test_home_says_not_computed_yet_until_the_nightly_flags_ran_and_none_after(client, org):
    before = _home(client, org.rep_a1).content.decode()
    JobRun.objects.create(job=JobRun.STALE)
    JobRun.objects.create(job=JobRun.UNTOUCHED)
    after = _home(client, org.rep_a1).content.decode()

    assert before.count("data-not-computed") == 2 and "尚未计算" in before
    assert after.count("data-not-computed") == 0
    assert 'data-count="stale">0<' in after and "没有停滞商机" in after


def test_home_shows_stale_opportunities_once_computed(client, org):
    JobRun.objects.create(job=JobRun.STALE)
    StaleFlag.objects.create(opportunity=OpportunityFactory(owner=org.rep_a1, name="停滞商机"))

    html = _home(client, org.rep_a1).content.decode()

    assert 'data-count="stale">1<' in html and "停滞商机" in html


# Actions in place ------------------------------------------------------------------------------------------------


def test_done_without_javascript_completes_the_visit_and_redirects_home(client, todo_data):
    visit = todo_data.overdue[0]
    client.force_login(todo_data.rep_a1)

    response = client.post(
        reverse("analytics:todo_visit_done", args=[visit.pk]), {f"done-{visit.pk}-summary": "客户确认报价"}
    )

    assert response.status_code == 302 and response.url == "/#todo"
    visit.refresh_from_db()
    assert (visit.status, visit.summary) == ("done", "客户确认报价")
    assert 'data-count="overdue-visits">2<' in client.get(response.url).content.decode()


def test_done_from_htmx_answers_the_to_do_with_new_counts_and_the_badge(client, todo_data):
    visit = todo_data.overdue[1]
    client.force_login(todo_data.rep_a1)

    response = client.post(
        reverse("analytics:todo_visit_done", args=[visit.pk]),
        {f"done-{visit.pk}-summary": "已完成"},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-count="overdue-visits">2<' in html and "data-todo-notice" in html
    assert 'id="due-badge"' in html and 'hx-swap-oob="outerHTML"' in html and 'data-due="6"' in html


def test_a_manager_completing_a_reps_visit_in_place_still_sees_whose_items_they_are(client, todo_data):
    visit = todo_data.a2_visit
    client.force_login(todo_data.manager_a)

    response = client.post(
        reverse("analytics:todo_visit_done", args=[visit.pk]),
        {f"done-{visit.pk}-summary": "经理代为记录"},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert 'data-count="overdue-visits">4<' in html
    assert todo_data.rep_a1.display_name in html and "home-list__side" in html


def test_done_without_a_summary_is_refused_and_writes_nothing(client, todo_data):
    visit = todo_data.overdue[0]
    client.force_login(todo_data.rep_a1)

    response = client.post(
        reverse("analytics:todo_visit_done", args=[visit.pk]),
        {f"done-{visit.pk}-summary": "  "},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200 and "data-todo-error" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == "planned"


def test_reschedule_moves_the_visit_and_refuses_a_time_in_the_past(client, todo_data):
    visit = todo_data.overdue[0]
    client.force_login(todo_data.rep_a1)
    url = reverse("analytics:todo_visit_reschedule", args=[visit.pk])

    refused = client.post(url, {f"move-{visit.pk}-planned_at": "2026-05-19T09:00"}, follow=True)
    visit.refresh_from_db()
    assert visit.planned_at == NOW - timedelta(hours=2)  # unchanged
    assert "请把拜访计划在今天或以后" in refused.content.decode() or "今天或以后" in refused.content.decode()

    moved = client.post(url, {f"move-{visit.pk}-planned_at": "2026-05-21T09:30"})
    visit.refresh_from_db()
    assert moved.status_code == 302
    assert visit.planned_at == datetime(2026, 5, 21, 9, 30, tzinfo=SHANGHAI)


def test_a_new_close_date_is_saved_through_the_edit_service_with_its_history(client, todo_data):
    opportunity = todo_data.past_close[0]
    client.force_login(todo_data.rep_a1)

    response = client.post(
        reverse("analytics:todo_close_date", args=[opportunity.pk]),
        {f"close-{opportunity.pk}-expected_close_date": "2026-06-30"},
        headers={"HX-Request": "true"},
    )

    assert 'data-count="past-close">1<' in response.content.decode()
    opportunity.refresh_from_db()
    assert opportunity.expected_close_date == date(2026, 6, 30)
    change = OpportunityChange.objects.get(opportunity=opportunity)
    assert (change.field, change.old, change.new, change.by) == (
        "expected_close_date",
        "2025-06-01",
        "2026-06-30",
        todo_data.rep_a1,
    )


def test_actions_on_what_the_user_may_not_see_answer_404_and_write_nothing(client, todo_data):
    client.force_login(todo_data.rep_a2)
    visit, opportunity = todo_data.overdue[0], todo_data.past_close[0]

    done = client.post(reverse("analytics:todo_visit_done", args=[visit.pk]), {f"done-{visit.pk}-summary": "x"})
    moved = client.post(
        reverse("analytics:todo_visit_reschedule", args=[visit.pk]), {f"move-{visit.pk}-planned_at": "2026-05-21T09:00"}
    )
    dated = client.post(
        reverse("analytics:todo_close_date", args=[opportunity.pk]),
        {f"close-{opportunity.pk}-expected_close_date": "2026-06-30"},
    )

    assert (done.status_code, moved.status_code, dated.status_code) == (404, 404, 404)
    visit.refresh_from_db()
    assert visit.status == "planned" and Opportunity.objects.get(pk=opportunity.pk).expected_close_date == date(
        2025, 6, 1
    )


def test_actions_only_accept_post(client, todo_data):
    client.force_login(todo_data.rep_a1)

    assert client.get(reverse("analytics:todo_visit_done", args=[todo_data.overdue[0].pk])).status_code == 405


# The header badge --------------------------------------------------------------------------------------------------


def test_the_badge_counts_the_users_own_due_items_in_one_query(client, todo_data, django_assert_num_queries):
    client.force_login(todo_data.manager_a)
    client.get(reverse("analytics:due_badge"))  # warm the session

    with django_assert_num_queries(3):  # session, user, the three counts
        manager = client.get(reverse("analytics:due_badge")).content.decode()
    client.force_login(todo_data.rep_a1)
    rep = client.get(reverse("analytics:due_badge")).content.decode()

    assert 'data-due="1"' in manager  # their own overdue visit only, not the team's
    assert 'data-due="7"' in rep and ">7</a>" in rep


def test_every_page_loads_the_badge_after_rendering_at_no_query_of_its_own(client, org):
    client.force_login(org.rep_a1)

    html = client.get(reverse("pipeline:visit_list")).content.decode()

    assert f'hx-get="{reverse("analytics:due_badge")}"' in html and 'hx-trigger="load"' in html


# The full lists of the nightly flags -----------------------------------------------------------------------------


@pytest.mark.parametrize("count", [3, 30])
def test_the_stale_list_pages_what_the_viewer_sees_in_the_same_queries(client, org, django_assert_num_queries, count):
    JobRun.objects.create(job=JobRun.STALE)
    for i in range(count):
        StaleFlag.objects.create(
            opportunity=OpportunityFactory(owner=org.rep_a1, name=f"停滞{i:02d}"),
            last_activity_at=NOW - timedelta(days=60 + i),
        )
    StaleFlag.objects.create(opportunity=OpportunityFactory(owner=org.rep_b1, name="别人的"))
    client.force_login(org.manager_a)
    client.get(reverse("analytics:todo_stale"))

    with django_assert_num_queries(5):  # session, user, the flag run, the count, the page
        html = client.get(reverse("analytics:todo_stale")).content.decode()

    assert html.count("data-opportunity=") == min(count, 25) and "别人的" not in html
    assert html.index(f"停滞{count - 1:02d}") < html.index(f"停滞{count - 2:02d}")  # longest idle first


def test_the_untouched_list_says_not_computed_yet_before_the_first_run(client, org):
    client.force_login(org.rep_a1)

    html = client.get(reverse("analytics:todo_untouched")).content.decode()

    assert "data-not-computed" in html


def test_home_links_a_cut_stale_list_to_its_full_list(client, org):
    JobRun.objects.create(job=JobRun.STALE)
    for _ in range(6):
        StaleFlag.objects.create(opportunity=OpportunityFactory(owner=org.rep_a1))

    html = _home(client, org.rep_a1).content.decode()

    assert reverse("analytics:todo_stale") in html and 'data-count="stale">6<' in html
