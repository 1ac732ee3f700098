"""Who sets which target (SPEC §6): directors any; a manager their own reps' only (not their own, not a team's); reps
none. Every change of a target is recorded; a refusal writes nothing."""

from datetime import date
from decimal import Decimal

import pytest

from core.errors import NotAllowed, NotVisible, ValidationFailed
from pipeline.models import SalesTarget, TargetChange
from pipeline.services.targets import create_target, update_target
from tests.factories import SalesTargetFactory

pytestmark = pytest.mark.django_db

MONTH = date(2025, 6, 1)

# Whose target, as seen from manager_a of team A: their own, their rep's, their team's, the other team's rep's and
# the other team's.
OWNERS = {
    "own": {"owner_user": "manager_a"},
    "own_reps": {"owner_user": "rep_a1"},
    "own_teams": {"owner_team": "team_a"},
    "other_teams_reps": {"owner_user": "rep_b1"},
    "other_teams": {"owner_team": "team_b"},
}
ALLOWED = {
    "director": set(OWNERS),
    "manager_a": {"own_reps"},
    "rep_a1": set(),
}


def owner_of(org, whose: str) -> dict:
    return {field: getattr(org, name) for field, name in OWNERS[whose].items()}


@pytest.mark.parametrize("whose", OWNERS)
@pytest.mark.parametrize("actor", ALLOWED)
def test_setting_a_new_target_follows_the_role_rule(org, actor, whose):
    owner = owner_of(org, whose)

    if whose in ALLOWED[actor]:
        target = create_target(
            created_by=getattr(org, actor), period_type="month", period_start=MONTH, amount=Decimal("300000"), **owner
        )
        assert SalesTarget.objects.values_list("pk", "amount").get() == (target.pk, Decimal("300000.00"))
    else:
        with pytest.raises(NotAllowed) as refused:
            create_target(
                created_by=getattr(org, actor), period_type="month", period_start=MONTH, amount=Decimal("1"), **owner
            )
        assert (refused.value.status, refused.value.field) == (403, None)
        assert str(refused.value.message)  # says why
        assert SalesTarget.objects.count() == 0


@pytest.mark.parametrize("whose", OWNERS)
@pytest.mark.parametrize("actor", ALLOWED)
def test_changing_a_target_follows_the_role_rule_and_is_recorded(org, actor, whose):
    target = SalesTargetFactory(
        period_type="month",
        period_start=MONTH,
        amount=Decimal("500000"),
        **{"owner_user": None, **owner_of(org, whose)},
    )
    user = getattr(org, actor)
    visible = SalesTarget.objects.visible_to(user).filter(pk=target.pk).exists()

    if whose in ALLOWED[actor]:
        update_target(target=target, changed_by=user, amount=Decimal("400000"))
        change = TargetChange.objects.get()
        assert (change.target, change.field, change.old, change.new, change.by) == (
            target,
            "amount",
            "500000.00",
            "400000.00",
            user,
        )
    else:
        with pytest.raises(NotAllowed if visible else NotVisible):
            update_target(target=target, changed_by=user, amount=Decimal("1"))
        assert TargetChange.objects.count() == 0
    expected = Decimal("400000.00") if whose in ALLOWED[actor] else Decimal("500000.00")
    assert SalesTarget.objects.get(pk=target.pk).amount == expected


def test_a_manager_cannot_give_their_reps_target_to_someone_they_may_not_set(org):
    target = SalesTargetFactory(owner_user=org.rep_a1, period_type="month", period_start=MONTH)

    with pytest.raises(NotAllowed):
        update_target(target=target, changed_by=org.manager_a, owner_user=org.manager_a)

    assert SalesTarget.objects.get(pk=target.pk).owner_user == org.rep_a1


def test_a_director_changing_owner_period_and_amount_records_each_field(org):
    target = SalesTargetFactory(owner_user=org.rep_a1, period_type="month", period_start=MONTH, amount=Decimal("1"))

    update_target(
        target=target,
        changed_by=org.director,
        owner_user=org.rep_a2,
        period_type="quarter",
        period_start=date(2025, 4, 1),
        amount=Decimal("1"),
    )

    rows = TargetChange.objects.order_by("id").values_list("field", "old", "new")
    assert list(rows) == [
        (
            "owner_user",
            {"id": org.rep_a1.pk, "label": str(org.rep_a1)},
            {"id": org.rep_a2.pk, "label": str(org.rep_a2)},
        ),
        ("period_type", "month", "quarter"),
        ("period_start", "2025-06-01", "2025-04-01"),
    ]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"period_start": date(2025, 6, 15)}, "period_start"),
        ({"amount": Decimal("-1")}, "amount"),
        ({"owner_team": "team_a"}, "owner_user"),
    ],
)
def test_a_target_the_rules_refuse_is_not_written(org, values, field):
    SalesTargetFactory(owner_user=org.rep_a2, period_type="month", period_start=MONTH)
    values = {k: getattr(org, v) if isinstance(v, str) else v for k, v in values.items()}

    with pytest.raises(ValidationFailed) as refused:
        create_target(
            created_by=org.director,
            **{"owner_user": org.rep_a1, "period_type": "month", "period_start": MONTH, "amount": 5, **values},
        )

    assert refused.value.field == field
    assert SalesTarget.objects.count() == 1


def test_a_second_target_for_the_same_owner_and_period_is_refused(org):
    SalesTargetFactory(owner_user=org.rep_a1, period_type="month", period_start=MONTH)

    with pytest.raises(ValidationFailed) as refused:
        create_target(created_by=org.director, owner_user=org.rep_a1, period_type="month", period_start=MONTH, amount=1)

    assert refused.value.field == "period_start"
    assert SalesTarget.objects.count() == 1
