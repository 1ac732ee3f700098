"""CV/PV matrix per year (SPEC §7): values, PV fallbacks, thresholds, quadrants, priority, year over year."""

from decimal import Decimal

import pytest

from accounts.models import AccountYear
from analytics.models import AccountValue, MatrixRun
from analytics.selectors.matrix import cvpv_matrix
from analytics.services import compute_matrix
from tests.analytics.conftest import at, won
from tests.factories import (
    AccountFactory,
    AccountYearFactory,
    CompetitorFactory,
    IndustryFactory,
    InstalledBaseFactory,
    RegionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def values_of(year: int) -> dict[str, tuple]:
    return {
        v.account.name: (v.cv, v.pv, v.pv_source, v.quadrant)
        for v in AccountValue.objects.filter(year=year).select_related("account")
    }


@pytest.fixture
def four_accounts(now):
    """Four accounts whose 2026 CV and PV come from each source; hand-computed below."""
    rich = IndustryFactory(code="fin", spend_per_employee=Decimal("1000"))
    default_spend = IndustryFactory(code="edu", spend_per_employee=None)
    a = AccountFactory(name="A", employee_count=None)
    won(account=a, amount="300000", closed_at=at(2026, 3, 1))
    AccountYearFactory(account=a, year=2026, other_revenue=Decimal("20000"), potential_value=Decimal("1000000"))
    InstalledBaseFactory(account=a, is_ours=True, units=2)
    b = AccountFactory(name="B", employee_count=None)
    won(account=b, amount="100000", closed_at=at(2026, 1, 1, 0, 0))  # the first moment of 2026 in Shanghai
    InstalledBaseFactory(account=b, is_ours=False, competitor=CompetitorFactory(), units=5)
    AccountFactory(name="C", employee_count=200, industry=rich, is_target=True, target_since=at(2026, 1, 5).date())
    AccountFactory(name="D", employee_count=100, industry=default_spend)
    AccountFactory(name="E", employee_count=None)  # nothing known: outside the matrix
    return a, b


def test_cv_is_won_amount_in_the_year_plus_other_revenue_and_pv_follows_the_three_steps(four_accounts):
    run = compute_matrix(year=2026)

    assert values_of(2026) == {
        "A": (Decimal("320000.00"), Decimal("1000000.00"), "explicit", "core"),
        "B": (Decimal("100000.00"), Decimal("150000.00"), "installed_base", "maintain"),
        "C": (Decimal("0.00"), Decimal("200000.00"), "employees", "develop"),
        "D": (Decimal("0.00"), Decimal("50000.00"), "employees", "observe"),
    }
    # CV median of 0, 0, 100000, 320000 and PV median of 50000, 150000, 200000, 1000000
    assert (run.cv_threshold, run.pv_threshold) == (Decimal("50000.00"), Decimal("175000.00"))
    assert not run.thresholds_fixed


def test_wins_outside_the_year_in_shanghai_time_do_not_count(now):
    account = AccountFactory(name="A", employee_count=None)
    won(account=account, amount="500", closed_at=at(2025, 12, 31, 23, 59, 59))
    won(account=account, amount="700", closed_at=at(2027, 1, 1, 0, 0))
    won(account=account, amount="1000", closed_at=at(2026, 12, 31, 23, 59, 59))

    compute_matrix(year=2026)

    assert values_of(2026)["A"][0] == Decimal("1000.00")


def test_explicit_potential_wins_over_installed_base_and_installed_base_over_employees(now):
    explicit = AccountFactory(name="explicit", employee_count=1000)
    InstalledBaseFactory(account=explicit, units=10)
    AccountYearFactory(account=explicit, year=2026, potential_value=Decimal("12345"))
    units = AccountFactory(name="units", employee_count=1000)
    InstalledBaseFactory(account=units, units=1)
    InstalledBaseFactory(account=units, is_ours=False, competitor=CompetitorFactory(), units=2)
    AccountYearFactory(account=units, year=2026, other_revenue=Decimal("10"))  # a year row without a PV estimate
    AccountYearFactory(account=units, year=2025, potential_value=Decimal("1"))  # another year's estimate
    AccountFactory(name="employees", employee_count=1000)  # factory industry: 500 per employee

    compute_matrix(year=2026)

    values = values_of(2026)
    assert values["explicit"][1:3] == (Decimal("12345.00"), "explicit")
    assert values["units"][1:3] == (Decimal("90000.00"), "installed_base")
    assert values["employees"][1:3] == (Decimal("500000.00"), "employees")


def test_units_installed_after_the_year_do_not_count_towards_its_pv(now):
    account = AccountFactory(name="A", employee_count=None)
    InstalledBaseFactory(account=account, units=1, year=2025)
    InstalledBaseFactory(account=account, units=3, year=2026)

    compute_matrix(year=2025)

    assert values_of(2025)["A"][1] == Decimal("30000.00")


def test_accounts_with_no_pv_data_use_the_company_spend_and_without_employees_stay_out(now, settings):
    settings.SALESFLOW_SPEND_PER_EMPLOYEE = 800
    AccountFactory(name="no spend", employee_count=10, industry=IndustryFactory(code="x", spend_per_employee=None))
    AccountFactory(name="no industry", employee_count=10, industry=None)
    won(account=AccountFactory(name="cv only", employee_count=None), amount="40", closed_at=at(2026, 2, 1))
    AccountFactory(name="nothing", employee_count=None)

    compute_matrix(year=2026)

    values = values_of(2026)
    assert values["no spend"][1:3] == (Decimal("8000.00"), "employees")
    assert values["no industry"][1:3] == (Decimal("8000.00"), "employees")
    assert values["cv only"][:3] == (Decimal("40.00"), Decimal("40.00"), "current_value")  # PV is at least CV
    assert "nothing" not in values
    assert AccountValue.objects.get(account__name="cv only").share == 1.0


def test_pv_is_never_below_cv_whatever_the_estimate_says(now):
    """SPEC §7: PV is the account's whole wallet, so PV = max(the three-step estimate, CV)."""
    bigger = AccountFactory(name="buys more than estimated", employee_count=None)
    won(account=bigger, amount="488000", closed_at=at(2026, 3, 1))
    AccountYearFactory(account=bigger, year=2026, potential_value=Decimal("60000"))
    smaller = AccountFactory(name="room to grow", employee_count=None)
    won(account=smaller, amount="1000", closed_at=at(2026, 3, 1))
    AccountYearFactory(account=smaller, year=2026, potential_value=Decimal("60000"))

    compute_matrix(year=2026)

    values = values_of(2026)
    assert values["buys more than estimated"][:3] == (Decimal("488000.00"), Decimal("488000.00"), "current_value")
    assert values["room to grow"][:3] == (Decimal("1000.00"), Decimal("60000.00"), "explicit")
    shares = dict(AccountValue.objects.values_list("account__name", "share"))
    assert shares == {"buys more than estimated": 1.0, "room to grow": 1000 / 60000}


def test_ties_at_the_median_are_high(now):
    for name, amount in [("low", "100"), ("tie1", "200"), ("tie2", "200")]:
        account = AccountFactory(name=name, employee_count=None)
        won(account=account, amount=amount, closed_at=at(2026, 4, 1))
        AccountYearFactory(account=account, year=2026, potential_value=Decimal("1000"))

    run = compute_matrix(year=2026)

    assert (run.cv_threshold, run.pv_threshold) == (Decimal("200.00"), Decimal("1000.00"))
    assert {name: v[3] for name, v in values_of(2026).items()} == {"low": "develop", "tie1": "core", "tie2": "core"}


def test_fixed_thresholds_from_settings_replace_the_median(now, settings):
    settings.SALESFLOW_CV_THRESHOLD = 150.0
    settings.SALESFLOW_PV_THRESHOLD = 5000.0
    for name, amount in [("a", "100"), ("b", "150")]:
        account = AccountFactory(name=name, employee_count=None)
        won(account=account, amount=amount, closed_at=at(2026, 4, 1))
        AccountYearFactory(account=account, year=2026, potential_value=Decimal("5000"))

    run = compute_matrix(year=2026)

    assert (run.cv_threshold, run.pv_threshold, run.thresholds_fixed) == (Decimal("150.00"), Decimal("5000.00"), True)
    assert {name: v[3] for name, v in values_of(2026).items()} == {"a": "develop", "b": "core"}


def test_share_of_wallet_is_cv_over_pv(four_accounts):
    compute_matrix(year=2026)

    shares = dict(AccountValue.objects.values_list("account__name", "share"))
    assert shares == {"A": 0.32, "B": pytest.approx(2 / 3), "C": 0.0, "D": 0.0}


def test_a_year_with_no_data_stores_an_empty_matrix_without_thresholds(now):
    AccountFactory(employee_count=None)

    run = compute_matrix(year=2010)

    assert (run.year, run.cv_threshold, run.pv_threshold, run.values.count()) == (2010, None, None, 0)
    result = cvpv_matrix(viewer=UserFactory(role="director"), year=2010)
    assert (result.computed_at, result.rows) == (run.computed_at, [])
    assert result.transitions["core"] == {"core": 0, "develop": 0, "maintain": 0, "observe": 0}


def test_a_year_never_computed_answers_without_a_run(now):
    result = cvpv_matrix(viewer=UserFactory(role="director"), year=2026)

    assert (result.computed_at, result.cv_threshold, result.pv_threshold, result.rows) == (None, None, None, [])


def test_an_account_that_moved_quadrant_shows_its_previous_quadrant_and_the_transition(now):
    mover = AccountFactory(name="mover", employee_count=None)
    steady = AccountFactory(name="steady", employee_count=None)
    newcomer = AccountFactory(name="newcomer", employee_count=None)
    for year, mover_cv in [(2025, "10"), (2026, "1000")]:
        AccountYearFactory(account=mover, year=year, potential_value=Decimal("900"), other_revenue=Decimal(mover_cv))
        AccountYearFactory(account=steady, year=year, potential_value=Decimal("100"), other_revenue=Decimal("500"))
    AccountYearFactory(account=newcomer, year=2026, potential_value=Decimal("5000"))
    compute_matrix(year=2025)
    compute_matrix(year=2026)

    result = cvpv_matrix(viewer=UserFactory(role="director"), year=2026)

    by_name = {row.name: (row.previous_quadrant, row.quadrant) for row in result.rows}
    # 2025: CV 10, 500 (median 255), PV 900, 100 (median 500); 2026: CV 0, 500, 1000 (500), PV 100, 900, 5000 (900)
    assert by_name == {"mover": ("develop", "core"), "steady": ("maintain", "maintain"), "newcomer": (None, "develop")}
    assert result.transitions["develop"] == {"core": 1, "develop": 0, "maintain": 0, "observe": 0}
    assert result.transitions["maintain"]["maintain"] == 1
    assert sum(n for row in result.transitions.values() for n in row.values()) == 2


def test_visit_priority_follows_the_decks_order(now):
    r1, r2 = RegionFactory(code="EAST"), RegionFactory(code="NORTH")
    competitor = CompetitorFactory()

    def account(name, *, region, ours=0, theirs=0, cv="0", pv="1000", target=False):
        acc = AccountFactory(name=name, region=region, employee_count=None, is_target=target)
        if ours:
            InstalledBaseFactory(account=acc, units=ours)
        if theirs:
            InstalledBaseFactory(account=acc, is_ours=False, competitor=competitor, units=theirs)
        AccountYearFactory(account=acc, year=2026, other_revenue=Decimal(cv), potential_value=Decimal(pv))
        return acc

    # CV median (100 × 4, 900 × 4) is 500; PV median (100 × 2, 900 × 6) is 900
    account("ours-core-north", region=r2, ours=1, cv="900", pv="900")
    account("ours-develop-north", region=r2, ours=1, cv="100", pv="900")
    account("mixed-develop-east", region=r1, ours=1, theirs=1, cv="100", pv="900")
    account("ours-observe-east", region=r1, ours=1, cv="100", pv="100")
    account("competitor-maintain", region=r1, theirs=2, cv="900", pv="100")
    account("competitor-develop", region=r2, theirs=2, cv="100", pv="900")
    account("target-core", region=r1, cv="900", pv="900", target=True)
    account("plain-core", region=r1, cv="900", pv="900")

    compute_matrix(year=2026)

    ordered = list(
        AccountValue.objects.filter(priority__isnull=False).order_by("priority").values_list("account__name", flat=True)
    )
    assert ordered == [
        "mixed-develop-east",
        "ours-develop-north",
        "ours-core-north",
        "ours-observe-east",
        "competitor-develop",
        "competitor-maintain",
        "target-core",
    ]
    assert AccountValue.objects.get(account__name="plain-core").priority is None
    assert dict(AccountValue.objects.values_list("account__name", "customer_type"))["mixed-develop-east"] == "mixed"


def test_each_viewer_sees_their_rows_with_company_wide_thresholds(org, now):
    for owner, cv in [(org.rep_a1, "100"), (org.rep_a2, "200"), (org.rep_b1, "300")]:
        acc = AccountFactory(owner=owner, name=owner.username, employee_count=None)
        AccountYear.objects.create(account=acc, year=2026, other_revenue=Decimal(cv), potential_value=Decimal(cv))
    compute_matrix(year=2026)

    for viewer, names in [
        (org.rep_a1, ["rep_a1"]),
        (org.manager_a, ["rep_a1", "rep_a2"]),
        (org.director, ["rep_a1", "rep_a2", "rep_b1"]),
    ]:
        result = cvpv_matrix(viewer=viewer, year=2026)
        assert sorted(row.name for row in result.rows) == names
        assert (result.cv_threshold, result.pv_threshold) == (Decimal("200.00"), Decimal("200.00"))
    assert MatrixRun.objects.count() == 1
