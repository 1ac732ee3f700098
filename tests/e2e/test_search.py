"""Search in a real browser (issue 12): the header box by Chinese text and by pinyin, keyboard only; a picker in the
new-opportunity form; the phone's bottom bar."""

import re

import pytest
from playwright.sync_api import expect

from pipeline.models import Opportunity, Pipeline, Stage, StageCriterion
from pipeline.process_templates import DEFAULT_PIPELINE, install_pipeline
from tests.e2e.conftest import DESKTOP, SCREENSHOTS, make_user, sign_in
from tests.factories import AccountFactory, ContactFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BOYUAN = "宁波博远连锁超市有限公司"


@pytest.mark.parametrize("typed", ["博远", "nbby", "boyuan"])
def test_the_header_box_finds_an_account_by_chinese_or_pinyin_and_enter_opens_it(page, typed):
    rep = make_user(username="rep_search", role="rep")
    account = AccountFactory(owner=rep, name=BOYUAN)
    AccountFactory(owner=rep, name="杭州西湖贸易有限公司")
    AccountFactory(name="宁波博远别人的分店")  # another rep's: never shown
    sign_in(page, rep)

    box = page.locator("#site-search-q")
    box.click()
    box.press_sequentially(typed, delay=40)
    first = page.locator("#site-search-results [role=option]").first
    # The answer to the whole text, not to a keystroke before it (a busy machine answers those late).
    expect(page.locator("#site-search-results [role=option]")).to_have_count(1)
    expect(first).to_contain_text(BOYUAN)

    assert page.locator("#site-search-results [role=option]").all_inner_texts() == [f"{BOYUAN}\n客户\n{account.region}"]
    assert first.get_attribute("aria-selected") == "true"
    assert box.get_attribute("aria-expanded") == "true"
    box.press("Enter")
    page.wait_for_url(f"{page.base_url}{account.get_absolute_url()}")
    assert page.locator("h1").inner_text().startswith(BOYUAN)


def test_arrow_keys_move_through_the_results_and_escape_closes_them(page):
    rep = make_user(username="rep_keys", role="rep")
    account = AccountFactory(owner=rep, name=BOYUAN)
    contact = ContactFactory(account=account, name="博远老板")
    sign_in(page, rep)

    box = page.locator("#site-search-q")
    box.click()
    box.press_sequentially("博远", delay=40)
    options = page.locator("#site-search-results [role=option]")
    options.nth(1).wait_for()
    box.press("ArrowDown")
    assert [o.get_attribute("aria-selected") for o in options.all()] == ["false", "true"]
    box.press("ArrowDown")  # wraps to the first
    assert options.first.get_attribute("aria-selected") == "true"
    box.press("Escape")
    assert options.count() == 0
    assert box.get_attribute("aria-expanded") == "false"

    box.press_sequentially("老", delay=40)  # 博远老: only the contact
    expect(page.locator("#site-search-results [role=option]")).to_have_count(1)
    expect(page.locator("#site-search-results [role=option]").first).to_contain_text("博远老板")
    box.press("Enter")
    page.wait_for_url(f"{page.base_url}{account.get_absolute_url()}#contact-{contact.pk}")


def test_a_rep_picks_the_account_of_a_new_opportunity_by_typing_its_pinyin(page):
    # A transactional test empties the tables, the default pipeline of the data migration too: install it again.
    install_pipeline(DEFAULT_PIPELINE, pipeline_model=Pipeline, stage_model=Stage, criterion_model=StageCriterion)
    rep = make_user(username="rep_picker", role="rep")
    account = AccountFactory(owner=rep, name=BOYUAN)
    for i in range(5):
        AccountFactory(owner=rep, name=f"宁波其他客户{i}")
    sign_in(page, rep)

    page.goto(f"{page.base_url}/opportunities/new/")
    assert page.locator("select[name=account]").count() == 0
    picker = page.locator("#id_account")
    picker.press_sequentially("boyuan", delay=40)
    expect(page.locator("#id_account_options [role=option]").first).to_contain_text(BOYUAN)  # the answer to "boyuan"
    picker.press("Enter")  # picks the highlighted option; does not submit the form
    assert picker.input_value() == BOYUAN
    assert page.locator("input[type=hidden][name=account]").input_value() == str(account.pk)
    page.fill("input[name=name]", "门店打印机更新")
    page.locator("main form button[type=submit]").last.click()

    page.wait_for_url(re.compile(r"/opportunities/\d+/$"))
    opportunity = Opportunity.objects.get(name="门店打印机更新")
    assert page.url == f"{page.base_url}/opportunities/{opportunity.pk}/"
    assert opportunity.account == account


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_desktop_navigation_fits_one_line(page, language):
    director = make_user(username="director_nav", role="director", language=language)
    sign_in(page, director)

    header = page.locator(".site-header").bounding_box()
    links = page.locator(".nav-links > li").all()
    tops = {round(link.bounding_box()["y"]) for link in links}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"navigation-{language}-{DESKTOP['width']}.png"))

    assert header["height"] <= 60
    assert len(tops) == 1
    assert page.locator("#site-search-q").is_visible()
    assert page.locator(".bottom-bar").is_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]


def test_the_phone_bottom_bar_takes_a_rep_home_to_log_a_visit_to_the_board_and_to_search(phone_page):
    rep = make_user(username="rep_bar", role="rep")
    account = AccountFactory(owner=rep, name=BOYUAN)
    page = phone_page
    sign_in(page, rep)

    bar = page.locator(".bottom-bar")
    assert bar.is_visible()
    box = bar.bounding_box()
    assert box["y"] + box["height"] == pytest.approx(844, abs=1)  # fixed to the bottom of the screen
    assert bar.locator("a").all_inner_texts() == ["⌂\n首页", "＋\n记录拜访", "▦\n看板", "⌕\n搜索"]
    assert page.locator("#site-nav").is_hidden()  # the rest is behind "More"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "bottom-bar-390.png"))

    bar.get_by_text("记录拜访").click()
    page.wait_for_url(f"{page.base_url}/visits/log/")
    bar.get_by_text("看板").click()
    page.wait_for_url(f"{page.base_url}/pipeline/board/")
    bar.get_by_text("搜索").click()
    page.wait_for_url(f"{page.base_url}/search/")
    search = page.locator("#search-page-q")
    search.press_sequentially("nbby", delay=40)
    page.locator("#search-page-suggestions [role=option]").first.wait_for()
    search.press("Enter")
    page.wait_for_url(f"{page.base_url}{account.get_absolute_url()}")
    bar.get_by_text("首页").click()
    page.wait_for_url(f"{page.base_url}/")
    assert bar.locator("[aria-current=page]").inner_text() == "⌂\n首页"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
