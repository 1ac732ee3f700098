"""Win and lose an opportunity, a manager's comment on a rep's week, the director's matrix chart — in a browser."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from analytics.services import compute_matrix
from pipeline.models import Opportunity, VisitWeekComment
from tests.e2e.conftest import PHONE, make_user, sign_in
from tests.e2e.helpers import install_default_pipeline, shot
from tests.factories import AccountFactory, AccountYearFactory, OpportunityFactory, TeamFactory, default_stage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def default_pipeline(db):
    return install_default_pipeline()


def test_win_is_offered_once_the_contract_is_signed_and_ends_on_the_page_not_the_post(page):
    rep = make_user(username="rep_win", role="rep")
    opportunity = OpportunityFactory(owner=rep, name="总部复印机项目", stage=default_stage("close"))
    sign_in(page, rep)
    url = f"{page.base_url}{opportunity.get_absolute_url()}"

    page.goto(url)
    page.locator("#win-panel > summary").click()
    win = page.locator("#win-panel button[type=submit]")
    expect(win).to_be_disabled()
    expect(page.locator("#win-blockers a")).to_have_count(1)
    shot(page, "win-blocked-desktop")
    page.locator("#criterion-contract_signed input[type=checkbox]").check()  # saves in place
    expect(page.locator("#win-panel button[type=submit]")).to_be_enabled()
    page.locator("#win-panel > summary").click()
    page.locator("#win-panel button[type=submit]").click()

    page.wait_for_url(url)  # POST-redirect-GET: a refresh does not post again
    expect(page.locator(".messages")).to_contain_text("恭喜")
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.WON
    page.reload()
    assert Opportunity.objects.get(pk=opportunity.pk).version == opportunity.version


def test_losing_an_opportunity_on_a_phone(phone_page):
    page = phone_page
    rep = make_user(username="rep_lose", role="rep")
    opportunity = OpportunityFactory(owner=rep, name="分店打印项目", stage=default_stage("needs"))
    sign_in(page, rep)
    url = f"{page.base_url}{opportunity.get_absolute_url()}"

    page.goto(url)
    lose = page.locator("details", has=page.locator("form[action$='/lose/']"))
    lose.locator("summary").click()
    lose.locator("select[name=reason]").select_option(index=1)
    lose.locator("textarea[name=note]").fill("预算被砍")
    shot(page, "lose-form-phone")
    lose.locator("button[type=submit]").click()

    page.wait_for_url(url)
    opportunity.refresh_from_db()
    assert (opportunity.status, opportunity.loss_note) == ("lost", "预算被砍")
    expect(page.locator(".messages")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_manager_comments_on_a_reps_week(page):
    team = TeamFactory(name="华东")
    manager = make_user(username="mgr_week", role="manager", team=team)
    team.manager = manager
    team.save()
    rep = make_user(username="rep_week", role="rep", team=team)
    sign_in(page, manager)

    page.goto(f"{page.base_url}/visits/plan/?rep={rep.pk}")
    comments = page.locator("#week-comments")
    comments.locator("textarea[name=text]").fill("周三的拜访请带上样机。")
    comments.locator("button[type=submit]").click()

    expect(page.locator("#week-comments .plan-comment__text")).to_contain_text("周三的拜访请带上样机。")
    comment = VisitWeekComment.objects.get()
    assert (comment.author, comment.rep) == (manager, rep)
    shot(page, "week-comment-desktop")


def test_the_directors_matrix_page_draws_its_chart(page):
    director = make_user(username="director_matrix", role="director")
    rep = make_user(username="rep_matrix", role="rep")
    year = timezone.localdate().year
    closed = timezone.now() - timedelta(days=1)
    for i in range(6):
        account = AccountFactory(owner=rep, name=f"矩阵客户{i}")
        AccountYearFactory(account=account, year=year, potential_value=Decimal(100000 * (i + 1)))
        OpportunityFactory(
            owner=rep,
            account=account,
            stage=default_stage("implement"),
            furthest_stage=default_stage("implement"),
            status=Opportunity.Status.WON,
            amount=Decimal(20000 * (6 - i)),
            closed_at=closed,
        )
    compute_matrix(year=year)
    sign_in(page, director)

    page.goto(f"{page.base_url}/matrix/?year={year}")

    canvas = page.locator("canvas[data-chart=matrix]")
    expect(canvas).to_be_visible()
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.querySelector('canvas[data-chart=matrix]'))"
        " && Chart.getChart(document.querySelector('canvas[data-chart=matrix]')).data.datasets.length > 0"
    )
    assert canvas.evaluate("c => c.width") > 200
    shot(page, "matrix-director-desktop")
