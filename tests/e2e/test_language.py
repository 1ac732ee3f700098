"""Switching language on the login page carries through sign-in, as a user would do it."""

import pytest

from tests.e2e.conftest import make_user, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_user_switches_to_english_at_login_and_stays_in_english(page):
    rep = make_user(username="rep_lang", role="rep", language="zh-hans")

    page.goto(f"{page.base_url}/login/")
    assert page.locator("h1").inner_text() == "登录 SalesFlow"
    sign_in(page, rep, language="en")

    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Pipeline board").is_visible()
    page.reload()
    assert page.locator("html").get_attribute("lang") == "en"
    rep.refresh_from_db()
    assert rep.language == "en"
