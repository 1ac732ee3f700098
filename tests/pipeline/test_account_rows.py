"""The account page's visit timeline and opportunity rows, drawn by pipeline/views/account_rows.py instead of the
template: what a rep sees of each kind of visit and opportunity, in both languages, names escaped."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from pytest_django.asserts import assertInHTML

from pipeline.models import Visit
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, VisitFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
NAME = '<b>"华东" & 医院</b>'
ESCAPED = "&lt;b&gt;&quot;华东&quot; &amp; 医院&lt;/b&gt;"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def account(org):
    """rep_a1's account with a planned visit (contact, opportunity, purpose), a done one (summary, next step), a
    cancelled one; an open and a lost opportunity."""
    rep = org.rep_a1
    account = AccountFactory(owner=rep, name="客户")
    contact = ContactFactory(account=account, name=NAME)
    org.open = OpportunityFactory(owner=rep, account=account, name="扩容 <二期>", amount=250000)
    org.lost = OpportunityFactory(
        owner=rep,
        account=account,
        name="旧项目",
        amount=8000,
        status="lost",
        loss_reason="price",
        closed_at=timezone.now(),
    )
    org.planned = VisitFactory(
        owner=rep,
        account=account,
        contact=contact,
        opportunity=org.open,
        purpose="演示 & 报价",
        planned_at=datetime(2026, 5, 22, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
    )
    org.done = VisitFactory(
        owner=rep,
        account=account,
        status=Visit.Status.DONE,
        planned_at=None,
        done_at=datetime(2026, 5, 18, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        summary="谈妥 <价格>",
        next_step="发合同",
    )
    org.cancelled = VisitFactory(
        owner=rep,
        account=account,
        status=Visit.Status.CANCELLED,
        purpose="取消的",
        planned_at=datetime(2026, 5, 15, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
    )
    return account


def _page(client, user, account, language="zh-hans") -> str:
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)
    response = client.get(f"/accounts/{account.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_timeline_as_a_rep_sees_it(client, org, account):
    html = _page(client, org.rep_a1, account)
    name = org.rep_a1.display_name
    planned, done, cancelled = org.planned, org.done, org.cancelled
    assertInHTML(
        f"""<li class="timeline__item timeline__item--planned">
          <div class="timeline__when">2026-05-22<span class="muted"> 15:30</span></div>
          <div class="timeline__body">
            <a href="/visits/{planned.pk}/"><strong>拜访</strong></a>
            <span class="badge badge--info">已计划</span>
            <span class="muted small">{name} · {ESCAPED} · 扩容 &lt;二期&gt;</span>
            <p class="timeline__text">演示 &amp; 报价</p>
            <a class="btn btn--small btn--primary" href="/visits/{planned.pk}/complete/?next=/accounts/{account.pk}/">
              完成</a>
          </div></li>""",
        html,
    )
    assertInHTML(
        f"""<li class="timeline__item timeline__item--done">
          <div class="timeline__when">2026-05-18<span class="muted"> 09:00</span></div>
          <div class="timeline__body">
            <a href="/visits/{done.pk}/"><strong>拜访</strong></a>
            <span class="muted small">{name}</span>
            <p class="timeline__text">谈妥 &lt;价格&gt;</p>
            <p class="timeline__text muted small">下一步: 发合同</p>
          </div></li>""",
        html,
    )
    assertInHTML(
        f"""<li class="timeline__item timeline__item--cancelled">
          <div class="timeline__when">2026-05-15<span class="muted"> 09:00</span></div>
          <div class="timeline__body">
            <a href="/visits/{cancelled.pk}/"><strong>拜访</strong></a>
            <span class="badge badge--danger">已取消</span>
            <span class="muted small">{name}</span>
            <p class="timeline__text">取消的</p>
          </div></li>""",
        html,
    )
    assert NAME not in html
    # newest first
    assert (
        html.index(f"/visits/{planned.pk}/")
        < html.index(f"/visits/{done.pk}/")
        < html.index(f"/visits/{cancelled.pk}/")
    )


def test_the_opportunities_as_a_rep_sees_them(client, org, account):
    html = _page(client, org.rep_a1, account)
    open_, lost = org.open, org.lost
    assertInHTML(
        f"""<li><a href="/opportunities/{open_.pk}/">扩容 &lt;二期&gt;</a>
          <span class="account-opportunities__meta">
            <span class="badge badge--stage stage-{open_.stage.order}">{open_.stage.name}</span>
            <span class="num">¥250,000</span><span class="muted small">{org.rep_a1.display_name}</span>
          </span></li>""",
        html,
    )
    closed = html.split('<details class="account-closed">', 1)[1].split("</details>", 1)[0]
    assert f'<a href="/opportunities/{lost.pk}/">旧项目</a>' in closed
    assert '<span class="badge badge--lost">输单</span>' in closed and "¥8,000" in closed
    assert f"/opportunities/{open_.pk}/" not in closed


def test_in_english(client, org, account):
    html = _page(client, org.rep_a1, account, language="en")
    assert '<span class="badge badge--info">Planned</span>' in html
    assert '<span class="badge badge--danger">Cancelled</span>' in html
    assert "Next step: 发合同" in html and ">Complete</a>" in html
    assert '<span class="badge badge--lost">Lost</span>' in html
