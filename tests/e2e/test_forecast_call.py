"""A manager enters their call of a rep's quarter in the rep's row of the forecast page and reads how the forecast
moved week by week (the Monday snapshots), on a desktop and a phone."""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from analytics.forecast_snapshots import take_forecast_snapshot
from pipeline.models import ForecastCall
from pipeline.services.opportunities import create_opportunity, edit_opportunity
from tests.e2e.conftest import DESKTOP, PHONE, make_user, sign_in
from tests.e2e.helpers import install_default_pipeline, shot
from tests.factories import AccountFactory, TeamFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def default_pipeline(db):
    return install_default_pipeline()


@pytest.fixture
def team_quarter():
    team = TeamFactory(name="华南")
    manager = make_user(username="mgr_call", role="manager", team=team)
    team.manager = manager
    team.save()
    rep = make_user(username="rep_call", role="rep", team=team, last_name="李", first_name="娜")
    account = AccountFactory(owner=rep, name="广州机电")
    opportunity = create_opportunity(created_by=rep, account=account, name="产线改造", amount=Decimal(180000))
    edit_opportunity(
        opportunity=opportunity, changed_by=rep, expected_close_date=timezone.localdate(), forecast_category="commit"
    )
    take_forecast_snapshot(on=timezone.localdate())
    return manager, rep


def test_a_manager_enters_a_call_and_sees_the_weeks_on_a_desktop(page, team_quarter):
    enter_the_call(page, team_quarter, "desktop", DESKTOP["width"])


def test_a_manager_enters_a_call_and_sees_the_weeks_on_a_phone(phone_page, team_quarter):
    enter_the_call(phone_page, team_quarter, "phone", PHONE["width"])


def enter_the_call(page, team_quarter, suffix: str, width: int) -> None:
    manager, rep = team_quarter
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, manager)
    page.goto(f"{page.base_url}/analytics/forecast/")
    row = page.locator(f"tr[data-owner='{rep.pk}']")
    expect(row.locator("[data-col=commit]")).to_have_text("¥180,000")
    expect(row.locator("[data-col=call]")).to_have_text("—")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('canvas[data-chart=lines]'))")
    expect(page.locator("tr[data-week]")).to_have_count(1)

    row.locator("input[name=amount]").fill("150000")
    row.locator("input[name=note]").fill("等客户预算批复")
    row.get_by_role("button").click()
    page.wait_for_url(f"{page.base_url}/analytics/forecast/")
    expect(page.get_by_text("判断已保存")).to_be_visible()
    expect(page.locator(f"tr[data-owner='{rep.pk}'] [data-col=call]")).to_have_text("¥150,000")
    expect(page.locator("tr[data-owner=totals] [data-col=call]")).to_have_text("¥150,000")
    shot(page, f"forecast-call-{suffix}")
    page.locator("#forecast-weeks-title").scroll_into_view_if_needed()
    shot(page, f"forecast-weeks-{suffix}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert errors == []
    call = ForecastCall.objects.get()
    assert (call.owner_user_id, call.amount, call.note, call.called_by_id) == (
        rep.pk, Decimal(150000), "等客户预算批复", manager.pk)  # fmt: skip
