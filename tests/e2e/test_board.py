"""The pipeline board in a real browser: drag a card forward, a refused drag, quick add from a column and the header."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Contact
from pipeline.models import Opportunity, StageChange
from tests.e2e.conftest import make_user, sign_in
from tests.e2e.helpers import install_default_pipeline, shot
from tests.factories import AccountFactory, OpportunityFactory, TeamFactory, VisitFactory, default_stage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def pick_account(dialog, text: str) -> None:
    """Types into the dialog's account picker and takes its first suggestion (search as you type, never a select)."""
    assert dialog.locator("select[name=account]").count() == 0
    box = dialog.locator("#id_account")
    box.press_sequentially(text, delay=40)
    expect(dialog.locator("#id_account_options [role=option]").first).to_contain_text(text)  # the answer to it all
    box.press("Enter")
    expect(dialog.locator("input[type=hidden][name=account]")).not_to_have_value("")


@pytest.fixture(autouse=True)
def default_pipeline(db):
    return install_default_pipeline()


def column(page, code: str):
    return page.locator(f".board-column__cards[data-stage='{code}']")


def ready_to_leave_prep(opportunity: Opportunity) -> None:
    Opportunity.objects.filter(pk=opportunity.pk).update(criteria_values={"visit_purpose": "了解现有设备"})
    VisitFactory(account=opportunity.account, owner=opportunity.owner)


def test_dragging_a_card_forward_moves_it_with_a_toast_and_every_stage_is_reachable(page):
    rep = make_user(username="rep_drag", role="rep")
    account = AccountFactory(owner=rep, name="上海华联超市")
    opportunity = OpportunityFactory(owner=rep, account=account, name="复印机更新")
    ready_to_leave_prep(opportunity)
    sign_in(page, rep)

    page.goto(f"{page.base_url}/pipeline/board/")
    card = page.locator(f"#card-{opportunity.pk}")
    card.drag_to(column(page, "status"))

    toast = page.locator("#toasts .toast")
    expect(toast).to_contain_text("复印机更新")
    expect(column(page, "status").locator(f"#card-{opportunity.pk}")).to_be_visible()
    assert StageChange.objects.get(opportunity=opportunity).to_stage.code == "status"
    # full width: the board is wider than the old 1280 px container, its last column reachable by scrolling
    scroller = page.locator(".board__scroller")
    assert scroller.evaluate("el => el.clientWidth") > 1300
    last = page.locator(".board-column").last
    last.scroll_into_view_if_needed()
    expect(last).to_be_in_viewport()
    shot(page, "board-after-drag-desktop")


def test_a_refused_drag_shows_the_unmet_criteria_once_as_links_to_the_checklist(page):
    rep = make_user(username="rep_refused", role="rep")
    opportunity = OpportunityFactory(owner=rep, name="还没准备好")
    sign_in(page, rep)

    page.goto(f"{page.base_url}/pipeline/board/")
    page.locator(f"#card-{opportunity.pk}").drag_to(column(page, "status"))

    error = page.locator(f"#card-{opportunity.pk} .board-card__error")
    expect(error).to_be_visible()
    expect(page.locator("[role=alert]")).to_have_count(1)  # once, not twice
    links = error.locator("a.board-card__unmet-label")
    expect(links).to_have_count(2)
    expect(column(page, "prep").locator(f"#card-{opportunity.pk}")).to_be_visible()
    shot(page, "board-refused-desktop")
    links.first.click()
    page.wait_for_url(re.compile(rf"/opportunities/{opportunity.pk}/#criterion-visit_purpose$"))
    expect(page.locator("#criterion-visit_purpose")).to_be_visible()
    assert not StageChange.objects.exists()


