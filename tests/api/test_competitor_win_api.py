"""A competitor's win at an account where we had no opportunity (SPEC §4, issue 13): its owner records it from the
field (or their manager), as an opportunity created lost to the competitor, and it counts as an untouched loss
exactly as SPEC defines it. Anything else closed stays a director's history."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from pipeline.models import Opportunity, StageChange, Visit
from tests.factories import AccountFactory, CompetitorFactory, VisitFactory

pytestmark = pytest.mark.django_db


def written() -> tuple[int, int]:
    return Opportunity.objects.count(), StageChange.objects.count()


@pytest.fixture
def canon():
    return CompetitorFactory(name="Canon")


def win(canon, account, **changes) -> dict:
    body = {
        "account": account.pk,
        "name": "Canon took the fleet",
        "amount": "80000.00",
        "status": "lost",
        "closed_at": (timezone.now() - timedelta(days=5)).isoformat(),
        "loss_reason": "relationship",
        "lost_to": canon.pk,
        "untouched_cause": "competitor_relationship",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


@pytest.mark.parametrize("user", ["rep_a1", "manager_a"])
def test_the_owner_or_their_manager_records_a_competitors_win_as_an_untouched_loss(api, org, canon, user):
    account = AccountFactory(owner=org.rep_a1)

    response = api(getattr(org, user)).post("/api/v1/opportunities/", win(canon, account, owner=org.rep_a1.pk))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["stage"], body["lost_to"], body["loss_reason"], body["untouched_cause"]) == (
        "lost",
        "prep",
        canon.pk,
        "relationship",
        "competitor_relationship",
    )
    assert body["is_untouched_loss"] is True  # furthest stage prep is not engaged
    opportunity = Opportunity.objects.get()
    assert (opportunity.owner, opportunity.amount, opportunity.probability) == (org.rep_a1, Decimal("80000.00"), 0)
    assert list(StageChange.objects.values_list("to_stage__code", "is_backfill")) == [("prep", True)]


def test_a_competitors_win_counts_as_untouched_even_after_a_recent_visit_since_we_never_engaged(api, org, canon):
    # SPEC: untouched when the furthest stage was not engaged OR no visit in the 90 days before; prep is not engaged.
    account = AccountFactory(owner=org.rep_a1)
    VisitFactory(
        account=account, owner=org.rep_a1, status=Visit.Status.DONE, planned_at=None,
        done_at=timezone.now() - timedelta(days=10),
    )  # fmt: skip

    response = api(org.rep_a1).post("/api/v1/opportunities/", win(canon, account))

    assert response.status_code == 201, response.json()
    assert response.json()["is_untouched_loss"] is True


def test_the_untouched_cause_is_required_from_the_field(api, org, canon):
    account = AccountFactory(owner=org.rep_a1)

    response = api(org.rep_a1).post("/api/v1/opportunities/", win(canon, account, untouched_cause=None))

    assert response.status_code == 400
    assert list(response.json()) == ["untouched_cause", "detail", "code"]
    assert written() == (0, 0)


@pytest.mark.parametrize(
    ("user", "owner", "changes", "field"),
    [
        ("rep_a1", "rep_a1", {"status": "won", "lost_to": None, "loss_reason": None, "untouched_cause": None},
         "status"),
        ("rep_a1", "rep_a1", {"lost_to": None, "untouched_cause": None}, "status"),
        ("rep_a1", "rep_a1", {"stage": "needs"}, "stage"),
        ("rep_a1", "rep_a1", {"loss_reason": None}, "loss_reason"),
        ("rep_a1", "rep_a1", {"closed_at": (timezone.now() + timedelta(days=3)).isoformat()}, "closed_at"),
        ("rep_a1", "rep_a2", {}, "account"),  # a teammate's account: not visible to a rep (an unknown id)
        ("manager_a", "rep_b1", {}, "account"),  # another team's account
        ("manager_a", "rep_a1", {"status": "won", "lost_to": None, "untouched_cause": None}, "status"),
    ],
)  # fmt: skip
def test_anything_else_closed_is_refused_to_reps_and_managers_and_nothing_is_written(
    api, org, canon, user, owner, changes, field
):
    account = AccountFactory(owner=getattr(org, owner))

    response = api(getattr(org, user)).post("/api/v1/opportunities/", win(canon, account, **changes))

    assert response.status_code == 400
    assert list(response.json()) == [field, "detail", "code"]
    assert written() == (0, 0)


def test_a_rep_may_not_record_a_win_at_an_account_they_only_see_through_a_visit(api, org, canon):
    account = AccountFactory(owner=org.rep_a2)
    VisitFactory(account=account, owner=org.rep_a1)  # rep_a1 sees the account, read-only

    response = api(org.rep_a1).post("/api/v1/opportunities/", win(canon, account))

    assert response.status_code == 400
    assert list(response.json()) == ["account", "detail", "code"]
    assert written() == (0, 0)
