"""The targets grid page (issue 13): `/targets/edit/` shows a page of owners × periods as inputs, the viewer's settable
owners editable with each cell's attainment beside it; one POST saves the page or, refused, comes back 400 with each
bad cell's reason beside it and nothing written; a saved page redirects to itself. The same queries whatever the
data."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from pipeline.models import SalesTarget, TargetChange
from tests.analytics.conftest import at, won
from tests.factories import SalesTargetFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("analytics:targets_edit")
JAN = date(2026, 1, 1)
MONTHS = [date(2026, month, 1) for month in range(1, 13)]


@pytest.fixture
def grid(org, now):
    """rep_a1: January target 100, won 80 in January; team A: January target 1,000. Everyone reads English."""
    for user in (org.director, org.manager_a, org.rep_a1):
        user.language = "en"
        user.save()
    SalesTargetFactory(owner_user=org.rep_a1, period_start=JAN, amount=Decimal("100"))
    SalesTargetFactory(owner_user=None, owner_team=org.team_a, period_start=JAN, amount=Decimal("1000"))
    won(owner=org.rep_a1, amount="80", closed_at=at(2026, 1, 10))
    return org


def key(kind: str, owner, start: date = JAN) -> str:
    return f"{kind}-{owner.pk}-{start.isoformat()}"


def rows_of(response) -> list[tuple[str, bool]]:
    return [(r.owner_name, r.editable) for r in response.context["page_obj"]]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_rep_cannot_open_the_grid(client, grid, method):
    client.force_login(grid.rep_a1)

    response = getattr(client, method)(URL, {"year": 2026})

    assert response.status_code == 404
    assert SalesTarget.objects.count() == 2


def test_the_director_gets_every_team_and_person_editable_with_the_attainment_beside_each_cell(client, grid):
    client.force_login(grid.director)

    response = client.get(URL, {"year": 2026})

    assert response.status_code == 200
    assert rows_of(response) == [
        ("A", True),
        ("manager_a", True),
        ("rep_a1", True),
        ("rep_a2", True),
        ("B", True),
        ("manager_b", True),
        ("rep_b1", True),
    ]
    html = response.content.decode()
    assert html.count('name="cell-') == 7 * 12
    assert f'name="cell-{key("user", grid.rep_a1)}" value="100"' in html
    assert f'name="was-{key("user", grid.rep_a1)}" value="100"' in html
    cell = response.context["page_obj"][2].cells[0].shown
    assert (cell.target, cell.won_amount, cell.attainment) == (Decimal("100.00"), Decimal("80.00"), 0.8)
    assert '<span class="targets-pivot__rate" data-col="attainment">80%</span>' in html


def test_a_manager_sets_their_reps_and_sees_themself_and_their_team_read_only(client, grid):
    client.force_login(grid.manager_a)

    response = client.get(URL, {"year": 2026, "period_type": "quarter"})

    assert rows_of(response) == [("A", False), ("manager_a", False), ("rep_a1", True), ("rep_a2", True)]
    html = response.content.decode()
    assert html.count('name="cell-') == 2 * 4
    assert f'name="cell-{key("team", grid.team_a)}"' not in html
    assert f'name="cell-{key("user", grid.manager_a)}"' not in html


def test_the_targets_page_links_the_grid_for_directors_and_managers_only(client, grid):
    for user, linked in ((grid.director, True), (grid.manager_a, True), (grid.rep_a1, False)):
        client.force_login(user)
        html = client.get(reverse("analytics:targets"), {"year": 2026}).content.decode()
        assert ("data-edit-targets" in html) is linked


def test_saving_a_page_redirects_to_it_with_how_many_targets_were_saved(client, grid):
    client.force_login(grid.director)
    data = {
        f"cell-{key('user', grid.rep_a1)}": "120",
        f"was-{key('user', grid.rep_a1)}": "100",
        f"cell-{key('user', grid.rep_a2)}": "50000",
        f"was-{key('user', grid.rep_a2)}": "",
        f"cell-{key('user', grid.rep_b1)}": "",
        f"was-{key('user', grid.rep_b1)}": "",
        f"cell-{key('team', grid.team_a)}": "1000",
        f"was-{key('team', grid.team_a)}": "1000",
    }

    response = client.post(f"{URL}?year=2026&period_type=month", data)

    assert response.status_code == 302
    assert response["Location"] == f"{URL}?year=2026&period_type=month"
    page = client.get(response["Location"])
    assert "2 targets saved." in page.content.decode()
    assert f'name="cell-{key("user", grid.rep_a1)}" value="120"' in page.content.decode()
    assert sorted(SalesTarget.objects.values_list("amount", "owner_user__username")) == [
        (Decimal("120.00"), "rep_a1"),
        (Decimal("1000.00"), None),
        (Decimal("50000.00"), "rep_a2"),
    ]
    assert list(TargetChange.objects.values_list("old", "new")) == [("100.00", "120.00")]


def test_a_refused_cell_comes_back_beside_its_input_and_nothing_is_written(client, grid):
    client.force_login(grid.director)
    bad, good = key("user", grid.rep_a2, date(2026, 2, 1)), key("user", grid.rep_a1)

    response = client.post(
        f"{URL}?year=2026",
        {f"cell-{good}": "300", f"was-{good}": "100", f"cell-{bad}": "12.345", f"was-{bad}": ""},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "1 cell could not be saved, so nothing was saved." in html
    assert (
        f'<p class="field__error target-grid__error" id="error-{bad}" data-cell-error>'
        "Enter an amount of 0 or more, with at most two decimal places.</p>"
    ) in html
    assert f'name="cell-{bad}" value="12.345"' in html  # what was typed stays
    assert f'name="cell-{good}" value="300"' in html
    assert f'name="was-{good}" value="100"' in html
    assert html.count("data-cell-error") == 1
    assert SalesTarget.objects.get(owner_user=grid.rep_a1).amount == Decimal("100.00")
    assert SalesTarget.objects.count() == 2
    assert TargetChange.objects.count() == 0


def test_a_manager_posting_a_cell_they_may_not_set_gets_its_reason_and_nothing_is_written(client, grid):
    client.force_login(grid.manager_a)
    mine, reps = key("user", grid.manager_a), key("user", grid.rep_a2)

    response = client.post(f"{URL}?year=2026", {f"cell-{mine}": "5", f"cell-{reps}": "5"})

    assert response.status_code == 400
    assert response.context["page_obj"][1].cells[0].error == (
        "A sales manager cannot set their own target; a sales director sets it."
    )
    assert SalesTarget.objects.count() == 2


def test_a_manager_posting_a_cell_of_someone_they_cannot_see_gets_404(client, grid):
    client.force_login(grid.manager_a)

    response = client.post(f"{URL}?year=2026", {f"cell-{key('user', grid.rep_b1)}": "5"})

    assert response.status_code == 404
    assert SalesTarget.objects.count() == 2


@pytest.mark.parametrize("name", ["cell-user-x-2026-01-01", "cell-user-1-2026-13-01", "cell-group-1-2026-01-01"])
def test_a_malformed_cell_name_is_a_bad_request(client, grid, name):
    client.force_login(grid.director)

    assert client.post(f"{URL}?year=2026", {name: "5"}).status_code == 400


def test_a_malformed_query_is_a_bad_request(client, grid):
    client.force_login(grid.director)

    assert client.get(URL, {"period_type": "week"}).status_code == 400


def _company(org, scale: int) -> None:
    """`3 × scale` more teams with a rep each, and every rep of A and B with a target and wins every month."""
    for i in range(3 * scale):
        rep = UserFactory(username=f"r{i:02d}", team=TeamFactory(name=f"T{i:02d}"))
        SalesTargetFactory(owner_user=rep, period_start=JAN)
    for rep in (org.rep_a1, org.rep_a2, org.rep_b1):
        for start in MONTHS:
            SalesTargetFactory(owner_user=rep, period_start=start)
            for day in range(1, 1 + scale):
                won(owner=rep, amount="10", closed_at=at(2026, start.month, day))


@pytest.mark.parametrize("scale", [1, 10], ids=["data x1", "data x10"])
@pytest.mark.parametrize("viewer", ["manager_a", "director"])
def test_the_grid_runs_the_same_queries_whatever_the_data(client, org, now, django_assert_num_queries, scale, viewer):
    _company(org, scale)
    client.force_login(getattr(org, viewer))

    # session, user, owners (count, page), targets, wins per user, wins per team
    with django_assert_num_queries(2 + 2 + 1 + 1 + 1):
        response = client.get(URL, {"year": 2026})

    assert response.status_code == 200
    assert len(response.context["page_obj"]) == {"manager_a": 4, "director": min(25, 7 + 6 * scale)}[viewer]


@pytest.mark.parametrize("scale", [1, 10], ids=["data x1", "data x10"])
def test_saving_a_page_runs_the_same_queries_whatever_its_size(client, org, now, django_assert_num_queries, scale):
    _company(org, scale)
    reps = list(org.team_a.members.filter(role="rep")) + [
        UserFactory(username=f"new{i:02d}", team=org.team_a) for i in range(scale)
    ]
    data = {}
    for rep in reps:
        for start in MONTHS:
            data[f"cell-user-{rep.pk}-{start.isoformat()}"] = "777"  # no "was": written over whatever is there
    client.force_login(org.director)

    # session, user; the service's savepoint, users, targets (locked), insert, update, history, release (the message
    # goes in a cookie)
    with django_assert_num_queries(2 + 7):
        response = client.post(f"{URL}?year=2026", data)

    assert response.status_code == 302, response.context and response.context["page_obj"]
    assert SalesTarget.objects.filter(amount=Decimal("777")).count() == 12 * len(reps)
