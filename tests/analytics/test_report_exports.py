"""Exports of the reports (issue 14): each answers what its page shows to the same viewer, every page of it, and
refuses what the page refuses (404 for a team or owner the viewer may not see)."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from core.models import ExportRecord
from tests.analytics.conftest import at, lost, won
from tests.analytics.test_forecast import company, open_opportunity  # noqa: F401  (the fixture; open opportunities)
from tests.factories import AccountFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

REPORTS = ["team", "matrix", "territory", "targets", "changes", "winloss", "forecast"]


def url(report: str) -> str:
    return reverse(f"analytics:{report}_export")


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"), newline="")))


def by_first_column(rows: list[list[str]]) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in rows[1:]}


@pytest.mark.parametrize("report", REPORTS)
def test_every_report_exports_as_csv_and_xlsx_and_is_recorded(client, org, report):
    OpportunityFactory(owner=org.rep_a1)
    client.force_login(org.director)

    text = csv_rows(client.get(url(report), {"format": "csv"}))
    sheet = load_workbook(io.BytesIO(b"".join(client.get(url(report)).streaming_content))).active

    assert text[0] == [cell.value for cell in sheet[1]]
    assert list(ExportRecord.objects.values_list("what", "format")) == [(report, "xlsx"), (report, "csv")]


def test_the_forecast_export_holds_the_pages_numbers_for_the_managers_reps_only(client, org, company):  # noqa: F811
    client.force_login(org.manager_a)

    rows = csv_rows(client.get(url("forecast"), {"format": "csv"}))

    assert rows[0] == ["销售顾问", "目标", "赢单", "承诺", "最佳情况", "潜在商机", "缺口", "经理判断"]
    assert by_first_column(rows) == {
        org.manager_a.display_name: ["100000.00", "0.00", "0.00", "0.00", "0.00", "100000.00", ""],
        org.rep_a1.display_name: ["1000000.00", "350000.00", "200000.00", "150000.00", "80000.00", "450000.00", ""],
        org.rep_a2.display_name: ["", "0.00", "100000.00", "0.00", "0.00", "", ""],
    }


def test_the_win_loss_export_lists_each_analysis_of_the_page(client, org, now):
    won(owner=org.rep_a1, amount="300000", closed_at=at(2026, 3, 2))
    lost(owner=org.rep_a1, amount=Decimal("120000"), closed_at=at(2026, 4, 1))
    lost(owner=org.rep_b1, amount=Decimal("999"), closed_at=at(2026, 4, 1))  # another team's
    client.force_login(org.manager_a)

    rows = csv_rows(client.get(url("winloss"), {"format": "csv", "start": "2026-01-01", "end": "2026-05-15"}))

    assert rows[0] == ["分析维度", "分组", "赢单", "输单", "赢单率", "赢单金额", "输单金额"]
    by_reason = [row for row in rows[1:] if row[0] == "失败原因"]
    assert [row[1:] for row in by_reason if row[3] != "0"] == [["价格", "0", "1", "0.0%", "0.00", "120000.00"]]
    assert {row[0] for row in rows[1:]} == {"失败原因", "竞争对手", "到达的最远阶段", "未接触性失败原因", "来源"}


@pytest.mark.parametrize(
    ("viewer", "params"),
    [("rep_a1", {}), ("manager_a", {"team": "B"}), ("manager_a", {"owner": "rep_b1"})],
)
def test_a_report_of_a_team_or_owner_the_viewer_may_not_see_answers_404(client, org, viewer, params):
    ids = {"B": org.team_b.pk, "rep_b1": org.rep_b1.pk}
    query = {key: ids[value] for key, value in params.items()}
    client.force_login(getattr(org, viewer))

    report = "team" if viewer == "rep_a1" or "team" in params else "changes"
    response = client.get(url(report), {"format": "csv", **query})

    assert response.status_code == 404
    assert not ExportRecord.objects.exists()
    assert client.get(url("forecast"), {"format": "csv", **query}).status_code == (404 if query else 200)


def test_the_team_export_lists_every_member_of_the_managers_team(client, org):
    client.force_login(org.manager_a)

    rows = csv_rows(client.get(url("team"), {"format": "csv", "team": org.team_a.pk}))

    assert rows[0][:3] == ["人员", "进行中的商机", "进行中金额"]
    assert sorted(row[0] for row in rows[1:]) == sorted(u.display_name for u in (org.manager_a, org.rep_a1, org.rep_a2))


def test_a_malformed_query_string_answers_400_and_records_nothing(client, org):
    client.force_login(org.director)

    response = client.get(url("changes"), {"format": "csv", "since": "not-a-day"})

    assert response.status_code == 400
    assert not ExportRecord.objects.exists()


def test_the_changes_export_runs_the_same_queries_for_more_changes(client, org):
    client.force_login(org.manager_a)
    account = AccountFactory(owner=org.rep_a1)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            csv_rows(client.get(url("changes"), {"format": "csv", "since": "2020-01-01"}))
        return len(queries)

    OpportunityFactory.create_batch(2, owner=org.rep_a1, account=account)
    few = count()
    OpportunityFactory.create_batch(20, owner=org.rep_a1, account=account)
    assert count() == few


@pytest.mark.parametrize("report", REPORTS)
def test_a_report_export_runs_the_same_queries_with_more_data(client, org, report):
    client.force_login(org.manager_a)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            csv_rows(client.get(url(report), {"format": "csv"}))
        return len(queries)

    OpportunityFactory(owner=org.rep_a1)
    few = count()
    for rep in (org.rep_a1, org.rep_a2):
        OpportunityFactory.create_batch(5, owner=rep)
    assert count() == few
