"""Import pages and API (issue 14): who may import what, the upload → dry run → confirm → report flow with the run
as a Celery task, the progress partial htmx polls, the templates, and the API resources in the schema."""

import csv
from io import BytesIO, StringIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Account
from pipeline.models import ImportJob, SalesTarget
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
IMPORTS = "/imports/"


def csv_file(rows, name="accounts.csv", encoding="utf-8") -> SimpleUploadedFile:
    out = StringIO()
    csv.writer(out).writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(encoding), content_type="text/csv")


ACCOUNTS = [["外部编号", "客户名称", "负责人"], ["C001", "华东机械", "rep_a1"], ["C002", "南京电子", "rep_a2"]]


@pytest.mark.parametrize("path", [IMPORTS, "/imports/templates/accounts.xlsx", "/imports/templates/targets.xlsx"])
def test_a_rep_gets_404_everywhere(client, org, path):
    client.force_login(org.rep_a1)

    assert client.get(path).status_code == 404


def test_a_rep_gets_404_for_a_job_and_its_progress(client, org):
    job = ImportJob.objects.create(kind="accounts", file_name="a.csv", content=b"x", uploaded_by=org.director)
    client.force_login(org.rep_a1)

    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert client.get(f"/imports/{job.pk}/progress/").status_code == 404
    assert client.post(f"/imports/{job.pk}/confirm/").status_code == 404


def test_a_manager_imports_targets_only(client, org):
    client.force_login(org.manager_a)

    page = client.get(IMPORTS)
    refused = client.post(IMPORTS, {"kind": "accounts", "file": csv_file(ACCOUNTS)})

    assert [code for code, _label in page.context["form"].fields["kind"].choices] == ["targets"]
    assert client.get("/imports/templates/accounts.xlsx").status_code == 404
    assert refused.status_code == 400
    assert not ImportJob.objects.exists()


def test_upload_dry_run_confirm_and_report(client, org, celery_eager, django_capture_on_commit_callbacks):
    client.force_login(org.director)

    uploaded = client.post(IMPORTS, {"kind": "accounts", "file": csv_file(ACCOUNTS, encoding="gbk")})
    job = ImportJob.objects.get()
    dry_run = client.get(uploaded["Location"])
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(f"/imports/{job.pk}/confirm/")
    report = client.get(confirmed["Location"])

    assert uploaded.status_code == 302 and uploaded["Location"] == f"/imports/{job.pk}/"
    assert b"data-confirm-import" in dry_run.content
    assert dry_run.context["job"].status == "checked"
    assert 'data-status="done"' in report.content.decode()
    assert report.context["progress"].done == report.context["progress"].total == 2
    assert b'data-count="created">2<' in report.content
    assert sorted(Account.objects.values_list("external_key", "owner__username")) == [
        ("C001", "rep_a1"),
        ("C002", "rep_a2"),
    ]


def test_a_rejected_upload_lists_every_bad_row_and_column(client, org):
    client.force_login(org.director)
    rows = [*ACCOUNTS, ["C003", "", "rep_a1"], ["C004", "x", "nobody"]]

    response = client.get(client.post(IMPORTS, {"kind": "accounts", "file": csv_file(rows)})["Location"])

    html = response.content.decode()
    assert 'data-row="4" data-column="name"' in html
    assert 'data-row="5" data-column="owner"' in html
    assert b"data-confirm-import" not in response.content
    assert not Account.objects.exists()


def test_the_progress_partial_polls_while_the_job_runs_and_stops_when_done(client, org):
    job = ImportJob.objects.create(
        kind="accounts", file_name="a.csv", content=b"x", uploaded_by=org.director, status="running", total_rows=10
    )
    client.force_login(org.director)

    running = client.get(f"/imports/{job.pk}/progress/").content.decode()
    ImportJob.objects.filter(pk=job.pk).update(status="done", rows_done=10)
    done = client.get(f"/imports/{job.pk}/progress/").content.decode()

    assert 'hx-trigger="every 1s"' in running and 'data-total="10"' in running
    assert "hx-trigger" not in done
    assert 'data-status="done"' in done


