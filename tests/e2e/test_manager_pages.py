"""A manager's "what changed", win/loss and forecast pages in a browser, on a desktop and a phone: the rows, the
links, the charts drawn by the static charts.js (no inline script under the CSP) and no console error."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pipeline.models import Opportunity
from pipeline.services.opportunities import create_opportunity, edit_opportunity
from tests.e2e.conftest import DESKTOP, PHONE, make_user, sign_in
from tests.e2e.helpers import install_default_pipeline, shot
from tests.factories import AccountFactory, OpportunityFactory, TeamFactory, default_stage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def default_pipeline(db):
    return install_default_pipeline()


@pytest.fixture
def team_week():
    team = TeamFactory(name="华东")
    manager = make_user(username="mgr_pages", role="manager", team=team)
    team.manager = manager
    team.save()
    rep = make_user(username="rep_pages", role="rep", team=team, last_name="王", first_name="伟")
    account = AccountFactory(owner=rep, name="上海印务")
    opportunity = create_opportunity(created_by=rep, account=account, name="总部复印机项目", amount=Decimal(200000))
    edit_opportunity(opportunity=opportunity, changed_by=rep, amount=Decimal(260000))
    # Committed for today: in this quarter's forecast (setting a first close date is no "what changed" event).
    edit_opportunity(
        opportunity=opportunity, changed_by=rep, expected_close_date=timezone.localdate(), forecast_category="commit"
    )
    closed_at = timezone.now() - timedelta(days=1)
    implement = default_stage("implement")
    for i, source in enumerate(["referral", "cold_visit", "referral"]):
        OpportunityFactory(owner=rep, status="won", amount=Decimal(100000 + i * 50000), closed_at=closed_at,
                           stage=implement, furthest_stage=implement, source=source)  # fmt: skip
    OpportunityFactory(owner=rep, status="lost", amount=Decimal(80000), closed_at=closed_at, loss_reason="price",
                       source="referral", is_untouched_loss=True, untouched_cause="no_plan",
                       stage=default_stage("prep"), furthest_stage=default_stage("prep"))  # fmt: skip
    OpportunityFactory(owner=rep, status="lost", amount=Decimal(50000), closed_at=closed_at, loss_reason="timing",
                       is_untouched_loss=True, untouched_cause="wrong_department",
                       stage=default_stage("needs"), furthest_stage=default_stage("needs"))  # fmt: skip
    return manager, opportunity


def errors_of(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_a_manager_reads_what_changed_and_why_we_win_and_lose_on_a_desktop(page, team_week):
    read_the_week(page, team_week, "desktop", DESKTOP["width"])


def test_a_manager_reads_what_changed_and_why_we_win_and_lose_on_a_phone(phone_page, team_week):
    read_the_week(phone_page, team_week, "phone", PHONE["width"])


def read_the_week(page, team_week, suffix: str, width: int) -> None:
    manager, opportunity = team_week
    errors = errors_of(page)
    sign_in(page, manager)

    page.goto(f"{page.base_url}/analytics/changes/")
    rows = page.locator("tr[data-change]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("金额上升")
    expect(rows.nth(1)).to_contain_text("新建")
    shot(page, f"changes-{suffix}")
    rows.first.locator("[data-col=name] a").click()
    page.wait_for_url(f"{page.base_url}/opportunities/{opportunity.pk}/")

    page.goto(f"{page.base_url}/analytics/winloss/")
    expect(page.locator("canvas[data-chart=bars]")).to_have_count(5)
    page.wait_for_function(
        "() => window.Chart && [...document.querySelectorAll('canvas[data-chart=bars]')]"
        ".every(c => Chart.getChart(c) && Chart.getChart(c).data.datasets.length === 2)"
    )
    expect(page.locator("[data-branch=never_visited] [data-col=branch_lost]")).to_have_text("1")
    expect(page.locator("[data-branch=visited_not_engaged] [data-col=branch_lost]")).to_have_text("1")
    expect(page.locator("[data-activity] tr[data-rep=rep_pages] [data-col=won_amount]")).to_have_text("¥450,000")
    shot(page, f"winloss-{suffix}")
    page.locator("[data-dimension=source]").scroll_into_view_if_needed()
    shot(page, f"winloss-source-{suffix}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the screen

    page.goto(f"{page.base_url}/analytics/forecast/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('canvas[data-chart=bars]'))")
    expect(page.locator("tr[data-owner=totals] [data-col=commit]")).to_have_text("¥260,000")
    shot(page, f"forecast-{suffix}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert errors == []
    assert Opportunity.objects.filter(owner__username="rep_pages").count() == 6
