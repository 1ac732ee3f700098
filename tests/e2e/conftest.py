"""Browser tests: Playwright (Python) driving the system's headless Chromium against Django's live server.

Chromium comes from the system's packages (`make browser` installs Debian's `chromium`); Playwright never downloads a
browser here. Each test gets a fresh browser context at a desktop or phone viewport; a failing test saves a
full-page screenshot under test-results/screenshots/ and names its path in the report.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import UserFactory

SCREENSHOTS = Path(settings.BASE_DIR) / "test-results" / "screenshots"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "e2e-password-1"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.e2e


def _chromium() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator:
    path = _chromium()
    if path is None:
        message = "Chromium is not installed: run `make browser` (Debian's chromium package)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are still synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session", autouse=True)
def _plain_http_live_server():
    """The live server speaks plain HTTP on localhost. Its handler is built once, when it starts, and Django's
    SecurityMiddleware reads SECURE_SSL_REDIRECT then, so it is switched off before the server starts (every other
    test runs with it off too, see tests/conftest.py). Chromium keeps Secure cookies on http://localhost."""
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def viewport() -> dict:
    """Overridden by parametrizing a test with `indirect=["viewport"]`, or by the phone_page fixture."""
    return DESKTOP


@pytest.fixture
def page(browser, live_server, viewport, request) -> Iterator:
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"{request.node.name}.png"
        page.screenshot(path=str(shot), full_page=True)
        report.sections.append(("screenshot", f"saved {shot}"))
        print(f"\nscreenshot of the failing page: {shot}")  # noqa: T201 - the path must reach the CI log
    context.close()


@pytest.fixture
def phone_page(browser, live_server, request) -> Iterator:
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"{request.node.name}-phone.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"\nscreenshot of the failing page: {shot}")  # noqa: T201 - the path must reach the CI log
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def make_user(**fields):
    """A user who can sign in through the login form with PASSWORD."""
    user = UserFactory(**fields)
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(page, user, *, language: str | None = None) -> None:
    page.goto(f"{page.base_url}/login/")
    if language:
        page.locator(f".lang-switch button[value='{language}']").click()
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()
    page.wait_for_url(f"{page.base_url}/")
