from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Account
from core.errors import NotAllowed, NotVisible, StaleVersion, ValidationFailed
from pipeline.models import Opportunity, Reassignment, StageChange, Visit
from pipeline.services.moves import move_opportunity
from pipeline.services.reassignment import reassign_account, reassign_opportunity
from tests.factories import AccountFactory, OpportunityFactory, VisitFactory, default_stage, satisfy_exit_criteria

pytestmark = pytest.mark.django_db


def done_visit(**fields) -> Visit:
    return VisitFactory(status="done", done_at=timezone.now() - timedelta(days=1), planned_at=None, **fields)


def opportunity_with_history(owner, **fields) -> Opportunity:
    opportunity = satisfy_exit_criteria(OpportunityFactory(owner=owner, **fields), "prep")
    return move_opportunity(opportunity=opportunity, to_stage_code="status", moved_by=owner)


def test_a_manager_reassigns_an_opportunity_keeping_stage_history_and_done_visits(org):
    opportunity = opportunity_with_history(org.rep_a1)
    done = done_visit(account=opportunity.account, opportunity=opportunity)
    planned = VisitFactory(account=opportunity.account, opportunity=opportunity)

    reassigned = reassign_opportunity(opportunity=opportunity, to_owner=org.rep_a2, reassigned_by=org.manager_a)

    assert (reassigned.owner, reassigned.stage.code, reassigned.furthest_stage.code, reassigned.version) == (
        org.rep_a2,
        "status",
        "status",
        3,
    )
    assert list(StageChange.objects.filter(opportunity=opportunity).values_list("to_stage__code", "changed_by")) == [
        ("status", org.rep_a1.pk)
    ]
    done.refresh_from_db()
    planned.refresh_from_db()
    assert (done.owner, done.opportunity, done.status) == (org.rep_a1, opportunity, "done")
    assert planned.owner == org.rep_a2
    record = Reassignment.objects.get()
    assert (record.opportunity, record.account, record.from_owner, record.to_owner, record.reassigned_by) == (
        opportunity,
        None,
        org.rep_a1,
        org.rep_a2,
        org.manager_a,
    )


