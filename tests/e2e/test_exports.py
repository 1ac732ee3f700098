"""Export the opportunity list from its Export menu in a browser, and read the download back (issue 14)."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from core.models import ExportRecord
from tests.e2e.conftest import make_user, sign_in
from tests.e2e.helpers import install_default_pipeline, shot
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, TeamFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def default_pipeline(db):
    return install_default_pipeline()


def test_export_xlsx_downloads_the_filtered_list_from_the_menu(page, tmp_path):
    rep = make_user(username="rep_export", role="rep")
    OpportunityFactory(owner=rep, name="打印机更新", amount=Decimal("120000"))
    OpportunityFactory(owner=rep, name='=HYPERLINK("http://x")打印', amount=Decimal("5000"))
    OpportunityFactory(owner=rep, name="服务合同", amount=Decimal("80000"))
    OpportunityFactory(name="别人的打印机")  # another rep's
    sign_in(page, rep)

    page.goto(f"{page.base_url}/opportunities/")
    page.fill("#id_q", "打印")
    page.get_by_role("button", name="搜索", exact=True).click()
    expect(page.locator("#results tbody tr")).to_have_count(2)  # the list (and its menu) redrawn by htmx
    page.wait_for_load_state("networkidle")  # the search's change and submit both redraw it
    page.locator(".export-menu > summary").click()
    shot(page, "exports-menu-desktop")
    with page.expect_download() as download_info:
        page.locator(".export-menu__list a", has_text="XLSX").click()
    path = tmp_path / "export.xlsx"
    download_info.value.save_as(path)

    rows = [[cell.value for cell in row] for row in load_workbook(path).active.iter_rows()]
    assert download_info.value.suggested_filename.startswith("opportunities-")
    assert rows[0][:3] == ["商机", "客户", "负责人"]
    assert sorted(row[0] for row in rows[1:]) == ['=HYPERLINK("http://x")打印', "打印机更新"]
    amounts = {row[0]: row[rows[0].index("金额（元）")] for row in rows[1:]}
    assert amounts["打印机更新"] == 120000
    record = ExportRecord.objects.get()
    assert (record.user_id, record.format, record.row_count, record.filters["q"]) == (rep.pk, "xlsx", 2, "打印")


def test_the_export_menu_opens_on_a_phone(phone_page):
    page = phone_page
    rep = make_user(username="rep_export_phone", role="rep")
    OpportunityFactory.create_batch(3, owner=rep)
    sign_in(page, rep)

    page.goto(f"{page.base_url}/opportunities/")
    page.locator(".export-menu > summary").click()

    links = page.locator(".export-menu__list a")
    expect(links).to_have_count(3)
    for index in range(3):
        expect(links.nth(index)).to_be_in_viewport()
    shot(page, "exports-menu-phone")


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_a_report_exports_from_the_menu_in_its_header(request, screen, tmp_path):
    page = request.getfixturevalue("page" if screen == "desktop" else "phone_page")
    manager = make_user(username="mgr_export", role="manager")
    team = TeamFactory(name="华东", manager=manager)
    manager.team = team
    manager.save()
    rep = make_user(username="rep_in_team", role="rep", team=team, last_name="王", first_name="五")
    OpportunityFactory(owner=rep, name="一单")
    sign_in(page, manager)

    page.goto(f"{page.base_url}/analytics/forecast/")
    page.locator(".export-menu > summary").click()
    links = page.locator(".export-menu__list a")
    for index in range(3):
        expect(links.nth(index)).to_be_in_viewport()
    shot(page, f"exports-report-menu-{screen}")
    with page.expect_download() as download_info:
        links.nth(2).click()  # CSV (GBK)
    path = tmp_path / "forecast.csv"
    download_info.value.save_as(path)

    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("gbk"), newline="")))
    assert rows[0][0] == "销售顾问"
    assert "王五" in [row[0] for row in rows[1:]]
    assert ExportRecord.objects.get().what == "forecast"


def test_the_account_list_exports_the_contacts_of_its_accounts_on_a_phone(phone_page, tmp_path):
    page = phone_page
    rep = make_user(username="rep_contacts", role="rep")
    ContactFactory(account=AccountFactory(owner=rep, name="宁波博远"), name="张经理")
    ContactFactory(account=AccountFactory(name="别人的客户"), name="李四")  # another rep's account
    sign_in(page, rep)

    page.goto(f"{page.base_url}/accounts/")
    menu = page.locator(".export-menu", has_text="导出联系人")
    menu.locator("summary").click()
    shot(page, "exports-contacts-menu-phone")
    with page.expect_download() as download_info:
        menu.locator("a", has_text="UTF-8").click()
    path = tmp_path / "contacts.csv"
    download_info.value.save_as(path)

    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    assert [row[:2] for row in rows] == [["姓名", "客户"], ["张经理", "宁波博远"]]
