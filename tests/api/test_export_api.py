"""The list endpoints' exports (issue 14): `?format=csv|xlsx` or an Accept header answer the whole filtered list as a
file, only the rows the caller sees, recorded; errors stay JSON."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from core.exports import XLSX_MEDIA_TYPE
from core.models import ExportRecord
from pipeline.models import Visit
from tests.factories import (
    AccountFactory,
    ContactFactory,
    OpportunityFactory,
    SalesTargetFactory,
    VisitFactory,
    default_stage,
)


def csv_rows(response, encoding: str = "utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(encoding), newline="")))


def xlsx_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [("rep_a1", ["甲的"]), ("manager_b", ["乙队的"]), ("director", ["乙队的", "甲的"])],
)
def test_format_csv_exports_every_visible_opportunity_past_the_first_page(api, org, viewer, expected):
    OpportunityFactory(owner=org.rep_a1, name="甲的")
    OpportunityFactory(owner=org.rep_b1, name="乙队的")

    response = api(getattr(org, viewer)).get("/api/v1/opportunities/", {"format": "csv", "page_size": 1})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = csv_rows(response)
    assert sorted(row[0] for row in rows[1:]) == sorted(expected)


def test_the_api_filters_search_and_ordering_apply_to_the_export(api, org):
    OpportunityFactory(owner=org.rep_a1, name="甲一", amount=Decimal("100"))
    OpportunityFactory(owner=org.rep_a1, name="甲二", amount=Decimal("300"), stage=default_stage("needs"))
    OpportunityFactory(owner=org.rep_a1, name="甲三", amount=Decimal("200"), stage=default_stage("needs"))

    response = api(org.rep_a1).get("/api/v1/opportunities/", {"format": "csv", "stage": "needs", "ordering": "amount"})

    assert [row[0] for row in csv_rows(response)[1:]] == ["甲三", "甲二"]
    assert ExportRecord.objects.get().filters == {"stage": "needs", "ordering": "amount"}


def test_an_accept_header_asks_for_xlsx_in_the_users_language(api, org):
    OpportunityFactory(owner=org.rep_a1, name="甲的", amount=Decimal("1500.25"))
    org.rep_a1.language = "en"
    org.rep_a1.save()

    response = api(org.rep_a1).get("/api/v1/opportunities/", HTTP_ACCEPT=XLSX_MEDIA_TYPE)

    assert response["Content-Type"] == XLSX_MEDIA_TYPE
    rows = xlsx_rows(response)
    assert rows[0][:3] == ["Opportunity", "Account", "Owner"]
    assert rows[1][rows[0].index("Amount (CNY)")] == 1500.25
    record = ExportRecord.objects.get()
    assert (record.user, record.what, record.format, record.row_count) == (org.rep_a1, "opportunities", "xlsx", 1)


def test_an_accept_header_asks_for_csv_and_gbk_comes_with_encoding(api, org):
    AccountFactory(owner=org.rep_a1, name="北京客户")

    response = api(org.rep_a1).get("/api/v1/accounts/", {"encoding": "gbk"}, HTTP_ACCEPT="text/csv")

    assert response["Content-Type"] == "text/csv; charset=gbk"
    assert [row[0] for row in csv_rows(response, encoding="gbk")] == ["客户", "北京客户"]


@pytest.mark.parametrize(
    ("path", "header", "make"),
    [
        ("/api/v1/accounts/", "客户", lambda owner: AccountFactory(owner=owner, name=f"{owner.username}的")),
        (
            "/api/v1/contacts/",
            "姓名",
            lambda owner: ContactFactory(account=AccountFactory(owner=owner), name=f"{owner.username}的"),
        ),
        (
            "/api/v1/visits/",
            "拜访目的",
            lambda owner: VisitFactory(account=AccountFactory(owner=owner), purpose=f"{owner.username}的"),
        ),
        (
            "/api/v1/targets/",
            "人员",
            lambda owner: SalesTargetFactory(owner_user=owner),
        ),
    ],
)
def test_every_list_endpoint_exports_only_the_callers_rows(api, org, path, header, make):
    make(org.rep_a1)
    make(org.rep_b1)

    rows = csv_rows(api(org.rep_a1).get(path, {"format": "csv"}))

    index = rows[0].index(header)
    assert len(rows) == 2
    assert rows[1][index] in {"rep_a1的", "rep_a1"}


def test_a_bad_filter_answers_json_400_and_records_nothing(api, org):
    response = api(org.rep_a1).get("/api/v1/visits/", {"format": "csv", "status": "nonsense"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "status" in response.json()
    assert not ExportRecord.objects.exists()


def test_a_single_record_asked_for_as_csv_answers_json(api, org):
    visit = VisitFactory(account=AccountFactory(owner=org.rep_a1), status=Visit.Status.PLANNED)

    response = api(org.rep_a1).get(f"/api/v1/visits/{visit.pk}/", {"format": "csv"})

    assert response.status_code == 200
    assert response.json()["id"] == visit.pk


def test_an_export_needs_a_signed_in_caller(api, db):
    response = api().get("/api/v1/opportunities/", {"format": "csv"})

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_the_schema_documents_the_export_parameters_on_the_exporting_lists_only(client, org):
    client.force_login(org.director)
    schema = client.get("/api/schema/", {"format": "json"}).json()

    def parameters(path: str, method: str = "get") -> set[str]:
        return {p["name"] for p in schema["paths"][path][method].get("parameters", [])}

    for resource in ("opportunities", "accounts", "contacts", "visits", "targets"):
        assert {"format", "encoding"} <= parameters(f"/api/v1/{resource}/"), resource
        assert "format" not in parameters(f"/api/v1/{resource}/{{id}}/"), resource
        assert set(schema["paths"][f"/api/v1/{resource}/"]["get"]["responses"]["200"]["content"]) == {
            "application/json",
            "text/csv",
            XLSX_MEDIA_TYPE,
        }
        assert set(schema["paths"][f"/api/v1/{resource}/"]["get"]["responses"]["400"]["content"]) == {
            "application/json"
        }
    assert "format" not in parameters("/api/v1/stages/")


@pytest.mark.parametrize(
    "path", ["/api/v1/opportunities/", "/api/v1/accounts/", "/api/v1/contacts/", "/api/v1/visits/"]
)
def test_an_api_export_runs_the_same_queries_for_3_rows_as_for_30(api, org, path):
    client = api(org.rep_a1)

    def add(n: int) -> None:
        for _ in range(n):
            account = AccountFactory(owner=org.rep_a1)
            ContactFactory(account=account)
            OpportunityFactory(owner=org.rep_a1, account=account)
            VisitFactory(account=account)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            csv_rows(client.get(path, {"format": "csv"}))
        return len(queries)

    add(3)
    few = count()
    add(27)
    assert count() == few == 2  # the export's one read and the record
