"""The home page's list rows, drawn by analytics/views/home_rows.py instead of the template: what a rep and a manager
see in each to-do list and in the week's agenda, in both languages and in the viewer's own time zone, names escaped,
the forms posting where they should with the page's CSRF token; and the stale and untouched lists drawn alike."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.middleware.csrf import _does_token_match
from django.urls import reverse
from pytest_django.asserts import assertInHTML

from analytics.models import AccountValue, JobRun, MatrixRun, StaleFlag, UntouchedFlag
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, VisitFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 20, 10, 0, tzinfo=SHANGHAI)  # a Wednesday
TODAY = date(2026, 5, 20)
NAME = '<b>"华东" & 医院</b>'
ESCAPED = "&lt;b&gt;&quot;华东&quot; &amp; 医院&lt;/b&gt;"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rows(org):
    """rep_a1: an overdue visit (with a contact and a purpose) and a visit this Friday at an account whose name needs
    escaping, an opportunity past its close date, a stale opportunity never touched, an untouched target visited
    40 days ago and one never visited."""
    rep = org.rep_a1
    account = AccountFactory(owner=rep, name=NAME)
    contact = ContactFactory(account=account, name="王经理")
    org.overdue = VisitFactory(
        owner=rep, account=account, contact=contact, purpose="报价 <跟进>", planned_at=NOW - timedelta(hours=2)
    )
    org.friday = VisitFactory(owner=rep, account=account, purpose="", planned_at=NOW + timedelta(days=2))
    org.past = OpportunityFactory(
        owner=rep, account=account, name="过期商机", amount=1234567, expected_close_date=date(2026, 5, 1)
    )
    org.stale = OpportunityFactory(owner=rep, name="停滞商机", amount=5000)
    StaleFlag.objects.create(opportunity=org.stale, last_activity_at=None)
    org.visited = AccountFactory(owner=rep, name="四十天前", is_target=True)
    org.never = AccountFactory(owner=rep, name="从未拜访的客户", is_target=True)
    UntouchedFlag.objects.create(account=org.visited, last_visit_at=NOW - timedelta(days=40))
    UntouchedFlag.objects.create(account=org.never, last_visit_at=None)
    run = MatrixRun.objects.create(year=2026)
    AccountValue.objects.create(run=run, account=org.visited, year=2026, cv=1, pv=1, quadrant="core", priority=1)
    for job in (JobRun.STALE, JobRun.UNTOUCHED):
        JobRun.objects.update_or_create(job=job, defaults={"computed_at": NOW})
    return org


def _home(client, user, *, language="zh-hans", time_zone="Asia/Shanghai"):
    user.language, user.time_zone = language, time_zone
    user.save(update_fields=["language", "time_zone"])
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response, response.content.decode()


def test_a_reps_overdue_visit_row(client, rows):
    response, html = _home(client, rows.rep_a1)
    visit = rows.overdue
    row = html.split(f'data-visit="{visit.pk}"', 1)[1].split("</li>", 1)[0]
    token = row.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    assert _does_token_match(token, response.wsgi_request.META["CSRF_COOKIE"])
    assertInHTML(
        f"""
        <li class="home-list__item todo__item" data-visit="{visit.pk}">
          <span class="home-list__when text-danger">05-20 08:00</span>
          <span class="home-list__main"><a href="/visits/{visit.pk}/">{ESCAPED}</a>
            <span class="muted small home-list__sub">拜访 · 王经理 · 报价 &lt;跟进&gt;</span></span>
          <div class="todo__actions">
            <details class="todo__action" data-action="done">
              <summary class="btn btn--small">完成</summary>
              <form class="todo__form" method="post" action="/todo/visits/{visit.pk}/done/"
                    hx-post="/todo/visits/{visit.pk}/done/" hx-target="#todo" hx-swap="outerHTML">
                <input type="hidden" name="csrfmiddlewaretoken" value="{token}">
                <label for="done-{visit.pk}-summary">拜访结果如何？</label>
                <textarea id="done-{visit.pk}-summary" name="done-{visit.pk}-summary" rows="2" maxlength="4000"
                          required></textarea>
                <button type="submit" class="btn btn--primary btn--small">标记为已完成</button>
              </form>
            </details>
            <details class="todo__action" data-action="reschedule">
              <summary class="btn btn--small btn--ghost">改期</summary>
              <form class="todo__form" method="post" action="/todo/visits/{visit.pk}/reschedule/"
                    hx-post="/todo/visits/{visit.pk}/reschedule/" hx-target="#todo" hx-swap="outerHTML">
                <input type="hidden" name="csrfmiddlewaretoken" value="{token}">
                <label for="move-{visit.pk}-planned_at">新时间</label>
                <input type="datetime-local" id="move-{visit.pk}-planned_at" name="move-{visit.pk}-planned_at" required>
                <button type="submit" class="btn btn--primary btn--small">改期</button>
              </form>
            </details>
          </div>
        </li>""",
        html,
    )
    assert NAME not in html  # never unescaped
    assert "home-list__side" not in html  # a rep's own rows name no owner


def test_a_reps_other_rows(client, rows):
    _response, html = _home(client, rows.rep_a1)
    past, stale = rows.past, rows.stale
    assert '<span class="home-list__when text-danger">2026-05-01</span>' in html
    assert f'<a href="/opportunities/{past.pk}/">过期商机</a>' in html
    assert f"{ESCAPED} · {past.stage.name} · ¥1,234,567" in html
    assert f'name="close-{past.pk}-expected_close_date" required min="2026-05-20" value="2026-05-20"' in html
    assert f'action="/todo/opportunities/{past.pk}/close-date/"' in html
    assertInHTML(
        f"""<li class="home-list__item" data-opportunity="{stale.pk}"><span class="home-list__when">—</span>
        <span class="home-list__main"><a href="/opportunities/{stale.pk}/">停滞商机</a>
        <span class="muted small home-list__sub">{stale.account.name} · {stale.stage.name} · ¥5,000</span>
        </span></li>""",
        html,
    )
    assertInHTML(
        f"""<li class="home-list__item" data-account="{rows.visited.pk}"><span class="home-list__when">#1</span>
        <span class="home-list__main"><a href="/accounts/{rows.visited.pk}/">四十天前</a>
        <span class="muted small home-list__sub">上次拜访在 40 天前</span></span></li>""",
        html,
    )
    never = f'<a href="/accounts/{rows.never.pk}/">从未拜访的客户</a>'
    assert f'{never}<span class="muted small home-list__sub">从未拜访</span>' in html
    # The agenda: Friday's visit, without a purpose line.
    assertInHTML(
        f"""<li class="home-list__item" data-visit="{rows.friday.pk}"><span class="home-list__when">星期五 10:00</span>
        <span class="home-list__main"><a href="/visits/{rows.friday.pk}/">{ESCAPED}</a></span></li>""",
        html,
    )


def test_in_english_and_another_time_zone(client, rows):
    _response, html = _home(client, rows.rep_a1, language="en", time_zone="Europe/Berlin")
    assert '<span class="home-list__when text-danger">05-20 02:00</span>' in html  # 08:00 in Shanghai
    assert ">Mark as done</button>" in html and '<summary class="btn btn--small">Done</summary>' in html
    assert "last visit 40 days ago" in html and "never visited" in html
    assert '<span class="home-list__when">Fri 04:00</span>' in html
    assert ">Update date</summary>" in html


def test_a_manager_sees_whose_row_it_is(client, rows):
    _response, html = _home(client, rows.manager_a)
    owner = f'<span class="muted small home-list__side">{rows.rep_a1.display_name}</span>'
    for marker in (
        f'data-visit="{rows.overdue.pk}"',
        f'data-opportunity="{rows.past.pk}"',
        f'data-opportunity="{rows.stale.pk}"',
        f'data-account="{rows.never.pk}"',
        f'data-visit="{rows.friday.pk}"',
    ):
        row = html.split(marker, 1)[1].split("</li>", 1)[0]
        assert owner in row, marker


def test_the_full_flag_lists_draw_the_same_rows(client, rows):
    client.force_login(rows.manager_a)
    stale = client.get(reverse("analytics:todo_stale")).content.decode()
    untouched = client.get(reverse("analytics:todo_untouched")).content.decode()
    assert f'<a href="/opportunities/{rows.stale.pk}/">停滞商机</a>' in stale
    assert f'<span class="muted small home-list__side">{rows.rep_a1.display_name}</span>' in stale
    assert [untouched.index(f'data-account="{a.pk}"') for a in (rows.visited, rows.never)] == sorted(
        untouched.index(f'data-account="{a.pk}"') for a in (rows.visited, rows.never)
    )
    assert "上次拜访在 40 天前" in untouched and "从未拜访" in untouched
