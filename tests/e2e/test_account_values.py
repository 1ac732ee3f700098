"""The account page's value history in a real browser (issue 13), on a desktop and a phone: the table fits the screen
and reads in Chinese."""

from decimal import Decimal

import pytest

from analytics.models import AccountValue, MatrixRun
from tests.e2e.conftest import DESKTOP, PHONE, SCREENSHOTS, make_user, sign_in
from tests.factories import AccountFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_the_account_page_shows_value_by_year_with_transitions(request, screen):
    page = request.getfixturevalue("page" if screen == "desktop" else "phone_page")
    viewport = DESKTOP if screen == "desktop" else PHONE
    rep = make_user(username="rep_values", role="rep")
    account = AccountFactory(owner=rep, name="宁波博远连锁超市有限公司")
    for year, cv, pv, share, quadrant in [
        (2024, "20000", "400000", 0.05, "observe"),
        (2025, "90000", "1200000", 0.075, "develop"),
        (2026, "1234567.5", "2000000", 0.617, "core"),
    ]:
        run = MatrixRun.objects.create(year=year)
        AccountValue.objects.create(
            run=run, account=account, year=year, cv=Decimal(cv), pv=Decimal(pv), share=share, quadrant=quadrant
        )
    sign_in(page, rep)

    page.goto(f"{page.base_url}{account.get_absolute_url()}")
    card = page.locator(".account-values")
    card.scroll_into_view_if_needed()

    assert card.locator("h2").inner_text() == "逐年价值"
    assert card.locator("tr[data-year='2026'] [data-cv]").inner_text() == "¥1,234,568"
    assert "2025 攻坚 → 2026 核心" in card.locator("tr[data-year='2026']").inner_text()
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    card.screenshot(path=str(SCREENSHOTS / f"account-values-{screen}.png"))
