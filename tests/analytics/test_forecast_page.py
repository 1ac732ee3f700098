"""/analytics/forecast/: the forecast API's rows and totals as a page with a bar chart, per role, against the
hand-computed company of tests/analytics/test_forecast.py (clock: 15 May 2026, Q2)."""

import json
import re

import pytest
from django.urls import reverse

from pipeline.models import ForecastCall
from tests.analytics.test_forecast import company, open_opportunity  # noqa: F401  (the fixture; open opportunities)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/analytics/forecast/"
COLUMNS = ("target", "won", "commit", "best_case", "pipeline", "gap", "call")


def rows(html: str) -> dict[str, tuple]:
    found = {}
    for owner, body in re.findall(r'<tr data-owner="(\w+)">(.*?)</tr>', html, re.DOTALL):
        cells = dict(re.findall(r'data-col="(\w+)">(.*?)</td>', body, re.DOTALL))
        found[owner] = tuple(cells[c] for c in COLUMNS)
    return found


def page(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_url_is_the_one_named():
    assert reverse("analytics:forecast") == URL


def test_a_manager_sees_each_rep_and_the_totals_of_this_quarter(client, org, company):  # noqa: F811
    html = page(client, org.manager_a)

    assert rows(html) == {
        str(org.manager_a.pk): ("¥100,000", "¥0", "¥0", "¥0", "¥0", "¥100,000", "—"),
        str(org.rep_a1.pk): ("¥1,000,000", "¥350,000", "¥200,000", "¥150,000", "¥80,000", "¥450,000", "—"),
        str(org.rep_a2.pk): ("—", "¥0", "¥100,000", "¥0", "¥0", "—", "—"),
        "totals": ("¥1,100,000", "¥350,000", "¥300,000", "¥150,000", "¥80,000", "¥450,000", "—"),
    }
    assert "2026-04-01" in html and "2026-06-30" in html
    data = json.loads(re.search(r'id="forecast-chart-data" type="application/json">(.*?)</script>', html).group(1))
    assert data["series"][1]["data"] == [0.0, 350000.0, 0.0]  # won per rep


def test_the_managers_call_is_shown(client, org, company):  # noqa: F811
    from datetime import date
    from decimal import Decimal

    from pipeline.services.forecast_calls import record_forecast_call

    record_forecast_call(called_by=org.manager_a, owner=org.rep_a1, period_type="quarter",
                         period_start=date(2026, 4, 1), amount=Decimal(500000), note="")  # fmt: skip
    assert ForecastCall.objects.count() == 1
    html = page(client, org.manager_a)

    assert rows(html)[str(org.rep_a1.pk)][-1] == "¥500,000"
    assert rows(html)["totals"][-1] == "¥500,000"


def test_a_month_and_a_team_for_the_director(client, org, company):  # noqa: F811
    html = page(client, org.director, team=org.team_b.pk)

    assert rows(html)[str(org.rep_b1.pk)] == ("¥500,000", "¥600,000", "¥0", "¥0", "¥0", "¥0", "—")
    html = page(client, org.rep_a1, period_type="month", year=2026, period=5)
    assert rows(html) == {
        str(org.rep_a1.pk): ("¥7", "¥0", "¥0", "¥150,000", "¥0", "¥7", "—"),
        "totals": ("¥7", "¥0", "¥0", "¥150,000", "¥0", "¥7", "—"),
    }


@pytest.mark.parametrize("who,key,query", [("manager_a", "team", "team_b"), ("manager_a", "owner", "rep_b1"),
                                           ("rep_a1", "owner", "rep_a2")])  # fmt: skip
def test_an_unseen_team_or_owner_answers_404(client, org, who, key, query):
    client.force_login(getattr(org, who))

    assert client.get(URL, {key: getattr(org, query).pk}).status_code == 404


def test_a_fifth_quarter_answers_400(client, org):
    client.force_login(org.manager_a)
    response = client.get(URL, {"period_type": "quarter", "period": 5})

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


@pytest.mark.parametrize("reps", [1, 10])
def test_the_page_runs_the_same_queries_whatever_the_number_of_reps(
    client,
    org,
    company,  # noqa: F811
    reps,
    django_assert_num_queries,
):
    from datetime import date

    for _i in range(reps * 3):
        rep = UserFactory(team=org.team_a)
        open_opportunity(rep, "1000", "commit", date(2026, 5, 1))
    client.force_login(org.manager_a)
    with django_assert_num_queries(7):  # session, user, teams, people, totals, the page of reps, the weekly snapshots
        assert client.get(URL).status_code == 200
