"""Headers every response carries, the API docs behind a sign-in, and no inline script anywhere (SPEC trust rules)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def _directives(header: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


@pytest.mark.parametrize("path", ["/login/", "/", "/api/v1/opportunities/"])
def test_every_response_forbids_inline_script_and_unused_browser_features(client, org, path):
    client.force_login(org.rep_a1)

    response = client.get(path)

    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["default-src"]
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "geolocation=()" in response.headers["Permissions-Policy"]
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_template_carries_an_inline_script_or_event_handler():
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+=\"", text):
            offenders.append(str(template.relative_to(TEMPLATES)))

    assert offenders == []


def test_the_api_schema_and_docs_need_a_signed_in_user():
    anonymous = APIClient()

    schema = anonymous.get("/api/schema/", {"format": "json"})
    docs = anonymous.get("/api/docs/")

    assert schema.status_code in (401, 403)
    assert "paths" not in schema.content.decode()
    assert docs.status_code == 302
    assert docs.headers["Location"].startswith("/login/?next=/api/docs/")


def test_a_setting_opens_the_api_schema_and_docs_to_everyone(settings):
    settings.API_DOCS_PUBLIC = True
    anonymous = APIClient()

    assert anonymous.get("/api/schema/", {"format": "json"}).status_code == 200
    assert anonymous.get("/api/docs/").status_code == 200


def test_the_docs_script_is_served_as_a_file_for_the_content_security_policy(org):
    client = APIClient()
    client.force_login(org.rep_a1)

    page = client.get("/api/docs/").content.decode()
    script = client.get("/api/docs/", {"script": ""})

    assert re.search(r'<script src="[^"]*\?script=', page)
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()


def test_every_page_names_its_icon_and_favicon_ico_leads_to_it(client, org):
    client.force_login(org.rep_a1)

    home = client.get("/").content.decode()
    icon = client.get("/favicon.ico")

    assert '<link rel="icon" href="/static/favicon.svg"' in home
    assert icon.status_code == 301
    assert icon.headers["Location"] == "/static/favicon.svg"
