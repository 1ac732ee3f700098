"""Exports of the pipeline lists (issue 14): what each role gets, the page's filters, headers in the user's language,
money and dates as a spreadsheet reads them, formulas written as text, GBK, the record and a constant query count."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.signals import request_finished
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from core.models import ExportRecord
from pipeline.models import Opportunity, Visit
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, VisitFactory

OPPORTUNITIES = reverse("pipeline:opportunity_export")
ACCOUNTS = reverse("accounts:export")
NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
CONTACTS = reverse("accounts:contact_export")
VISITS = reverse("pipeline:visit_export")


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response, encoding: str = "utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(body_of(response).decode(encoding), newline="")))


def xlsx_sheet(response):
    return load_workbook(io.BytesIO(body_of(response))).active


def xlsx_rows(response) -> list[list]:
    return [[cell.value for cell in row] for row in xlsx_sheet(response).iter_rows()]


def column(rows: list[list], header: str) -> list:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


# --- who sees what ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("rep_a1", {"甲的"}),
        ("rep_a2", set()),
        ("manager_a", {"甲的", "甲二的"}),
        ("manager_b", {"乙队的"}),
        ("director", {"甲的", "甲二的", "乙队的"}),
    ],
)
def test_each_role_exports_every_opportunity_it_sees_and_no_other(client, org, viewer, expected, export_format):
    OpportunityFactory(owner=org.rep_a1, name="甲的")
    OpportunityFactory(owner=org.rep_a2, name="甲二的") if viewer != "rep_a2" else None
    OpportunityFactory(owner=org.rep_b1, name="乙队的")
    client.force_login(getattr(org, viewer))

    response = client.get(OPPORTUNITIES, {"format": export_format})

    rows = csv_rows(response) if export_format == "csv" else xlsx_rows(response)
    assert set(column(rows, "商机")) == expected
    assert len(rows) == len(expected) + 1


def test_an_export_holds_every_page_of_the_list_not_only_the_first(client, org):
    OpportunityFactory.create_batch(30, owner=org.rep_a1)
    client.force_login(org.rep_a1)

    rows = csv_rows(client.get(OPPORTUNITIES, {"format": "csv", "page": "2"}))

    assert len(rows) == 31


def test_the_export_applies_the_list_pages_filters_search_and_order(client, org, stage):
    OpportunityFactory(owner=org.rep_a1, name="打印机 A", amount=Decimal("300"))
    OpportunityFactory(owner=org.rep_a1, name="打印机 B", amount=Decimal("500"))
    OpportunityFactory(
        owner=org.rep_a1,
        name="打印机 C",
        amount=Decimal("900"),
        status=Opportunity.Status.LOST,
        closed_at=NOW,
        loss_reason=Opportunity.LossReason.PRICE,
    )
    OpportunityFactory(owner=org.rep_a1, name="服务合同", amount=Decimal("700"))
    client.force_login(org.rep_a1)

    rows = csv_rows(client.get(OPPORTUNITIES, {"format": "csv", "q": "打印", "status": "open", "sort": "-amount"}))

    assert column(rows, "商机") == ["打印机 B", "打印机 A"]


def test_accounts_contacts_and_visits_export_only_what_the_viewer_sees(client, org):
    mine = AccountFactory(owner=org.rep_a1, name="甲的客户")
    theirs = AccountFactory(owner=org.rep_b1, name="乙的客户")
    ContactFactory(account=mine, name="张三")
    ContactFactory(account=theirs, name="李四")
    VisitFactory(account=mine, purpose="甲的拜访", status=Visit.Status.DONE, done_at=NOW)  # 10:00 in Shanghai
    OpportunityFactory(owner=org.rep_a1, account=mine)
    VisitFactory(account=theirs, purpose="乙的拜访")
    client.force_login(org.rep_a1)

    accounts = csv_rows(client.get(ACCOUNTS, {"format": "csv"}))
    contacts = csv_rows(client.get(CONTACTS, {"format": "csv"}))
    visits = csv_rows(client.get(VISITS, {"format": "csv"}))

    assert column(accounts, "客户") == ["甲的客户"]
    assert (column(accounts, "进行中的商机"), column(accounts, "最近拜访")) == (["1"], ["2026-03-01 10:00"])
    assert column(contacts, "姓名") == ["张三"]
    assert column(visits, "拜访目的") == ["甲的拜访"]


def test_the_contacts_export_follows_the_account_lists_filters_and_refuses_an_unseen_account(client, org):
    target = AccountFactory(owner=org.rep_a1, name="重点客户", is_target=True)
    other = AccountFactory(owner=org.rep_a1, name="普通客户", is_target=False)
    ContactFactory(account=target, name="王五")
    ContactFactory(account=other, name="赵六")
    unseen = AccountFactory(owner=org.rep_b1)
    client.force_login(org.rep_a1)

    targets_only = csv_rows(client.get(CONTACTS, {"format": "csv", "is_target": "1"}))
    one_account = csv_rows(client.get(CONTACTS, {"format": "csv", "account": other.pk}))
    refused = client.get(CONTACTS, {"format": "csv", "account": unseen.pk})

    assert column(targets_only, "姓名") == ["王五"]
    assert column(one_account, "姓名") == ["赵六"]
    assert refused.status_code == 404
    assert ExportRecord.objects.count() == 2


def test_a_visit_export_narrowed_to_an_unseen_account_answers_404(client, org):
    client.force_login(org.rep_a1)

    response = client.get(VISITS, {"format": "csv", "account": AccountFactory(owner=org.rep_b1).pk})

    assert response.status_code == 404
    assert not ExportRecord.objects.exists()


def test_signed_out_visitors_are_sent_to_the_login_page(client, db):
    response = client.get(OPPORTUNITIES, {"format": "csv"})

    assert response.status_code == 302
    assert not ExportRecord.objects.exists()


# --- headers, money and dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "headers"),
    [
        ("zh-hans", ["商机", "客户", "负责人", "销售流程", "阶段", "状态", "金额（元）"]),
        ("en", ["Opportunity", "Account", "Owner", "Sales process", "Stage", "Status", "Amount (CNY)"]),
    ],
)
def test_headers_and_labels_are_in_the_users_language(client, org, language, headers):
    OpportunityFactory(owner=org.rep_a1, status=Opportunity.Status.WON, closed_at=NOW)
    org.rep_a1.language = language
    org.rep_a1.save()
    client.force_login(org.rep_a1)

    rows = csv_rows(client.get(OPPORTUNITIES, {"format": "csv"}))

    assert rows[0][:7] == headers
    assert rows[1][5] == ("赢单" if language == "zh-hans" else "Won")
    assert rows[1][4] == ("事先准备" if language == "zh-hans" else "Preparation")


def test_money_is_a_number_with_the_cny_format_and_times_are_in_the_users_zone(client, org):
    OpportunityFactory(
        owner=org.rep_a1,
        name="一单",
        amount=Decimal("1234567.5"),
        expected_close_date=date(2026, 6, 30),
        created_at=datetime(2026, 3, 1, 17, 30, tzinfo=UTC),  # 01:30 on 2 March in Shanghai
    )
    client.force_login(org.rep_a1)

    sheet = xlsx_sheet(client.get(OPPORTUNITIES, {"format": "xlsx"}))
    text = csv_rows(client.get(OPPORTUNITIES, {"format": "csv"}))

    header = [cell.value for cell in sheet[1]]
    amount = sheet.cell(row=2, column=header.index("金额（元）") + 1)
    created = sheet.cell(row=2, column=header.index("创建时间") + 1)
    close = sheet.cell(row=2, column=header.index("预计成交日期") + 1)
    assert (amount.value, amount.data_type, amount.number_format) == (1234567.5, "n", '"¥"#,##0.00')
    assert (created.value, created.number_format) == (datetime(2026, 3, 2, 1, 30), "yyyy-mm-dd hh:mm")  # noqa: DTZ001
    assert close.value == datetime(2026, 6, 30)  # noqa: DTZ001 - spreadsheets have no time zones
    assert column(text, "金额（元）") == ["1234567.50"]
    assert column(text, "创建时间") == ["2026-03-02 01:30"]
    assert column(text, "预计成交日期") == ["2026-06-30"]


def test_times_follow_the_users_own_time_zone(client, org):
    OpportunityFactory(owner=org.rep_a1, created_at=datetime(2026, 3, 1, 17, 30, tzinfo=UTC))
    org.rep_a1.time_zone = "Europe/Berlin"
    org.rep_a1.save()
    client.force_login(org.rep_a1)

    rows = csv_rows(client.get(OPPORTUNITIES, {"format": "csv"}))

    assert column(rows, "创建时间") == ["2026-03-01 18:30"]


# --- formulas and encodings ----------------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example","点我")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", " =1+1"]


def test_a_cell_that_a_spreadsheet_would_run_as_a_formula_is_written_as_text(client, org):
    for name in FORMULAS:
        OpportunityFactory(owner=org.rep_a1, name=name, account=AccountFactory(owner=org.rep_a1, name=f"客户{name}"))
    OpportunityFactory(owner=org.rep_a1, name="正常-名字", amount=Decimal("-0"))
    client.force_login(org.rep_a1)

    text = csv_rows(client.get(OPPORTUNITIES, {"format": "csv", "sort": "created"}))
    sheet = xlsx_sheet(client.get(OPPORTUNITIES, {"format": "xlsx", "sort": "created"}))

    assert column(text, "商机") == [f"'{name}" for name in FORMULAS] + ["正常-名字"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    # XML has no bare carriage return: a reader sees "\r" as "\n"
    expected = [name.replace("\r", "\n") for name in [*FORMULAS, "正常-名字"]]
    assert [(cell.value, cell.data_type) for cell in cells] == [(name, "s") for name in expected]
    assert [cell.quotePrefix for cell in cells] == [True] * len(FORMULAS) + [False]


def test_the_csv_is_utf8_with_a_byte_order_mark_or_gbk_on_request(client, org):
    OpportunityFactory(owner=org.rep_a1, name="北京打印机更新 ✓")
    client.force_login(org.rep_a1)

    utf8 = client.get(OPPORTUNITIES, {"format": "csv"})
    gbk = client.get(OPPORTUNITIES, {"format": "csv", "encoding": "gbk"})

    assert utf8["Content-Type"] == "text/csv; charset=utf-8"
    assert body_of(utf8).startswith(b"\xef\xbb\xbf")
    assert gbk["Content-Type"] == "text/csv; charset=gbk"
    gbk_rows = csv_rows(gbk, encoding="gbk")
    assert gbk_rows[0][0] == "商机"
    assert column(gbk_rows, "商机") == ["北京打印机更新 ?"]  # ✓ is not in GBK
    assert 'filename="opportunities-' in gbk["Content-Disposition"]


def test_xlsx_is_the_default_format(client, org):
    client.force_login(org.rep_a1)

    response = client.get(OPPORTUNITIES)

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert xlsx_rows(response) == [xlsx_rows(client.get(OPPORTUNITIES, {"format": "xlsx"}))[0]]


# --- the record -------------------------------------------------------------------------------------------------


def test_a_streamed_csv_is_recorded_with_its_row_count_once_its_last_row_is_sent(client, org):
    OpportunityFactory.create_batch(3, owner=org.rep_a1, status=Opportunity.Status.OPEN)
    OpportunityFactory(owner=org.rep_a1, status=Opportunity.Status.WON, closed_at=NOW)
    client.force_login(org.rep_a1)

    response = client.get(OPPORTUNITIES, {"format": "csv", "encoding": "gbk", "status": "open", "page": "3"})
    recorded_before_the_end = ExportRecord.objects.count()
    body_of(response)

    assert recorded_before_the_end == 0
    record = ExportRecord.objects.get()
    assert (record.user, record.what, record.format, record.encoding, record.row_count, record.is_complete) == (
        org.rep_a1,
        "opportunities",
        "csv",
        "gbk",
        3,
        True,
    )
    assert record.filters == {"status": "open"}


def test_a_download_broken_off_is_recorded_as_incomplete(client, org):
    OpportunityFactory.create_batch(3, owner=org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.get(OPPORTUNITIES, {"format": "csv"})
    pieces = iter(response.streaming_content)
    next(pieces)  # the byte-order mark
    with mock.patch.object(request_finished, "send"):  # the end of a request would close the test's connection
        response.close()

    record = ExportRecord.objects.get()
    assert (record.row_count, record.is_complete) == (0, False)


def test_an_xlsx_is_recorded_when_written(client, org):
    VisitFactory.create_batch(2, account=AccountFactory(owner=org.rep_a1), status=Visit.Status.PLANNED)
    client.force_login(org.rep_a1)

    client.get(VISITS, {"format": "xlsx", "status": "planned"})

    record = ExportRecord.objects.get()
    assert (record.what, record.format, record.encoding, record.row_count, record.filters) == (
        "visits",
        "xlsx",
        "",
        2,
        {"status": "planned"},
    )


# --- cost -----------------------------------------------------------------------------------------------------------


def _queries_for_export(client, url: str, export_format: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        body_of(client.get(url, {"format": export_format}))
    return len(queries)


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
@pytest.mark.parametrize("url", [OPPORTUNITIES, ACCOUNTS, CONTACTS, VISITS])
def test_an_export_runs_the_same_queries_for_3_rows_as_for_30(client, org, url, export_format):
    def add(n: int) -> None:
        for _ in range(n):
            account = AccountFactory(owner=org.rep_a1)
            ContactFactory(account=account)
            OpportunityFactory(owner=org.rep_a1, account=account)
            VisitFactory(account=account)

    client.force_login(org.rep_a1)
    add(3)
    few = _queries_for_export(client, url, export_format)
    add(27)
    many = _queries_for_export(client, url, export_format)

    assert few == many
    assert many == 4  # the session, the user, the export's one read and the record
