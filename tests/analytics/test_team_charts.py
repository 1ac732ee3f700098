"""The team page's charts (issue 13): open amount per person and stage, target and won, forecast against target, as
the json_script payloads charts.js draws, against the hand-computed team of tests/analytics/test_pages.py; and every
person's name a link to their cockpit."""

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.analytics.test_pages import team_data  # noqa: F401  (the fixture)
from tests.factories import OpportunityFactory, default_stage

pytestmark = pytest.mark.django_db
STAGES = ["prep", "status", "opportunity", "needs", "develop", "propose", "commit", "close"]


def payload(html: str, name: str) -> dict:
    return json.loads(re.search(rf'id="{name}" type="application/json">(.*?)</script>', html).group(1))


@pytest.fixture
def forecast_team(team_data):  # noqa: F811
    """team_data (rep_a1: needs 2 × 100,000, prep 50,000, won 300,000 on 5 May, May target 1,000,000, Q2 target
    600,000; rep_a2: propose 300,000; manager_a: prep 20,000), plus a best case of 70,000 for rep_a1 closing on
    20 May (develop) and a commit of 40,000 for rep_a2 closing on 1 June (needs)."""
    OpportunityFactory(owner=team_data.rep_a1, stage=default_stage("develop"), amount=Decimal(70000),
                       expected_close_date=date(2026, 5, 20), forecast_category="best_case")  # fmt: skip
    OpportunityFactory(owner=team_data.rep_a2, stage=default_stage("needs"), amount=Decimal(40000),
                       expected_close_date=date(2026, 6, 1), forecast_category="commit")  # fmt: skip
    return team_data


def test_the_charts_carry_each_persons_funnel_attainment_and_forecast(client, forecast_team):
    client.force_login(forecast_team.manager_a)

    html = client.get(reverse("analytics:team")).content.decode()

    names = [forecast_team.rep_a1.display_name, forecast_team.rep_a2.display_name, forecast_team.manager_a.display_name]
    funnel = payload(html, "team-funnel-chart")
    assert funnel["labels"] == names and funnel["stacked"] is True
    assert [s["colour_var"] for s in funnel["series"]] == [f"--stage-{i}" for i in range(1, 9)]
    by_stage = {s["label"]: s["data"] for s in funnel["series"]}
    amounts = dict(zip(STAGES, (by_stage[default_stage(code).name] for code in STAGES), strict=True))
    assert amounts == {
        "prep": [50000.0, 0.0, 20000.0],
        "status": [0.0, 0.0, 0.0],
        "opportunity": [0.0, 0.0, 0.0],
        "needs": [200000.0, 40000.0, 0.0],
        "develop": [70000.0, 0.0, 0.0],
        "propose": [0.0, 300000.0, 0.0],
        "commit": [0.0, 0.0, 0.0],
        "close": [0.0, 0.0, 0.0],
    }
    attainment = payload(html, "team-attainment-chart")
    assert attainment["labels"] == names
    assert [s["data"] for s in attainment["series"]] == [[600000.0, 0.0, 0.0], [300000.0, 0.0, 0.0]]  # Q2
    forecast = payload(html, "team-forecast-chart")
    assert [(s["stack"], s["data"]) for s in forecast["series"]] == [
        ("target", [600000.0, 0.0, 0.0]),
        ("forecast", [300000.0, 0.0, 0.0]),  # won
        ("forecast", [0.0, 40000.0, 0.0]),  # commit
        ("forecast", [70000.0, 0.0, 0.0]),  # best case
    ]
    assert html.count('data-chart="bars"') == 3 and "js/charts.js" in html


def test_the_charts_follow_the_chosen_period(client, forecast_team):
    client.force_login(forecast_team.manager_a)

    html = client.get(reverse("analytics:team"), {"period": "month"}).content.decode()

    assert [s["data"] for s in payload(html, "team-attainment-chart")["series"]] == [
        [1000000.0, 0.0, 0.0],  # the May target
        [300000.0, 0.0, 0.0],
    ]
    forecast = {s["label"]: s["data"] for s in payload(html, "team-forecast-chart")["series"]}
    assert forecast["承诺"] == [0.0, 0.0, 0.0]  # rep_a2's commit closes in June
    assert forecast["最佳情况"] == [70000.0, 0.0, 0.0]


def test_every_persons_name_links_to_their_cockpit(client, forecast_team):
    client.force_login(forecast_team.manager_a)

    html = client.get(reverse("analytics:team")).content.decode()

    # the scorecard, the funnel and the conversion tables; rep_a2 also in the alert of reps idle last week
    links = {"rep_a1": 3, "rep_a2": 4, "manager_a": 3}
    for person in (forecast_team.rep_a1, forecast_team.rep_a2, forecast_team.manager_a):
        assert html.count(f'href="/team/{person.pk}/"') == links[person.username]
        assert client.get(f"/team/{person.pk}/").status_code == 200
    assert f'href="/team/{forecast_team.rep_a2.pk}/" data-idle="rep_a2"' in html
    assert f"/team/{forecast_team.rep_b1.pk}/" not in html


def test_the_forecast_and_changes_pages_link_each_rep_to_their_cockpit(client, forecast_team):
    from pipeline.services.opportunities import edit_opportunity

    opportunity = OpportunityFactory(owner=forecast_team.rep_a2, expected_close_date=date(2026, 6, 1))
    edit_opportunity(opportunity=opportunity, changed_by=forecast_team.rep_a2, amount=Decimal(1))
    client.force_login(forecast_team.manager_a)

    forecast = client.get(reverse("analytics:forecast"), {"period_type": "month"}).content.decode()
    changes = client.get(reverse("analytics:changes")).content.decode()

    assert f'href="/team/{forecast_team.rep_a1.pk}/?period_type=month">' in forecast
    assert re.search(rf'data-col="owner"><a class="rep-link" href="/team/{forecast_team.rep_a2.pk}/">', changes)
