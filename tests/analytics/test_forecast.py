"""GET /api/v1/analytics/forecast/ and its selector, against hand-computed numbers (the clock: 15 May 2026, Q2)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from analytics.selectors.forecast import forecast_owners, forecast_period, forecast_rows, forecast_totals
from tests.analytics.conftest import at, lost, won
from tests.factories import OpportunityFactory, SalesTargetFactory, UserFactory, default_stage

pytestmark = pytest.mark.django_db
URL = "/api/v1/analytics/forecast/"
Q2 = {"period_type": "quarter", "year": 2026, "period": 2}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def open_opportunity(owner, amount: str, category: str, expected: date | None):
    return OpportunityFactory(
        owner=owner,
        stage=default_stage("needs"),
        amount=Decimal(amount),
        forecast_category=category,
        expected_close_date=expected,
    )


def quarter_target(owner, amount: str):
    return SalesTargetFactory(
        owner_user=owner, period_type="quarter", period_start=date(2026, 4, 1), amount=Decimal(amount)
    )


@pytest.fixture
def company(org, now):
    """rep_a1: target 1,000,000; won 300,000 + 50,000 in Q2; commit 200,000, best case 150,000, pipeline 80,000
    expected in Q2, and everything that must not count. rep_a2: no target, commit 100,000. manager_a: target
    100,000 and nothing else. rep_b1 (team b): target 500,000, won 600,000."""
    quarter_target(org.rep_a1, "1000000")
    quarter_target(org.manager_a, "100000")
    quarter_target(org.rep_b1, "500000")
    SalesTargetFactory(owner_user=org.rep_a1, period_type="month", period_start=date(2026, 5, 1), amount=Decimal(7))

    won(owner=org.rep_a1, amount="300000", closed_at=at(2026, 4, 10))
    won(owner=org.rep_a1, amount="50000", closed_at=at(2026, 6, 30, 23, 30))  # last evening of the quarter
    won(owner=org.rep_a1, amount="100000", closed_at=at(2026, 3, 31, 23, 30))  # Q1
    won(owner=org.rep_a1, amount="100000", closed_at=at(2026, 7, 1, 0, 30))  # Q3
    open_opportunity(org.rep_a1, "200000", "commit", date(2026, 6, 30))
    open_opportunity(org.rep_a1, "999", "commit", date(2026, 7, 1))  # Q3
    open_opportunity(org.rep_a1, "888", "commit", date(2026, 3, 31))  # overdue: in no period
    open_opportunity(org.rep_a1, "150000", "best_case", date(2026, 5, 20))
    open_opportunity(org.rep_a1, "80000", "pipeline", date(2026, 4, 1))
    open_opportunity(org.rep_a1, "70000", "omitted", date(2026, 5, 1))
    open_opportunity(org.rep_a1, "60000", "pipeline", None)
    lost(owner=org.rep_a1, closed_at=at(2026, 4, 20), forecast_category="commit", expected_close_date=date(2026, 5, 1))

    open_opportunity(org.rep_a2, "100000", "commit", date(2026, 5, 31))
    won(owner=org.rep_b1, amount="600000", closed_at=at(2026, 5, 2))


def row(owner, target, won_, commit, best_case, pipeline, gap, call=None) -> dict:
    money = lambda v: None if v is None else f"{Decimal(v):.2f}"  # noqa: E731
    return {
        "owner": owner.pk,
        "owner_name": owner.display_name,
        "target": money(target),
        "won": money(won_),
        "commit": money(commit),
        "best_case": money(best_case),
        "pipeline": money(pipeline),
        "gap": money(gap),
        "call": money(call),
    }


def test_a_manager_sees_each_of_their_reps_and_the_totals(org, company):
    body = client_for(org.manager_a).get(URL, Q2).json()

    assert (body["period_type"], body["period_start"], body["period_end"]) == ("quarter", "2026-04-01", "2026-06-30")
    assert body["rows"] == [
        row(org.manager_a, "100000", 0, 0, 0, 0, "100000"),
        row(org.rep_a1, "1000000", "350000", "200000", "150000", "80000", "450000"),
        row(org.rep_a2, None, 0, "100000", 0, 0, None),  # no target: no gap
    ]
    assert body["totals"] == {
        "target": "1100000.00",
        "won": "350000.00",
        "commit": "300000.00",
        "best_case": "150000.00",
        "pipeline": "80000.00",
        "gap": "450000.00",
        "call": None,
    }
    assert body["count"] == 3


def test_the_gap_never_goes_below_zero_and_a_director_sees_every_rep_but_no_director(org, company):
    body = client_for(org.director).get(URL, {**Q2, "team": org.team_b.pk}).json()

    assert body["rows"] == [
        row(org.manager_b, None, 0, 0, 0, 0, None),
        row(org.rep_b1, "500000", "600000", 0, 0, 0, 0),
    ]
    everyone = client_for(org.director).get(URL, Q2).json()
    assert [r["owner"] for r in everyone["rows"]] == [
        u.pk for u in (org.manager_a, org.manager_b, org.rep_a1, org.rep_a2, org.rep_b1)
    ]
    assert (everyone["totals"]["target"], everyone["totals"]["won"], everyone["totals"]["gap"]) == (
        "1600000.00",
        "950000.00",
        "350000.00",
    )


def test_a_month_counts_only_that_month_and_its_target(org, company):
    body = client_for(org.rep_a1).get(URL, {"period_type": "month", "year": 2026, "period": 5}).json()

    assert (body["period_start"], body["period_end"]) == ("2026-05-01", "2026-05-31")
    assert body["rows"] == [row(org.rep_a1, "7", 0, 0, "150000", 0, "7")]


def test_a_period_without_any_target_has_no_target_and_no_gap(org, company):
    body = client_for(org.manager_a).get(URL, {"period_type": "year", "year": 2026}).json()

    assert (body["period_start"], body["period_end"]) == ("2026-01-01", "2026-12-31")
    rep_a1 = next(r for r in body["rows"] if r["owner"] == org.rep_a1.pk)
    assert rep_a1 == row(org.rep_a1, None, "550000", "201887", "150000", "80000", None)
    assert (body["totals"]["target"], body["totals"]["gap"]) == (None, None)


def test_the_period_defaults_to_the_current_quarter(org, company):
    body = client_for(org.rep_a1).get(URL).json()

    assert (body["period_type"], body["period_start"], body["period_end"]) == ("quarter", "2026-04-01", "2026-06-30")
    assert body["rows"][0]["won"] == "350000.00"


@pytest.mark.parametrize(
    ("viewer", "params"),
    [
        ("rep_a1", {"owner": "rep_a2"}),
        ("rep_a1", {"team": "team_b"}),
        ("manager_a", {"owner": "rep_b1"}),
        ("manager_a", {"team": "team_b"}),
    ],
)
def test_a_rep_or_team_the_viewer_cannot_see_answers_404(org, company, viewer, params):
    ids = {key: getattr(org, name).pk for key, name in params.items()}

    response = client_for(getattr(org, viewer)).get(URL, {**Q2, **ids})

    assert response.status_code == 404


def test_a_rep_sees_only_their_own_row(org, company):
    body = client_for(org.rep_a2).get(URL, Q2).json()

    assert [r["owner"] for r in body["rows"]] == [org.rep_a2.pk]
    assert body["totals"]["commit"] == "100000.00"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period_type": "week"}, "period_type"),
        ({"period_type": "quarter", "period": 5}, "period"),
        ({"period_type": "month", "period": 13}, "period"),
        ({"period": 0}, "period"),
        ({"year": "next"}, "year"),
        ({"team": "x"}, "team"),
    ],
)
def test_bad_parameters_answer_400_naming_the_field(org, company, params, field):
    response = client_for(org.manager_a).get(URL, params)

    assert response.status_code == 400
    assert field in response.json()


def test_the_selector_runs_one_query_per_page_and_one_for_the_totals(org, company, django_assert_num_queries):
    start, end = forecast_period(period_type="quarter", year=2026, period=2)
    owners = forecast_owners(viewer=org.manager_a, period_type="quarter", start=start, end=end)

    with django_assert_num_queries(2):
        rows = forecast_rows(list(owners))
        totals = forecast_totals(owners)

    assert [(r.owner_id, r.won, r.gap) for r in rows][1] == (org.rep_a1.pk, Decimal("350000.00"), Decimal("450000.00"))
    assert (totals.owners, totals.commit) == (3, Decimal("300000.00"))


def test_the_query_count_and_the_page_do_not_grow_with_the_company(org, company):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client_for(org.director).get(URL, {**Q2, "page_size": 3})
        assert response.status_code == 200
        return len(captured)

    once = queries()
    for i in range(10):
        rep = UserFactory(username=f"zz{i}", team=org.team_a)
        open_opportunity(rep, "10", "commit", date(2026, 5, 5))
    body = client_for(org.director).get(URL, {**Q2, "page_size": 3}).json()

    assert queries() == once
    assert (body["count"], len(body["rows"]), body["totals"]["commit"]) == (15, 3, "300100.00")
    assert body["next"].endswith("page=2&page_size=3&period=2&period_type=quarter&year=2026")