def test_a_rep_may_not_reassign_and_nothing_is_written(org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    with pytest.raises(NotAllowed) as refused:
        reassign_opportunity(opportunity=opportunity, to_owner=org.rep_a2, reassigned_by=org.rep_a1)
    assert refused.value.status == 403
    assert Opportunity.objects.get(pk=opportunity.pk).owner == org.rep_a1
    assert not Reassignment.objects.exists()


def test_a_manager_cannot_hand_over_to_a_user_outside_their_team(org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    with pytest.raises(ValidationFailed) as refused:
        reassign_opportunity(opportunity=opportunity, to_owner=org.rep_b1, reassigned_by=org.manager_a)
    assert refused.value.field == "to_owner"
    assert (Opportunity.objects.get(pk=opportunity.pk).owner, Reassignment.objects.count()) == (org.rep_a1, 0)


def test_a_manager_cannot_reassign_what_they_cannot_see(org):
    opportunity = OpportunityFactory(owner=org.rep_b1)
    with pytest.raises(NotVisible):
        reassign_opportunity(opportunity=opportunity, to_owner=org.rep_a1, reassigned_by=org.manager_a)
    assert (Opportunity.objects.get(pk=opportunity.pk).owner, Reassignment.objects.count()) == (org.rep_b1, 0)


def test_an_inactive_user_cannot_receive_work(org):
    org.rep_a2.is_active = False
    org.rep_a2.save()
    opportunity = OpportunityFactory(owner=org.rep_a1)
    with pytest.raises(ValidationFailed):
        reassign_opportunity(opportunity=opportunity, to_owner=org.rep_a2, reassigned_by=org.director)
    assert not Reassignment.objects.exists()


def test_a_director_reassigns_across_teams(org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    reassign_opportunity(opportunity=opportunity, to_owner=org.rep_b1, reassigned_by=org.director)
    assert Opportunity.objects.get(pk=opportunity.pk).owner == org.rep_b1
    assert Reassignment.objects.count() == 1


def test_reassigning_to_the_current_owner_records_nothing(org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    same = reassign_opportunity(opportunity=opportunity, to_owner=org.rep_a1, reassigned_by=org.manager_a)
    assert (same.version, Reassignment.objects.count()) == (1, 0)


def test_a_form_loaded_before_the_reassignment_is_stale(org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    loaded_by_the_rep = Opportunity.objects.get(pk=opportunity.pk)
    reassign_opportunity(opportunity=opportunity, to_owner=org.rep_a2, reassigned_by=org.manager_a)
    with pytest.raises(StaleVersion):
        move_opportunity(opportunity=loaded_by_the_rep, to_stage_code="status", moved_by=org.manager_a)


def test_reassigning_an_account_moves_its_open_opportunities_and_planned_visits(org):
    account = AccountFactory(owner=org.rep_a1)
    open_one = opportunity_with_history(org.rep_a1, account=account)  # plans a visit there
    won = OpportunityFactory(
        owner=org.rep_a1, account=account, stage=default_stage("implement"), status="won", closed_at=timezone.now()
    )
    someone_elses = OpportunityFactory(owner=org.manager_a, account=account)
    done = done_visit(account=account)

    moved = reassign_account(account=account, to_owner=org.rep_a2, reassigned_by=org.manager_a)

    assert moved.owner == org.rep_a2
    owners = dict(Opportunity.objects.values_list("pk", "owner"))
    assert (owners[open_one.pk], owners[won.pk], owners[someone_elses.pk]) == (
        org.rep_a2.pk,
        org.rep_a1.pk,
        org.manager_a.pk,
    )
    open_one.refresh_from_db()
    assert (open_one.stage.code, open_one.version) == ("status", 3)
    assert StageChange.objects.filter(opportunity=open_one).count() == 1
    assert sorted(Visit.objects.values_list("status", "owner")) == [("done", org.rep_a1.pk), ("planned", org.rep_a2.pk)]
    assert Visit.objects.get(status="done") == done
    records = set(Reassignment.objects.values_list("account", "opportunity", "from_owner", "to_owner", "reassigned_by"))
    assert records == {
        (account.pk, None, org.rep_a1.pk, org.rep_a2.pk, org.manager_a.pk),
        (None, open_one.pk, org.rep_a1.pk, org.rep_a2.pk, org.manager_a.pk),
    }


def test_reassigning_only_the_account_leaves_its_opportunities_and_visits(org):
    account = AccountFactory(owner=org.rep_a1)
    opportunity = OpportunityFactory(owner=org.rep_a1, account=account)
    planned = VisitFactory(account=account)

    reassign_account(account=account, to_owner=org.rep_a2, reassigned_by=org.director, with_open_opportunities=False)

    assert Account.objects.get(pk=account.pk).owner == org.rep_a2
    assert Opportunity.objects.get(pk=opportunity.pk).owner == org.rep_a1
    assert Visit.objects.get(pk=planned.pk).owner == org.rep_a1
    assert list(Reassignment.objects.values_list("account", "opportunity")) == [(account.pk, None)]


@pytest.mark.parametrize(("actor", "error"), [("rep_a1", NotAllowed), ("manager_b", NotVisible)])
def test_an_account_reassignment_is_refused_to_reps_and_to_managers_who_cannot_see_it(org, actor, error):
    account = AccountFactory(owner=org.rep_a1)
    OpportunityFactory(owner=org.rep_a1, account=account)
    with pytest.raises(error):
        reassign_account(account=account, to_owner=org.rep_a2, reassigned_by=getattr(org, actor))
    assert Account.objects.get(pk=account.pk).owner == org.rep_a1
    assert set(Opportunity.objects.values_list("owner", flat=True)) == {org.rep_a1.pk}
    assert not Reassignment.objects.exists()
