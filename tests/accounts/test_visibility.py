import pytest

from accounts.models import Account, User
from accounts.visibility import sees_without_asking
from pipeline.models import Opportunity, SalesTarget, Visit
from tests.factories import AccountFactory, OpportunityFactory, SalesTargetFactory, VisitFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("rep_a1", {"rep_a1"}),
        ("rep_a2", set()),
        ("manager_a", {"rep_a1", "manager_a"}),
        ("manager_b", {"rep_b1"}),
        ("director", {"rep_a1", "manager_a", "rep_b1"}),
    ],
)
def test_each_role_sees_exactly_the_rows_the_rule_allows(org, viewer, expected):
    owners = [org.rep_a1, org.manager_a, org.rep_b1]
    for owner in owners:
        opportunity = OpportunityFactory(owner=owner)
        VisitFactory(account=opportunity.account)
    user = getattr(org, viewer)

    def owners_of(queryset, path="owner__username"):
        return set(queryset.visible_to(user).values_list(path, flat=True))

    assert owners_of(Account.objects) == expected
    assert owners_of(Opportunity.objects) == expected
    assert owners_of(Visit.objects) == expected


def test_users_visible_to_a_manager_are_their_team_and_themself(org):
    names = set(User.objects.visible_to(org.manager_a).values_list("username", flat=True))
    assert names == {"manager_a", "rep_a1", "rep_a2"}
    assert set(User.objects.visible_to(org.rep_a1).values_list("username", flat=True)) == {"rep_a1"}


def test_team_targets_are_visible_to_the_team_manager_and_directors_only(org):
    SalesTargetFactory(owner_user=None, owner_team=org.team_a)
    SalesTargetFactory(owner_user=org.rep_a1)
    SalesTargetFactory(owner_user=org.rep_b1)

    def seen(user):
        return sorted(
            (t.owner_team.name if t.owner_team else t.owner_user.username)
            for t in SalesTarget.objects.visible_to(user).select_related("owner_user", "owner_team")
        )

    assert seen(org.director) == ["A", "rep_a1", "rep_b1"]
    assert seen(org.manager_a) == ["A", "rep_a1"]
    assert seen(org.manager_b) == ["rep_b1"]
    assert seen(org.rep_a1) == ["rep_a1"]


def test_an_inactive_user_sees_nothing(org):
    AccountFactory(owner=org.rep_a1)
    org.director.is_active = False
    assert not Account.objects.visible_to(org.director).exists()


def test_teams_are_visible_to_their_members_their_manager_and_directors(org):
    from accounts.models import Team

    def seen(user):
        return sorted(Team.objects.visible_to(user).values_list("name", flat=True))

    assert (seen(org.director), seen(org.manager_a), seen(org.rep_b1)) == (["A", "B"], ["A"], ["B"])


def test_a_time_zone_activated_during_a_request_does_not_leak_into_the_next(org, client, settings):
    from django.utils import timezone

    org.rep_a1.time_zone = "Europe/Berlin"
    org.rep_a1.save()
    client.force_login(org.rep_a1)
    client.get("/")
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


@pytest.mark.parametrize("viewer", ["rep_a1", "rep_a2", "manager_a", "manager_b", "director"])
@pytest.mark.parametrize("owner", ["rep_a1", "manager_a", "rep_b1"])
def test_the_no_query_shortcut_never_claims_more_than_the_rule(org, viewer, owner, django_assert_num_queries):
    """sees_without_asking answers True only where visible_to would show the row, and runs no query."""
    account = AccountFactory(owner=getattr(org, owner))
    user = getattr(org, viewer)

    with django_assert_num_queries(0):
        shortcut = sees_without_asking(user, owner_id=account.owner_id)

    assert shortcut == (viewer == owner or viewer == "director")
    if shortcut:
        assert Account.objects.visible_to(user).filter(pk=account.pk).exists()


def test_the_no_query_shortcut_gives_an_inactive_user_nothing(org):
    org.director.is_active = False
    org.rep_a1.is_active = False

    assert not sees_without_asking(org.director, owner_id=org.rep_b1.pk)
    assert not sees_without_asking(org.rep_a1, owner_id=org.rep_a1.pk)
