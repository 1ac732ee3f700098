"""The team page is bounded by what one screen shows: one team at a time (a director steps from team to team), one
page of its people, and the funnel and conversion pivots handed to the template as a row per stage with a cell per
person; its queries do not grow with the number of teams or people."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.selectors.pages import team_overview
from analytics.views import pages
from tests.analytics.conftest import NOW, at, done_visit, won
from tests.factories import AccountFactory, OpportunityFactory, TeamFactory, UserFactory, default_stage

pytestmark = pytest.mark.django_db


def people_in(html: str) -> list[str]:
    """The usernames of the scorecard's rows, in order."""
    scorecard = html[html.index("data-scorecard") : html.index("</table>", html.index("data-scorecard"))]
    return re.findall(r'<tr data-person="([^"]+)">', scorecard)


@pytest.fixture
def big_team(org, now):
    """Team A grows to 25 reps (rep_a1, rep_a2, rep_z00 … rep_z22), each with an open opportunity; nobody visited."""
    for i in range(23):
        UserFactory(username=f"rep_z{i:02d}", team=org.team_a)
    for rep in org.team_a.members.filter(role="rep"):
        OpportunityFactory(owner=rep, stage=default_stage("needs"), amount=Decimal("1000"))
    return org


def test_a_director_sees_one_team_with_links_to_the_team_before_and_after(client, org, now):
    team_c = TeamFactory(name="C")
    UserFactory(username="rep_c1", team=team_c)
    client.force_login(org.director)

    first = client.get(reverse("analytics:team")).content.decode()
    middle = client.get(reverse("analytics:team"), {"team": org.team_b.pk, "period": "month"}).content.decode()

    assert people_in(first) == ["rep_a1", "rep_a2", "manager_a"]
    assert "data-team-stepper" in first
    assert f'href="?team={org.team_b.pk}" rel="next"' in first and 'rel="prev"' not in first
    assert people_in(middle) == ["rep_b1", "manager_b"]
    assert f'href="?team={org.team_a.pk}&amp;period=month" rel="prev"' in middle
    assert f'href="?team={team_c.pk}&amp;period=month" rel="next"' in middle
    for team in (org.team_a, org.team_b, team_c):
        assert f'<option value="{team.pk}"' in first  # the picker names every team


def test_a_team_larger_than_a_page_shows_one_page_of_people_and_links_the_next(client, big_team):
    client.force_login(big_team.manager_a)

    first = client.get(reverse("analytics:team"))
    second = client.get(reverse("analytics:team"), {"page": 2})

    html = first.content.decode()
    expected = ["rep_a1", "rep_a2", *(f"rep_z{i:02d}" for i in range(18))]
    assert people_in(html) == expected  # reps first, by username; 20 a page
    assert [m.person.username for m in first.context["overview"].members] == expected
    assert 'href="?page=2" rel="next"' in html
    assert people_in(second.content.decode()) == [*(f"rep_z{i:02d}" for i in range(18, 23)), "manager_a"]
    funnel = first.context["overview"].funnel
    assert all([c.person.username for c in row.cells] == expected for row in funnel)
    needs = next(row for row in funnel if row.stage.code == "needs")
    assert (needs.total.count, needs.total.amount) == (25, Decimal("25000.00"))  # the whole team, not the page
    assert html.count('data-person="total"') == len(funnel)
    # Idle reps are the team's, not the page's.
    assert len(first.context["overview"].idle_reps) == 25


def test_the_funnel_and_conversion_pivots_have_a_cell_per_person_in_the_members_order(
    org, default_pipeline, now, django_assert_num_queries
):
    account = AccountFactory(owner=org.rep_a2)
    OpportunityFactory(owner=org.rep_a2, account=account, stage=default_stage("develop"), amount=Decimal("300"))
    OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"), amount=Decimal("100"))
    won(account=account, closed_at=at(2026, 5, 2), created_at=at(2026, 4, 3))
    done_visit(account=account, done_at=at(2026, 5, 6))
    people = [org.rep_a2, org.manager_a]  # a page: rep_a1 left out

    with django_assert_num_queries(19):
        overview = team_overview(
            viewer=org.manager_a,
            pipeline=default_pipeline,
            start=date(2026, 4, 1),
            end=NOW.date(),
            team=org.team_a,
            people=people,
        )

    assert [m.person for m in overview.members] == people
    rows = {row.stage.code: row for row in overview.funnel}
    assert [(c.person.username, c.count, c.amount) for c in rows["develop"].cells] == [
        ("rep_a2", 1, Decimal("300.00")),
        ("manager_a", 0, Decimal(0)),
    ]
    assert (rows["needs"].total.count, [c.count for c in rows["needs"].cells]) == (1, [0, 0])
    conversion = {row.stage.code: row for row in overview.conversion}
    assert [(c.person.username, c.step.reached if c.step else None) for c in conversion["close"].cells] == [
        ("rep_a2", 1),
        ("manager_a", None),  # created nothing in the period
    ]
    assert [r.stage for r in overview.funnel] == [r.stage for r in overview.conversion] == overview.stages
    assert [u.username for u in overview.idle_reps] == ["rep_a1"]  # rep_a2 visited last week


@pytest.mark.parametrize("reps", [2, 40], ids=["2 reps", "40 reps"])
@pytest.mark.parametrize("viewer", ["manager_a", "director"])
def test_the_team_page_runs_the_same_queries_however_many_people_and_teams(
    client, org, now, django_assert_num_queries, reps, viewer
):
    for i in range(reps):
        rep = UserFactory(username=f"extra{i:02d}", team=org.team_a)
        OpportunityFactory(owner=rep, stage=default_stage("needs"))
        TeamFactory(name=f"Z{i:02d}")
    client.force_login(getattr(org, viewer))

    # session, user, visible teams, default pipeline, the team's people, team_overview with the page of people, the
    # page's forecast for the charts
    with django_assert_num_queries(2 + 1 + 1 + 1 + 19 + 1):
        response = client.get(reverse("analytics:team"))

    assert response.status_code == 200
    assert len(response.context["overview"].members) == min(reps + 3, pages.TEAM_PEOPLE_PER_PAGE)
