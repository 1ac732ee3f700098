"""Password guessing at POST /api/v1/auth/token/: ten failures lock the username, and the address, for 15 minutes.

Every lockout case runs with both stores django-axes may count in: the database (no REDIS_URL) and the cache (Redis in
production, this process's memory here; tests/test_bruteforce_gunicorn.py covers Redis shared by real workers).
"""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from accounts.tokens import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
LOCKED = "登录失败次数过多，已暂停登录 15 分钟，请稍后再试。"


@pytest.fixture(
    params=["axes.handlers.database.AxesDatabaseHandler", "axes.handlers.cache.AxesCacheHandler"],
    ids=["database", "cache"],
)
def rep(request, settings):
    """rep1 (password "pw"), with failures counted in the database or in the cache."""
    settings.AXES_HANDLER = request.param  # django-axes picks up the new handler when the setting changes
    return UserFactory(username="rep1")


def attempt(password: str, username: str = "rep1", **request) -> tuple[int, str]:
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, **request)
    return response.status_code, response.json().get("code", "")


def test_ten_failures_lock_the_username_and_then_even_the_right_password_is_refused(rep):
    failures = [attempt("wrong") for _ in range(10)]
    response = APIClient().post("/api/v1/auth/token/", {"username": "rep1", "password": "pw"})

    assert failures == [(400, "authorization")] * 9 + [(429, "locked_out")]
    assert (response.status_code, response.json()) == (429, {"detail": LOCKED, "code": "locked_out"})
    assert response.headers["Retry-After"] == "900"
    assert ApiToken.objects.count() == 0


def test_nine_failures_do_not_lock(rep):
    for _ in range(9):
        attempt("wrong")

    assert attempt("pw") == (200, "")


def test_the_lock_speaks_the_language_of_the_request(rep):
    for _ in range(10):
        attempt("wrong")

    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "rep1", "password": "pw"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.json()["detail"] == (
        "Too many failed sign-ins. Signing in is paused for 15 minutes; please try again later."
    )


def test_x_forwarded_for_is_ignored_without_trusted_proxies(rep, settings):
    settings.NUM_PROXIES = 0
    failures = [attempt("wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}") for n in range(10)]

    assert failures[-1] == (429, "locked_out")
    assert attempt("pw", HTTP_X_FORWARDED_FOR="198.51.100.1") == (429, "locked_out")


def test_the_lock_on_a_username_holds_from_every_address(rep):
    for n in range(10):
        attempt("wrong", REMOTE_ADDR=f"10.0.0.{n}")

    assert attempt("pw", REMOTE_ADDR="10.0.1.1") == (429, "locked_out")


def test_ten_failures_from_one_address_lock_that_address_for_every_username(rep):
    for n in range(10):
        attempt("wrong", username=f"guess{n}", REMOTE_ADDR="10.1.1.1")

    assert attempt("pw", REMOTE_ADDR="10.1.1.1") == (429, "locked_out")
    assert attempt("pw", REMOTE_ADDR="10.1.1.2") == (200, "")


def test_with_one_trusted_proxy_the_address_it_forwards_is_the_client(rep, settings):
    settings.NUM_PROXIES = 1
    behind_proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(10):
        attempt("wrong", username=f"guess{n}", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 198.51.100.7", **behind_proxy)

    assert attempt("pw", HTTP_X_FORWARDED_FOR="198.51.100.7", **behind_proxy) == (429, "locked_out")
    assert attempt("pw", HTTP_X_FORWARDED_FOR="198.51.100.7, 198.51.100.8", **behind_proxy) == (200, "")


def test_a_username_spelled_like_an_address_does_not_lock_that_address(rep):
    for n in range(10):
        attempt("wrong", username="10.9.9.9", REMOTE_ADDR=f"10.0.0.{n}")

    assert attempt("pw", REMOTE_ADDR="10.9.9.9") == (200, "")


def test_the_lock_ends_fifteen_minutes_after_it_began(rep):
    with time_machine.travel(NOW, tick=False):
        for _ in range(10):
            attempt("wrong")
    with time_machine.travel(NOW + timedelta(minutes=14, seconds=59), tick=False):
        assert attempt("pw") == (429, "locked_out")  # refused, and not counted: the lock does not grow
    with time_machine.travel(NOW + timedelta(minutes=15, seconds=1), tick=False):
        assert attempt("pw") == (200, "")


def test_failures_fifteen_minutes_apart_do_not_add_up(rep):
    with time_machine.travel(NOW, tick=False):
        for _ in range(9):
            attempt("wrong")
    with time_machine.travel(NOW + timedelta(minutes=15, seconds=1), tick=False):
        assert attempt("wrong") == (400, "authorization")
        assert attempt("pw") == (200, "")


def test_the_auth_throttle_counts_per_connection_and_ignores_x_forwarded_for(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/minute"},
    }

    codes = [APIClient().post("/api/v1/auth/token/", {}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}") for n in range(4)]

    assert [(r.status_code, r.json()["code"]) for r in codes] == [(400, "required")] * 3 + [(429, "throttled")]


def test_the_auth_throttle_follows_the_forwarded_address_behind_one_trusted_proxy(settings):
    settings.NUM_PROXIES = 1
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/minute"},
    }

    codes = [APIClient().post("/api/v1/auth/token/", {}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}") for n in range(4)]

    assert [r.status_code for r in codes] == [400] * 4


@pytest.mark.parametrize(
    ("redis_url", "cache_backend", "handler"),
    [
        ("redis://cache.internal:6379/3", "django.core.cache.backends.redis.RedisCache", "cache.AxesCacheHandler"),
        ("", "django.core.cache.backends.locmem.LocMemCache", "database.AxesDatabaseHandler"),
    ],
)
def test_workers_share_their_counts_in_redis_when_it_is_configured_else_in_the_database(
    redis_url, cache_backend, handler
):
    environment = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "salesflow.settings", "REDIS_URL": redis_url}
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.CACHES['default']['BACKEND'], s.CACHES['default'].get('LOCATION', ''), s.AXES_HANDLER,"
        " s.NUM_PROXIES, s.REST_FRAMEWORK['NUM_PROXIES']]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=django_settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        cache_backend,
        redis_url,
        f"axes.handlers.{handler}",
        0,
        0,
    ]
