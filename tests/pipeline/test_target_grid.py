"""Saving a page of the targets grid (issue 13): every cell through the target rules, all written or none; a cell
typed as it was shown is left alone, so only real changes are written and recorded; a fixed number of queries."""

from datetime import date
from decimal import Decimal

import pytest

from accounts.models import Team, User
from core.errors import Conflict, NotAllowed, NotVisible, ValidationFailed
from pipeline.models import SalesTarget, TargetChange
from pipeline.services.target_grid import TargetCell, TargetGridInvalid, save_target_grid
from pipeline.services.targets import check_may_set_target, settable_target_owners
from tests.factories import SalesTargetFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
MONTHS = [date(2026, month, 1) for month in range(1, 13)]


def user_cell(user, start, amount, was=None) -> TargetCell:
    return TargetCell("user", user.pk, start, amount, was)


def targets() -> dict:
    """Every target as (owner, period start) → amount."""
    return {
        (f"user-{t.owner_user_id}" if t.owner_user_id else f"team-{t.owner_team_id}", t.period_start): t.amount
        for t in SalesTarget.objects.all()
    }


def test_a_director_sets_a_page_creating_new_targets_changing_others_and_recording_only_the_changes(org):
    SalesTargetFactory(owner_user=org.rep_a1, period_start=JAN, amount=Decimal("100"))
    february = SalesTargetFactory(owner_user=org.rep_a1, period_start=FEB, amount=Decimal("200"))

    saved = save_target_grid(
        actor=org.director,
        period_type="month",
        year=2026,
        cells=[
            user_cell(org.rep_a1, JAN, "100", was="100"),  # as shown: untouched
            user_cell(org.rep_a1, FEB, "250", was="200"),
            user_cell(org.rep_a1, MAR, "1,000,000.50", was=""),  # as pasted from a spreadsheet
            user_cell(org.rep_a2, JAN, "", was=""),  # empty and still empty
            TargetCell("team", org.team_a.pk, JAN, "5000", ""),
        ],
    )

    assert saved == 3
    assert targets() == {
        (f"user-{org.rep_a1.pk}", JAN): Decimal("100.00"),
        (f"user-{org.rep_a1.pk}", FEB): Decimal("250.00"),
        (f"user-{org.rep_a1.pk}", MAR): Decimal("1000000.50"),
        (f"team-{org.team_a.pk}", JAN): Decimal("5000.00"),
    }
    assert list(TargetChange.objects.values_list("target_id", "field", "old", "new", "by")) == [
        (february.pk, "amount", "200.00", "250.00", org.director.pk)
    ]


def test_a_cell_typed_as_its_target_writes_nothing_even_without_what_the_page_showed(org):
    SalesTargetFactory(owner_user=org.rep_a1, period_start=JAN, amount=Decimal("100"))

    saved = save_target_grid(
        actor=org.director, period_type="month", year=2026, cells=[user_cell(org.rep_a1, JAN, "100.00")]
    )

    assert saved == 0
    assert TargetChange.objects.count() == 0


def test_one_bad_cell_among_many_refuses_the_whole_page_and_says_which(org):
    org.director.language = "en"
    SalesTargetFactory(owner_user=org.rep_a1, period_start=JAN, amount=Decimal("100"))
    good = [user_cell(org.rep_a2, start, "1000", "") for start in MONTHS]
    good += [user_cell(org.rep_a1, JAN, "150", "100")]
    bad = user_cell(org.rep_b1, JUN := date(2026, 6, 1), "12.345", "")

    with pytest.raises(TargetGridInvalid) as refused:
        save_target_grid(actor=org.director, period_type="month", year=2026, cells=[*good[:6], bad, *good[6:]])

    assert refused.value.status == 400
    assert refused.value.errors == {
        f"user-{org.rep_b1.pk}-{JUN.isoformat()}": "Enter an amount of 0 or more, with at most two decimal places."
    }
    assert str(refused.value.message) == "1 cell could not be saved, so nothing was saved."
    assert targets() == {(f"user-{org.rep_a1.pk}", JAN): Decimal("100.00")}
    assert TargetChange.objects.count() == 0


