"""Imports of contacts, installed base, account years and targets (issue 14): each keyed so that a re-import changes
nothing, all or nothing with every bad row and column named, English or Chinese headers, CSV (UTF-8, GBK) or XLSX."""

import csv
from datetime import date
from decimal import Decimal
from io import StringIO

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from accounts.models import AccountYear, Contact, InstalledBase
from pipeline.importing.kinds import KINDS
from pipeline.importing.reading import ImportRejected, RowError, read_rows
from pipeline.models import SalesTarget, TargetChange
from tests.factories import (
    AccountFactory,
    AccountYearFactory,
    CompetitorFactory,
    ContactFactory,
    InstalledBaseFactory,
    SalesTargetFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


def write_csv(tmp_path, rows, *, encoding="utf-8", name="data.csv"):
    path = tmp_path / name
    with path.open("w", encoding=encoding, newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def write_xlsx(tmp_path, rows, *, name="data.xlsx"):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def run_kind(code, path, *, by, dry_run=False):
    kind = KINDS[code]
    return kind.run(rows=read_rows(path, kind.columns), dry_run=dry_run, imported_by=by, progress=None)


def rejected(code, path, *, by):
    with pytest.raises(ImportRejected) as caught:
        run_kind(code, path, by=by)
    return [(error.row, error.column) for error in caught.value.errors]


# --- contacts -------------------------------------------------------------------------------------------------------

CONTACT_HEADER = ["account_external_key", "external_key", "name", "title", "email", "buying_role", "birthday"]


def test_contacts_are_created_then_found_again_by_key_and_by_name(tmp_path, org):
    account = AccountFactory(external_key="C001", owner=org.rep_a1)
    hand_made = ContactFactory(account=account, name="李娜", title="")
    rows = [
        CONTACT_HEADER,
        ["C001", "P1", "王伟", "采购经理", "wang@example.com", "决策者", "1980-05-01"],
        ["C001", "", "李娜", "财务", "", "influencer", ""],
    ]
    path = write_csv(tmp_path, rows)

    first = run_kind("contacts", path, by=org.director)
    second = run_kind("contacts", path, by=org.director)

    assert (first.created, first.updated, first.unchanged) == (1, 1, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    wang = Contact.objects.get(external_key="P1")
    assert (wang.name, wang.title, wang.email, wang.buying_role, wang.birthday, wang.name_pinyin) == (
        "王伟",
        "采购经理",
        "wang@example.com",
        "decision_maker",
        date(1980, 5, 1),
        "wangwei",
    )
    hand_made.refresh_from_db()
    assert (hand_made.title, hand_made.buying_role, hand_made.external_key) == ("财务", "influencer", None)
    assert Contact.objects.count() == 2


def test_a_keyed_row_adopts_the_one_unkeyed_contact_of_that_name(tmp_path, org):
    account = AccountFactory(external_key="C001", owner=org.rep_a1)
    contact = ContactFactory(account=account, name="王伟")
    path = write_csv(tmp_path, [["客户编号", "联系人编号", "姓名"], ["C001", "P1", "王伟"]])

    result = run_kind("contacts", path, by=org.director)

    contact.refresh_from_db()
    assert (result.created, result.updated, contact.external_key) == (0, 1, "P1")


def test_bad_contact_rows_are_named_and_nothing_is_written(tmp_path, org):
    AccountFactory(external_key="C001", owner=org.rep_a1)
    rows = [
        CONTACT_HEADER,
        ["C001", "P1", "王伟", "", "not-an-email", "boss", "1980-13-01"],
        ["C999", "P2", "李娜", "", "", "", ""],
        ["C001", "P3", "", "", "", "", ""],
        ["C001", "P1", "王伟", "", "", "", ""],
        ["C001", "P4", "张三", "", "", "", ""],
    ]

    errors = rejected("contacts", write_csv(tmp_path, rows), by=org.director)

    assert errors == [
        (2, "email"),
        (2, "buying_role"),
        (2, "birthday"),
        (3, "account_external_key"),
        (4, "name"),
        (5, "external_key"),
    ]
    assert not Contact.objects.exists()


# --- installed base -------------------------------------------------------------------------------------------------


def test_installed_base_is_keyed_by_account_vendor_product_and_year(tmp_path, org):
    account = AccountFactory(external_key="C001", owner=org.rep_a1)
    rival = CompetitorFactory(name="理光", name_en="Ricoh")
    InstalledBaseFactory(account=account, is_ours=False, competitor=rival, product="复印机", units=3, year=2020)
    rows = [
        ["account_external_key", "vendor", "product", "units", "year"],
        ["C001", "我司", "复印机", "12", "2023"],
        ["C001", "Ricoh", "复印机", "5", "2020"],
    ]
    path = write_xlsx(tmp_path, rows)

    first = run_kind("installed_base", path, by=org.director)
    second = run_kind("installed_base", path, by=org.director)

    assert (first.created, first.updated, first.unchanged) == (1, 1, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert sorted(InstalledBase.objects.values_list("is_ours", "competitor_id", "units", "year")) == [
        (False, rival.pk, 5, 2020),
        (True, None, 12, 2023),
    ]


def test_bad_installed_base_rows_are_named_and_nothing_is_written(tmp_path, org):
    AccountFactory(external_key="C001", owner=org.rep_a1)
    rows = [
        ["客户编号", "厂商", "产品", "台数", "装机年份"],
        ["C001", "Nobody", "复印机", "1", ""],
        ["C001", "我司", "复印机", "-2", "1800"],
        ["C001", "我司", "打印机", "1", ""],
        ["C001", "我司", "打印机", "2", ""],
    ]

    errors = rejected("installed_base", write_csv(tmp_path, rows), by=org.director)

    assert errors == [(2, "vendor"), (3, "units"), (3, "year"), (5, "product")]
    assert not InstalledBase.objects.exists()


# --- account years --------------------------------------------------------------------------------------------------


def test_account_years_from_a_gbk_csv_with_chinese_headers(tmp_path, org):
    account = AccountFactory(external_key="C001", owner=org.rep_a1)
    AccountYearFactory(account=account, year=2023, other_revenue=Decimal("10.00"), potential_value=None)
    rows = [
        ["客户编号", "年份", "其他收入", "潜在价值"],
        ["C001", "2023", "1,200.50", "￥800000"],
        ["C001", "2024", "", ""],
    ]
    path = write_csv(tmp_path, rows, encoding="gbk")

    first = run_kind("account_years", path, by=org.director)
    second = run_kind("account_years", path, by=org.director)

    assert (first.created, first.updated, first.unchanged) == (1, 1, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert list(AccountYear.objects.order_by("year").values_list("year", "other_revenue", "potential_value")) == [
        (2023, Decimal("1200.50"), Decimal("800000.00")),
        (2024, Decimal("0.00"), None),
    ]


def test_bad_account_year_rows_are_named_and_nothing_is_written(tmp_path, org):
    AccountFactory(external_key="C001", owner=org.rep_a1)
    rows = [
        ["account_external_key", "year", "other_revenue"],
        ["C001", "2024", "12.345"],
        ["C001", "twenty", "1"],
        ["C001", "2025", "-1"],
        ["C001", "2025", "1"],
    ]

    errors = rejected("account_years", write_csv(tmp_path, rows), by=org.director)

    assert errors == [(2, "other_revenue"), (3, "year"), (4, "other_revenue"), (5, "year")]
    assert not AccountYear.objects.exists()


# --- targets --------------------------------------------------------------------------------------------------------

TARGET_HEADER = ["owner", "team", "period_type", "period_start", "amount"]


def test_targets_are_keyed_by_owner_and_period_and_a_changed_amount_is_history(tmp_path, org):
    target = SalesTargetFactory(
        owner_user=org.rep_a1, period_type="quarter", period_start=date(2025, 1, 1), amount=Decimal("100.00")
    )
    rows = [
        TARGET_HEADER,
        ["rep_a1", "", "季度", "2025-01-01", "300000"],
        ["", "A", "year", "2025-01-01", "1000000"],
    ]
    path = write_csv(tmp_path, rows)

    first = run_kind("targets", path, by=org.director)
    second = run_kind("targets", path, by=org.director)

    assert (first.created, first.updated, first.unchanged) == (1, 1, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    target.refresh_from_db()
    assert target.amount == Decimal("300000.00")
    assert SalesTarget.objects.get(owner_team=org.team_a).amount == Decimal("1000000.00")
    assert list(TargetChange.objects.values_list("target_id", "field", "old", "new", "by_id")) == [
        (target.pk, "amount", "100.00", "300000.00", org.director.pk)
    ]


def test_a_manager_imports_only_the_targets_the_target_rules_let_them_set(tmp_path, org):
    rows = [
        TARGET_HEADER,
        ["rep_a1", "", "month", "2025-02-01", "1000"],
        ["rep_b1", "", "month", "2025-02-01", "1000"],
        ["manager_a", "", "month", "2025-02-01", "1000"],
        ["", "A", "month", "2025-02-01", "1000"],
        ["rep_a2", "", "month", "2025-02-03", "1000"],
        ["rep_a2", "", "week", "2025-02-03", "x"],
        ["nobody", "", "week", "2025-02-03", "1"],
    ]

    errors = rejected("targets", write_csv(tmp_path, rows), by=org.manager_a)

    assert errors == [(3, "owner"), (4, "owner"), (5, "team"), (6, "period_start"), (7, "amount"), (8, "owner")]
    assert not SalesTarget.objects.exists()


def test_the_header_names_the_missing_columns(tmp_path, org):
    path = write_csv(tmp_path, [["name", "title"], ["王伟", ""]])

    with pytest.raises(ImportRejected) as caught:
        read_rows(path, KINDS["contacts"].columns)

    assert caught.value.errors == [
        RowError(1, "account_external_key", "The column account_external_key (客户编号) is required.")
    ]


# --- commands -------------------------------------------------------------------------------------------------------


def test_the_commands_share_the_importers_and_fail_naming_the_row(tmp_path, org):
    AccountFactory(external_key="C001", owner=org.rep_a1)
    good = write_csv(tmp_path, [["account_external_key", "year", "other_revenue"], ["C001", "2024", "5"]])
    bad = write_csv(tmp_path, [["account_external_key", "year"], ["C404", "2024"]], name="bad.csv")
    out = StringIO()

    call_command("import_account_years", str(good), "--dry-run", stdout=out)
    call_command("import_account_years", str(good), stdout=out)
    with pytest.raises(CommandError):
        call_command("import_account_years", str(bad), stdout=StringIO(), stderr=(err := StringIO()))

    assert out.getvalue().splitlines() == [
        "Dry run: would create 1, update 0, unchanged 0; nothing written.",
        "Created 1, updated 0, unchanged 0.",
    ]
    assert err.getvalue().startswith("Row 2, column account_external_key: No account has the external key “C404”")


# --- cost -----------------------------------------------------------------------------------------------------------

KIND_ROWS = {
    "contacts": (["account_external_key", "external_key", "name"], lambda n: ["C001", f"P{n}", f"联系人{n}"]),
    "installed_base": (
        ["account_external_key", "vendor", "product", "units"],
        lambda n: ["C001", "我司", f"型号{n}", n],
    ),
    "account_years": (["account_external_key", "year", "other_revenue"], lambda n: ["C001", 1990 + n, n]),
    "targets": (
        ["owner", "period_type", "period_start", "amount"],
        lambda n: ["rep_a1", "year", f"{2000 + n}-01-01", n],
    ),
}


@pytest.mark.parametrize("code", list(KIND_ROWS))
def test_an_import_runs_as_many_queries_for_forty_rows_as_for_four(tmp_path, org, code):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    AccountFactory(external_key="C001", owner=org.rep_a1)
    header, row = KIND_ROWS[code]
    counts = []
    for size in (4, 40):
        path = write_csv(tmp_path, [header, *(row(n) for n in range(size))], name=f"{code}-{size}.csv")
        with CaptureQueriesContext(connection) as queries:
            result = run_kind(code, path, by=org.director)
        counts.append(len(queries))
        assert result.created == size - (4 if size == 40 else 0)

    assert counts[0] == counts[1]
