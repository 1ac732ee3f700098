"""API tokens: one per device, stored hashed, expiring, revoked by DELETE and by any password change."""

import hashlib
from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
import time_machine
from django.contrib.auth.tokens import default_token_generator
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from accounts.tokens import ApiToken, issue_token, usable_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


def sign_in(username: str = "rep1", password: str = "pw", **headers) -> dict:
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, **headers)
    assert response.status_code == 200, response.json()
    return response.json()


def status_with(key: str) -> int:
    return APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/regions/").status_code


@time_machine.travel(NOW, tick=False)
def test_the_answer_keeps_its_shape_and_adds_when_the_token_expires_thirty_days_on():
    UserFactory(username="rep1")

    body = sign_in()

    assert set(body) == {"token", "expires_at"}
    assert len(body["token"]) == 40
    assert body["expires_at"] == "2026-04-01T09:30:00+08:00"


@time_machine.travel(NOW, tick=False)
def test_the_lifetime_follows_api_token_ttl_days(settings):
    settings.API_TOKEN_TTL_DAYS = 7
    UserFactory(username="rep1")

    assert sign_in()["expires_at"] == "2026-03-09T09:30:00+08:00"


def test_each_sign_in_issues_another_token_so_every_device_keeps_its_own():
    user = UserFactory(username="rep1")

    phone, laptop = sign_in()["token"], sign_in()["token"]

    assert phone != laptop
    assert (status_with(phone), status_with(laptop)) == (200, 200)
    assert user.api_tokens.count() == 2


def test_only_a_digest_of_the_key_is_stored():
    UserFactory(username="rep1")

    key = sign_in()["token"]

    stored = ApiToken.objects.values().get()
    assert stored["digest"] == hashlib.sha256(key.encode()).hexdigest()
    assert not [name for name, value in stored.items() if key in str(value)]


def test_a_token_works_until_it_expires_and_not_a_second_longer():
    UserFactory(username="rep1")
    with time_machine.travel(NOW, tick=False):
        key = sign_in()["token"]

    with time_machine.travel(NOW + timedelta(days=30, seconds=-1), tick=False):
        assert status_with(key) == 200
    with time_machine.travel(NOW + timedelta(days=30), tick=False):
        response = APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/regions/")

    assert (response.status_code, response.json()["code"]) == (401, "authentication_failed")


def test_delete_revokes_the_token_that_signs_it_and_no_other():
    user = UserFactory(username="rep1")
    phone, laptop = sign_in()["token"], sign_in()["token"]
    client = APIClient(HTTP_AUTHORIZATION=f"Token {phone}")

    response = client.delete("/api/v1/auth/token/")

    assert (response.status_code, response.content) == (204, b"")
    assert (status_with(phone), status_with(laptop)) == (401, 200)
    assert list(user.api_tokens.values_list("digest", flat=True)) == [hashlib.sha256(laptop.encode()).hexdigest()]
    again = client.delete("/api/v1/auth/token/")
    assert (again.status_code, again.json()["code"]) == (401, "authentication_failed")


def test_delete_needs_a_token_a_session_revokes_nothing():
    user = UserFactory(username="rep1")
    sign_in()
    client = APIClient()
    client.force_login(user)

    response = client.delete("/api/v1/auth/token/")

    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Token"
    assert user.api_tokens.count() == 1


def test_signing_in_ignores_an_authorization_header_as_it_always_did():
    UserFactory(username="rep1")

    assert sign_in(HTTP_AUTHORIZATION="Token not-a-token")["token"]


def change_by_set_password(user, client):
    user.set_password("new-secret-42")
    user.save()


def change_in_the_admin(user, client):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "new-secret-42", "password2": "new-secret-42", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def change_by_password_reset(user, client):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = client.get(reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(user)]))
    assert link.status_code == 302
    response = client.post(link["Location"], {"new_password1": "new-secret-42", "new_password2": "new-secret-42"})
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.mark.parametrize(
    "change_password",
    [change_by_set_password, change_in_the_admin, change_by_password_reset],
    ids=["set_password", "admin", "password reset"],
)
def test_a_password_change_revokes_every_token_of_the_user(client, change_password):
    user = UserFactory(username="rep1")
    phone, laptop = sign_in()["token"], sign_in()["token"]
    colleague = UserFactory(username="rep2")
    theirs = sign_in("rep2")["token"]

    change_password(user, client)

    assert (status_with(phone), status_with(laptop), status_with(theirs)) == (401, 401, 200)
    fresh = sign_in(password="new-secret-42")["token"]
    assert status_with(fresh) == 200
    assert user.api_tokens.count() == 1  # signing in again forgot the revoked ones
    assert colleague.api_tokens.count() == 1


def test_a_deactivated_users_tokens_stop_working():
    user = UserFactory(username="rep1")
    key = sign_in()["token"]

    user.is_active = False
    user.save()

    assert status_with(key) == 401


def test_signing_in_again_forgets_the_users_expired_tokens():
    user = UserFactory(username="rep1")
    with time_machine.travel(NOW, tick=False):
        sign_in()
    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        fresh = sign_in()["token"]

    assert list(user.api_tokens.values_list("digest", flat=True)) == [hashlib.sha256(fresh.encode()).hexdigest()]


def test_tokens_survive_a_secret_key_rotation_while_the_old_key_is_a_fallback(settings):
    UserFactory(username="rep1")
    key = sign_in()["token"]
    old_secret = settings.SECRET_KEY

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key-" * 4, [old_secret]
    assert status_with(key) == 200
    settings.SECRET_KEY_FALLBACKS = []
    assert status_with(key) == 401


def test_checking_a_token_takes_one_query(django_assert_num_queries):
    key = issue_token(user=UserFactory(username="rep1")).key

    with django_assert_num_queries(1):
        token = usable_token(key)

    assert token.user.username == "rep1"


def test_the_schema_documents_the_token_answer_and_its_revocation(org):
    client = APIClient()
    client.force_login(org.rep_a1)
    schema = client.get("/api/schema/", {"format": "json"}, HTTP_ACCEPT_LANGUAGE="en").json()

    operations = schema["paths"]["/api/v1/auth/token/"]
    assert set(operations) == {"post", "delete"}
    assert "security" not in operations["post"]  # signing in needs no token
    assert sorted(schema["components"]["schemas"]["Token"]["properties"]) == ["expires_at", "token"]
    assert set(operations["delete"]["responses"]) >= {"204", "401", "429"}
    assert operations["delete"]["security"] == [{"tokenAuth": []}]


@pytest.mark.django_db(transaction=True)
def test_the_migration_drops_drf_plaintext_tokens_with_their_table_and_records():
    user = UserFactory(username="rep1")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, user_id bigint)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", ["9944b0919" * 4 + "abcd", NOW, user.pk])
    MigrationRecorder(connection).record_applied("authtoken", "0001_initial")
    migration = import_module("accounts.migrations.0005_api_tokens")

    with connection.schema_editor() as editor:
        migration.drop_plaintext_drf_tokens(None, editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    assert not MigrationRecorder(connection).migration_qs.filter(app="authtoken").exists()
    with connection.schema_editor() as editor:
        migration.drop_plaintext_drf_tokens(None, editor)  # a database that never had the table
