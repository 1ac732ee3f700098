"""Forecast categories: each stage has a default, an opportunity takes it when it enters the stage, the owner changes
it through the edit service (API and page), and every change is in the opportunity's history."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from core.errors import ValidationFailed
from pipeline.models import Opportunity, OpportunityChange, Stage
from pipeline.process_templates import TEMPLATES
from pipeline.services.moves import lose_opportunity, move_opportunity, reopen_opportunity
from pipeline.services.opportunities import create_opportunity, edit_opportunity
from tests.factories import AccountFactory, OpportunityFactory, default_stage

pytestmark = pytest.mark.django_db


def test_the_default_pipeline_stages_default_by_win_probability():
    stages = Stage.objects.filter(pipeline__is_default=True).order_by("order")

    assert [(s.code, s.forecast_category) for s in stages] == [
        ("prep", "pipeline"),
        ("status", "pipeline"),
        ("opportunity", "pipeline"),
        ("needs", "pipeline"),
        ("develop", "pipeline"),
        ("propose", "best_case"),
        ("commit", "commit"),
        ("close", "commit"),
        ("implement", "commit"),
    ]
    assert {s["forecast_category"] for t in TEMPLATES.values() for s in t["stages"]} == {
        "pipeline",
        "best_case",
        "commit",
    }


def test_a_new_opportunity_takes_its_stage_default(org):
    account = AccountFactory(owner=org.manager_a)

    at_prep = create_opportunity(created_by=org.manager_a, account=account, name="A")
    at_propose = create_opportunity(created_by=org.manager_a, account=account, name="B", stage_code="propose")

    assert (at_prep.forecast_category, at_propose.forecast_category) == ("pipeline", "best_case")


def test_the_owner_sets_the_category_and_the_history_records_it(org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))

    edited = edit_opportunity(opportunity=opportunity, changed_by=org.rep_a1, forecast_category="commit")

    assert (edited.forecast_category, edited.version) == ("commit", 2)
    change = OpportunityChange.objects.get(opportunity=opportunity)
    assert (change.field, change.old, change.new, change.by) == ("forecast_category", "pipeline", "commit", org.rep_a1)


def test_a_stage_change_resets_the_category_to_the_new_stages_default(org):
    opportunity = OpportunityFactory(owner=org.manager_a, stage=default_stage("needs"), forecast_category="omitted")

    moved = move_opportunity(
        opportunity=opportunity, to_stage_code="propose", moved_by=org.manager_a, override_reason="Agreed by phone."
    )

    assert moved.forecast_category == "best_case"
    assert OpportunityChange.objects.filter(opportunity=opportunity, field="forecast_category").values_list(
        "old", "new"
    ).get() == ("omitted", "best_case")


def test_a_reopened_loss_takes_its_stage_default(org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("commit"), forecast_category="omitted")
    lost = lose_opportunity(opportunity=opportunity, lost_by=org.rep_a1, reason="price")

    reopened = reopen_opportunity(opportunity=lost, reopened_by=org.manager_a)

    assert (reopened.status, reopened.forecast_category) == ("open", "commit")


@pytest.mark.parametrize("value", ["", "maybe", None, 3])
def test_an_unknown_category_is_refused_and_nothing_is_written(org, value):
    opportunity = OpportunityFactory(owner=org.rep_a1)

    with pytest.raises(ValidationFailed) as refused:
        edit_opportunity(opportunity=opportunity, changed_by=org.rep_a1, forecast_category=value)

    assert refused.value.field == "forecast_category"
    opportunity.refresh_from_db()
    assert (opportunity.forecast_category, opportunity.version) == ("pipeline", 1)
    assert not OpportunityChange.objects.exists()


def test_a_closed_opportunity_keeps_its_category(org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))
    lost = lose_opportunity(opportunity=opportunity, lost_by=org.rep_a1, reason="price")

    with pytest.raises(ValidationFailed) as refused:
        edit_opportunity(opportunity=lost, changed_by=org.manager_a, forecast_category="commit")

    assert refused.value.field == "forecast_category"
    assert Opportunity.objects.get(pk=opportunity.pk).forecast_category == "pipeline"


def test_the_api_shows_and_changes_the_category(org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))
    url = f"/api/v1/opportunities/{opportunity.pk}/"
    client = APIClient()
    client.force_authenticate(org.rep_a1)

    assert client.get(url).json()["forecast_category"] == "pipeline"
    response = client.patch(url, {"forecast_category": "best_case", "version": 1}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["forecast_category"], response.json()["version"]) == ("best_case", 2)
    bad = client.patch(url, {"forecast_category": "sure"}, format="json")
    assert bad.status_code == 400
    assert "forecast_category" in bad.json()
    assert Opportunity.objects.get(pk=opportunity.pk).forecast_category == "best_case"


def test_the_edit_form_changes_the_category(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"), expected_close_date=None)
    client.force_login(org.rep_a1)

    response = client.post(
        f"/opportunities/{opportunity.pk}/edit/",
        {
            "version": 1,
            "name": opportunity.name,
            "amount": "100000",
            "expected_close_date": date(2030, 1, 31).isoformat(),
            "source": "",
            "forecast_category": "commit",
        },
    )

    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert (opportunity.forecast_category, opportunity.expected_close_date) == ("commit", date(2030, 1, 31))
