"""A rep completes an overdue visit from the to-do list on the home page, at a desktop and a phone size; the to-do's
count and the header badge go down without leaving the page."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from pipeline.models import Visit
from tests.e2e.conftest import DESKTOP, PHONE, make_user, sign_in
from tests.factories import AccountFactory, VisitFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "test-results" / "screenshots"


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_rep_completes_an_overdue_visit_from_the_home_to_do(browser, live_server, size):
    viewport = DESKTOP if size == "desktop" else PHONE
    context = browser.new_context(
        viewport=viewport,
        is_mobile=size == "phone",
        has_touch=size == "phone",
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        rep = make_user(username=f"rep_todo_{size}", role="rep")
        account = AccountFactory(owner=rep, name="宁波博远连锁超市有限公司")
        late = VisitFactory(owner=rep, account=account, planned_at=timezone.now() - timedelta(hours=3), purpose="报价")
        VisitFactory(owner=rep, account=account, planned_at=timezone.now() - timedelta(days=2))
        page.base_url = live_server.url
        sign_in(page, rep)

        todo = page.locator("#todo")
        assert todo.locator("[data-count=overdue-visits]").inner_text() == "2"
        page.wait_for_selector("#due-badge[data-due='2']")
        row = todo.locator(f"[data-visit='{late.pk}']")
        row.locator("[data-action=done] summary").click()
        row.locator("textarea").fill("客户确认了报价，下周签约。")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"todo-form-{size}.png"), full_page=False)
        row.locator("[data-action=done] button[type=submit]").click()

        page.wait_for_selector("#todo [data-todo-notice]")
        assert page.locator("#todo [data-count=overdue-visits]").inner_text() == "1"
        assert page.locator("#due-badge").get_attribute("data-due") == "1"
        assert page.locator(f"#todo [data-visit='{late.pk}']").count() == 0
        assert page.url.rstrip("/") == live_server.url  # swapped in place, no navigation
        page.screenshot(path=str(SHOTS / f"todo-done-{size}.png"), full_page=False)
        late.refresh_from_db()
        assert (late.status, late.summary) == (Visit.Status.DONE, "客户确认了报价，下周签约。")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    finally:
        context.close()


def test_a_rep_finds_the_calendar_address_on_the_settings_page_and_replaces_it(page, live_server):
    rep = make_user(username="rep_calendar", role="rep", email="rep@example.com")
    VisitFactory(owner=rep, account=AccountFactory(owner=rep), planned_at=timezone.now() + timedelta(days=1))
    sign_in(page, rep)

    page.locator("details.nav-user summary").click()  # the user menu under the name
    page.get_by_role("link", name="我的设置").click()
    old_url = page.locator("[data-calendar-feed]").input_value()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "profile-desktop.png"), full_page=True)
    assert old_url.startswith(live_server.url + "/calendar/") and old_url.endswith(".ics")
    assert page.request.get(old_url).text().count("BEGIN:VEVENT") == 1

    page.get_by_role("button", name="生成新地址").click()

    new_url = page.locator("[data-calendar-feed]").input_value()
    assert new_url != old_url and page.locator(".messages").inner_text() != ""
    assert page.request.get(old_url).status == 404
    assert page.request.get(new_url).status == 200
