"""/analytics/winloss/: a table and a chart per dimension, the untouched losses on the decks' two-branch tree and
activity vs results, against hand-computed numbers (the company of tests/analytics/test_winloss.py; clock 15 May
2026), per role, with a constant query count."""

import json
import re
from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from analytics.models import RolledMonth
from analytics.rollups import roll_up_months
from analytics.selectors.winloss import WINLOSS_DIMENSIONS
from analytics.views.manager import cause_tree
from pipeline.models import Opportunity
from tests.analytics.conftest import at, done_visit
from tests.analytics.test_winloss import closed, company  # noqa: F401  (closed opportunities; the fixture)
from tests.factories import AccountFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/analytics/winloss/"


def section(html: str, marker: str) -> str:
    match = re.search(rf"<section [^>]*{re.escape(marker)}[^>]*>(.*?)</section>", html, re.DOTALL)
    assert match, f"no section {marker}"
    return match.group(1)


def table(html: str, dimension: str) -> list[tuple]:
    """(key, won, lost, won amount, lost amount, win rate) per row of a dimension's table."""
    part = section(html, f'data-dimension="{dimension}"')
    rows = []
    for key, body in re.findall(r'<tr data-key="([^"]*)">(.*?)</tr>', part, re.DOTALL):
        cells = dict(re.findall(r'data-col="(\w+)">(.*?)</td>', body, re.DOTALL))
        text = {k: re.sub(r"<[^>]+>", "", v).strip() for k, v in cells.items()}
        rows.append((key, text["won"], text["lost"], text["won_amount"], text["lost_amount"], text["win_rate"]))
    return rows


def branches(html: str) -> dict[str, str]:
    part = section(html, "data-cause-tree")
    return dict(re.findall(r'data-branch="(\w+)">.*?data-col="branch_lost">(\d+)<', part, re.DOTALL))


def activity(html: str, per: str = "rep") -> dict[str, tuple]:
    part = section(html, "data-activity")
    found = {}
    for rep, body in re.findall(rf'<tr data-{per}="(\w+)">(.*?)</tr>', part, re.DOTALL):
        cells = dict(re.findall(r'data-col="(\w+)">(.*?)</td>', body, re.DOTALL))
        found[rep] = (cells["done_visits"], cells["won_count"], cells["won_amount"])
    return found


@pytest.fixture
def visits(org, company):  # noqa: F811
    """rep_a1: two visits done this year (and one in 2025), rep_a2: one."""
    a1, a2 = AccountFactory(owner=org.rep_a1), AccountFactory(owner=org.rep_a2)
    done_visit(account=a1, done_at=at(2026, 3, 1))
    done_visit(account=a1, done_at=at(2026, 4, 1))
    done_visit(account=a1, done_at=at(2025, 12, 1))
    done_visit(account=a2, done_at=at(2026, 5, 2))