def test_every_bad_cell_comes_back_with_its_own_reason(org):
    org.director.language = "en"
    SalesTargetFactory(owner_user=org.rep_a1, period_start=JAN, amount=Decimal("100"))
    SalesTargetFactory(owner_user=org.rep_a2, period_start=JAN, amount=Decimal("300"))
    cells = [
        user_cell(org.rep_a1, JAN, "", was="100"),  # emptied: a target is never deleted
        user_cell(org.rep_a1, FEB, "-5", was=""),
        user_cell(org.rep_a1, date(2026, 3, 15), "5", was=""),  # not the first day of a month
        user_cell(org.rep_a1, date(2027, 1, 1), "5", was=""),  # another year
        user_cell(org.rep_a1, date(2026, 4, 1), "many", was=""),
        user_cell(org.rep_a2, JAN, "400", was="200"),  # someone changed it to 300 since the page was shown
    ]

    with pytest.raises(TargetGridInvalid) as refused:
        save_target_grid(actor=org.director, period_type="month", year=2026, cells=cells)

    assert list(refused.value.errors.values()) == [
        "A target is never deleted: enter 0 instead.",
        "Enter an amount of 0 or more, with at most two decimal places.",
        "Give the first day of the period (a Monday for a week).",
        "This period is not in the year shown.",
        "Enter an amount in CNY.",
        "Someone else changed this target meanwhile (now 300.00); reload the page.",
    ]
    assert list(refused.value.errors) == [cell.key for cell in cells]
    assert targets() == {
        (f"user-{org.rep_a1.pk}", JAN): Decimal("100.00"),
        (f"user-{org.rep_a2.pk}", JAN): Decimal("300.00"),
    }


def test_zero_clears_a_target_and_is_recorded(org):
    target = SalesTargetFactory(owner_user=org.rep_a1, period_start=JAN, amount=Decimal("100"))

    save_target_grid(actor=org.director, period_type="month", year=2026, cells=[user_cell(org.rep_a1, JAN, "0", "100")])

    assert SalesTarget.objects.get(pk=target.pk).amount == Decimal("0.00")
    assert list(TargetChange.objects.values_list("old", "new")) == [("100.00", "0.00")]


def test_someone_elses_change_to_the_same_amount_is_no_conflict(org):
    SalesTargetFactory(owner_user=org.rep_a1, period_start=JAN, amount=Decimal("300"))

    saved = save_target_grid(
        actor=org.director, period_type="month", year=2026, cells=[user_cell(org.rep_a1, JAN, "300", "200")]
    )

    assert saved == 0


# Whose cell, as seen from manager_a of team A (as in test_targets.py).
OWNERS = {
    "own": ("user", "manager_a"),
    "own_reps": ("user", "rep_a1"),
    "own_teams": ("team", "team_a"),
    "other_teams_reps": ("user", "rep_b1"),
    "other_teams": ("team", "team_b"),
}
ALLOWED = {"director": set(OWNERS), "manager_a": {"own_reps"}, "rep_a1": set()}


@pytest.mark.parametrize("whose", OWNERS)
@pytest.mark.parametrize("actor", ALLOWED)
def test_each_role_sets_only_the_cells_the_target_rules_allow(org, actor, whose):
    kind, name = OWNERS[whose]
    owner, user = getattr(org, name), getattr(org, actor)
    seen = (User if kind == "user" else Team).objects.visible_to(user).filter(pk=owner.pk).exists()
    cells = [TargetCell(kind, owner.pk, JAN, "700", "")]

    if whose in ALLOWED[actor]:
        assert save_target_grid(actor=user, period_type="month", year=2026, cells=cells) == 1
        assert targets() == {(f"{kind}-{owner.pk}", JAN): Decimal("700.00")}
    elif seen:
        with pytest.raises(TargetGridInvalid) as refused:
            save_target_grid(actor=user, period_type="month", year=2026, cells=cells)
        assert list(refused.value.errors) == [cells[0].key]
        assert targets() == {}
    else:
        with pytest.raises(NotVisible):
            save_target_grid(actor=user, period_type="month", year=2026, cells=cells)
        assert targets() == {}