@pytest.mark.parametrize("scale", [1, 5])
def test_the_pages_cost_the_same_whatever_the_number_of_jobs(client, org, django_assert_num_queries, scale):
    for _ in range(scale):
        job = ImportJob.objects.create(kind="accounts", file_name="a.csv", content=b"x", uploaded_by=org.director)
    client.force_login(org.director)
    client.get(IMPORTS)  # the session and user are loaded once per request either way

    with django_assert_num_queries(3):  # session, user, jobs
        assert client.get(IMPORTS).status_code == 200
    with django_assert_num_queries(3):  # session, user, job
        assert client.get(f"/imports/{job.pk}/").status_code == 200


@pytest.mark.parametrize(("language", "first"), [("zh-hans", "外部编号"), ("en", "external_key")])
def test_the_template_has_headers_in_the_users_language_and_the_aliases(client, org, language, first):
    org.director.language = language
    org.director.save()
    client.force_login(org.director)

    response = client.get(reverse("pipeline:import_template", args=["accounts"]))

    workbook = openpyxl.load_workbook(BytesIO(response.content))
    header = [cell.value for cell in workbook.worksheets[0][1]]
    aliases = {row[0]: row[1] for row in workbook.worksheets[1].iter_rows(min_row=2, values_only=True)}
    assert header[0] == first and len(header) == 12
    assert aliases["external_key"] == "external_key, key, 外部编号, 客户编号"


# --- API ------------------------------------------------------------------------------------------------------------


def test_the_api_uploads_lists_confirms_and_reports(org, celery_eager, django_capture_on_commit_callbacks):
    api = APIClient()
    api.force_authenticate(org.manager_a)
    rows = [["owner", "period_type", "period_start", "amount"], ["rep_a1", "month", "2025-02-01", "1000"]]

    created = api.post("/api/v1/imports/", {"kind": "targets", "file": csv_file(rows, "t.csv")}, format="multipart")
    job_id = created.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = api.post(f"/api/v1/imports/{job_id}/confirm/")
    detail = api.get(f"/api/v1/imports/{job_id}/").json()
    listed = api.get("/api/v1/imports/").json()

    assert created.status_code == 201
    assert (created.json()["status"], created.json()["created"], created.json()["total_rows"]) == ("checked", 1, 1)
    assert confirmed.status_code == 202
    assert (detail["status"], detail["rows_done"], detail["created"]) == ("done", 1, 1)
    assert [job["id"] for job in listed["results"]] == [job_id]
    assert SalesTarget.objects.get().owner_user == org.rep_a1


def test_the_api_names_bad_rows_and_refuses_a_kind_the_user_may_not_import(org):
    api = APIClient()
    api.force_authenticate(org.manager_a)
    AccountFactory(external_key="C001", owner=org.rep_a1)
    rows = [["owner", "period_type", "period_start", "amount"], ["rep_b1", "month", "2025-02-01", "1000"]]

    rejected = api.post("/api/v1/imports/", {"kind": "targets", "file": csv_file(rows, "t.csv")}, format="multipart")
    refused = api.post("/api/v1/imports/", {"kind": "accounts", "file": csv_file(ACCOUNTS)}, format="multipart")
    not_confirmable = api.post(f"/api/v1/imports/{rejected.json()['id']}/confirm/")

    assert rejected.status_code == 201
    assert rejected.json()["status"] == "rejected"
    assert [(e["row"], e["column"]) for e in rejected.json()["errors"]] == [(2, "owner")]
    assert refused.status_code == 404
    assert not_confirmable.status_code == 409
    assert not SalesTarget.objects.exists()


def test_a_rep_sees_no_imports_in_the_api(org):
    ImportJob.objects.create(kind="accounts", file_name="a.csv", content=b"x", uploaded_by=org.director)
    api = APIClient()
    api.force_authenticate(org.rep_a1)

    assert api.get("/api/v1/imports/").json()["results"] == []


def test_the_schema_documents_the_import_resources(org):
    api = APIClient()
    api.force_authenticate(org.director)

    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]

    assert set(paths["/api/v1/imports/"]) == {"get", "post"}
    assert set(paths["/api/v1/imports/{id}/"]) == {"get"}
    assert set(paths["/api/v1/imports/{id}/confirm/"]) == {"post"}
    assert "multipart/form-data" in paths["/api/v1/imports/"]["post"]["requestBody"]["content"]


def test_a_file_over_the_limit_is_refused_on_the_form_and_no_job_is_kept(client, org, settings):
    settings.IMPORT_MAX_BYTES = 20
    client.force_login(org.director)

    response = client.post(IMPORTS, {"kind": "accounts", "file": csv_file(ACCOUNTS)})

    assert response.status_code == 400
    assert "20" in response.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists()
