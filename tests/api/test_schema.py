"""The OpenAPI schema at /api/schema/ and the docs at /api/docs/ served from our own static files."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

RESOURCES = [
    "accounts",
    "contacts",
    "opportunities",
    "visits",
    "targets",
    "competitors",
    "regions",
    "industries",
    "stages",
    "installed-base",
    "account-years",
    "teams",
    "users",
]
ACTIONS = [
    "/api/v1/opportunities/{id}/move/",
    "/api/v1/opportunities/{id}/win/",
    "/api/v1/opportunities/{id}/lose/",
    "/api/v1/opportunities/{id}/reopen/",
    "/api/v1/opportunities/{id}/reassign/",
    "/api/v1/opportunities/{id}/criteria/",
    "/api/v1/visits/{id}/complete/",
    "/api/v1/visits/{id}/cancel/",
]


@pytest.fixture
def schema(org):
    client = APIClient()
    client.force_login(org.rep_a1)
    response = client.get("/api/schema/", {"format": "json"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.json()


def test_the_schema_validates_without_a_single_warning(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.0.3")


ARCHIVED_ON_DELETE = {"accounts", "contacts", "teams"}


def test_every_resource_lists_creates_retrieves_and_updates(schema):
    for resource in RESOURCES:
        assert set(schema["paths"][f"/api/v1/{resource}/"]) == {"get", "post"}
        deletes = {"delete"} if resource in ARCHIVED_ON_DELETE else set()
        assert set(schema["paths"][f"/api/v1/{resource}/{{id}}/"]) == {"get", "put", "patch"} | deletes, resource


def test_delete_archives_and_restore_brings_back_where_records_are_archived(schema):
    for resource in ARCHIVED_ON_DELETE:
        delete = schema["paths"][f"/api/v1/{resource}/{{id}}/"]["delete"]
        assert {"204", "403", "404", "409"} <= set(delete["responses"]), resource
        assert "archive" in delete["summary"].lower(), resource
        restore = schema["paths"][f"/api/v1/{resource}/{{id}}/restore/"]["post"]
        assert "200" in restore["responses"], resource
        listing = schema["paths"][f"/api/v1/{resource}/"]["get"]
        archived = next(p for p in listing["parameters"] if p["name"] == "archived")
        assert archived["schema"]["type"] == "boolean", resource


def test_every_post_documents_the_idempotency_key_header_and_its_422(schema):
    posts = [(path, ops["post"]) for path, ops in schema["paths"].items() if "post" in ops]
    assert len(posts) >= 20
    for path, operation in posts:
        if path == "/api/v1/auth/token/":
            continue  # signing in is not a write of the user's
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        assert [p["name"] for p in headers] == ["Idempotency-Key"], path
        assert not headers[0].get("required", False), path
        assert {"409", "422"} <= set(operation["responses"]), path


def test_every_list_is_paginated_filterable_searchable_and_orderable(schema):
    for resource in RESOURCES:
        operation = schema["paths"][f"/api/v1/{resource}/"]["get"]
        names = {p["name"] for p in operation["parameters"]}
        assert {"page", "page_size", "search", "ordering"} <= names, resource
        assert len(names) > 4, resource  # and at least one filter
        page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert page.startswith("#/components/schemas/Paginated")


def test_every_action_documents_its_request_its_answer_and_its_errors(schema):
    for path in ACTIONS:
        operation = schema["paths"][path]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"], path
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert answer in ("#/components/schemas/Opportunity", "#/components/schemas/Visit"), path
        assert {"400", "401", "403", "404", "415", "429"} <= set(operation["responses"]), path
        assert "409" in operation["responses"], path  # a stale version, or the same Idempotency-Key still running


def test_every_error_answer_is_described_by_the_error_shape(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    content = response["content"]["application/json"]
                    assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (method, path, status)
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail", "code"]
    assert error["additionalProperties"] == {"type": "array", "items": {"type": "string"}}


def test_opportunity_fields_follow_the_spec(schema):
    fields = schema["components"]["schemas"]["Opportunity"]["properties"]
    for name in [
        "stage",
        "status",
        "amount",
        "expected_close_date",
        "lost_to",
        "loss_reason",
        "is_untouched_loss",
        "furthest_stage",
        "version",
        "unmet_criteria",
    ]:
        assert name in fields, name
    assert fields["stage"]["type"] == "string"  # the stage code
    move = schema["components"]["schemas"]["MoveRequest"]
    assert (move["required"], sorted(move["properties"])) == (["stage"], ["override_reason", "stage", "version"])
    lose = schema["components"]["schemas"]["LoseRequest"]
    assert (lose["required"], sorted(lose["properties"])) == (
        ["reason"],
        ["lost_to", "note", "reason", "untouched_cause", "version"],
    )


def test_the_docs_are_served_from_our_own_static_files(org):
    client = APIClient()
    client.force_login(org.rep_a1)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/schema/" in client.get("/api/docs/", {"script": ""}).content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert not [s for s in sources if s.startswith(("http://", "https://", "//"))]
    scripts = [s for s in sources if s.startswith("/static/")]
    assert any("swagger-ui-bundle.js" in s for s in scripts)
    for url in scripts:
        assert finders.find(url.removeprefix("/static/").split("?")[0]), url