def test_a_manager_saving_their_reps_and_their_own_cell_saves_nothing(org):
    org.manager_a.language = "en"
    cells = [
        user_cell(org.rep_a1, JAN, "10", ""),
        user_cell(org.rep_a2, JAN, "20", ""),
        user_cell(org.manager_a, JAN, "30", ""),
    ]

    with pytest.raises(TargetGridInvalid) as refused:
        save_target_grid(actor=org.manager_a, period_type="month", year=2026, cells=cells)

    assert refused.value.errors == {
        cells[2].key: "A sales manager cannot set their own target; a sales director sets it."
    }
    assert targets() == {}


def test_an_unknown_period_type_is_refused(org):
    with pytest.raises(ValidationFailed) as refused:
        save_target_grid(actor=org.director, period_type="decade", year=2026, cells=[])

    assert refused.value.field == "period_type"


@pytest.mark.parametrize("actor", ["director", "manager_a", "manager_b", "rep_a1"])
def test_the_listing_rule_agrees_with_the_check_for_every_owner(org, actor):
    user = getattr(org, actor)
    users_q, teams_q = settable_target_owners(actor=user)

    def allowed(**owner) -> bool:
        try:
            check_may_set_target(actor=user, **{"owner_user": None, "owner_team": None, **owner})
        except NotAllowed:
            return False
        return True

    assert set(User.objects.filter(users_q)) == {u for u in User.objects.all() if allowed(owner_user=u)}
    assert set(Team.objects.filter(teams_q)) == {t for t in Team.objects.all() if allowed(owner_team=t)}


def _page_of_reps(count: int) -> list[TargetCell]:
    """`count` reps of a team, each a row of 12 months: January kept, February changed, the rest new."""
    team = TeamFactory(name=f"T{count}")
    cells = []
    for n in range(count):
        rep = UserFactory(username=f"grid{count}-{n}", team=team)
        SalesTargetFactory(owner_user=rep, period_start=JAN, amount=Decimal("100"))
        SalesTargetFactory(owner_user=rep, period_start=FEB, amount=Decimal("100"))
        cells += [user_cell(rep, JAN, "100", "100"), user_cell(rep, FEB, "200", "100")]
        cells += [user_cell(rep, start, "300", "") for start in MONTHS[2:]]
    return [*cells, TargetCell("team", team.pk, JAN, "9000", "")]


@pytest.mark.parametrize("reps", [1, 10])
def test_saving_a_page_costs_the_same_queries_whatever_its_size(org, reps, django_assert_num_queries):
    cells = _page_of_reps(reps)

    # savepoint, users, teams, targets (locked), insert, update, history, release
    with django_assert_num_queries(8):
        saved = save_target_grid(actor=org.director, period_type="month", year=2026, cells=cells)

    assert saved == reps * 11 + 1
    assert TargetChange.objects.count() == reps


def test_a_managers_page_costs_one_more_query_for_the_teams_they_manage(org, django_assert_num_queries):
    cells = [user_cell(org.rep_a1, start, "5", "") for start in MONTHS] + [user_cell(org.rep_a2, JAN, "5", "")]

    with django_assert_num_queries(6):  # savepoint, users, managed teams, targets, insert, release; no team, no update
        saved = save_target_grid(actor=org.manager_a, period_type="month", year=2026, cells=cells)

    assert saved == 13


def test_a_target_someone_else_created_meanwhile_refuses_the_page(org, monkeypatch):
    from pipeline.services import target_grid

    monkeypatch.setattr(target_grid, "_existing", lambda *args: {})
    SalesTargetFactory(owner_user=org.rep_a1, period_start=JAN, amount=Decimal("1"))

    with pytest.raises(Conflict):
        save_target_grid(
            actor=org.director,
            period_type="month",
            year=2026,
            cells=[user_cell(org.rep_a2, JAN, "5", ""), user_cell(org.rep_a1, JAN, "5", "")],
        )

    assert targets() == {(f"user-{org.rep_a1.pk}", JAN): Decimal("1.00")}
