"""Teams, accounts and contacts are archived, never deleted: services, pages, and the database's PROTECT (issue 11 §5).

Archived rows leave lists, pickers and form choices; their history stays readable and analytics keep counting them.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account, AccountYear, Contact, InstalledBase, User
from accounts.services import (
    archive_account,
    archive_contact,
    archive_team,
    restore_account,
    restore_contact,
    restore_team,
)
from analytics.selectors.attainment import attainment
from core.errors import Conflict, NotAllowed, NotVisible
from pipeline.forms.opportunities import OpportunityCreateForm
from pipeline.forms.visits import VisitLogForm
from pipeline.models import Opportunity, Reassignment, SalesTarget, StageChange, Visit, VisitWeekComment
from pipeline.selectors.accounts import account_search, accounts_for_list
from tests.analytics.conftest import at, won
from tests.factories import (
    AccountFactory,
    AccountYearFactory,
    ContactFactory,
    InstalledBaseFactory,
    OpportunityFactory,
    SalesTargetFactory,
    StageChangeFactory,
    TeamFactory,
    UserFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db


def archived_state(row) -> tuple:
    row.refresh_from_db()
    return (row.archived_at is not None, row.archived_by_id)


# --- the database protects business rows from cascades -------------------------------------------------------


def test_deleting_an_account_through_the_orm_is_refused_while_it_has_contacts_installed_base_or_figures(org):
    for make_row in (ContactFactory, InstalledBaseFactory, AccountYearFactory):
        row = make_row(account=AccountFactory(owner=org.rep_a1))

        with pytest.raises(ProtectedError):
            row.account.delete()

        assert Account.objects.filter(pk=row.account_id).exists()
        assert type(row).objects.filter(pk=row.pk).exists()


def test_deleting_an_account_with_opportunities_visits_or_reassignments_is_refused(org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    visit = VisitFactory(owner=org.rep_a1)
    reassignment = Reassignment.objects.create(
        account=AccountFactory(owner=org.rep_a1), from_owner=org.rep_a2, to_owner=org.rep_a1, reassigned_by=org.director
    )

    for account in (opportunity.account, visit.account, reassignment.account):
        with pytest.raises(ProtectedError):
            account.delete()

    assert Account.objects.count() == 3


def test_deleting_a_team_with_targets_or_members_is_refused_and_nothing_is_detached(org):
    target = SalesTargetFactory(owner_user=None, owner_team=org.team_b)
    empty_team = TeamFactory(name="Empty")
    SalesTargetFactory(owner_user=None, owner_team=empty_team)

    with pytest.raises(ProtectedError):
        org.team_b.delete()  # members and targets
    with pytest.raises(ProtectedError):
        empty_team.delete()  # targets only

    assert SalesTarget.objects.get(pk=target.pk).owner_team == org.team_b
    assert sorted(org.team_b.members.values_list("username", flat=True)) == ["manager_b", "rep_b1"]


def test_deleting_a_user_with_targets_week_comments_or_a_managed_team_is_refused(org):
    with_target = UserFactory(username="with_target")
    SalesTargetFactory(owner_user=with_target)
    with_comment = UserFactory(username="with_comment")
    VisitWeekComment.objects.create(rep=with_comment, week_start=date(2026, 3, 2), author=org.director, text="Ok")
    manager = UserFactory(username="lead", role=User.Role.MANAGER)
    TeamFactory(name="Led", manager=manager)

    for user in (with_target, with_comment, manager):
        with pytest.raises(ProtectedError):
            user.delete()

    assert User.objects.filter(username__in=["with_target", "with_comment", "lead"]).count() == 3


def test_deleting_a_contact_with_visits_or_an_opportunity_with_history_is_refused(org):
    contact = ContactFactory(account=AccountFactory(owner=org.rep_a1))
    VisitFactory(account=contact.account, contact=contact)
    change = StageChangeFactory(opportunity=OpportunityFactory(owner=org.rep_a1))

    with pytest.raises(ProtectedError):
        contact.delete()
    with pytest.raises(ProtectedError):
        change.opportunity.delete()

    assert Visit.objects.get().contact == contact
    assert StageChange.objects.filter(pk=change.pk).exists()


# --- archiving services ------------------------------------------------------------------------------------


def test_a_manager_archives_an_account_and_keeps_its_rows(org):
    account = AccountFactory(owner=org.rep_a1)
    ContactFactory(account=account)
    InstalledBaseFactory(account=account)
    AccountYearFactory(account=account)
    won(account=account, closed_at=at(2026, 1, 10))

    archive_account(account=account, archived_by=org.manager_a)

    assert archived_state(account) == (True, org.manager_a.pk)
    counts = [model.objects.filter(account=account).count() for model in (Contact, InstalledBase, AccountYear)]
    assert counts == [1, 1, 1]
    assert Opportunity.objects.filter(account=account).count() == 1
    assert list(account.changes.values_list("field", "old")) == [("archived_at", None)]


def test_archiving_an_account_with_open_opportunities_is_refused_and_writes_nothing(org):
    account = OpportunityFactory(owner=org.rep_a1).account

    with pytest.raises(Conflict) as refused:
        archive_account(account=account, archived_by=org.director)

    assert refused.value.status == 409
    assert archived_state(account) == (False, None)
    assert account.changes.count() == 0


def test_a_rep_may_not_archive_an_account_and_nobody_archives_one_they_cannot_see(org):
    account = AccountFactory(owner=org.rep_a1)

    with pytest.raises(NotAllowed):
        archive_account(account=account, archived_by=org.rep_a1)
    with pytest.raises(NotVisible):
        archive_account(account=account, archived_by=org.manager_b)

    assert archived_state(account) == (False, None)


def test_restoring_an_account_brings_it_back_and_is_recorded(org):
    account = AccountFactory(owner=org.rep_a1)
    archive_account(account=account, archived_by=org.manager_a)

    restore_account(account=account, restored_by=org.director)

    assert archived_state(account) == (False, None)
    assert sorted(account.changes.values_list("field", flat=True)) == ["archived_at", "archived_at"]


def test_archiving_twice_changes_nothing_the_second_time(org):
    account = AccountFactory(owner=org.rep_a1)
    first = archive_account(account=account, archived_by=org.manager_a).archived_at

    again = archive_account(account=account, archived_by=org.director)

    assert (again.archived_at, again.archived_by) == (first, org.manager_a)
    assert account.changes.count() == 1


def test_a_rep_archives_and_restores_a_contact_at_their_account(org):
    contact = ContactFactory(account=AccountFactory(owner=org.rep_a1))

    archive_contact(contact=contact, archived_by=org.rep_a1)
    assert archived_state(contact) == (True, org.rep_a1.pk)

    restore_contact(contact=contact, restored_by=org.rep_a1)
    assert archived_state(contact) == (False, None)


def test_a_director_archives_an_empty_team_and_its_targets_stay(org):
    team = TeamFactory(name="Former")
    target = SalesTargetFactory(owner_user=None, owner_team=team)

    archive_team(team=team, archived_by=org.director)

    assert archived_state(team) == (True, org.director.pk)
    assert SalesTarget.objects.get(pk=target.pk).owner_team == team
    restore_team(team=team, restored_by=org.director)
    assert archived_state(team) == (False, None)


def test_archiving_a_team_with_active_members_is_refused_so_nobody_is_detached(org):
    with pytest.raises(Conflict) as refused:
        archive_team(team=org.team_a, archived_by=org.director)

    assert "3" in str(refused.value)
    assert archived_state(org.team_a) == (False, None)
    assert User.objects.filter(team=org.team_a).count() == 3


def test_only_a_director_archives_a_team(org):
    team = TeamFactory(name="Former")

    with pytest.raises(NotAllowed):
        archive_team(team=team, archived_by=org.manager_a)

    assert archived_state(team) == (False, None)


# --- hidden from lists, pickers and choices; history and analytics kept -----------------------------------------


def test_archived_accounts_leave_the_list_and_the_visit_picker_but_not_their_page(client, org):
    kept = AccountFactory(owner=org.rep_a1, name="Kept 公司")
    gone = AccountFactory(owner=org.rep_a1, name="Gone 公司")
    archive_account(account=gone, archived_by=org.manager_a)

    assert list(accounts_for_list(viewer=org.rep_a1)) == [kept]
    assert account_search(viewer=org.rep_a1, query="公司") == [kept]
    client.force_login(org.rep_a1)
    assert "Gone 公司" not in client.get(reverse("accounts:list")).content.decode()
    page = client.get(reverse("accounts:detail", args=[gone.pk]))
    assert page.status_code == 200
    assert "Gone 公司" in page.content.decode()


def test_archived_accounts_and_contacts_are_no_choice_in_the_visit_and_opportunity_forms(org):
    account = AccountFactory(owner=org.rep_a1)
    kept = ContactFactory(account=account)
    gone = ContactFactory(account=account)
    archive_contact(contact=gone, archived_by=org.rep_a1)
    archived_account = AccountFactory(owner=org.rep_a1)
    archive_account(account=archived_account, archived_by=org.manager_a)

    visit_form = VisitLogForm(user=org.rep_a1, account=account)
    opportunity_form = OpportunityCreateForm(user=org.rep_a1)

    assert list(visit_form.fields["contact"].queryset) == [kept]
    assert list(visit_form.fields["account"].queryset) == [account]
    assert list(opportunity_form.fields["account"].queryset) == [account]


def test_an_archived_contact_keeps_its_name_on_past_visits_and_leaves_the_account_page_list(client, org):
    account = AccountFactory(owner=org.rep_a1)
    contact = ContactFactory(account=account, name="王离职")
    VisitFactory(account=account, contact=contact)
    archive_contact(contact=contact, archived_by=org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.get(reverse("accounts:detail", args=[account.pk]))

    assert [card.contact for card in response.context["contact_cards"]] == []
    assert response.context["archived_contacts"] == [contact]
    assert Visit.objects.get().contact == contact


def test_an_archived_accounts_wins_still_count_in_attainment(org):
    account = AccountFactory(owner=org.rep_a1)
    SalesTargetFactory(owner_user=org.rep_a1, period_type="month", period_start=date(2026, 1, 1), amount=100000)
    won(account=account, amount="50000", closed_at=at(2026, 1, 10))

    archive_account(account=account, archived_by=org.manager_a)

    rows = attainment(viewer=org.director, period_type="month", year=2026)
    assert [(r.owner_name, r.won_amount) for r in rows if r.owner_type == "user"] == [("rep_a1", Decimal("50000.00"))]


# --- pages -----------------------------------------------------------------------------------------------------


def test_a_manager_archives_and_restores_an_account_from_its_page(client, org):
    account = AccountFactory(owner=org.rep_a1)
    User.objects.filter(pk=org.manager_a.pk).update(language="en")
    client.force_login(org.manager_a)

    archived = client.post(reverse("accounts:archive", args=[account.pk]))
    assert (archived.status_code, archived_state(account)) == (302, (True, org.manager_a.pk))
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "Archived on" in page
    assert reverse("accounts:restore", args=[account.pk]) in page

    restored = client.post(reverse("accounts:restore", args=[account.pk]))
    assert (restored.status_code, archived_state(account)) == (302, (False, None))


def test_a_rep_cannot_archive_an_account_from_the_page(client, org):
    account = AccountFactory(owner=org.rep_a1)
    User.objects.filter(pk=org.rep_a1.pk).update(language="en")
    client.force_login(org.rep_a1)

    response = client.post(reverse("accounts:archive", args=[account.pk]), follow=True)

    assert archived_state(account) == (False, None)
    assert [str(m) for m in response.context["messages"]] == [
        "Only a sales manager or director may archive or restore an account."
    ]


def test_archiving_a_contact_from_the_account_page_answers_the_contacts_section(client, org):
    contact = ContactFactory(account=AccountFactory(owner=org.rep_a1))
    client.force_login(org.rep_a1)

    response = client.post(
        reverse("accounts:contact_archive", args=[contact.account_id, contact.pk]), HTTP_HX_REQUEST="true"
    )

    assert (response.status_code, response["HX-Retarget"]) == (200, "#contacts")
    html = response.content.decode()
    assert contact.name in html
    assert reverse("accounts:contact_restore", args=[contact.account_id, contact.pk]) in html
    assert archived_state(contact) == (True, org.rep_a1.pk)


def test_a_contact_of_another_reps_account_cannot_be_archived_from_a_page(client, org):
    contact = ContactFactory(account=AccountFactory(owner=org.rep_b1))
    client.force_login(org.rep_a1)

    response = client.post(reverse("accounts:contact_archive", args=[contact.account_id, contact.pk]))

    assert response.status_code == 404
    assert archived_state(contact) == (False, None)


def test_the_account_page_runs_the_same_queries_with_archived_contacts(client, org):
    account = AccountFactory(owner=org.rep_a1)
    ContactFactory(account=account)
    client.force_login(org.rep_a1)
    client.get(reverse("accounts:detail", args=[account.pk]))  # warm the session and the language

    with CaptureQueriesContext(connection) as before:
        client.get(reverse("accounts:detail", args=[account.pk]))
    archive_contact(contact=ContactFactory(account=account), archived_by=org.rep_a1)
    with CaptureQueriesContext(connection) as after:
        client.get(reverse("accounts:detail", args=[account.pk]))

    assert len(after) == len(before)
