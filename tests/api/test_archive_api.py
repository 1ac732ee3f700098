"""DELETE on accounts, contacts and teams archives (204), POST {id}/restore/ restores; lists hide archived records
unless `?archived=true`; archived records are no choice for new input (issue 11 §5)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Account, Contact, InstalledBase, Team
from accounts.services import archive_account, archive_contact
from pipeline.models import Visit
from tests.factories import (
    AccountFactory,
    ContactFactory,
    InstalledBaseFactory,
    OpportunityFactory,
    SalesTargetFactory,
    TeamFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db


def is_archived(model, pk: int) -> bool:
    return model.objects.get(pk=pk).archived_at is not None


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_delete_on_an_account_archives_it_and_keeps_its_rows(api, org):
    account = AccountFactory(owner=org.rep_a1)
    InstalledBaseFactory(account=account)
    ContactFactory(account=account)

    response = api(org.manager_a).delete(f"/api/v1/accounts/{account.pk}/")

    assert (response.status_code, response.content) == (204, b"")
    assert is_archived(Account, account.pk)
    assert (Contact.objects.filter(account=account).count(), InstalledBase.objects.filter(account=account).count()) == (
        1,
        1,
    )


def test_delete_again_answers_204_and_changes_nothing(api, org):
    account = AccountFactory(owner=org.rep_a1)
    client = api(org.manager_a)
    client.delete(f"/api/v1/accounts/{account.pk}/")
    archived_at = Account.objects.get(pk=account.pk).archived_at

    response = client.delete(f"/api/v1/accounts/{account.pk}/")

    assert response.status_code == 204
    assert Account.objects.get(pk=account.pk).archived_at == archived_at


def test_an_account_with_open_opportunities_is_not_archived(api, org):
    account = OpportunityFactory(owner=org.rep_a1).account

    response = api(org.director).delete(f"/api/v1/accounts/{account.pk}/")

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert not is_archived(Account, account.pk)


def test_a_rep_may_not_archive_an_account_and_others_do_not_see_it(api, org):
    account = AccountFactory(owner=org.rep_a1)

    assert api(org.rep_a1).delete(f"/api/v1/accounts/{account.pk}/").status_code == 403
    assert api(org.manager_b).delete(f"/api/v1/accounts/{account.pk}/").status_code == 404
    assert not is_archived(Account, account.pk)


def test_the_account_list_hides_archived_accounts_unless_asked_and_one_stays_readable(api, org):
    kept = AccountFactory(owner=org.rep_a1)
    gone = AccountFactory(owner=org.rep_a1)
    archive_account(account=gone, archived_by=org.manager_a)
    client = api(org.rep_a1)

    assert ids(client.get("/api/v1/accounts/")) == [kept.pk]
    assert ids(client.get("/api/v1/accounts/", {"archived": "true"})) == [gone.pk]
    assert ids(client.get("/api/v1/accounts/", {"archived": "false"})) == [kept.pk]
    one = client.get(f"/api/v1/accounts/{gone.pk}/")
    assert one.status_code == 200
    assert one.json()["archived_at"] is not None
    assert client.get("/api/v1/accounts/", {"archived": "maybe"}).status_code == 400


def test_restore_brings_an_account_back_to_the_list(api, org):
    account = AccountFactory(owner=org.rep_a1)
    archive_account(account=account, archived_by=org.manager_a)

    response = api(org.manager_a).post(f"/api/v1/accounts/{account.pk}/restore/")

    assert (response.status_code, response.json()["id"], response.json()["archived_at"]) == (200, account.pk, None)
    assert ids(api(org.rep_a1).get("/api/v1/accounts/")) == [account.pk]


def test_delete_on_a_contact_archives_it_for_a_rep_and_its_visits_keep_it(api, org):
    contact = ContactFactory(account=AccountFactory(owner=org.rep_a1))
    VisitFactory(account=contact.account, contact=contact)
    client = api(org.rep_a1)

    assert client.delete(f"/api/v1/contacts/{contact.pk}/").status_code == 204

    assert is_archived(Contact, contact.pk)
    assert ids(client.get("/api/v1/contacts/")) == []
    assert ids(client.get("/api/v1/contacts/", {"archived": "true"})) == [contact.pk]
    assert Visit.objects.get().contact_id == contact.pk


def test_contacts_of_an_archived_account_leave_the_contact_list(api, org):
    contact = ContactFactory(account=AccountFactory(owner=org.rep_a1))
    archive_account(account=contact.account, archived_by=org.manager_a)

    assert ids(api(org.rep_a1).get("/api/v1/contacts/")) == []
    assert ids(api(org.rep_a1).get("/api/v1/contacts/", {"archived": "true"})) == [contact.pk]


def test_delete_on_a_team_archives_it_for_a_director_and_keeps_its_targets(api, org):
    team = TeamFactory(name="Former")
    target = SalesTargetFactory(owner_user=None, owner_team=team)

    response = api(org.director).delete(f"/api/v1/teams/{team.pk}/")

    assert response.status_code == 204
    assert is_archived(Team, team.pk)
    assert ids(api(org.director).get("/api/v1/targets/", {"owner_team": team.pk})) == [target.pk]
    assert [t["id"] for t in api(org.director).get("/api/v1/teams/").json()["results"]] == [
        org.team_a.pk,
        org.team_b.pk,
    ]


def test_a_team_with_members_is_not_archived_and_a_manager_may_not_archive_one(api, org):
    refused = api(org.director).delete(f"/api/v1/teams/{org.team_a.pk}/")
    forbidden = api(org.manager_a).delete(f"/api/v1/teams/{org.team_a.pk}/")

    assert (refused.status_code, refused.json()["code"]) == (409, "conflict")
    assert forbidden.status_code == 403
    assert not is_archived(Team, org.team_a.pk)


def test_an_archived_account_or_contact_is_no_choice_for_a_new_visit(api, org):
    account = AccountFactory(owner=org.rep_a1)
    contact = ContactFactory(account=account)
    archive_contact(contact=contact, archived_by=org.rep_a1)
    gone = AccountFactory(owner=org.rep_a1)
    archive_account(account=gone, archived_by=org.manager_a)
    planned_at = (timezone.now() + timedelta(days=1)).isoformat()
    client = api(org.rep_a1)

    at_archived = client.post("/api/v1/visits/", {"account": gone.pk, "planned_at": planned_at})
    with_archived_contact = client.post(
        "/api/v1/visits/", {"account": account.pk, "contact": contact.pk, "planned_at": planned_at}
    )

    assert (at_archived.status_code, at_archived.json()["code"], list(at_archived.json())) == (
        400,
        "archived",
        ["account", "detail", "code"],
    )
    assert (with_archived_contact.status_code, with_archived_contact.json()["code"]) == (400, "archived")
    assert list(with_archived_contact.json()) == ["contact", "detail", "code"]
    assert Visit.objects.count() == 0


def test_a_branch_keeps_its_archived_headquarters_but_no_other_account_may_choose_it(api, org):
    headquarters = AccountFactory(owner=org.rep_a1, is_headquarters=True)
    branch = AccountFactory(owner=org.rep_a1, parent=headquarters)
    other = AccountFactory(owner=org.rep_a1)
    archive_account(account=headquarters, archived_by=org.manager_a)
    client = api(org.rep_a1)

    kept = client.patch(f"/api/v1/accounts/{branch.pk}/", {"name": "分公司", "parent": headquarters.pk})
    refused = client.patch(f"/api/v1/accounts/{other.pk}/", {"parent": headquarters.pk})

    assert (kept.status_code, kept.json()["parent"]) == (200, headquarters.pk)
    assert (refused.status_code, refused.json()["code"]) == (400, "archived")
    assert Account.objects.get(pk=other.pk).parent_id is None
