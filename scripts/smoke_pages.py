"""Renders the main pages as each demo role on the configured database and fails loudly if one does not answer.

Usage (after `manage.py migrate` and `manage.py seed_demo`):
    python scripts/smoke_pages.py [USERNAME ...]        # default: director manager1 rep1
Exits 1 and names every page that did not answer 200 with the expected text. Works with DEBUG on (`make run`) and
off (production settings after `collectstatic`: requests are then made over HTTPS, as behind the proxy).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesflow.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402

from accounts.models import Account, User  # noqa: E402
from pipeline.models import Opportunity, Visit  # noqa: E402

DEFAULT_USERNAMES = ["director", "manager1", "rep1"]
# Pages every role opens; a name not (yet) in the URLconf is reported as skipped, not failed.
LIST_PAGES = [
    "home",
    "pipeline:board",
    "pipeline:opportunity_list",
    "pipeline:visit_list",
    "pipeline:visit_plan",
    "pipeline:visit_log",
    "accounts:list",
    "pipeline:search",
    "analytics:matrix",
    "analytics:territory",
    "analytics:targets",
    "analytics:forecast",
    "analytics:changes",
    "analytics:winloss",
    "profile",
]
# Pages only some roles open (the others get 404), by URL name and the roles that open them.
ROLE_PAGES = [
    ("analytics:team", ("manager", "director")),
    ("analytics:targets_edit", ("manager", "director")),
    ("pipeline:imports", ("manager", "director")),
    ("analytics:jobs", ("director",)),
    ("pipeline:webhook_list", ("director",)),
]


@dataclass
class Check:
    who: str
    page: str
    status: int | None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def say(text: str) -> None:
    sys.stdout.write(text + "\n")


def url_or_none(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def fetch(client: Client, url: str):
    # With production settings every plain-HTTP request is redirected to HTTPS, as the proxy would have done.
    return client.get(url, secure=settings.SECURE_SSL_REDIRECT, follow=False)


def check_page(client: Client, who: str, name: str, url: str, expected: list[str]) -> Check:
    try:
        response = fetch(client, url)
    except Exception as error:  # a template or query error: report it with the page, keep checking the others
        return Check(who, name, None, f"raised {type(error).__name__}: {error}")
    if response.status_code != 200:
        return Check(who, name, response.status_code, f"{url} answered {response.status_code}, expected 200")
    body = response.content.decode()
    missing = [text for text in expected if text not in body]
    if missing:
        return Check(who, name, 200, f"{url} does not contain {missing}")
    return Check(who, name, 200)


def detail_pages(user: User) -> list[tuple[str, str | None]]:
    """The first visible opportunity, account and visit of the user, by URL name and URL."""
    pages = []
    opportunity = Opportunity.objects.visible_to(user).order_by("pk").first()
    account = Account.objects.visible_to(user).order_by("pk").first()
    visit = Visit.objects.visible_to(user).order_by("pk").first()
    if opportunity:
        pages.append(("pipeline:opportunity", url_or_none("pipeline:opportunity", opportunity.pk)))
    if account:
        pages.append(("accounts:detail", url_or_none("accounts:detail", account.pk)))
    if visit:
        pages.append(("pipeline:visit", url_or_none("pipeline:visit", visit.pk)))
    rep = User.objects.visible_to(user).filter(role=User.Role.REP, is_active=True).order_by("pk").first()
    if rep:
        pages.append(("analytics:rep_cockpit", url_or_none("analytics:rep_cockpit", rep.pk)))
    return pages


def smoke(usernames: list[str]) -> list[Check]:
    checks: list[Check] = []
    anonymous = Client()
    login_url = reverse("login")
    response = fetch(anonymous, reverse("home"))
    redirected = response.status_code == 302 and response["Location"].startswith(login_url)
    checks.append(Check("anonymous", "home", response.status_code, "" if redirected else "home did not ask to log in"))
    checks.append(check_page(anonymous, "anonymous", "login", login_url, ['name="password"']))

    for username in usernames:
        user = User.objects.filter(username=username).first()
        if user is None:
            checks.append(Check(username, "-", None, f"no user {username!r}: run seed_demo first"))
            continue
        client = Client()
        client.force_login(user)
        # Each signed-in page shows who is signed in and a way to log out.
        expected = [user.display_name, f'action="{reverse("logout")}"']
        pages = [(name, url_or_none(name)) for name in LIST_PAGES] + detail_pages(user)
        pages += [(name, url_or_none(name)) for name, roles in ROLE_PAGES if user.role in roles]
        for name, url in pages:
            if url is None:
                say(f"  skipped {name}: no such URL yet")
                continue
            checks.append(check_page(client, username, name, url, expected))
        for name, url, text in other_pages(user):
            checks.append(check_page(client, username, name, url, [text]))
    return checks


def other_pages(user: User) -> list[tuple[str, str, str]]:
    """Pages outside our layout, by URL name, URL and a text they contain: the API docs, and the admin for staff."""
    pages = []
    if docs_url := url_or_none("api-docs"):
        pages.append(("api-docs", docs_url, "swagger-ui"))
    if user.is_staff:
        pages.append(("admin:index", reverse("admin:index"), 'id="site-name"'))
        pages.append(("admin: accounts", reverse("admin:accounts_account_changelist"), 'id="result_list"'))
        pages.append(("admin: opportunities", reverse("admin:pipeline_opportunity_changelist"), 'id="result_list"'))
    return pages


def main(argv: list[str]) -> int:
    setup_test_environment()  # lets the test client's host in and keeps email in memory
    usernames = argv or DEFAULT_USERNAMES
    say(f"Smoke test of pages on {settings.DATABASES['default']['ENGINE']} (DEBUG={settings.DEBUG})")
    checks = smoke(usernames)
    for check in checks:
        mark = "ok  " if check.ok else "FAIL"
        say(f"  {mark} {check.who:<10} {check.page:<26} {check.status or '-'} {check.problem}")
    failed = [check for check in checks if not check.ok]
    say(f"smoke: {len(checks) - len(failed)} pages ok, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
