"""Imports in a browser (issue 14), on a desktop and a phone: a director uploads a small XLSX, reads the dry run,
confirms, and watches the progress bar (htmx polling, no inline script under the CSP) reach the report."""

import openpyxl
import pytest
from playwright.sync_api import expect

from accounts.models import Account
from pipeline.models import ImportJob
from pipeline.services.imports import run_import
from tests.e2e.conftest import DESKTOP, PHONE, make_user, sign_in
from tests.e2e.helpers import shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class HeldQueue:
    """Stands in for the Celery task in the confirm view: the run waits until the test starts it, so the page is
    seen polling a queued job first."""

    def __init__(self):
        self.job_ids = []

    def delay(self, job_id):
        self.job_ids.append(job_id)


@pytest.fixture
def director_and_file(tmp_path):
    director = make_user(username="director_imports", role="director")
    make_user(username="rep_imports", role="rep")
    workbook = openpyxl.Workbook()
    for row in [["外部编号", "客户名称", "负责人", "员工人数"], ["C001", "华东机械", "rep_imports", 120],
                ["C002", "南京电子", "rep_imports", 60], ["C003", "杭州印务", "rep_imports", 35]]:  # fmt: skip
        workbook.active.append(row)
    path = tmp_path / "客户.xlsx"
    workbook.save(path)
    return director, path


def test_a_director_imports_a_spreadsheet_on_a_desktop(page, director_and_file, monkeypatch):
    import_in_the_browser(page, director_and_file, monkeypatch, "desktop", DESKTOP["width"])


def test_a_director_imports_a_spreadsheet_on_a_phone(phone_page, director_and_file, monkeypatch):
    import_in_the_browser(phone_page, director_and_file, monkeypatch, "phone", PHONE["width"])


def import_in_the_browser(page, director_and_file, monkeypatch, suffix: str, width: int) -> None:
    director, path = director_and_file
    queue = HeldQueue()
    monkeypatch.setattr("pipeline.views.imports.run_import_task", queue)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, director)

    page.goto(f"{page.base_url}/imports/")
    expect(page.locator("[data-import-templates] tr[data-kind]")).to_have_count(5)
    page.select_option("select[name=kind]", "accounts")
    page.set_input_files("input[name=file]", str(path))
    shot(page, f"imports-upload-{suffix}")
    page.get_by_role("button", name="检查文件").click()

    expect(page.locator("[data-dry-run]")).to_contain_text("已检查 3 行：将新建 3 条")
    shot(page, f"imports-dry-run-{suffix}")
    assert not Account.objects.exists()
    page.locator("[data-confirm-import]").click()

    status = page.locator("#import-status")
    expect(status).to_have_attribute("data-status", "queued")
    expect(page.locator("progress.import-progress")).to_have_attribute("data-done", "0")
    shot(page, f"imports-queued-{suffix}")
    assert queue.job_ids == [ImportJob.objects.get().pk]
    run_import(job_id=queue.job_ids[0])  # the worker runs it; the page's next poll shows the report

    expect(status).to_have_attribute("data-status", "done", timeout=5_000)
    expect(page.locator("progress.import-progress")).to_have_attribute("data-done", "3")
    expect(page.locator("[data-count=created]")).to_have_text("3")
    shot(page, f"imports-done-{suffix}")
    assert sorted(Account.objects.values_list("external_key", flat=True)) == ["C001", "C002", "C003"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert errors == []
