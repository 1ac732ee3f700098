"""Loading history (SPEC §9): only a director creates opportunities already won or lost with a past closed_at (but a
competitor's win, which its account's owner records from the field: test_competitor_win_api.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from pipeline.models import Opportunity, StageChange, Visit
from tests.factories import AccountFactory, CompetitorFactory

pytestmark = pytest.mark.django_db


def written() -> tuple[int, int, int]:
    return Opportunity.objects.count(), StageChange.objects.count(), Visit.objects.count()


def test_a_director_records_a_past_win_with_its_stage_path_marked_as_back_filled(api, org, default_pipeline):
    account = AccountFactory(owner=org.rep_a1)
    closed_at = timezone.now() - timedelta(days=400)
    response = api(org.director).post(
        "/api/v1/opportunities/",
        {
            "account": account.pk,
            "owner": org.rep_a1.pk,
            "name": "2024 fleet",
            "amount": "500000.00",
            "status": "won",
            "closed_at": closed_at.isoformat(),
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["stage"], body["furthest_stage"], body["probability"]) == (
        "won",
        "implement",
        "implement",
        100,
    )
    opportunity = Opportunity.objects.get()
    assert opportunity.closed_at == closed_at
    path = list(StageChange.objects.filter(opportunity=opportunity).order_by("pk"))
    assert [c.to_stage.code for c in path] == list(default_pipeline.stages.values_list("code", flat=True))
    assert all(c.is_backfill for c in path)
    assert Visit.objects.count() == 0  # history plans no follow-ups


def test_a_director_records_a_past_loss_to_a_competitor_at_a_stage(api, org):
    account = AccountFactory(owner=org.rep_a1)
    competitor = CompetitorFactory()
    response = api(org.director).post(
        "/api/v1/opportunities/",
        {
            "account": account.pk,
            "owner": org.rep_a1.pk,
            "name": "2024 tender",
            "stage": "needs",
            "status": "lost",
            "closed_at": (timezone.now() - timedelta(days=90)).isoformat(),
            "loss_reason": "price",
            "lost_to": competitor.pk,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["stage"], body["loss_reason"], body["lost_to"], body["is_untouched_loss"]) == (
        "lost",
        "needs",
        "price",
        competitor.pk,
        True,  # no visit at the account in the 90 days before it closed
    )
    assert list(
        StageChange.objects.filter(opportunity__pk=body["id"]).values_list("to_stage__code", "is_backfill")
    ) == [("prep", True), ("status", True), ("opportunity", True), ("needs", True)]


@pytest.mark.parametrize("user", ["rep_a1", "manager_a"])
@pytest.mark.parametrize("status", ["won", "lost"])
def test_anyone_but_a_director_is_refused_history_naming_the_status(api, org, user, status):
    account = AccountFactory(owner=org.rep_a1)
    response = api(getattr(org, user)).post(
        "/api/v1/opportunities/",
        {
            "account": account.pk,
            "name": "Old deal",
            "status": status,
            "closed_at": (timezone.now() - timedelta(days=10)).isoformat(),
            "loss_reason": "price" if status == "lost" else "",
        },
    )
    assert response.status_code == 400
    assert list(response.json()) == ["status", "detail", "code"]
    assert written() == (0, 0, 0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "won"}, "closed_at"),
        ({"status": "won", "closed_at": "in a week"}, "closed_at"),
        ({"status": "won", "closed_at": "future"}, "closed_at"),
        ({"status": "lost", "closed_at": "past"}, "loss_reason"),
        ({"status": "lost", "closed_at": "past", "loss_reason": "fate"}, "loss_reason"),
        ({"status": "finished", "closed_at": "past"}, "status"),
        ({"status": "won", "closed_at": "past", "created_at": "future"}, "created_at"),
    ],
)
def test_bad_history_is_refused_naming_the_field_and_nothing_is_written(api, org, changes, field):
    account = AccountFactory(owner=org.rep_a1)
    moments = {
        "past": (timezone.now() - timedelta(days=30)).isoformat(),
        "future": (timezone.now() + timedelta(days=30)).isoformat(),
    }
    body = {"account": account.pk, "name": "Old deal", **{k: moments.get(v, v) for k, v in changes.items()}}
    response = api(org.director).post("/api/v1/opportunities/", body)
    assert response.status_code == 400
    assert field in response.json()
    assert written() == (0, 0, 0)
