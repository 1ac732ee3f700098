"""Locust users for `make loadtest`: scripts/loadtest.py starts Locust with this file against its own gunicorn.

MixUser works like a rep in issue 10's mix: 30% home page, 20% board, 25% an account page of their own, 25% a visit
planned through the API (token auth). LoginPageUser only opens /login/, the trivial page the mix is compared with.

Every rep signs in once before the clock starts (loadtest.py: the /login/ form and POST /api/v1/auth/token/), so the
statistics hold the mix and nothing else; the sessions, tokens and visible account ids come in the JSON file named by
LOADTEST_CREDENTIALS. Users take the reps in turn (rep1, rep2, ...). LOADTEST_WAIT is each user's think time between
requests: "min-max" seconds (default 0.5-1.5) or "0" for none (a closed loop, which measures capacity).
"""

from __future__ import annotations

import itertools
import json
import os
import random
from datetime import datetime, timedelta, timezone
from functools import cache

from locust import FastHttpUser, between, constant, task
from requests.cookies import create_cookie

# Task name → weight (per cent of the mix's requests).
MIX_WEIGHTS = {"home": 30, "board": 20, "account page": 25, "visit create (API)": 25}
DEFAULT_WAIT = "0.5-1.5"
LOGIN_PAGE = "login page"
LOAD_PURPOSE = "负载测试 load test"  # scripts/loadtest.py deletes the visits with this purpose after the run
CHINA = timezone(timedelta(hours=8))


def think_time(text: str):
    """Locust's wait_time for "min-max" seconds, or a constant for a single number ("0": no think time)."""
    low, _, high = text.partition("-")
    return between(float(low), float(high)) if high else constant(float(low))


@cache
def credentials() -> list[dict]:
    """[{username, cookies: {name: value}, token, account_ids}] for each rep, written by loadtest.py."""
    with open(os.environ["LOADTEST_CREDENTIALS"], encoding="utf-8") as file:
        return json.load(file)["reps"]


_next_rep = itertools.count()


class MixUser(FastHttpUser):
    wait_time = think_time(os.environ.get("LOADTEST_WAIT", DEFAULT_WAIT))

    def on_start(self) -> None:
        reps = credentials()
        self.rep = reps[next(_next_rep) % len(reps)]
        for name, value in self.rep["cookies"].items():
            self.client.cookiejar.set_cookie(create_cookie(name, value))
        self.api_headers = {"Authorization": f"Token {self.rep['token']}"}

    def page(self, url: str, name: str) -> None:
        """A page must answer 200 itself: a redirect (to /login/, say) is an error, not a success."""
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{name} answered {response.status_code}")

    @task(MIX_WEIGHTS["home"])
    def home(self) -> None:
        self.page("/", "home")

    @task(MIX_WEIGHTS["board"])
    def board(self) -> None:
        self.page("/pipeline/board/", "board")

    @task(MIX_WEIGHTS["account page"])
    def account_page(self) -> None:
        self.page(f"/accounts/{random.choice(self.rep['account_ids'])}/", "account page")

    @task(MIX_WEIGHTS["visit create (API)"])
    def visit_create(self) -> None:
        planned = datetime.now(CHINA).replace(second=0, microsecond=0) + timedelta(days=random.randint(1, 20))
        body = {
            "account": random.choice(self.rep["account_ids"]),
            "planned_at": planned.replace(hour=random.randint(9, 17)).isoformat(),
            "purpose": LOAD_PURPOSE,
        }
        name = "visit create (API)"
        with self.client.post(
            "/api/v1/visits/", json=body, headers=self.api_headers, name=name, catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"{name} answered {response.status_code}: {response.text[:200]}")


class LoginPageUser(FastHttpUser):
    wait_time = think_time(os.environ.get("LOADTEST_WAIT", DEFAULT_WAIT))

    @task
    def login_page(self) -> None:
        with self.client.get("/login/", name=LOGIN_PAGE, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"/login/ answered {response.status_code}")
