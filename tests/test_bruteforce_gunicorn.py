"""Password guessing against a real gunicorn with three workers on loopback, DEBUG off: the lockout and the API
throttle hold across workers, whatever X-Forwarded-For says.

The workers run the project's settings (only static files are served unhashed, as in every test) against this test's
database, so the rows written here are committed (transaction=True): PostgreSQL by name, SQLite as a file (a copy when
the test database lives in memory). They count sign-in failures in Redis when REDIS_URL is set (CI), in the database
otherwise; the cache, and with it the API throttle, is shared only through Redis (under a key prefix of this run's
own). Each phase connects from its own loopback address (127.0.0.N), so the per-address throttle and lockout of one
phase do not decide the next.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import make_password
from django.db import connection

from accounts.models import User

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "right-horse-battery-42"
# With REDIS_URL the workers share the cache, hence the API throttle counts; without it each has its own memory (and
# the sign-in lockout counts in the database).
SHARED_CACHE = bool(os.environ.get("REDIS_URL"))
WORKERS = 3
BOOT_SECONDS = 90
SETTINGS_MODULE = """
from salesflow.settings import *  # the project's settings; only static files are served without a manifest

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
"""


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Server:
    port: int

    def request(self, method: str, path: str, *, source: str, body: str = "", headers: dict | None = None) -> Answer:
        """One request on a new connection (so the workers take turns) from the loopback address `source`."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60, source_address=(source, 0))
        try:
            connection.request(method, path, body=body.encode() or None, headers=headers or {})
            response = connection.getresponse()
            return Answer(response.status, response.headers, response.read().decode())
        finally:
            connection.close()

    def post_json(self, path: str, data: dict, *, source: str, headers: dict | None = None) -> Answer:
        headers = {"Content-Type": "application/json", **(headers or {})}
        return self.request("POST", path, source=source, body=json.dumps(data), headers=headers)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def reachable_database_url(tmp_path) -> str:
    """A DATABASE_URL another process can open that holds this test's committed rows."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        if not connection.is_in_memory_db():
            return f"sqlite:///{database['NAME']}"
        copy = tmp_path / "db.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(copy) as target:
            connection.connection.backup(target)
        return f"sqlite:///{copy}"
    user = quote(database.get("USER") or "", safe="")
    password = quote(database.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{credentials}{database.get('HOST') or ''}{port}/{database['NAME']}"


@pytest.fixture
def users(settings):
    """alice, bob and carol, with a password hashed as production hashes it (the workers know no test hasher)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    hashed = make_password(PASSWORD)
    return [User.objects.create(username=name, password=hashed) for name in ("alice", "bob", "carol")]


@pytest.fixture
def gunicorn(users, tmp_path):
    (tmp_path / "bruteforce_settings.py").write_text(SETTINGS_MODULE)
    port = free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bruteforce_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(django_settings.BASE_DIR)]),
        "DATABASE_URL": reachable_database_url(tmp_path),
        "DEBUG": "0",
        "SECRET_KEY": f"bruteforce-{uuid.uuid4().hex}-{uuid.uuid4().hex}",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "NUM_PROXIES": "0",
        "CACHE_KEY_PREFIX": f"bruteforce-{uuid.uuid4().hex}",
        "LOG_LEVEL": "ERROR",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "salesflow.wsgi:application", "--workers", str(WORKERS),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=django_settings.BASE_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    server = Server(port)
    try:
        deadline = time.monotonic() + BOOT_SECONDS
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if server.request("GET", "/login/", source="127.0.0.1").status == 200:
                    break
            except OSError:
                time.sleep(0.25)
        assert process.poll() is None, "gunicorn exited"
        yield server
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        print(output)  # shown by pytest when the test fails  # noqa: T201


def guess_token_passwords(server: Server) -> None:
    guesses = [
        server.post_json(
            "/api/v1/auth/token/",
            {"username": "alice", "password": f"guess-{n}"},
            source="127.0.0.2",
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
        for n in range(30)
    ]
    right_from_elsewhere = server.post_json(
        "/api/v1/auth/token/",
        {"username": "alice", "password": PASSWORD},
        source="127.0.0.3",
        headers={"X-Forwarded-For": "198.51.100.1"},
    )

    assert [answer.status for answer in guesses] == [400] * 9 + [429] * 21
    # The tenth failure locks alice (and 127.0.0.2); from the 21st request 127.0.0.2 is also over 20/minute, which
    # the workers count together when they share Redis.
    codes = [answer.json()["code"] for answer in guesses[9:]]
    if SHARED_CACHE:
        assert codes == ["locked_out"] * 11 + ["throttled"] * 10
    else:
        assert codes[:11] == ["locked_out"] * 11
        assert set(codes) <= {"locked_out", "throttled"}
    assert (right_from_elsewhere.status, right_from_elsewhere.json()["code"]) == (429, "locked_out")
    assert right_from_elsewhere.headers["Retry-After"] == "900"


def guess_login_passwords(server: Server) -> None:
    page = server.request("GET", "/login/", source="127.0.0.5", headers={"Accept-Language": "en"})
    csrf_cookie = SimpleCookie(page.headers["Set-Cookie"])["csrftoken"].value
    csrf_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1)

    def sign_in(password: str, *, source: str, forwarded_for: str) -> Answer:
        return server.request(
            "POST",
            "/login/",
            source=source,
            body=urlencode({"username": "carol", "password": password, "csrfmiddlewaretoken": csrf_token}),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={csrf_cookie}",
                "Accept-Language": "en",
                "X-Forwarded-For": forwarded_for,
            },
        )

    guesses = [sign_in(f"guess-{n}", source="127.0.0.5", forwarded_for=f"203.0.113.{n}") for n in range(30)]
    right_from_elsewhere = sign_in(PASSWORD, source="127.0.0.6", forwarded_for="198.51.100.1")

    assert [answer.status for answer in guesses] == [200] * 9 + [429] * 21
    assert all("Your username and password didn" in answer.body for answer in guesses[:9])
    locked = "Too many failed sign-ins. Signing in is paused for 15 minutes; please try again later."
    assert all(locked in answer.body for answer in guesses[9:])
    assert (right_from_elsewhere.status, right_from_elsewhere.headers["Retry-After"]) == (429, "900")
    assert locked in right_from_elsewhere.body
    assert "sessionid" not in (right_from_elsewhere.headers["Set-Cookie"] or "")


def test_password_guessing_is_stopped_across_three_workers_whatever_x_forwarded_for_says(gunicorn):
    guess_token_passwords(gunicorn)
    guess_login_passwords(gunicorn)

    if SHARED_CACHE:  # the API throttle (20/minute per address) counts across workers; in their memories 25 pass
        throttled = [gunicorn.post_json("/api/v1/auth/token/", {}, source="127.0.0.7") for _ in range(25)]
        assert [answer.status for answer in throttled] == [400] * 20 + [429] * 5

    # The locks are aimed: bob signs in, and his token works until he revokes it.
    bob = gunicorn.post_json("/api/v1/auth/token/", {"username": "bob", "password": PASSWORD}, source="127.0.0.4")
    assert bob.status == 200
    signed = {"Authorization": f"Token {bob.json()['token']}"}
    assert gunicorn.request("GET", "/api/v1/regions/", source="127.0.0.4", headers=signed).status == 200
    assert gunicorn.request("DELETE", "/api/v1/auth/token/", source="127.0.0.4", headers=signed).status == 204
    assert gunicorn.request("GET", "/api/v1/regions/", source="127.0.0.4", headers=signed).status == 401