def page(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_url_is_the_one_named():
    assert reverse("analytics:winloss") == URL


def test_a_manager_sees_each_dimension_of_their_team_this_year(client, org, company, visits):  # noqa: F811
    html = page(client, org.manager_a)

    assert table(html, "reason") == [
        ("price", "0", "2", "¥0", "¥40,000", "0%"),
        ("timing", "0", "1", "¥0", "¥20,000", "0%"),
        ("none", "2", "0", "¥150,000", "¥0", "100%"),
    ]
    assert table(html, "source") == [
        ("cold_visit", "0", "1", "¥0", "¥20,000", "0%"),
        ("referral", "1", "2", "¥100,000", "¥40,000", "33%"),
        ("none", "1", "0", "¥50,000", "¥0", "100%"),
    ]
    assert table(html, "untouched_cause") == [
        ("no_plan", "0", "2", "¥0", "¥30,000", "0%"),
        ("none", "2", "1", "¥150,000", "¥30,000", "67%"),
    ]
    x, y = company["X"].pk, company["Y"].pk
    assert table(html, "competitor") == [
        (str(x), "2", "1", "¥150,000", "¥30,000", "67%"),
        (str(y), "1", "0", "¥50,000", "¥0", "100%"),
        ("none", "0", "2", "¥0", "¥30,000", "0%"),
    ]
    assert [row[0] for row in table(html, "stage")] == ["prep", "needs", "implement"]
    assert "未记录" in section(html, 'data-dimension="reason"')  # no value: "not recorded", in the user's language


def test_each_dimension_has_a_chart_of_won_and_lost_amounts(client, org, company):  # noqa: F811
    html = page(client, org.manager_a)

    assert html.count('data-chart="bars"') == 5
    data = json.loads(re.search(r'<script id="chart-source" type="application/json">(.*?)</script>', html).group(1))
    assert data["series"][0]["data"] == [0.0, 100000.0, 50000.0]
    assert data["series"][1]["data"] == [20000.0, 40000.0, 0.0]
    assert "<script>" not in html  # CSP: no inline script


def test_the_untouched_losses_sit_on_the_decks_two_branch_tree(client, org, company):  # noqa: F811
    html = page(client, org.manager_a)

    assert branches(html) == {"never_visited": "2", "visited_not_engaged": "0"}
    assert "没有拜访客户" in html and "拜访了客户,但是失败了" in html
    assert "分析所负责的销售区域/客户" in html and "分析销售活动" in html


def test_the_tree_puts_each_cause_on_its_branch():
    from analytics.selectors.winloss import WinLossRow

    rows = [
        WinLossRow(key=key, label=key, won=0, lost=n, won_amount=0, lost_amount=0)
        for key, n in [("no_plan", 1), ("plan_not_executed", 2), ("wrong_department", 4), ("noticed_late", 8)]
    ]
    tree = {b["code"]: b["lost"] for b in cause_tree(rows)}

    assert tree == {"never_visited": 3, "visited_not_engaged": 12}


def test_activity_vs_results_per_rep(client, org, company, visits):  # noqa: F811
    html = page(client, org.manager_a)

    assert activity(html) == {"rep_a1": ("2", "2", "¥150,000"), "rep_a2": ("1", "0", "¥0")}


def test_a_director_reads_the_companys_activity_per_team_and_a_teams_per_rep(client, org, company, visits):  # noqa: F811
    free = UserFactory(username="rep_free", team=None)
    closed(free, "won", "5000", at(2026, 3, 1))
    TeamFactory(name="Old", archived_at=at(2025, 1, 1))  # archived, nothing this year: not listed

    html = page(client, org.director)

    assert activity(html, per="team") == {
        str(org.team_a.pk): ("3", "2", "¥150,000"),
        str(org.team_b.pk): ("0", "1", "¥7,777"),
        "none": ("0", "1", "¥5,000"),
    }
    assert activity(html) == {}  # no row per rep
    assert f"team={org.team_a.pk}" in section(html, "data-activity")
    assert activity(page(client, org.director, team=org.team_a.pk)) == {
        "rep_a1": ("2", "2", "¥150,000"),
        "rep_a2": ("1", "0", "¥0"),
    }


def test_a_period_and_an_owner(client, org, company, visits):  # noqa: F811
    html = page(client, org.manager_a, start="2026-04-01", end="2026-05-15", owner=org.rep_a2.pk)

    assert table(html, "reason") == [("price", "0", "1", "¥0", "¥10,000", "0%")]
    assert branches(html) == {"never_visited": "1", "visited_not_engaged": "0"}
    assert activity(html) == {"rep_a2": ("1", "0", "¥0")}


def test_a_rep_sees_only_their_own(client, org, company):  # noqa: F811
    html = page(client, org.rep_a2)

    assert table(html, "reason") == [("price", "0", "1", "¥0", "¥10,000", "0%")]


def test_a_director_picks_a_team(client, org, company):  # noqa: F811
    html = page(client, org.director, team=org.team_b.pk)

    assert table(html, "source") == [("referral", "1", "0", "¥7,777", "¥0", "100%")]


@pytest.mark.parametrize("who,key,query", [("manager_a", "team", "team_b"), ("manager_a", "owner", "rep_b1"),
                                           ("rep_a1", "owner", "rep_a2"), ("rep_a1", "team", "team_b")])  # fmt: skip
def test_an_unseen_team_or_owner_answers_404(client, org, who, key, query):
    client.force_login(getattr(org, who))

    assert client.get(URL, {key: getattr(org, query).pk}).status_code == 404


def test_an_end_before_the_start_answers_400_with_the_error(client, org):
    client.force_login(org.manager_a)
    response = client.get(URL, {"start": "2026-05-01", "end": "2026-04-01"})

    assert response.status_code == 400
    assert "期间的结束日早于开始日" in response.content.decode()


@pytest.mark.parametrize("scale", [1, 10])
def test_the_page_runs_the_same_queries_whatever_the_data(
    client,
    org,
    company,  # noqa: F811
    visits,
    scale,
    django_assert_num_queries,
):
    for i in range(scale * 5):
        closed(org.rep_a1, "lost", "1000", at(2026, 3, 3), loss_reason="price", source="referral")
        done_visit(account=AccountFactory(owner=org.rep_a2), done_at=at(2026, 3, i % 28 + 1))
    client.force_login(org.manager_a)
    # session, user, teams, people, four dimensions, competitors, reps, visits, wins
    with django_assert_num_queries(9):
        assert client.get(URL).status_code == 200
    client.force_login(org.director)
    # session, user, teams, rolled-up months, dimensions, competitors, their sums, rolled-up months, visits, wins,
    # people, teams; the same once the months that are over are rolled up, with the same page
    with django_assert_num_queries(12):
        before = client.get(URL)
    summed = roll_up_months()
    rolled = set(RolledMonth.objects.values_list("kind", "month"))
    if connection.vendor == "postgresql":
        assert summed == len(rolled)
        assert {(kind, date(2026, month, 1)) for kind in ("closed", "visits") for month in (3, 4)} <= rolled
        assert max(month for _kind, month in rolled) == date(2026, 4, 1)  # May, the clock's month, is not over
    else:
        assert summed == len(rolled) == 0  # no triggers would keep sums exact: every month is read live
    with django_assert_num_queries(12):
        after = client.get(URL)
    shown = lambda response: (  # noqa: E731
        [table(response.content.decode(), dimension) for dimension in WINLOSS_DIMENSIONS],
        branches(response.content.decode()),
        activity(response.content.decode(), per="team"),
    )
    assert shown(after) == shown(before)
    losses = Opportunity.objects.lost().filter(closed_at__gte=at(2026, 1, 1)).count()
    assert losses >= 5 * scale
    assert sum(int(row[2]) for row in shown(after)[0][0]) == losses  # by reason: every loss of the year, March's too


def owner_options(html: str) -> list[str]:
    match = re.search(r'<select id="scope-owner" name="owner">(.*?)</select>', html, re.DOTALL)
    return re.findall(r'<option value="(\d+)"', match.group(1)) if match else []


def test_a_directors_owner_filter_offers_the_chosen_teams_people_not_the_company(client, org, company):  # noqa: F811
    ids = lambda *users: sorted(str(u.pk) for u in users)  # noqa: E731

    html = page(client, org.director)
    assert owner_options(html) == []  # pick a team first, as the page says
    assert "先选择团队，再从中选择人员。" in html
    assert "data-owner-hint" not in page(client, org.director, team=org.team_b.pk)
    assert sorted(owner_options(page(client, org.director, team=org.team_b.pk))) == ids(org.manager_b, org.rep_b1)
    # a person chosen without a team: their team's people
    assert sorted(owner_options(page(client, org.director, owner=org.rep_a2.pk))) == ids(
        org.manager_a, org.rep_a1, org.rep_a2
    )
    # another team chosen while a person stays chosen: no 404, the person is still offered
    html = page(client, org.director, team=org.team_b.pk, owner=org.rep_a2.pk)
    assert sorted(owner_options(html)) == ids(org.manager_b, org.rep_b1, org.rep_a2)
    assert table(html, "source") == []
    # a manager is still offered everyone they see
    assert sorted(owner_options(page(client, org.manager_a))) == ids(org.manager_a, org.rep_a1, org.rep_a2)


def test_a_director_asking_for_a_person_or_team_that_does_not_exist_gets_404(client, org):
    client.force_login(org.director)

    assert client.get(URL, {"owner": 999_999}).status_code == 404
    assert client.get(URL, {"team": org.team_a.pk, "owner": 999_999}).status_code == 404
    assert client.get(URL, {"team": 999_999}).status_code == 404
