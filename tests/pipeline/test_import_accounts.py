"""manage.py import_accounts: CSV (UTF-8, BOM, GBK) and XLSX, idempotent by external key, all or nothing."""

import csv
import math
from datetime import date, datetime, timedelta
from io import StringIO

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.models import Account, AccountChange, User
from pipeline.importing.accounts import import_accounts
from pipeline.importing.reading import ROW_NUMBER, ImportRejected, RowError, read_rows
from pipeline.models import Opportunity, Reassignment, Visit
from tests.factories import (
    AccountFactory,
    IndustryFactory,
    OpportunityFactory,
    RegionFactory,
    UserFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db

EXCEL_DATE = datetime(2024, 3, 5)  # noqa: DTZ001 - openpyxl reads Excel dates as naive datetimes
HEADER = ["external_key", "name", "industry", "employee_count", "region", "owner", "is_target", "target_since"]


@pytest.fixture(autouse=True)
def _in_english():
    """The messages are asserted in English; the command speaks the active language (zh-hans by default)."""
    with translation.override("en"):
        yield


@pytest.fixture
def reference(org):
    """Industries and a region tree with an ambiguous district name, as a real territory has."""

    class Reference:
        manufacturing = IndustryFactory(code="mfg", name="制造业", name_en="Manufacturing")
        retail = IndustryFactory(code="retail", name="零售", name_en="Retail")
        east = RegionFactory(code="EC", name="华东", name_en="East China", level=1)
        shanghai = RegionFactory(code="SH", name="上海", name_en="Shanghai", level=2, parent=east)
        pudong = RegionFactory(code="SH-PD", name="浦东", name_en="Pudong", level=3, parent=shanghai)
        nanjing = RegionFactory(code="JS-NJ", name="南京", level=2, parent=east)
        gulou_nj = RegionFactory(code="JS-NJ-GL", name="鼓楼", level=3, parent=nanjing)
        gulou_fz = RegionFactory(code="FJ-FZ-GL", name="鼓楼", level=3, parent=east)

    return Reference


def write_csv(tmp_path, rows, *, encoding="utf-8", name="accounts.csv"):
    path = tmp_path / name
    with path.open("w", encoding=encoding, newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def write_xlsx(tmp_path, rows, *, name="accounts.xlsx"):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "客户"
    for row in rows:
        sheet.append(row)
    other = workbook.create_sheet("说明")
    other.append(["这一页不是数据"])
    workbook.active = 1  # the importer reads the first sheet, not the one Excel last showed
    path = tmp_path / name
    workbook.save(path)
    return path


def run(path, *args) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("import_accounts", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def refused(path, *args) -> list[str]:
    """Runs an import that must fail; returns the error lines it printed."""
    err = StringIO()
    with translation.override("en"), pytest.raises(CommandError) as failure:
        call_command("import_accounts", str(path), *args, stdout=StringIO(), stderr=err)
    lines = err.getvalue().strip().splitlines()
    assert str(failure.value) in (
        f"{len(lines)} error; nothing was imported.",
        f"{len(lines)} errors; nothing was imported.",
    )
    return lines


def snapshot() -> list[tuple]:
    return list(Account.objects.order_by("pk").values_list())


def test_creates_accounts_from_a_csv_with_english_headers(reference, org, tmp_path):
    path = write_csv(
        tmp_path,
        [
            [*HEADER, "address", "notes"],
            [
                "C001",
                " 上海华力制造有限公司 ",
                "mfg",
                "1,200",
                "SH-PD",
                "rep_a1",
                "yes",
                "2024-03-05",
                "浦东新区1号",
                "老客户",
            ],
            ["C002", "Retail Co", "Retail", "45", "Shanghai", "rep_b1", "no", "", "", ""],
        ],
    )

    assert run(path) == "Created 2, updated 0, unchanged 0."

    first, second = Account.objects.get(external_key="C001"), Account.objects.get(external_key="C002")
    assert (first.name, first.industry, first.employee_count, first.region, first.owner) == (
        "上海华力制造有限公司",
        reference.manufacturing,
        1200,
        reference.pudong,
        org.rep_a1,
    )
    assert (first.is_target, first.target_since, first.address, first.notes) == (
        True,
        date(2024, 3, 5),
        "浦东新区1号",
        "老客户",
    )
    assert (second.industry, second.region, second.owner, second.is_target, second.target_since) == (
        reference.retail,
        reference.shanghai,
        org.rep_b1,
        False,
        None,
    )


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_reads_chinese_headers_in_the_encodings_excel_saves(reference, org, tmp_path, encoding):
    path = write_csv(
        tmp_path,
        [
            ["外部编号", "客户名称", "行业", "员工人数", "区域", "负责人", "目标客户", "成为目标日期", "备注"],
            ["C001", "华力制造", "制造业", "300", "浦东", "rep_a1", "是", "2024/3/5", "重点跟进"],
            ["C002", "联华超市", "零售", "", "华东", "rep_a2", "否", "", ""],
        ],
        encoding=encoding,
    )

    assert run(path) == "Created 2, updated 0, unchanged 0."

    assert list(
        Account.objects.order_by("external_key").values_list(
            "external_key",
            "name",
            "industry__code",
            "employee_count",
            "region__code",
            "owner__username",
            "is_target",
            "target_since",
            "notes",
        )
    ) == [
        ("C001", "华力制造", "mfg", 300, "SH-PD", "rep_a1", True, date(2024, 3, 5), "重点跟进"),
        ("C002", "联华超市", "retail", None, "EC", "rep_a2", False, None, ""),
    ]


def test_reads_the_first_sheet_of_an_xlsx_with_excel_dates_numbers_and_booleans(reference, org, tmp_path):
    path = write_xlsx(
        tmp_path,
        [
            ["外部编号", "客户名称", "行业", "员工人数", "区域", "负责人", "目标客户", "成为目标日期", "总部"],
            [1001, "华力制造", "mfg", 250.0, "SH-PD", "rep_a1", True, EXCEL_DATE, "否"],
            [1002.0, "华力南京分公司", "mfg", 80, "JS-NJ", "rep_a1", 1, 45357, False],  # 45357 = 2024-03-06
            [None, None, None, None, None, None, None, None, None],  # a blank row Excel leaves behind
        ],
    )

    assert run(path) == "Created 2, updated 0, unchanged 0."

    assert list(
        Account.objects.order_by("external_key").values_list(
            "external_key", "employee_count", "is_target", "target_since", "is_headquarters"
        )
    ) == [("1001", 250, True, date(2024, 3, 5), False), ("1002", 80, True, date(2024, 3, 6), False)]


def test_reimporting_the_same_file_changes_nothing(reference, org, tmp_path):
    path = write_xlsx(
        tmp_path,
        [
            [*HEADER, "parent_external_key"],
            ["HQ", "华力集团", "mfg", 5000, "SH", "rep_a1", "是", None, None],
            ["BR", "华力浦东", "mfg", 300, "SH-PD", "rep_a1", "否", None, "HQ"],
        ],
    )
    run(path)
    before = snapshot()

    assert run(path) == "Created 0, updated 0, unchanged 2."

    assert snapshot() == before  # updated_at included: nothing was saved


def test_a_changed_cell_updates_that_account_only(reference, org, tmp_path):
    rows = [
        HEADER,
        ["C001", "华力制造", "mfg", "300", "SH", "rep_a1", "否", ""],
        ["C002", "联华", "retail", "50", "SH", "rep_a1", "否", ""],
    ]
    run(write_csv(tmp_path, rows))
    untouched = Account.objects.get(external_key="C002")
    rows[1] = ["C001", "华力制造股份", "retail", "320", "SH-PD", "rep_a1", "是", "2024-01-02"]

    assert run(write_csv(tmp_path, rows)) == "Created 0, updated 1, unchanged 1."

    changed = Account.objects.get(external_key="C001")
    assert (changed.name, changed.industry, changed.employee_count, changed.region, changed.is_target) == (
        "华力制造股份",
        reference.retail,
        320,
        reference.pudong,
        True,
    )
    assert changed.target_since == date(2024, 1, 2)
    assert Account.objects.get(external_key="C002").updated_at == untouched.updated_at


def test_updates_an_account_created_in_the_app_once_it_has_an_external_key(reference, org, tmp_path):
    account = AccountFactory(external_key="C001", name="旧名", owner=org.rep_a1, industry=reference.retail)

    assert (
        run(write_csv(tmp_path, [["external_key", "name"], ["C001", "新名"]])) == "Created 0, updated 1, unchanged 0."
    )

    account.refresh_from_db()
    assert (account.name, account.industry, account.owner) == ("新名", reference.retail, org.rep_a1)


@pytest.mark.parametrize("branch_first", [True, False])
def test_branches_find_their_headquarters_in_the_file_in_either_order(reference, org, tmp_path, branch_first):
    headquarters = ["HQ", "华力集团", "rep_a1", ""]
    branches = [["BR1", "华力浦东", "rep_a1", "HQ"], ["BR2", "华力南京", "rep_a2", "HQ"]]
    rows = [*branches, headquarters] if branch_first else [headquarters, *branches]

    run(write_csv(tmp_path, [["external_key", "name", "owner", "parent_external_key"], *rows]))

    hq = Account.objects.get(external_key="HQ")
    assert sorted(hq.branches.values_list("external_key", flat=True)) == ["BR1", "BR2"]
    assert (hq.parent, hq.is_headquarters) == (None, True)  # an account with branches is a headquarters


def test_a_branch_finds_a_headquarters_imported_before_and_flags_it(reference, org, tmp_path):
    hq = AccountFactory(external_key="HQ", owner=org.rep_a1, is_headquarters=False)

    run(write_csv(tmp_path, [["external_key", "name", "owner", "总部编号"], ["BR", "华力浦东", "rep_a1", "HQ"]]))

    assert Account.objects.get(external_key="BR").parent == hq
    hq.refresh_from_db()
    assert hq.is_headquarters is True


def test_an_existing_branch_can_move_to_a_new_headquarters_in_the_same_file(reference, org, tmp_path):
    old_hq = AccountFactory(external_key="OLD", owner=org.rep_a1, is_headquarters=True)
    branch = AccountFactory(external_key="BR", owner=org.rep_a1, parent=old_hq)

    output = run(
        write_csv(
            tmp_path,
            [
                ["external_key", "name", "owner", "parent_external_key"],
                ["BR", branch.name, "", "NEW"],
                ["NEW", "新总部", "rep_a1", ""],
            ],
        )
    )

    assert output == "Created 1, updated 1, unchanged 0."
    branch.refresh_from_db()
    assert (branch.parent.external_key, branch.parent.is_headquarters) == ("NEW", True)


def test_missing_columns_are_left_alone_and_empty_cells_clear_all_but_name_and_owner(reference, org, tmp_path):
    account = AccountFactory(
        external_key="C001",
        name="华力",
        owner=org.rep_a1,
        industry=reference.retail,
        region=reference.pudong,
        employee_count=100,
        address="浦东1号",
        notes="备注",
        is_target=True,
        target_since=date(2023, 5, 1),
    )

    run(
        write_csv(
            tmp_path,
            [
                ["external_key", "name", "owner", "employee_count", "address", "is_target"],
                ["C001", "", "", "", "", "是"],
            ],
        )
    )

    account.refresh_from_db()
    assert (account.name, account.owner, account.employee_count, account.address) == ("华力", org.rep_a1, None, "")
    assert (account.industry, account.region, account.notes) == (reference.retail, reference.pudong, "备注")
    assert (account.is_target, account.target_since) == (True, date(2023, 5, 1))  # a target keeps its date


def test_a_new_target_without_a_date_becomes_one_today_and_a_former_target_loses_its_date(reference, org, tmp_path):
    former = AccountFactory(external_key="OLD", owner=org.rep_a1, is_target=True, target_since=date(2023, 5, 1))

    run(
        write_csv(
            tmp_path,
            [["external_key", "name", "owner", "is_target"], ["NEW", "新客户", "rep_a1", "是"], ["OLD", "", "", "否"]],
        )
    )

    assert Account.objects.get(external_key="NEW").target_since == timezone.localdate()
    former.refresh_from_db()
    assert (former.is_target, former.target_since) == (False, None)


def test_rows_without_an_owner_go_to_the_default_owner(reference, org, tmp_path):
    path = write_csv(tmp_path, [["external_key", "name", "owner"], ["C001", "甲", ""], ["C002", "乙", "rep_b1"]])

    run(path, "--owner", "rep_a2")

    assert dict(Account.objects.values_list("external_key", "owner__username")) == {"C001": "rep_a2", "C002": "rep_b1"}


def test_an_owner_change_is_a_reassignment_that_takes_open_opportunities_and_planned_visits_along(
    reference, org, tmp_path
):
    account = AccountFactory(external_key="C001", owner=org.rep_a1)
    other = AccountFactory(external_key="C002", owner=org.rep_a1)
    open_opportunity = OpportunityFactory(account=account, owner=org.rep_a1)
    colleague_opportunity = OpportunityFactory(account=account, owner=org.rep_a2)
    lost = OpportunityFactory(
        account=account, owner=org.rep_a1, status=Opportunity.Status.LOST, closed_at=timezone.now(), loss_reason="price"
    )
    planned = VisitFactory(account=account, owner=org.rep_a1)
    done = VisitFactory(account=account, owner=org.rep_a1, status="done", done_at=timezone.now(), planned_at=None)
    path = write_csv(tmp_path, [["external_key", "owner"], ["C001", "rep_b1"], ["C002", "rep_a1"]])

    output = run(path, "--by", "director")

    assert output.splitlines() == [
        "Created 0, updated 1, unchanged 1.",
        "1 account changed owner (recorded as a reassignment).",
    ]
    assert Account.objects.get(pk=account.pk).owner == org.rep_b1
    assert Account.objects.get(pk=other.pk).owner == org.rep_a1
    assert dict(Opportunity.objects.filter(account=account).values_list("pk", "owner__username")) == {
        open_opportunity.pk: "rep_b1",
        colleague_opportunity.pk: "rep_a2",
        lost.pk: "rep_a1",
    }
    assert Opportunity.objects.get(pk=open_opportunity.pk).version == open_opportunity.version + 1
    assert dict(Visit.objects.filter(account=account).values_list("pk", "owner__username")) == {
        planned.pk: "rep_b1",
        done.pk: "rep_a1",
    }
    assert Reassignment.objects.count() == 2
    assert set(
        Reassignment.objects.values_list("account_id", "opportunity_id", "from_owner", "to_owner", "reassigned_by")
    ) == {
        (account.pk, None, org.rep_a1.pk, org.rep_b1.pk, org.director.pk),
        (None, open_opportunity.pk, org.rep_a1.pk, org.rep_b1.pk, org.director.pk),
    }


def test_reimporting_keeps_an_owner_who_has_left_since(reference, org, tmp_path):
    path = write_csv(tmp_path, [["external_key", "name", "owner"], ["C001", "甲", "rep_a1"]])
    run(path)
    User.objects.filter(pk=org.rep_a1.pk).update(is_active=False)

    assert run(path) == "Created 0, updated 0, unchanged 1."
    assert Account.objects.get(external_key="C001").owner == org.rep_a1


def test_an_owner_change_without_a_director_is_refused_and_nothing_is_written(reference, org, tmp_path):
    account = AccountFactory(external_key="C001", owner=org.rep_a1)
    path = write_csv(
        tmp_path, [["external_key", "name", "owner"], ["C001", "新名", "rep_b1"], ["C002", "新客户", "rep_b1"]]
    )
    before = snapshot()

    assert refused(path) == [
        "Row 2, column owner: Changing the owner of an existing account is recorded as a reassignment: name the "
        "director who authorises it (--by)."
    ]
    with pytest.raises(CommandError, match="--by manager_a: no active user"):
        call_command("import_accounts", str(path), "--by", "manager_a", stdout=StringIO(), stderr=StringIO())

    assert snapshot() == before
    assert Account.objects.get(pk=account.pk).owner == org.rep_a1
    assert not Reassignment.objects.exists()


def test_every_bad_row_is_reported_by_row_and_column_and_nothing_is_written(reference, org, tmp_path):
    UserFactory(username="gone", is_active=False)
    AccountFactory(external_key="KEEP", name="原名", owner=org.rep_a1)
    header = [*HEADER, "parent_external_key", "is_headquarters"]
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    path = write_csv(
        tmp_path,
        [
            header,
            ["KEEP", "改名", "mfg", "10", "SH", "rep_a1", "否", "", "", ""],  # valid, yet must not be written
            ["", "无编号", "mfg", "10", "SH", "rep_a1", "否", "", "", ""],
            ["A3", "甲", "mining", "10", "SH", "rep_a1", "否", "", "", ""],
            ["A4", "乙", "mfg", "ten", "Atlantis", "nobody", "否", "", "", ""],
            ["A5", "丙", "mfg", "-5", "鼓楼", "gone", "否", "", "", ""],
            ["A6", "丁", "mfg", "12.5", "SH", "director", "maybe", "", "", ""],
            ["A7", "戊", "mfg", "10", "SH", "rep_a1", "否", "2024-03-05", "", ""],
            ["A8", "己", "mfg", "10", "SH", "rep_a1", "是", "2024-02-30", "", ""],
            ["A9", "庚", "mfg", "10", "SH", "rep_a1", "是", "05/03/2024", "", ""],
            ["A10", "辛", "mfg", "10", "SH", "rep_a1", "是", future, "", ""],
            ["A3", "甲二", "mfg", "10", "SH", "rep_a1", "否", "", "", ""],
            ["A12", "", "mfg", "10", "SH", "rep_a1", "否", "", "", ""],
            ["A13", "壬", "mfg", "10", "SH", "", "否", "", "", ""],
            ["A14", "癸", "mfg", "10", "SH", "rep_a1", "否", "", "NOPE", "x"],
            ["A15", "子", "mfg", "10", "SH", "rep_a1", "否", "", "A15", ""],
            ["A16", "丑" * 201, "mfg", "10", "SH", "rep_a1", "否", "", "", ""],
        ],
    )
    before = snapshot()

    errors = refused(path)

    assert errors == [
        "Row 3, column external_key: Enter the external key: re-imports find the account by it.",
        "Row 4, column industry: Unknown industry “mining”: use an industry code or name.",
        "Row 5, column employee_count: Enter a whole number, not “ten”.",
        "Row 5, column region: Unknown region “Atlantis”: use a region code or name.",
        "Row 5, column owner: Unknown user “nobody”.",
        "Row 6, column employee_count: Enter a number of employees from 0 up, not -5.",
        "Row 6, column region: “鼓楼” names several: FJ-FZ-GL, JS-NJ-GL; use the code.",
        "Row 6, column owner: gone cannot own accounts: an owner is an active sales rep or manager.",
        "Row 7, column employee_count: Enter a whole number, not “12.5”.",
        "Row 7, column owner: director cannot own accounts: an owner is an active sales rep or manager.",
        "Row 7, column is_target: Enter 是/否, yes/no, true/false or 1/0, not “maybe”.",
        "Row 8, column target_since: Only a target account has this date: set is_target (目标客户) to 是, or leave "
        "the date empty.",
        "Row 9, column target_since: Enter a date as YYYY-MM-DD or YYYY/MM/DD, not “2024-02-30”.",
        "Row 10, column target_since: Enter a date as YYYY-MM-DD or YYYY/MM/DD, not “05/03/2024”.",
        "Row 11, column target_since: The date an account became a target cannot be in the future.",
        "Row 12, column external_key: “A3” is also on row 4; an account may appear once.",
        "Row 13, column name: Enter a name: a new account needs one.",
        "Row 14, column owner: Enter the owner's username, or give a default owner (--owner).",
        "Row 15, column parent_external_key: No account has the external key “NOPE”, in this file or already imported.",
        "Row 15, column is_headquarters: Enter 是/否, yes/no, true/false or 1/0, not “x”.",
        "Row 16, column parent_external_key: An account cannot be its own headquarters.",
        "Row 17, column name: At most 200 characters.",
    ]
    assert snapshot() == before


def test_an_unknown_headquarters_is_reported_once_the_rows_are_otherwise_valid(reference, org, tmp_path):
    path = write_csv(
        tmp_path, [["external_key", "name", "owner", "parent_external_key"], ["A1", "甲", "rep_a1", "NOPE"]]
    )

    assert refused(path) == [
        "Row 2, column parent_external_key: No account has the external key “NOPE”, in this file or already imported."
    ]
    assert not Account.objects.exists()


def test_a_branch_of_a_bad_row_gets_no_second_misleading_error(reference, org, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ["external_key", "name", "industry", "owner", "parent_external_key"],
            ["BR", "分公司", "mfg", "rep_a1", "HQ"],
            ["HQ", "总部", "mining", "rep_a1", ""],
        ],
    )

    assert refused(path) == ["Row 3, column industry: Unknown industry “mining”: use an industry code or name."]
    assert not Account.objects.exists()


def test_an_account_with_branches_stays_a_headquarters_whatever_its_cell_says(reference, org, tmp_path):
    hq = AccountFactory(external_key="HQ", owner=org.rep_a1, is_headquarters=True)
    AccountFactory(external_key="BR", owner=org.rep_a1, parent=hq)

    output = run(write_csv(tmp_path, [["external_key", "is_headquarters"], ["HQ", "否"], ["BR", "否"]]))

    assert output == "Created 0, updated 0, unchanged 2."
    assert dict(Account.objects.values_list("external_key", "is_headquarters")) == {"HQ": True, "BR": False}


def test_a_dry_run_counts_an_owner_change_as_an_update_and_records_nothing(reference, org, tmp_path):
    account = AccountFactory(external_key="C001", owner=org.rep_a1)
    opportunity = OpportunityFactory(account=account, owner=org.rep_a1)

    output = run(write_csv(tmp_path, [["external_key", "owner"], ["C001", "rep_b1"]]), "--dry-run", "--by", "director")

    assert output == "Dry run: would create 0, update 1, unchanged 0; nothing written."
    assert (Account.objects.get(pk=account.pk).owner, Opportunity.objects.get(pk=opportunity.pk).owner) == (
        org.rep_a1,
        org.rep_a1,
    )
    assert not Reassignment.objects.exists()


def test_a_headquarters_cycle_is_refused_whether_it_runs_through_the_file_or_the_database(reference, org, tmp_path):
    top = AccountFactory(external_key="TOP", owner=org.rep_a1, is_headquarters=True)
    AccountFactory(external_key="MID", owner=org.rep_a1, parent=top)
    path = write_csv(
        tmp_path,
        [
            ["external_key", "name", "owner", "parent_external_key"],
            ["A", "甲", "rep_a1", "B"],
            ["B", "乙", "rep_a1", "A"],
            ["TOP", "", "", "MID"],  # MID is a branch of TOP in the database
        ],
    )
    before = snapshot()

    assert refused(path) == [
        "Row 2, column parent_external_key: This would make the account a branch of its own branch.",
        "Row 3, column parent_external_key: This would make the account a branch of its own branch.",
        "Row 4, column parent_external_key: This would make the account a branch of its own branch.",
    ]
    assert snapshot() == before


def test_unknown_repeated_and_missing_header_columns_are_refused(reference, org, tmp_path):
    path = write_csv(tmp_path, [["name", "客户名称", "industy"], ["甲", "甲", "mfg"]])

    assert refused(path) == [
        "Row 1, column 客户名称: Repeats the column name.",
        "Row 1, column industy: Unknown column.",
        "Row 1, column external_key: The column external_key (外部编号) is required.",
    ]


def test_a_file_of_another_kind_or_encoding_is_refused(reference, org, tmp_path):
    xls = tmp_path / "accounts.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0")
    fake = tmp_path / "fake.xlsx"
    fake.write_text("external_key,name\n")

    assert refused(xls) == ["Row 1, column -: Only .csv and .xlsx files can be imported (save .xls files as .xlsx)."]
    assert refused(fake) == ["Row 1, column -: This is not a readable .xlsx file."]
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_accounts", str(tmp_path / "missing.csv"), stdout=StringIO())


def test_a_dry_run_counts_and_writes_nothing(reference, org, tmp_path):
    AccountFactory(external_key="C001", name="旧名", owner=org.rep_a1)
    AccountFactory(external_key="C002", name="联华", owner=org.rep_a1)
    path = write_csv(
        tmp_path,
        [["external_key", "name", "owner"], ["C001", "新名", ""], ["C002", "联华", ""], ["C003", "新", "rep_a1"]],
    )
    before = snapshot()

    assert run(path, "--dry-run") == "Dry run: would create 1, update 1, unchanged 1; nothing written."

    assert snapshot() == before


def test_a_dry_run_of_a_bad_file_fails_like_the_import(reference, org, tmp_path):
    path = write_csv(tmp_path, [["external_key", "name", "owner"], ["C001", "甲", "nobody"]])

    assert refused(path, "--dry-run") == ["Row 2, column owner: Unknown user “nobody”."]
    assert not Account.objects.exists()


def test_the_service_numbers_rows_from_2_when_rows_carry_no_row_number(reference, org):
    with pytest.raises(ImportRejected) as rejected:
        import_accounts(
            rows=[{"external_key": "A", "name": "甲"}, {"external_key": "B"}], dry_run=False, default_owner=org.rep_a1
        )

    assert [(error.row, error.column) for error in rejected.value.errors] == [(3, "name")]
    assert rejected.value.errors == [RowError(3, "name", rejected.value.errors[0].message)]
    assert not Account.objects.exists()


def test_read_rows_keys_rows_by_canonical_column_and_spreadsheet_row(tmp_path):
    path = write_csv(tmp_path, [["外部编号", "Name ", "IS TARGET"], ["A", "甲", "是"], ["", "", ""], ["B", "乙", ""]])

    assert list(read_rows(path)) == [
        {ROW_NUMBER: 2, "external_key": "A", "name": "甲", "is_target": "是"},
        {ROW_NUMBER: 4, "external_key": "B", "name": "乙", "is_target": ""},
    ]


def rows_for(count: int, *, offset: int = 0) -> list[dict]:
    return [
        {
            "external_key": f"K{offset + n:04d}",
            "name": f"客户{n}",
            "industry": "mfg",
            "employee_count": "120",
            "region": "SH-PD",
            "owner": "rep_a1" if n % 2 else "rep_a2",
            "is_target": "是",
            "target_since": "2024-01-01",
            "parent_external_key": f"K{offset:04d}" if n else "",
        }
        for n in range(count)
    ]


def extra_batches(rows: int, fields: int) -> int:
    """Bulk batches beyond the first that the database needs for `rows` rows of `fields` parameters (SQLite caps
    parameters per query; PostgreSQL does not)."""
    size = connection.ops.bulk_batch_size([None] * fields, [None] * rows)
    return math.ceil(rows / min(size, 500)) - 1


def count_queries(rows: list[dict], org) -> int:
    with CaptureQueriesContext(connection) as context:
        import_accounts(rows=rows, dry_run=False, default_owner=None, imported_by=org.director)
    return len(context.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_rows(reference, org, django_assert_max_num_queries):
    account_fields = len([f for f in Account._meta.concrete_fields if not f.primary_key])
    creating_10 = count_queries(rows_for(10), org)
    with django_assert_max_num_queries(creating_10 + extra_batches(100, account_fields)):
        import_accounts(rows=rows_for(100, offset=1000), dry_run=False, default_owner=None)
    assert Account.objects.count() == 110

    def changed(rows: list[dict]) -> list[dict]:
        return [
            {**row, "name": row["name"] + "二", "owner": "rep_b1", "is_target": "否", "target_since": ""}
            for row in rows
        ]

    updating_10 = count_queries(changed(rows_for(10)), org)
    # History: three changed fields a row from the import itself, the owner from the handover; 7 values a row.
    history_batches = extra_batches(300, 7) + extra_batches(100, 7)
    with django_assert_max_num_queries(updating_10 + 2 * extra_batches(100, 8) + history_batches):
        import_accounts(
            rows=changed(rows_for(100, offset=1000)), dry_run=False, default_owner=None, imported_by=org.director
        )
    assert set(Account.objects.values_list("owner__username", "is_target").distinct()) == {("rep_b1", False)}
    assert Reassignment.objects.count() == 110
    assert AccountChange.objects.count() == 110 * 4


def test_errors_are_printed_in_the_default_chinese_too(tmp_path):
    with translation.override("zh-hans"), pytest.raises(CommandError, match="无法读取"):
        call_command("import_accounts", str(tmp_path / "missing.csv"), stdout=StringIO())
