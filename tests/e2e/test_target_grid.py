"""The targets grid in a browser (issue 13): a director opens it from the targets page, fills a row, splits a year's
amount evenly, pastes a row from a spreadsheet, saves and sees the amounts and attainment; a bad value comes back
beside its cell with nothing saved; on a phone only the grid scrolls sideways. The helpers are the static
target-grid.js (no inline script under the CSP), and no console error."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pipeline.models import SalesTarget
from tests.e2e.conftest import PHONE, make_user, sign_in
from tests.e2e.helpers import install_default_pipeline, shot
from tests.factories import OpportunityFactory, TeamFactory, default_stage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def company():
    """A director; team 华东 with its manager and two reps; 王伟 won 50,000 in January this year."""
    install_default_pipeline()
    director = make_user(username="dir_grid", role="director")
    team = TeamFactory(name="华东")
    manager = make_user(username="mgr_grid", role="manager", team=team, last_name="赵", first_name="敏")
    team.manager = manager
    team.save()
    wang = make_user(username="rep_grid1", team=team, last_name="王", first_name="伟")
    li = make_user(username="rep_grid2", team=team, last_name="李", first_name="娜")
    year = timezone.localdate().year
    implement = default_stage("implement")
    OpportunityFactory(owner=wang, status="won", amount=Decimal(50000), stage=implement, furthest_stage=implement,
                       closed_at=datetime(year, 1, 10, 10, tzinfo=ZoneInfo("Asia/Shanghai")))  # fmt: skip
    return director, team, wang, li, year


def errors_of(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def row(page, kind: str, owner):
    return page.locator(f"tr[data-owner='{kind}-{owner.pk}']")


def test_a_director_fills_splits_pastes_and_saves_a_page_of_targets(page, company):
    director, team, wang, li, year = company
    errors = errors_of(page)
    sign_in(page, director)
    page.goto(f"{page.base_url}/targets/?year={year}")
    page.locator("[data-edit-targets]").click()
    page.wait_for_url(f"{page.base_url}/targets/edit/?period_type=month&year={year}")
    expect(page.locator("h1")).to_have_text("编辑目标")

    wang_row = row(page, "user", wang)
    wang_row.locator("[data-grid-tools] summary").click()
    wang_row.locator("[data-grid-bulk]").fill("1,200,000")
    wang_row.get_by_role("button", name="平均分配").click()
    cells = wang_row.locator("[data-grid-cell]")
    expect(cells).to_have_count(12)
    assert [cells.nth(i).input_value() for i in range(12)] == ["100000"] * 12

    li_row = row(page, "user", li)
    li_row.locator("[data-grid-tools] summary").click()
    li_row.locator("[data-grid-bulk]").fill("1000")
    li_row.get_by_role("button", name="平均分配").click()  # 1,000 in 12 shares: cents left over go last
    shares = [li_row.locator("[data-grid-cell]").nth(i).input_value() for i in range(12)]
    assert shares == ["83.33"] * 8 + ["83.34"] * 4
    li_row.locator("[data-grid-bulk]").fill("30000")
    li_row.get_by_role("button", name="整行填入").click()
    expect(li_row.locator("[data-grid-cell]").nth(11)).to_have_value("30000")

    # A team's row copied from a spreadsheet: tab-separated, pasted into February.
    team_cells = row(page, "team", team).locator("[data-grid-cell]")
    team_cells.nth(1).evaluate(
        """input => {
            const data = new DataTransfer();
            data.setData("text/plain", "200,000\\t300000\\t400000\\n");
            input.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
        }"""
    )
    assert [team_cells.nth(i).input_value() for i in range(5)] == ["", "200,000", "300000", "400000", ""]
    expect(page.locator("[data-grid-changed]")).to_have_text("已修改、尚未保存： 27")
    shot(page, "targetgrid-filled-desktop")

    page.get_by_role("button", name="保存本页").click()
    page.wait_for_url(f"{page.base_url}/targets/edit/?period_type=month&year={year}")
    expect(page.locator(".messages")).to_contain_text("已保存 27 个目标。")
    january = row(page, "user", wang).locator(f"td[data-period='{year}-01-01']")
    expect(january.locator("[data-grid-cell]")).to_have_value("100000")
    expect(january.locator("[data-col=attainment]")).to_have_text("50%")
    expect(january.locator("[data-col=won]")).to_have_text("¥50,000")
    assert SalesTarget.objects.filter(owner_user=wang).count() == 12
    assert SalesTarget.objects.get(owner_team=team, period_start__month=2).amount == Decimal("200000.00")
    shot(page, "targetgrid-saved-desktop")

    # A bad value: refused beside its cell, what was typed kept, nothing saved.
    march = row(page, "user", wang).locator(f"td[data-period='{year}-03-01']")
    march.locator("[data-grid-cell]").fill("很多")
    row(page, "user", wang).locator(f"td[data-period='{year}-04-01'] [data-grid-cell]").fill("999")
    page.get_by_role("button", name="保存本页").click()
    expect(march.locator("[data-cell-error]")).to_have_text("请输入以人民币计的金额。")
    expect(march.locator("[data-grid-cell]")).to_have_value("很多")
    expect(march.locator("[data-grid-cell]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-grid-changed]")).to_have_text("已修改、尚未保存： 2")  # still unsaved: March and April
    assert SalesTarget.objects.get(owner_user=wang, period_start__month=4).amount == Decimal("100000.00")
    shot(page, "targetgrid-error-desktop")
    assert [e for e in errors if "status of 400" not in e] == []  # the refused page answers 400, as it should


def test_on_a_phone_only_the_grid_scrolls_sideways_and_a_cell_saves(phone_page, company):
    page = phone_page
    director, _team, wang, _li, year = company
    errors = errors_of(page)
    sign_in(page, director)

    page.goto(f"{page.base_url}/targets/edit/?period_type=quarter&year={year}")
    wrap = page.locator(".target-grid__wrap")
    expect(wrap).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # the page itself does not scroll
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")  # the grid does
    owner = row(page, "user", wang).locator("th")
    assert owner.bounding_box()["width"] < PHONE["width"] / 2  # the owner column leaves room for the cells
    shot(page, "targetgrid-phone")

    row(page, "user", wang).locator("[data-grid-tools] summary").click()
    row(page, "user", wang).locator("[data-grid-bulk]").fill("400000")
    row(page, "user", wang).get_by_role("button", name="平均分配").click()
    page.get_by_role("button", name="保存本页").click()
    page.wait_for_url(f"{page.base_url}/targets/edit/?period_type=quarter&year={year}")
    first = row(page, "user", wang).locator(f"td[data-period='{year}-01-01']")
    expect(first.locator("[data-grid-cell]")).to_have_value("100000")
    expect(first.locator("[data-col=attainment]")).to_have_text("50%")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "targetgrid-phone-saved")
    assert errors == []