def test_quick_add_of_an_opportunity_from_a_board_column_shows_the_card_in_the_column(page):
    rep = make_user(username="rep_quick", role="rep")
    AccountFactory(owner=rep, name="杭州大华商贸")
    sign_in(page, rep)

    page.goto(f"{page.base_url}/pipeline/board/")
    page.locator(".board-column__add").first.click()
    dialog = page.locator("dialog#quick-add")
    expect(dialog).to_be_visible()
    dialog.locator("form").evaluate("form => { form.noValidate = true; }")  # let the server answer, not the browser
    dialog.locator("button[type=submit]").click()  # empty: the server's errors show inside the dialog
    expect(dialog.locator(".field__error").first).to_be_visible()
    shot(page, "quick-add-errors-desktop")
    pick_account(dialog, "大华商贸")
    dialog.locator("input[name=name]").fill("门店打印机")
    dialog.locator("input[name=amount]").fill("48000")
    dialog.locator("button[type=submit]").click()

    expect(dialog).to_be_hidden()
    expect(page.locator("#toasts .toast")).to_contain_text("门店打印机")
    opportunity = Opportunity.objects.get(name="门店打印机")
    expect(column(page, "prep").locator(f"#card-{opportunity.pk}")).to_be_visible()
    shot(page, "quick-add-card-desktop")


def test_quick_add_of_a_contact_from_the_header_on_a_phone(phone_page):
    page = phone_page
    rep = make_user(username="rep_contact", role="rep")
    account = AccountFactory(owner=rep, name="宁波博远连锁超市有限公司")
    sign_in(page, rep)
    page.goto(f"{page.base_url}{account.get_absolute_url()}")

    page.locator("[data-quick-add-menu] > summary").click()
    page.locator("[data-quick-add-menu]").get_by_role("link", name="联系人").click()
    dialog = page.locator("dialog#quick-add")
    expect(dialog).to_be_visible()
    pick_account(dialog, account.name)
    dialog.locator("input[name=name]").fill("王采购")
    shot(page, "quick-add-contact-phone")
    dialog.locator("button[type=submit]").click()

    expect(dialog).to_be_hidden()
    expect(page.locator("#toasts .toast")).to_contain_text("王采购")
    assert Contact.objects.get(name="王采购").account == account
    expect(page.locator("#contacts")).to_contain_text("王采购")  # the new row in place on the account page
    shot(page, "quick-add-contact-toast-phone")


def test_the_board_on_a_phone_scrolls_sideways_inside_the_board_only(phone_page):
    page = phone_page
    rep = make_user(username="rep_board_phone", role="rep")
    for code in ("prep", "status", "needs"):
        OpportunityFactory(owner=rep, stage=default_stage(code))
    sign_in(page, rep)

    page.goto(f"{page.base_url}/pipeline/board/")

    expect(page.locator(".board-column").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator(".board__scroller").evaluate("el => el.scrollWidth > el.clientWidth")
    shot(page, "board-phone")


def test_a_managers_long_board_scrolls_inside_the_window_with_the_stage_headers_stuck_on_top(page):
    team = TeamFactory(name="华南")
    manager = make_user(username="mgr_board", role="manager", team=team)
    team.manager = manager
    team.save()
    rep = make_user(username="rep_board_many", role="rep", team=team)
    OpportunityFactory.create_batch(15, owner=rep, stage=default_stage("prep"))
    OpportunityFactory.create_batch(5, owner=manager, stage=default_stage("prep"))
    sign_in(page, manager)

    page.goto(f"{page.base_url}/pipeline/board/?team={team.pk}&owner={rep.pk}")

    scroller = page.locator(".board__scroller")
    expect(page.locator(".board-column").first.locator(".board-card")).to_have_count(15)
    assert page.evaluate("document.documentElement.scrollHeight") <= 900 + 200  # the page is about one window tall
    scroller.evaluate("el => { el.scrollTop = 600; }")
    header = page.locator(".board-column__header").first
    top = header.evaluate(
        "h => h.getBoundingClientRect().top - h.closest('.board__scroller').getBoundingClientRect().top"
    )
    assert abs(top) <= 1  # stuck to the top of the scroll box
    last_top = page.locator(".board-column__header").nth(2).evaluate("h => h.getBoundingClientRect().top")
    assert abs(last_top - header.evaluate("h => h.getBoundingClientRect().top")) <= 1  # an empty column's too
    expect(header).to_contain_text("15")
    shot(page, "board-manager-sticky-desktop")
