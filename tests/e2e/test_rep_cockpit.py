"""A manager's week in a browser (issue 13): the team page's three charts drawn by the static charts.js, a click on a
rep's name, and that rep's cockpit with its figures, on a desktop and on a phone (nothing wider than the screen)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from analytics.models import JobRun, StaleFlag, UntouchedFlag
from core.calendar import day_start, period_start, week_start_of
from pipeline.models import Visit
from tests.e2e.conftest import DESKTOP, PHONE, make_user, sign_in
from tests.e2e.helpers import install_default_pipeline, shot
from tests.factories import (
    AccountFactory,
    OpportunityFactory,
    SalesTargetFactory,
    TeamFactory,
    VisitFactory,
    default_stage,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def default_pipeline(db):
    return install_default_pipeline()


@pytest.fixture
def team_week():
    """Team 华东: rep 王伟 with a commit of 260,000 closing today, a stale best case of 90,000 at the proposal stage,
    a win of 150,000 this quarter against a quarter target of 1,000,000, an untouched target account and this week
    two planned visits, one done; rep 李娜 with one open opportunity."""
    today = timezone.localdate()
    team = TeamFactory(name="华东")
    manager = make_user(username="mgr_cockpit", role="manager", team=team)
    team.manager = manager
    team.save()
    rep = make_user(username="rep_cockpit", role="rep", team=team, last_name="王", first_name="伟")
    other = make_user(username="rep_other", role="rep", team=team, last_name="李", first_name="娜")
    OpportunityFactory(owner=rep, name="总部复印机项目", stage=default_stage("needs"), amount=Decimal(260000),
                       expected_close_date=today, forecast_category="commit")  # fmt: skip
    stale = OpportunityFactory(owner=rep, name="分公司打印项目", stage=default_stage("propose"), amount=Decimal(90000),
                               expected_close_date=today, forecast_category="best_case")  # fmt: skip
    StaleFlag.objects.create(opportunity=stale, last_activity_at=timezone.now() - timedelta(days=40))
    implement = default_stage("implement")
    OpportunityFactory(owner=rep, status="won", amount=Decimal(150000), closed_at=timezone.now() - timedelta(minutes=5),
                       stage=implement, furthest_stage=implement)  # fmt: skip
    SalesTargetFactory(owner_user=rep, period_type="quarter", period_start=period_start("quarter", today),
                       amount=Decimal(1000000))  # fmt: skip
    untouched = AccountFactory(owner=rep, is_target=True, name="华东机械")
    UntouchedFlag.objects.create(account=untouched, last_visit_at=None)
    JobRun.objects.create(job=JobRun.STALE)
    JobRun.objects.create(job=JobRun.UNTOUCHED)
    monday = day_start(week_start_of(today))
    visited = AccountFactory(owner=rep, name="上海印务")
    VisitFactory(account=visited, planned_at=monday + timedelta(hours=9), status=Visit.Status.DONE,
                 done_at=monday + timedelta(hours=10))  # fmt: skip
    VisitFactory(account=visited, planned_at=monday + timedelta(hours=11))
    OpportunityFactory(owner=other, stage=default_stage("prep"), amount=Decimal(50000))
    return manager, rep


def errors_of(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_a_manager_goes_from_the_team_charts_to_a_reps_cockpit_on_a_desktop(page, team_week):
    coach(page, team_week, "desktop", DESKTOP["width"])


def test_a_manager_goes_from_the_team_charts_to_a_reps_cockpit_on_a_phone(phone_page, team_week):
    coach(phone_page, team_week, "phone", PHONE["width"])


def coach(page, team_week, suffix: str, width: int) -> None:
    manager, rep = team_week
    errors = errors_of(page)
    sign_in(page, manager)

    page.goto(f"{page.base_url}/team/")
    expect(page.locator("[data-team-charts] canvas[data-chart=bars]")).to_have_count(3)
    page.wait_for_function(
        "() => window.Chart && [...document.querySelectorAll('[data-team-charts] canvas[data-chart=bars]')]"
        ".every(c => Chart.getChart(c))"
    )
    stacks = page.evaluate(
        "() => Chart.getChart(document.querySelector('canvas[data-source=team-forecast-chart]'))"
        ".data.datasets.map(d => d.stack)"
    )
    assert stacks == ["target", "forecast", "forecast", "forecast"]
    shot(page, f"team-charts-{suffix}")
    page.screenshot(path=f"/tmp/cockpit-team-{suffix}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.locator("[data-scorecard] [data-cockpit-link]", has_text="王伟").click()
    page.wait_for_url(f"{page.base_url}/team/{rep.pk}/")

    expect(page.locator("h1")).to_contain_text("王伟")
    expect(page.locator("[data-figure=target]")).to_have_text("¥1,000,000")
    expect(page.locator("[data-figure=won]")).to_have_text("¥150,000")
    expect(page.locator("[data-figure=commit]")).to_have_text("¥260,000")
    expect(page.locator("[data-figure=best_case]")).to_have_text("¥90,000")
    expect(page.locator("[data-figure=gap]")).to_have_text("¥590,000")  # 1,000,000 − 150,000 − 260,000
    expect(page.locator("[data-figure=planned]")).to_have_text("2")
    expect(page.locator("[data-figure=done]")).to_have_text("1")
    expect(page.locator("[data-widget=stale] [data-count=stale]")).to_have_text("1")
    expect(page.locator("[data-widget=untouched] [data-count=untouched]")).to_have_text("1")
    expect(page.locator("[data-widget=funnel] tr[data-stage=total] [data-col=amount]")).to_have_text("¥350,000")
    expect(page.locator("[data-point=gap]")).to_contain_text("¥500,000")  # the gap beyond the best case
    shot(page, f"rep-cockpit-{suffix}")
    page.screenshot(path=f"/tmp/cockpit-rep-{suffix}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.locator("[data-widget=stale] a", has_text="分公司打印项目").click()
    page.wait_for_url(f"{page.base_url}/opportunities/*/")
    page.go_back()
    page.locator("[data-back-to-team]").click()
    page.wait_for_url(f"{page.base_url}/team/?team=*")
    assert errors == []
