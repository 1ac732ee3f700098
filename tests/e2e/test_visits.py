"""A rep on a phone logs a visit they just made; a manager comments on a rep's week."""

import pytest

from pipeline.models import Visit
from tests.e2e.conftest import make_user, sign_in
from tests.factories import AccountFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_rep_on_a_phone_logs_a_done_visit(phone_page):
    rep = make_user(username="rep_phone", role="rep")
    account = AccountFactory(owner=rep, name="宁波博远连锁超市有限公司")
    page = phone_page
    sign_in(page, rep)

    page.goto(f"{page.base_url}/visits/log/")
    page.fill("#account-search", "博远")
    page.locator("#account-results").get_by_text("宁波博远连锁超市有限公司").click()
    # The choice is made once the form carries the account (a late answer to an earlier keystroke must not undo it).
    page.wait_for_function(
        f"() => [...document.querySelectorAll('form.visit-form [name=account]')].some(i => i.value === '{account.pk}')"
    )
    page.fill("textarea[name=summary]", "了解了门店扩张计划，采购经理关心能耗。")
    page.locator("form.visit-form button[type=submit]").click()

    page.wait_for_url(f"{page.base_url}{account.get_absolute_url()}")
    assert page.locator(".messages, [role=status], .message").first.inner_text() != ""
    visit = Visit.objects.get(account=account)
    assert (visit.owner, visit.status, visit.summary) == (rep, "done", "了解了门店扩张计划，采购经理关心能耗。")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
