"""Account pages for every role and every way of seeing an account (SPEC §1): an account is the owner's side's to
change; the owners of opportunities and visits at it (and their managers) open its page read-only; anyone else gets
404. Pages that change an account or its contacts answer 404 to a read-only viewer, and nothing is written; so do
those that complete or cancel another side's visit seen at one's account."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account, Contact
from pipeline.models import Visit
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, UserFactory, VisitFactory

pytestmark = pytest.mark.django_db

CASES = ["own", "my opportunity", "my visit", "unrelated"]
# viewer role -> case -> what the viewer gets: "edit" (page and every change), "read" (page only) or 404
EXPECTED = {
    "rep": {"own": "edit", "my opportunity": "read", "my visit": "read", "unrelated": 404},
    "manager": {"own": "edit", "my opportunity": "read", "my visit": "read", "unrelated": 404},
    "director": {"own": "edit", "my opportunity": "edit", "my visit": "edit", "unrelated": "edit"},
}


@pytest.fixture
def accounts_by_case(org):
    """rep_a1's account; rep_b1's accounts with rep_a1's opportunity, with rep_a1's visit, and with neither; a
    contact at each."""
    own = AccountFactory(owner=org.rep_a1, name="own")
    with_opportunity = AccountFactory(owner=org.rep_b1, name="my opportunity")
    with_visit = AccountFactory(owner=org.rep_b1, name="my visit")
    unrelated = AccountFactory(owner=org.rep_b1, name="unrelated")
    OpportunityFactory(owner=org.rep_a1, account=with_opportunity)
    VisitFactory(owner=org.rep_a1, account=with_visit)
    OpportunityFactory(owner=org.rep_b1, account=unrelated)
    accounts = {"own": own, "my opportunity": with_opportunity, "my visit": with_visit, "unrelated": unrelated}
    for account in accounts.values():
        ContactFactory(account=account, name=f"contact at {account.name}")
    return accounts


def _viewer(org, role):
    return {"rep": org.rep_a1, "manager": org.manager_a, "director": org.director}[role]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("role", EXPECTED)
def test_the_account_page_opens_for_whoever_sees_the_account_with_edit_links_only_for_its_side(
    client, org, accounts_by_case, role, case
):
    account = accounts_by_case[case]
    client.force_login(_viewer(org, role))

    response = client.get(reverse("accounts:detail", args=[account.pk]))

    expected = EXPECTED[role][case]
    if expected == 404:
        assert response.status_code == 404
        return
    html = response.content.decode()
    contact = account.contacts.get()
    edit_links = {
        reverse("accounts:edit", args=[account.pk]),
        reverse("accounts:contact_create", args=[account.pk]),
        reverse("accounts:contact_edit", args=[account.pk, contact.pk]),
    }
    assert response.status_code == 200
    assert response.context["can_edit"] is (expected == "edit")
    assert {link for link in edit_links if link in html} == (edit_links if expected == "edit" else set())
    assert contact.name in html  # a read-only viewer still sees who to talk to


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("role", EXPECTED)
def test_the_pages_that_change_an_account_answer_404_unless_the_viewer_may_change_it(
    client, org, accounts_by_case, role, case
):
    account = accounts_by_case[case]
    contact = account.contacts.get()
    client.force_login(_viewer(org, role))
    before = (Account.objects.filter(pk=account.pk).values().get(), sorted(Contact.objects.values_list("pk", "name")))

    answers = [
        client.get(reverse("accounts:edit", args=[account.pk])).status_code,
        client.get(reverse("accounts:contact_create", args=[account.pk])).status_code,
        client.get(reverse("accounts:contact_edit", args=[account.pk, contact.pk])).status_code,
    ]
    posted = [
        client.post(reverse("accounts:edit", args=[account.pk]), {"name": "Renamed"}).status_code,
        client.post(reverse("accounts:contact_create", args=[account.pk]), {"name": "新联系人"}).status_code,
        client.post(reverse("accounts:contact_edit", args=[account.pk, contact.pk]), {"name": "改名"}).status_code,
        client.post(reverse("accounts:contact_archive", args=[account.pk, contact.pk])).status_code,
    ]

    if EXPECTED[role][case] == "edit":
        assert answers == [200, 200, 200]
    else:
        assert (answers, posted) == ([404, 404, 404], [404, 404, 404, 404])
        after = (
            Account.objects.filter(pk=account.pk).values().get(),
            sorted(Contact.objects.values_list("pk", "name")),
        )
        assert after == before


def test_a_read_only_account_page_runs_as_many_queries_as_an_owned_one(
    client, org, accounts_by_case, django_assert_num_queries
):
    client.force_login(org.rep_a1)
    own, read_only = accounts_by_case["own"], accounts_by_case["my opportunity"]
    client.get(reverse("accounts:detail", args=[own.pk]))  # warm the session and the language

    with CaptureQueriesContext(connection) as owned_page:
        client.get(reverse("accounts:detail", args=[own.pk]))
    with django_assert_num_queries(len(owned_page.captured_queries)):
        assert client.get(reverse("accounts:detail", args=[read_only.pk])).status_code == 200


def test_a_rep_of_another_team_with_nothing_at_the_account_gets_404(client, org, accounts_by_case):
    stranger = UserFactory(username="stranger")
    client.force_login(stranger)

    statuses = {
        case: client.get(reverse("accounts:detail", args=[a.pk])).status_code for case, a in accounts_by_case.items()
    }

    assert statuses == dict.fromkeys(CASES, 404)


def test_another_sides_visit_at_my_account_shows_without_its_actions_and_cannot_be_completed_or_cancelled(client, org):
    account = AccountFactory(owner=org.rep_a1)
    theirs = VisitFactory(owner=org.rep_b1, account=account, purpose="别队计划拜访")
    mine = VisitFactory(owner=org.rep_a1, account=account, purpose="我的计划拜访")
    client.force_login(org.rep_a1)
    before = Visit.objects.filter(pk=theirs.pk).values().get()

    detail = client.get(reverse("pipeline:visit", args=[theirs.pk]))
    account_page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    answers = [
        client.get(reverse("pipeline:visit_complete", args=[theirs.pk])).status_code,
        client.post(reverse("pipeline:visit_complete", args=[theirs.pk]), {"summary": "谈妥"}).status_code,
        client.post(reverse("pipeline:visit_cancel", args=[theirs.pk])).status_code,
    ]

    assert detail.status_code == 200
    assert reverse("pipeline:visit_complete", args=[theirs.pk]) not in detail.content.decode()
    assert reverse("pipeline:visit_complete", args=[theirs.pk]) not in account_page
    assert reverse("pipeline:visit_complete", args=[mine.pk]) in account_page
    assert answers == [404, 404, 404]
    assert Visit.objects.filter(pk=theirs.pk).values().get() == before
