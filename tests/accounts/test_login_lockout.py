"""Password guessing on the login page: ten failures lock the username (and the address) for 15 minutes, shown as a
form error in the visitor's language, even when the right password follows."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
WRONG = "用户名或密码不正确，请重试。"
LOCKED = "登录失败次数过多，已暂停登录 15 分钟，请稍后再试。"


@pytest.fixture(
    params=["axes.handlers.database.AxesDatabaseHandler", "axes.handlers.cache.AxesCacheHandler"],
    ids=["database", "cache"],
)
def rep(request, settings):
    """rep1 (password "pw"), with failures counted in the database or in the cache."""
    settings.AXES_HANDLER = request.param
    return UserFactory(username="rep1")


def sign_in(password: str, username: str = "rep1", client: Client | None = None, **request):
    return (client or Client()).post(reverse("login"), {"username": username, "password": password}, **request)


def test_ten_failures_lock_the_username_and_then_even_the_right_password_is_refused(rep):
    failures = [sign_in("wrong") for _ in range(10)]
    client = Client()
    response = sign_in("pw", client=client)

    assert [r.status_code for r in failures] == [200] * 9 + [429]
    assert all(WRONG in r.content.decode() for r in failures[:9])
    assert (response.status_code, response["Retry-After"]) == (429, "900")
    html = response.content.decode()
    assert LOCKED in html
    assert WRONG not in html
    assert 'name="password"' in html  # the form, with its error
    assert "_auth_user_id" not in client.session


def test_the_lockout_error_speaks_the_visitors_language(rep):
    for _ in range(10):
        sign_in("wrong")
    client = Client()
    client.cookies["django_language"] = "en"

    html = sign_in("pw", client=client).content.decode()

    assert "Too many failed sign-ins. Signing in is paused for 15 minutes; please try again later." in html


def test_x_forwarded_for_does_not_escape_the_lock_without_trusted_proxies(rep, settings):
    settings.NUM_PROXIES = 0
    for n in range(10):
        sign_in("wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    assert sign_in("pw", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429


def test_the_lock_on_a_username_holds_from_every_address(rep):
    for n in range(10):
        sign_in("wrong", REMOTE_ADDR=f"10.0.0.{n}")

    assert sign_in("pw", REMOTE_ADDR="10.0.1.1").status_code == 429


def test_ten_failures_from_one_address_lock_that_address_for_every_username(rep):
    for n in range(10):
        sign_in("wrong", username=f"guess{n}", REMOTE_ADDR="10.1.1.1")

    assert sign_in("pw", REMOTE_ADDR="10.1.1.1").status_code == 429
    assert sign_in("pw", REMOTE_ADDR="10.1.1.2").status_code == 302


def test_the_login_page_and_the_api_count_together(rep):
    for _ in range(5):
        sign_in("wrong")
        APIClient().post("/api/v1/auth/token/", {"username": "rep1", "password": "wrong"})

    assert sign_in("pw").status_code == 429
    assert APIClient().post("/api/v1/auth/token/", {"username": "rep1", "password": "pw"}).status_code == 429


def test_the_lock_ends_fifteen_minutes_after_it_began(rep):
    with time_machine.travel(NOW, tick=False):
        for _ in range(10):
            sign_in("wrong")
    with time_machine.travel(NOW + timedelta(minutes=14, seconds=59), tick=False):
        assert sign_in("pw").status_code == 429
    with time_machine.travel(NOW + timedelta(minutes=15, seconds=1), tick=False):
        response = sign_in("pw")

    assert (response.status_code, response["Location"]) == (302, reverse("home"))


def test_the_admin_login_is_refused_with_a_plain_429(rep):
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    for _ in range(10):
        Client().post("/admin/login/", {"username": "boss", "password": "wrong"})

    response = Client().post("/admin/login/", {"username": "boss", "password": "pw"})

    assert (response.status_code, response["Retry-After"]) == (429, "900")
    assert response.content.decode() == LOCKED
