"""Signing in (session and token), the JSON error shape, the user's language and throttling."""

import pytest
from django.test import Client
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIClient

from accounts.tokens import ApiToken, issue_token
from core.errors import NotAllowed
from salesflow.api import exception_handler
from tests.factories import OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_username_and_password_give_a_token_which_signs_requests_in(org):
    OpportunityFactory(owner=org.rep_a1)
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "rep_a1", "password": "pw"})
    assert response.status_code == 200
    assert set(response.json()) == {"token", "expires_at"}
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/opportunities/").json()["count"] == 1


@pytest.mark.parametrize(
    "body",
    [{"username": "rep_a1", "password": "wrong"}, {"username": "nobody", "password": "pw"}, {"username": "inactive"}],
)
def test_bad_credentials_answer_400_and_create_no_token(org, body):
    UserFactory(username="inactive", is_active=False)
    response = APIClient().post("/api/v1/auth/token/", {"password": "pw", **body})
    assert response.status_code == 400
    assert {"detail", "code"} <= set(response.json())
    assert ApiToken.objects.count() == 0


def test_without_credentials_the_api_answers_401_asking_for_a_token(org):
    response = APIClient().get("/api/v1/accounts/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"
    bad = APIClient(HTTP_AUTHORIZATION="Token nonsense").get("/api/v1/accounts/")
    assert (bad.status_code, bad.json()["code"]) == (401, "authentication_failed")


def test_a_session_signs_in_too_and_its_writes_need_the_csrf_token(org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.director)
    assert client.get("/api/v1/competitors/").status_code == 200
    refused = client.post("/api/v1/competitors/", {"name": "Rival"}, content_type="application/json")
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")


@pytest.mark.parametrize(
    ("language", "not_found", "min_value"),
    [
        ("en", "Not found.", "Ensure this value is greater than or equal to 0."),
        ("zh-hans", "未找到。", "请确保该值大于或者等于 0。"),
    ],
)
def test_errors_speak_the_users_language_also_with_a_token(org, language, not_found, min_value):
    org.rep_a1.language = language
    org.rep_a1.save()
    opportunity = OpportunityFactory(owner=org.rep_a1)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {issue_token(user=org.rep_a1).key}")
    assert client.get("/api/v1/opportunities/999999/").json() == {"detail": not_found, "code": "not_found"}
    response = client.patch(f"/api/v1/opportunities/{opportunity.pk}/", {"amount": "-1"}, format="json")
    assert response.json() == {"amount": [min_value], "detail": min_value, "code": "min_value"}


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/accounts/abc/", "/api/v1/accounts/1.5/move/"])
def test_an_unknown_path_under_the_api_answers_a_json_404(api, org, path):
    response = api(org.director).get(path)
    assert (response.status_code, response.headers["Content-Type"]) == (404, "application/json")
    assert response.json()["code"] == "not_found"


def test_an_id_beyond_what_the_database_holds_is_simply_not_found(api, org):
    response = api(org.director).get(f"/api/v1/accounts/{2**70}/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_a_user_over_the_rate_gets_429_with_retry_after(api, org, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "2/minute"},
    }
    client = api(org.rep_a1)
    assert [client.get("/api/v1/accounts/").status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/v1/accounts/")
    assert (response.status_code, response.json()["code"]) == (429, "throttled")
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert api(org.rep_a2).get("/api/v1/accounts/").status_code == 200  # counted per user


def test_guessing_passwords_is_throttled_per_client(org, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/minute"},
    }
    client = APIClient()
    codes = [client.post("/api/v1/auth/token/", {"username": "rep_a1", "password": "x"}).status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]


def test_a_refusal_naming_a_field_answers_400_even_when_the_role_is_the_reason():
    response = exception_handler(NotAllowed("Only for directors.", field="owner"), {})
    assert (response.status_code, response.data) == (
        400,
        {"owner": ["Only for directors."], "detail": "Only for directors.", "code": "not_allowed"},
    )
    without_field = exception_handler(NotAllowed("Only for directors."), {})
    assert (without_field.status_code, without_field.data) == (
        403,
        {"detail": "Only for directors.", "code": "not_allowed"},
    )


def test_nested_errors_are_flattened_into_messages_saying_where():
    error = ValidationError({"lines": [{"units": ["Too many."]}, {}], "detail": ["Clashes with the key."]})
    assert exception_handler(error, {}).data == {
        "lines": ["units: Too many."],
        "detail_errors": ["Clashes with the key."],
        "detail": "units: Too many.",
        "code": "invalid",
    }


def test_a_body_in_a_type_the_api_cannot_read_answers_415_as_documented(api, org):
    response = api(org.director).post("/api/v1/competitors/", data="name=x", content_type="text/plain")

    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")
