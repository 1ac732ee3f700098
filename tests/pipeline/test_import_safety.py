"""Import safety (issue 11, finding 10): formula-leading text cells are kept as text and reported, a file over
IMPORT_MAX_BYTES is refused before it is read, and rows are streamed rather than the file read whole."""

import csv
import tracemalloc
from io import StringIO

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from accounts.models import Account
from pipeline.importing.accounts import import_accounts
from pipeline.importing.reading import ImportRejected, RowError, read_rows
from tests.factories import IndustryFactory, RegionFactory

pytestmark = pytest.mark.django_db

HEADER = ["external_key", "name", "employee_count", "owner", "address", "notes"]


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


def write_csv(path, rows, *, encoding="utf-8"):
    with path.open("w", encoding=encoding, newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def run(path, *args) -> list[str]:
    out = StringIO()
    call_command("import_accounts", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip().splitlines()


def stored() -> list[tuple]:
    return list(Account.objects.order_by("external_key").values_list("external_key", "name", "address", "notes"))


# Formula cells ------------------------------------------------------------------------------------------------------


def test_formula_leading_text_cells_are_stored_as_text_behind_an_apostrophe_and_reported(org, tmp_path):
    path = write_csv(
        tmp_path / "accounts.csv",
        [
            HEADER,
            ["C001", '=HYPERLINK("http://evil.example","点我")', "10", "rep_a1", "\t=1+1", "+86 138 0000 0000"],
            ["C002", "普通客户", "-0", "rep_a1", "\r@SUM(A1:A9)", "- 重点跟进"],
            ["=C003", "正常名称", "", "rep_a1", "上海市 浦东新区", "'=already text"],
        ],
    )

    lines = run(path)

    assert stored() == [
        ("'=C003", "正常名称", "上海市 浦东新区", "'=already text"),
        ("C001", '\'=HYPERLINK("http://evil.example","点我")', "'=1+1", "'+86 138 0000 0000"),
        ("C002", "普通客户", "'@SUM(A1:A9)", "'- 重点跟进"),
    ]
    assert lines == [
        "Warning: Row 2, column name: Starts like a spreadsheet formula: stored as text, as "
        '“\'=HYPERLINK("http://evil.example","点我")”.',
        "Warning: Row 2, column address: Starts like a spreadsheet formula: stored as text, as “'=1+1”.",
        "Warning: Row 2, column notes: Starts like a spreadsheet formula: stored as text, as “'+86 138 0000 0000”.",
        "Warning: Row 3, column address: Starts like a spreadsheet formula: stored as text, as “'@SUM(A1:A9)”.",
        "Warning: Row 3, column notes: Starts like a spreadsheet formula: stored as text, as “'- 重点跟进”.",
        "Warning: Row 4, column external_key: Starts like a spreadsheet formula: stored as text, as “'=C003”.",
        "Created 3, updated 0, unchanged 0.",
    ]
    assert Account.objects.get(external_key="C002").employee_count == 0  # "-0" employees is a number, not a formula


def test_reimporting_a_file_with_formula_cells_changes_nothing(org, tmp_path):
    path = write_csv(tmp_path / "accounts.csv", [HEADER, ["C001", "=1+1", "", "rep_a1", "", "@x"]])
    run(path)
    before = stored()

    lines = run(path)

    assert stored() == before == [("C001", "'=1+1", "", "'@x")]
    assert lines[-1] == "Created 0, updated 0, unchanged 1."


def test_a_negative_number_in_the_employee_column_is_a_number_refused_as_such_not_a_formula(org, tmp_path):
    path = write_csv(tmp_path / "accounts.csv", [HEADER, ["C001", "甲", "-5", "rep_a1", "", ""]])

    with pytest.raises(ImportRejected) as rejected:
        import_accounts(rows=read_rows(path), dry_run=False, default_owner=None)

    assert rejected.value.errors == [
        RowError(2, "employee_count", "Enter a number of employees from 0 up, not -5."),
    ]
    assert not Account.objects.exists()


def test_xlsx_text_cells_are_neutralised_but_numbers_are_not(org, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["C001", "甲", 12, "rep_a1", None, -5])  # notes: the number -5
    sheet.append(["C002", None, None, "rep_a1", None, None])
    sheet["B3"].value, sheet["B3"].data_type = "=1+1", "s"  # a text cell reading "=1+1", not a formula
    path = tmp_path / "accounts.xlsx"
    workbook.save(path)

    result = import_accounts(rows=read_rows(path), dry_run=False, default_owner=None)

    assert stored() == [("C001", "甲", "", "-5"), ("C002", "'=1+1", "", "")]
    assert [(w.row, w.column) for w in result.warnings] == [(3, "name")]


# Size limit ---------------------------------------------------------------------------------------------------------


def test_a_file_just_over_the_size_limit_is_refused_before_it_is_read_and_nothing_is_written(org, tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 1000
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"external_key,name,owner\r\n" + b"\xff" * (1001 - 25))  # not even text: never looked at
    assert path.stat().st_size == 1001
    err = StringIO()

    with pytest.raises(CommandError) as failure:
        call_command("import_accounts", str(path), stdout=StringIO(), stderr=err)

    assert err.getvalue().strip() == (
        "Row 1, column -: The file is 1001\xa0bytes; at most 1000\xa0bytes can be imported: "
        "split it into smaller files."
    )
    assert str(failure.value) == "1 error; nothing was imported."
    assert not Account.objects.exists()


def test_a_file_at_the_size_limit_is_imported(org, tmp_path, settings):
    path = write_csv(tmp_path / "accounts.csv", [["external_key", "name", "owner"], ["C001", "甲", "rep_a1"]])
    settings.IMPORT_MAX_BYTES = path.stat().st_size

    assert run(path) == ["Created 1, updated 0, unchanged 0."]


def test_the_size_limit_is_twenty_megabytes_by_default(settings):
    assert settings.IMPORT_MAX_BYTES == 20 * 1024 * 1024


# Streaming ----------------------------------------------------------------------------------------------------------


def big_csv(path, *, megabytes: float, encoding: str = "utf-8"):
    """A CSV of about `megabytes` of accounts; with a GBK encoding, the Chinese starts only after the first 100 KB."""
    with path.open("w", encoding=encoding, newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["external_key", "name", "industry", "employee_count", "region", "address", "owner", "notes"])
        number = 0
        while file.tell() < megabytes * 1024 * 1024:
            chinese = file.tell() > 100 * 1024
            name = f"上海华力制造有限公司{number}" if chinese else f"Hua Li Manufacturing {number}"
            address = "浦东新区张江路1号" if chinese else "1 Zhangjiang Road"
            writer.writerow([f"K{number:07d}", name, "mfg", "1,200", "SH-PD", address, "rep_a1", f"备注{number}"])
            number += 1
    return number


def peak_bytes(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_a_5_mb_csv_holds_a_few_rows_at_a_time_not_the_file(tmp_path):
    path = tmp_path / "big.csv"
    rows = big_csv(path, megabytes=5)
    counted = []

    peak = peak_bytes(lambda: counted.append(sum(1 for _ in read_rows(path))))

    assert counted == [rows]
    assert peak < 1024 * 1024  # the file is 5 MB: reading it whole took 58 MB, streaming it takes about 0.4 MB


def test_importing_a_csv_keeps_memory_to_a_small_multiple_of_the_file(org, tmp_path):
    IndustryFactory(code="mfg", name="制造业", name_en="Manufacturing")
    RegionFactory(code="SH-PD", name="浦东", name_en="Pudong", level=1)
    path = tmp_path / "big.csv"
    rows = big_csv(path, megabytes=1)
    results = []

    peak = peak_bytes(
        lambda: results.append(import_accounts(rows=read_rows(path), dry_run=True, default_owner=None).created)
    )

    assert results == [rows]
    # The cleaned rows are kept for the checks across rows (all or nothing), about 1.5 KB each; reading the file whole
    # and keeping every raw row too took over 20 times the file's size.
    assert peak < 15 * path.stat().st_size


def test_a_gbk_file_whose_chinese_starts_after_the_first_chunks_is_read_as_gbk(org, tmp_path):
    path = tmp_path / "gbk.csv"
    rows = big_csv(path, megabytes=0.3, encoding="gbk")

    read = list(read_rows(path))

    assert len(read) == rows
    assert (read[0]["name"], read[-1]["name"]) == ("Hua Li Manufacturing 0", f"上海华力制造有限公司{rows - 1}")
    assert read[-1]["notes"] == f"备注{rows - 1}"
