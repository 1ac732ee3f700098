"""SPEC §1 beyond ownership: a visit is visible to its author, the owner of its account and the owner of its
opportunity (and their managers); an account is visible, read-only, to the owners of opportunities and visits at it.

The company: rep_a1 (team A, manager_a) and rep_b1 (team B, manager_b); rep_a2 is rep_a1's teammate.
- "own": rep_a1's account, where rep_b1 also made a visit;
- "my opportunity": rep_b1's account, where rep_a1 owns an opportunity (rep_b1 visited about it, and once without);
- "my visit": rep_b1's account, where rep_a1 made a visit;
- "unrelated": rep_b1's account with rep_b1's own opportunity and visit.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Account, AccountYear, Contact, InstalledBase
from pipeline.models import Opportunity, Visit
from pipeline.services.reassignment import reassign_account
from tests.factories import (
    AccountFactory,
    AccountYearFactory,
    ContactFactory,
    InstalledBaseFactory,
    OpportunityFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db

ALL_ACCOUNTS = {"own", "my opportunity", "my visit", "unrelated"}
ALL_VISITS = {
    "a1 at own",
    "b1 at own",
    "b1 about a1's opportunity",
    "b1 at my opportunity's account",
    "a1 at my visit's account",
    "b1 at unrelated",
}
A_SIDE_VISITS = {"a1 at own", "b1 at own", "b1 about a1's opportunity", "a1 at my visit's account"}
B_SIDE_VISITS = ALL_VISITS - {"a1 at own"}
# viewer -> (accounts seen, accounts changeable, visits seen, visits changeable)
EXPECTED = {
    "rep_a1": (
        {"own", "my opportunity", "my visit"},
        {"own"},
        A_SIDE_VISITS,
        {"a1 at own", "a1 at my visit's account"},
    ),
    "manager_a": (
        {"own", "my opportunity", "my visit"},
        {"own"},
        A_SIDE_VISITS,
        {"a1 at own", "a1 at my visit's account"},
    ),
    "rep_a2": (set(), set(), set(), set()),
    "rep_b1": (ALL_ACCOUNTS, ALL_ACCOUNTS - {"own"}, B_SIDE_VISITS, B_SIDE_VISITS - {"a1 at my visit's account"}),
    "manager_b": (ALL_ACCOUNTS, ALL_ACCOUNTS - {"own"}, B_SIDE_VISITS, B_SIDE_VISITS - {"a1 at my visit's account"}),
    "director": (ALL_ACCOUNTS, ALL_ACCOUNTS, ALL_VISITS, ALL_VISITS),
}


@pytest.fixture
def crossing(org):
    """The accounts and visits of the module docstring, named by `name` and `purpose`."""
    own = AccountFactory(owner=org.rep_a1, name="own")
    my_opportunity = AccountFactory(owner=org.rep_b1, name="my opportunity")
    my_visit = AccountFactory(owner=org.rep_b1, name="my visit")
    unrelated = AccountFactory(owner=org.rep_b1, name="unrelated")
    opportunity = OpportunityFactory(owner=org.rep_a1, account=my_opportunity, name="a1's opportunity")
    OpportunityFactory(owner=org.rep_b1, account=unrelated, name="b1's opportunity")
    VisitFactory(owner=org.rep_a1, account=own, purpose="a1 at own")
    VisitFactory(owner=org.rep_b1, account=own, purpose="b1 at own")
    VisitFactory(owner=org.rep_b1, account=my_opportunity, opportunity=opportunity, purpose="b1 about a1's opportunity")
    VisitFactory(owner=org.rep_b1, account=my_opportunity, purpose="b1 at my opportunity's account")
    VisitFactory(owner=org.rep_a1, account=my_visit, purpose="a1 at my visit's account")
    VisitFactory(owner=org.rep_b1, account=unrelated, purpose="b1 at unrelated")
    for account in (own, my_opportunity, my_visit, unrelated):
        ContactFactory(account=account, name=account.name)
        InstalledBaseFactory(account=account, product=account.name)
        AccountYearFactory(account=account)
    return org


@pytest.mark.parametrize("viewer", EXPECTED)
def test_accounts_are_visible_to_the_owners_of_opportunities_and_visits_at_them_and_changeable_by_their_owner(
    crossing, viewer
):
    user = getattr(crossing, viewer)
    seen, changeable, *_ = EXPECTED[viewer]

    assert set(Account.objects.visible_to(user).values_list("name", flat=True)) == seen
    assert set(Account.objects.editable_by(user).values_list("name", flat=True)) == changeable
    flags = dict(Account.objects.visible_to(user).annotate_is_editable(user).values_list("name", "is_editable"))
    assert flags == {name: name in changeable for name in seen}


@pytest.mark.parametrize("viewer", EXPECTED)
def test_rows_about_an_account_are_visible_and_changeable_with_it(crossing, viewer):
    user = getattr(crossing, viewer)
    seen, changeable, *_ = EXPECTED[viewer]

    assert set(Contact.objects.visible_to(user).values_list("name", flat=True)) == seen
    assert set(Contact.objects.editable_by(user).values_list("name", flat=True)) == changeable
    assert set(InstalledBase.objects.visible_to(user).values_list("product", flat=True)) == seen
    assert set(AccountYear.objects.visible_to(user).values_list("account__name", flat=True)) == seen
    assert set(AccountYear.objects.editable_by(user).values_list("account__name", flat=True)) == changeable


@pytest.mark.parametrize("viewer", EXPECTED)
def test_a_visit_is_visible_to_its_author_its_accounts_owner_and_its_opportunitys_owner(crossing, viewer):
    user = getattr(crossing, viewer)
    *_, seen, changeable = EXPECTED[viewer]

    assert set(Visit.objects.visible_to(user).values_list("purpose", flat=True)) == seen
    assert set(Visit.objects.editable_by(user).values_list("purpose", flat=True)) == changeable


@pytest.mark.parametrize("viewer", EXPECTED)
def test_opportunities_still_follow_their_owner(crossing, viewer):
    user = getattr(crossing, viewer)
    expected = {
        "rep_a1": {"a1's opportunity"},
        "manager_a": {"a1's opportunity"},
        "rep_a2": set(),
        "rep_b1": {"b1's opportunity"},
        "manager_b": {"b1's opportunity"},
        "director": {"a1's opportunity", "b1's opportunity"},
    }[viewer]

    assert set(Opportunity.objects.visible_to(user).values_list("name", flat=True)) == expected


def test_after_a_reassignment_the_new_owner_sees_the_accounts_visit_history(org):
    account = AccountFactory(owner=org.rep_a1)
    done = timezone.now() - timedelta(days=30)
    history = {
        VisitFactory(account=account, owner=org.rep_a1, status="done", done_at=done, planned_at=None).pk,
        VisitFactory(account=account, owner=org.rep_b1, status="done", done_at=done, planned_at=None).pk,
    }
    assert not Visit.objects.visible_to(org.rep_a2).filter(pk__in=history).exists()

    reassign_account(account=account, to_owner=org.rep_a2, reassigned_by=org.manager_a)

    assert set(Visit.objects.visible_to(org.rep_a2).values_list("pk", flat=True)) == history
    assert set(Visit.objects.editable_by(org.rep_a2).values_list("pk", flat=True)) == set()
    # The previous owner keeps their own visits, and sees the account read-only through them.
    assert Visit.objects.visible_to(org.rep_a1).filter(pk__in=history).count() == 1
    assert list(Account.objects.visible_to(org.rep_a1).values_list("pk", flat=True)) == [account.pk]
    assert not Account.objects.editable_by(org.rep_a1).exists()


def test_an_inactive_user_sees_no_account_and_no_visit(crossing):
    crossing.rep_a1.is_active = False

    assert not Account.objects.visible_to(crossing.rep_a1).exists()
    assert not Visit.objects.visible_to(crossing.rep_a1).exists()
    assert not Contact.objects.visible_to(crossing.rep_a1).exists()


@pytest.mark.parametrize("viewer", ["rep_a1", "manager_a"])
def test_the_rule_compares_a_visits_own_columns_with_lists_of_ids_instead_of_joining_its_owner(org, viewer):
    sql = str(Visit.objects.visible_to(getattr(org, viewer)).order_by().values("pk").query)

    outer = sql.split(" WHERE ")[0]
    among = " = ANY(ARRAY(SELECT " if connection.vendor == "postgresql" else " IN (SELECT "
    assert outer == 'SELECT "pipeline_visit"."id" AS "pk" FROM "pipeline_visit"'  # no join
    assert '"pipeline_visit"."account_id"' + among in sql
    assert '"pipeline_visit"."opportunity_id"' + among in sql
    if viewer == "manager_a":
        assert '"pipeline_visit"."owner_id"' + among in sql
    else:
        assert f'"pipeline_visit"."owner_id" = {org.rep_a1.pk}' in sql
