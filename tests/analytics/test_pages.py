"""The analytics pages (SPEC §9): home widgets, team, CV/PV matrix, territory and targets.

Each page shows the selectors' numbers for what the viewer may see, answers 404 for what they may not, 400 for a
malformed query string, and runs the same number of queries with ten times the data. Snapshot rows (matrix values,
untouched and stale flags) are stored directly, as the nightly jobs would leave them.
"""

import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Account
from analytics.models import AccountValue, MatrixRun, StaleFlag, UntouchedFlag
from analytics.selectors.pages import matrix_years, team_overview, team_people, visit_agenda
from pipeline.models import Visit
from tests.analytics.conftest import NOW, at, done_visit, lost, won
from tests.factories import (
    AccountFactory,
    CompetitorFactory,
    InstalledBaseFactory,
    OpportunityFactory,
    RegionFactory,
    SalesTargetFactory,
    VisitFactory,
    default_stage,
)

pytestmark = pytest.mark.django_db


def cell(html: str, row_attr: str, col: str) -> str:
    """The text of the cell `data-col=col` in the row carrying `row_attr` (e.g. 'data-person="rep_a1"')."""
    match = re.search(rf"<tr [^>]*{re.escape(row_attr)}[^>]*>.*?data-col=\"{col}\">(.*?)</td>", html, re.DOTALL)
    assert match, f"no {col} cell in the row {row_attr}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


# Home ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def home_data(org, now):
    """rep_a1: two visits planned today, one later this week, one overdue, one done; an untouched target and a
    stale opportunity; a May target of 1,000,000 with 300,000 won in May. rep_b1 (team B) has the same kinds."""
    mine = AccountFactory(owner=org.rep_a1, name="甲公司", is_target=True)
    VisitFactory(account=mine, planned_at=at(2026, 5, 15, 14), purpose="演示")
    VisitFactory(account=mine, planned_at=at(2026, 5, 15, 16))
    VisitFactory(account=mine, planned_at=at(2026, 5, 17, 9))  # Sunday: still this week
    VisitFactory(account=mine, planned_at=at(2026, 5, 18, 9))  # next Monday: not this week
    VisitFactory(account=mine, planned_at=at(2026, 5, 13, 9))  # overdue
    VisitFactory(account=mine, planned_at=at(2026, 5, 12, 9), status=Visit.Status.DONE, done_at=at(2026, 5, 12, 10))
    UntouchedFlag.objects.create(account=mine, last_visit_at=at(2026, 1, 15))
    stale = OpportunityFactory(owner=org.rep_a1, account=mine, name="旧商机", stage=default_stage("needs"))
    StaleFlag.objects.create(opportunity=stale, last_activity_at=at(2026, 4, 1))
    won(account=mine, amount="300000", closed_at=at(2026, 5, 5))
    SalesTargetFactory(owner_user=org.rep_a1, period_start=date(2026, 5, 1), amount=Decimal("1000000"))
    theirs = AccountFactory(owner=org.rep_b1, is_target=True)
    VisitFactory(account=theirs, planned_at=at(2026, 5, 15, 11))
    UntouchedFlag.objects.create(account=theirs, last_visit_at=None)
    return org


def test_home_shows_a_reps_week_of_visits_untouched_targets_stale_opportunities_and_attainment(client, home_data):
    client.force_login(home_data.rep_a1)

    response = client.get(reverse("home"))

    ctx, html = response.context, response.content.decode()
    agenda = ctx["agenda"]
    assert (agenda.today_count, agenda.later_count, agenda.overdue_count, agenda.more) == (2, 1, 1, 0)
    assert [v.planned_at for v in agenda.upcoming] == [at(2026, 5, 15, 14), at(2026, 5, 15, 16), at(2026, 5, 17, 9)]
    assert (ctx["week_plan"].planned, ctx["week_plan"].done) == (5, 1)
    assert 'data-count="today"><strong>2</strong>' in html and 'data-count="overdue"><strong>1</strong>' in html
    assert [u.name for u in ctx["untouched"]] == ["甲公司"] and ctx["untouched_count"] == 1
    assert ctx["untouched"][0].days_since == 120  # last visited on 15 January
    assert re.search(
        r'data-account="\d+">.*?>甲公司</a><span class="muted small home-list__sub">[^<]*120', html, re.DOTALL
    )
    assert [s.opportunity.name for s in ctx["stale"]] == ["旧商机"] and ctx["stale"][0].days_idle == 44
    month = ctx["month_attainment"]
    assert [(r.owner_name, r.target, r.won_amount, r.attainment) for r in month] == [
        (home_data.rep_a1.display_name, Decimal("1000000.00"), Decimal("300000.00"), 0.3)
    ]
    assert re.search(r'data-attainment="month-user-\d+">.*?¥300,000.*?¥1,000,000.*?data-rate>30%<', html, re.DOTALL)
    assert [(r.won_amount, r.target) for r in ctx["quarter_attainment"]] == [(Decimal("300000.00"), None)]


def test_home_shows_a_manager_the_teams_widgets_and_a_director_everyones(client, home_data):
    client.force_login(home_data.manager_a)
    manager = client.get(reverse("home")).context
    client.force_login(home_data.director)
    director = client.get(reverse("home")).context

    assert (manager["agenda"].today_count, manager["untouched_count"]) == (2, 1)
    assert (director["agenda"].today_count, director["untouched_count"]) == (3, 2)
    assert [v.account.owner for v in director["agenda"].upcoming][:1] == [home_data.rep_b1]  # 11:00 comes first


def test_the_agenda_counts_every_span_when_its_list_is_cut_or_has_nothing_left_this_week(org, now):
    account = AccountFactory(owner=org.rep_a1)
    for hour in (13, 11, 12):  # today, Friday 15 May
        VisitFactory(account=account, planned_at=at(2026, 5, 15, hour))
    for day in (17, 16):  # later this week
        VisitFactory(account=account, planned_at=at(2026, 5, day, 9))
    for day in (8, 9, 14):  # overdue, within the 7 days before today
        VisitFactory(account=account, planned_at=at(2026, 5, day, 9))
    VisitFactory(account=account, planned_at=at(2026, 5, 7, 23, 59))  # 8 days ago: no longer counted
    VisitFactory(account=account, planned_at=at(2026, 5, 15, 9), status=Visit.Status.CANCELLED)

    cut = visit_agenda(viewer=org.rep_a1, limit=2)
    past = visit_agenda(viewer=org.rep_a1, on=date(2026, 5, 18))  # the Monday after: the week's visits are overdue

    assert (cut.today_count, cut.later_count, cut.overdue_count, cut.more) == (3, 2, 3, 3)
    assert [v.planned_at for v in cut.upcoming] == [at(2026, 5, 15, 11), at(2026, 5, 15, 12)]
    assert (past.today_count, past.later_count, past.overdue_count, past.upcoming) == (0, 0, 6, [])
    assert visit_agenda(viewer=org.rep_b1).upcoming == [] and visit_agenda(viewer=org.rep_b1).overdue_count == 0


@pytest.mark.parametrize("scale", [1, 10])
def test_home_with_every_widget_runs_the_same_queries_whatever_the_data_size(
    client, org, now, django_assert_num_queries, scale
):
    for i in range(scale):
        account = AccountFactory(owner=org.rep_a1 if i % 2 else org.rep_a2, is_target=True)
        VisitFactory(account=account, planned_at=NOW + timedelta(hours=2))
        UntouchedFlag.objects.create(account=account)
        StaleFlag.objects.create(opportunity=OpportunityFactory(account=account, owner=account.owner))
        won(account=account, closed_at=NOW - timedelta(days=3))
        SalesTargetFactory(owner_user=account.owner, period_start=date(2026, 5, 1) - timedelta(days=40 * i))
    client.force_login(org.manager_a)

    # session, user, default pipeline, the funnel, the to-do, attainment (targets, wins), the week's visits, the plan
    with django_assert_num_queries(9):
        response = client.get(reverse("home"))

    assert response.context["untouched_count"] == scale


# Team ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def team_data(org, now):
    """Team A: rep_a1 busy (3 open, a win and a loss this quarter, 1 of 2 targets visited, 1 of 2 planned visits
    done last week), rep_a2 with one open opportunity and no visit last week, manager_a one small opportunity.
    Team B: rep_b1 with one large opportunity."""
    needs, prep = default_stage("needs"), default_stage("prep")
    covered = AccountFactory(owner=org.rep_a1, is_target=True)
    AccountFactory(owner=org.rep_a1, is_target=True)
    OpportunityFactory.create_batch(2, owner=org.rep_a1, account=covered, stage=needs, amount=Decimal("100000"))
    OpportunityFactory(owner=org.rep_a1, account=covered, stage=prep, amount=Decimal("50000"))
    won(account=covered, amount="300000", closed_at=at(2026, 5, 5))
    lost(account=covered, closed_at=at(2026, 5, 6))
    VisitFactory(account=covered, planned_at=at(2026, 5, 6, 9), status=Visit.Status.DONE, done_at=at(2026, 5, 6, 10))
    VisitFactory(account=covered, planned_at=at(2026, 5, 7, 9))
    OpportunityFactory(owner=org.rep_a2, stage=default_stage("propose"), amount=Decimal("300000"))
    OpportunityFactory(owner=org.manager_a, stage=prep, amount=Decimal("20000"))
    OpportunityFactory(owner=org.rep_b1, stage=needs, amount=Decimal("1000000"))
    SalesTargetFactory(owner_user=org.rep_a1, period_start=date(2026, 5, 1), amount=Decimal("1000000"))
    SalesTargetFactory(
        owner_user=org.rep_a1, period_type="quarter", period_start=date(2026, 4, 1), amount=Decimal("600000")
    )
    SalesTargetFactory(owner_user=None, owner_team=org.team_a, period_start=date(2026, 5, 1), amount=Decimal("2000000"))
    return org


def test_team_page_shows_a_manager_each_person_of_their_team_side_by_side(client, team_data):
    client.force_login(team_data.manager_a)

    response = client.get(reverse("analytics:team"))

    assert response.status_code == 200
    overview, html = response.context["overview"], response.content.decode()
    assert response.context["team"] == team_data.team_a
    assert [m.person.username for m in overview.members] == ["rep_a1", "rep_a2", "manager_a"]
    rep = overview.members[0]
    assert (rep.open_count, rep.open_amount) == (3, Decimal("250000.00"))
    assert (rep.flow.created, rep.flow.won, rep.flow.lost) == (5, 1, 1)
    assert (rep.win_rate.won, rep.win_rate.lost, rep.win_rate.rate) == (1, 1, 0.5)
    assert (rep.coverage.covered, rep.coverage.targets) == (1, 2)
    assert (rep.adherence.done, rep.adherence.planned) == (1, 2)
    assert rep.visits_last_week == 1
    assert (rep.month.attainment, rep.quarter.attainment) == (0.3, 0.5)
    person = 'data-person="rep_a1"'
    assert cell(html, person, "open") == "3"
    assert cell(html, person, "pipeline") == "¥250,000"
    assert cell(html, person, "won-lost") == "1 / 1"
    assert cell(html, person, "win-rate") == "50%"
    assert cell(html, person, "coverage") == "50% 1/2"
    assert cell(html, person, "adherence") == "50% 1/2"
    assert cell(html, person, "visits") == "1"
    assert (cell(html, person, "month"), cell(html, person, "quarter")) == ("30%", "50%")
    assert cell(html, 'data-person="rep_a2"', "visits") == "0"
    assert cell(html, 'data-person="manager_a"', "visits") == "—"
    assert cell(html, 'data-person="manager_a"', "month") == "—"  # no target: no attainment, not "%"
    assert [r.username for r in overview.idle_reps] == ["rep_a2"]
    assert 'data-idle="rep_a2"' in html and "rep_b1" not in html
    needs = next(row for row in overview.total if row.stage.code == "needs")
    assert (needs.count, needs.amount) == (2, Decimal("200000.00"))  # team B's opportunity is not in team A's total
    assert re.search(
        r'data-stage="needs">.*?data-person="rep_a1"><span class="team-funnel__count">2</span>'
        r'<span class="team-funnel__amount">¥200,000</span>',
        html,
        re.DOTALL,
    )
    assert [(r.owner_name, r.attainment) for r in overview.teams_month] == [("A", 0.15)]


def test_team_page_shows_a_director_the_first_team_and_lets_them_pick_another(client, team_data):
    client.force_login(team_data.director)

    first = client.get(reverse("analytics:team"))
    team_b = client.get(reverse("analytics:team"), {"team": team_data.team_b.pk})

    assert first.status_code == team_b.status_code == 200
    assert first.context["team"] == team_data.team_a
    assert [m.person.username for m in first.context["overview"].members] == ["rep_a1", "rep_a2", "manager_a"]
    assert [m.person.username for m in team_b.context["overview"].members] == ["rep_b1", "manager_b"]
    assert cell(team_b.content.decode(), 'data-person="rep_b1"', "pipeline") == "¥1,000,000"


def test_team_page_answers_404_to_a_rep_and_to_a_manager_asking_for_another_team(client, team_data):
    client.force_login(team_data.rep_a1)
    assert client.get(reverse("analytics:team")).status_code == 404

    client.force_login(team_data.manager_a)
    assert client.get(reverse("analytics:team"), {"team": team_data.team_b.pk}).status_code == 404
    assert client.get(reverse("analytics:team"), {"team": 999999}).status_code == 404


@pytest.mark.parametrize("query", [{"team": "abc"}, {"period": "decade"}, {"team": "9" * 40}])
def test_team_page_answers_400_with_the_error_for_a_malformed_query(client, team_data, query):
    client.force_login(team_data.manager_a)

    response = client.get(reverse("analytics:team"), query)

    assert response.status_code == 400
    assert 'class="form-errors"' in response.content.decode()
    assert "overview" not in response.context


def test_only_managers_and_directors_get_the_team_link(client, org):
    team_url = reverse("analytics:team")
    client.force_login(org.rep_a1)
    rep_html = client.get(reverse("home")).content.decode()
    client.force_login(org.manager_a)
    manager_html = client.get(reverse("home")).content.decode()

    assert f'href="{team_url}"' not in rep_html and f'href="{team_url}"' in manager_html
    for name in ("analytics:matrix", "analytics:territory", "analytics:targets"):
        assert f'href="{reverse(name)}"' in rep_html


# CV/PV matrix ----------------------------------------------------------------------------------------------------


def _value(account, year, run, *, cv, pv, quadrant, priority=None, customer_type="ours"):
    return AccountValue.objects.create(
        run=run,
        account=account,
        year=year,
        cv=Decimal(cv),
        pv=Decimal(pv),
        share=float(Decimal(cv) / Decimal(pv)),
        quadrant=quadrant,
        customer_type=customer_type,
        priority=priority,
        pv_source="explicit",
    )


@pytest.fixture
def matrix_data(org, now):
    """2026: A (rep_a1) core, B (rep_a1) maintain, C (rep_b1) develop; 2025: A core, B observe."""
    run_2026 = MatrixRun.objects.create(
        year=2026, computed_at=at(2026, 5, 15, 2), cv_threshold=Decimal("200000"), pv_threshold=Decimal("500000")
    )
    run_2025 = MatrixRun.objects.create(
        year=2025, computed_at=at(2026, 5, 15, 2), cv_threshold=Decimal("50000"), pv_threshold=Decimal("525000")
    )
    a = AccountFactory(owner=org.rep_a1, name="A")
    b = AccountFactory(owner=org.rep_a1, name="B")
    c = AccountFactory(owner=org.rep_b1, name="C")
    _value(a, 2026, run_2026, cv="300000", pv="1000000", quadrant="core", priority=2)
    _value(b, 2026, run_2026, cv="200000", pv="100000", quadrant="maintain", priority=3, customer_type="mixed")
    _value(c, 2026, run_2026, cv="0", pv="500000", quadrant="develop", priority=1)
    _value(a, 2025, run_2025, cv="100000", pv="1000000", quadrant="core")
    _value(b, 2025, run_2025, cv="0", pv="50000", quadrant="observe")
    return org


def test_matrix_page_shows_a_rep_their_accounts_with_the_company_thresholds_and_chart_data(client, matrix_data):
    client.force_login(matrix_data.rep_a1)

    response = client.get(reverse("analytics:matrix"), {"year": 2026})

    assert response.status_code == 200
    ctx, html = response.context, response.content.decode()
    assert [(r.name, r.quadrant, r.previous_quadrant) for r in ctx["page_obj"]] == [
        ("A", "core", "core"),
        ("B", "maintain", "observe"),
    ]
    assert (ctx["matrix"].cv_threshold, ctx["matrix"].pv_threshold) == (Decimal("200000.00"), Decimal("500000.00"))
    assert 'data-threshold="cv">¥200,000<' in html and 'data-threshold="pv">¥500,000<' in html
    assert "data-computed-at>2026-05-15 02:00<" in html
    assert ctx["transitions"][0][1] == [1, 0, 0, 0]  # core stayed core
    assert ctx["transitions"][3][1] == [0, 0, 1, 0]  # observe became maintain
    chart = json.loads(
        re.search(r'<script id="matrix-chart-data" type="application/json">(.*?)</script>', html).group(1)
    )
    assert chart == ctx["chart"]
    assert chart["points"] == [
        {"x": 1000000.0, "y": 300000.0, "quadrant": "core", "name": "A"},
        {"x": 100000.0, "y": 200000.0, "quadrant": "maintain", "name": "B"},
    ]
    assert (chart["cv_threshold"], chart["pv_threshold"]) == (200000.0, 500000.0)
    assert [q["code"] for q in chart["quadrants"]] == ["core", "develop", "maintain", "observe"]
    row_b = re.search(r'<tr data-account="\d+">(?:(?!</tr>).)*?>B</a>.*?</tr>', html, re.DOTALL).group(0)
    assert "data-cv>¥200,000<" in row_b and "data-pv>¥100,000<" in row_b and "data-share>200%<" in row_b
    assert '<script src="/static/vendor/chartjs/chart.umd.min.js" defer></script>' in html
    assert ">C</a>" not in html


def test_matrix_page_shows_a_director_every_account_in_visit_priority_order_and_sorts_by_cv(client, matrix_data):
    client.force_login(matrix_data.director)

    by_priority = client.get(reverse("analytics:matrix"), {"year": 2026}).context["page_obj"]
    by_cv = client.get(reverse("analytics:matrix"), {"year": 2026, "sort": "-cv"}).context["page_obj"]

    assert [r.name for r in by_priority] == ["C", "A", "B"]
    assert [r.name for r in by_cv] == ["A", "B", "C"]


def test_matrix_page_says_when_the_year_has_no_snapshot_yet(client, matrix_data):
    client.force_login(matrix_data.rep_a1)

    response = client.get(reverse("analytics:matrix"), {"year": 2024})

    assert response.status_code == 200
    html = response.content.decode()
    assert "data-no-snapshot" in html and "compute_analytics --year 2024" in html
    assert "matrix-chart-data" not in html


@pytest.mark.parametrize("query", [{"year": "abc"}, {"year": "99999"}, {"sort": "bogus"}])
def test_matrix_page_answers_400_for_a_malformed_query(client, matrix_data, query):
    client.force_login(matrix_data.rep_a1)

    response = client.get(reverse("analytics:matrix"), query)

    assert response.status_code == 400
    assert 'class="form-errors"' in response.content.decode()


# Territory -------------------------------------------------------------------------------------------------------


@pytest.fixture
def territory_data(org, now):
    """rep_a1: two accounts in EAST (one a target visited this quarter), 2 of our units and 6 of a competitor's,
    an open opportunity of 80,000; rep_b1: one account in WEST."""
    east, west = RegionFactory(code="EAST", name="华东", level=1), RegionFactory(code="WEST", name="华西", level=1)
    target = AccountFactory(owner=org.rep_a1, region=east, is_target=True)
    other = AccountFactory(owner=org.rep_a1, region=east)
    done_visit(account=target, done_at=at(2026, 4, 10))
    InstalledBaseFactory(account=target, units=2)
    InstalledBaseFactory(account=other, is_ours=False, competitor=CompetitorFactory(name="Canon"), units=6)
    OpportunityFactory(owner=org.rep_a1, account=other, amount=Decimal("80000"))
    AccountFactory(owner=org.rep_b1, region=west)
    return org


def test_territory_page_shows_the_region_view_of_the_viewers_accounts_with_a_bar_chart(client, territory_data):
    client.force_login(territory_data.rep_a1)

    response = client.get(reverse("analytics:territory"))

    assert response.status_code == 200
    rows, html = response.context["rows"], response.content.decode()
    assert [
        (r.key, r.accounts, r.targets, r.our_units, r.competitor_units, r.open_pipeline, r.coverage) for r in rows
    ] == [("EAST", 2, 1, 2, 6, Decimal("80000"), 1.0)]
    assert cell(html, 'data-key="EAST"', "accounts") == "2"
    assert cell(html, 'data-key="EAST"', "our_share") == "25%"
    assert cell(html, 'data-key="EAST"', "open_pipeline") == "¥80,000"
    assert cell(html, 'data-key="EAST"', "coverage") == "100%"
    chart = json.loads(re.search(r'id="territory-chart-data" type="application/json">(.*?)</script>', html).group(1))
    assert chart["labels"] == ["华东"]
    assert chart["series"][2]["data"] == [80000.0]
    assert 'aria-current="page">' in html


def test_territory_page_shows_each_of_the_five_views(client, territory_data):
    client.force_login(territory_data.director)

    for dimension in ("region", "industry_size", "org", "competitor", "revenue"):
        response = client.get(reverse("analytics:territory"), {"dimension": dimension})
        assert response.status_code == 200
        assert sum(r.accounts for r in response.context["rows"] if r.level in (None, 1)) == 3, dimension
    competitor = client.get(reverse("analytics:territory"), {"dimension": "competitor"}).context["rows"]
    assert [(r.label, r.accounts, r.competitor_units) for r in competitor if r.competitor_units] == [("Canon", 1, 6)]


def test_territory_page_answers_400_for_an_unknown_dimension(client, territory_data):
    client.force_login(territory_data.rep_a1)

    response = client.get(reverse("analytics:territory"), {"dimension": "nope"})

    assert response.status_code == 400
    assert 'class="form-errors"' in response.content.decode()
    assert "rows" not in response.context


# Targets ---------------------------------------------------------------------------------------------------------


def pivot_cell(html: str, owner: str, period: str) -> str:
    """The text of the pivot cell of `period` ("2026-05-01", or "year") in the row of `owner` ("user-3")."""
    match = re.search(
        rf'<tr data-owner="{owner}"[^>]*>(?:(?!</tr>).)*?<td [^>]*data-period="{period}">(.*?)</td>', html, re.DOTALL
    )
    assert match, f"no {period} cell in the row {owner}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_targets_page_shows_attainment_per_visible_owner_and_period(client, team_data):
    SalesTargetFactory(owner_user=team_data.rep_b1, period_start=date(2026, 5, 1), amount=Decimal("5"))
    client.force_login(team_data.manager_a)

    response = client.get(reverse("analytics:targets"), {"period_type": "month", "year": 2026})

    assert response.status_code == 200
    rows, html = list(response.context["page_obj"]), response.content.decode()
    assert [(r.owner_type, r.owner_name) for r in rows] == [("team", "A"), ("user", team_data.rep_a1.display_name)]
    team, rep = (row.cells[4] for row in rows)  # May
    assert (rep.period_start, rep.target, rep.won_amount, rep.attainment) == (
        date(2026, 5, 1),
        Decimal("1000000.00"),
        Decimal("300000.00"),
        0.3,
    )
    assert (team.target, team.won_amount, team.attainment) == (Decimal("2000000.00"), Decimal("300000.00"), 0.15)
    assert pivot_cell(html, f"user-{team_data.rep_a1.pk}", "2026-05-01") == "30% ¥300,000 / ¥1,000,000"
    assert pivot_cell(html, f"team-{team_data.team_a.pk}", "2026-05-01") == "15% ¥300,000 / ¥2,000,000"
    quarter = client.get(reverse("analytics:targets"), {"period_type": "quarter", "year": 2026}).context["page_obj"]
    assert [(r.owner_type, r.cells[1].target, r.cells[1].attainment) for r in quarter] == [
        ("user", Decimal("600000.00"), 0.5)
    ]


def test_targets_page_shows_a_reps_stability_from_twelve_months(client, org, now):
    for month, won_amount in ((1, "100"), (2, "300")):
        SalesTargetFactory(owner_user=org.rep_a1, period_start=date(2026, month, 1), amount=Decimal("100"))
        won(owner=org.rep_a1, amount=won_amount, closed_at=at(2026, month, 10))
    client.force_login(org.rep_a1)

    response = client.get(reverse("analytics:targets"))

    [row] = response.context["page_obj"]
    assert (row.owner_id, row.stability.months, row.stability.cv, row.stability.stable) == (
        org.rep_a1.pk,
        2,
        0.5,
        False,
    )
    assert "CV 0.50" in cell(response.content.decode(), f'data-owner="user-{org.rep_a1.pk}"', "stability")


@pytest.mark.parametrize("query", [{"year": "abc"}, {"period_type": "decade"}, {"year": "-3"}])
def test_targets_page_answers_400_for_a_malformed_query(client, org, query):
    client.force_login(org.rep_a1)

    response = client.get(reverse("analytics:targets"), query)

    assert response.status_code == 400
    assert 'class="form-errors"' in response.content.decode()


@pytest.mark.parametrize("name", ["analytics:team", "analytics:matrix", "analytics:territory", "analytics:targets"])
def test_analytics_pages_send_anonymous_visitors_to_the_login_page(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# Query counts ----------------------------------------------------------------------------------------------------


@pytest.fixture(params=[1, 10], ids=["data x1", "data x10"])
def company(request, org, now):
    """`n` accounts per rep with every kind of row the pages read, and stored snapshots for 2025 and 2026."""
    n = request.param
    region = RegionFactory(code="EAST", level=1)
    runs = {
        year: MatrixRun.objects.create(year=year, cv_threshold=Decimal(50), pv_threshold=Decimal(50))
        for year in (2025, 2026)
    }
    for rep in (org.rep_a1, org.rep_a2, org.rep_b1):
        for i in range(n):
            account = Account.objects.create(
                owner=rep, name=f"{rep.username}-{i}", region=region, employee_count=50 + i, is_target=True
            )
            InstalledBaseFactory(account=account, units=1)
            won(account=account, amount=str(100 + i), closed_at=at(2026, 2, 1 + i))
            lost(account=account, closed_at=at(2026, 5, 1 + i % 10))
            opportunity = OpportunityFactory(account=account, owner=rep, stage=default_stage("status"))
            StaleFlag.objects.create(opportunity=opportunity)
            UntouchedFlag.objects.create(account=account)
            done_visit(account=account, done_at=NOW - timedelta(days=i))
            VisitFactory(account=account, planned_at=NOW + timedelta(days=1))
            for year, run in runs.items():
                _value(account, year, run, cv=str(10 * i), pv=str(100 + i), quadrant="core", priority=i + 1)
            SalesTargetFactory(owner_user=rep, period_start=date(2025, 6, 1) + timedelta(days=31 * i))
    return n


@pytest.mark.parametrize(
    ("name", "query", "queries"),
    [
        # session, user, then the selectors each page calls (their own counts are pinned in test_query_counts)
        ("analytics:team", {}, 2 + 1 + 1 + 20 + 1),  # + visible teams, default pipeline, team_overview, charts
        # + matrix years, matrix_summary, matrix_chart, one page of matrix_accounts (counted by the summary)
        ("analytics:matrix", {"year": 2026}, 2 + 1 + 2 + 2 + 1),
        ("analytics:territory", {"dimension": "region"}, 2 + 4),
        ("analytics:territory", {"dimension": "competitor"}, 2 + 4),
        # + owners' count and page, targets, wins per user (no team has a target here), stability
        ("analytics:targets", {"period_type": "month"}, 2 + 2 + 1 + 1 + 2),
    ],
)
@pytest.mark.parametrize("viewer", ["manager_a", "director"])
def test_each_page_runs_the_same_queries_whatever_the_data_size(
    client, org, company, django_assert_num_queries, name, query, queries, viewer
):
    client.force_login(getattr(org, viewer))
    if viewer == "director" and name == "analytics:territory":
        queries += 1  # the whole company's snapshot of today, looked up first (none here: summed as for everyone)

    with django_assert_num_queries(queries):
        response = client.get(reverse(name), query)

    assert response.status_code == 200


@pytest.mark.parametrize("name", ["analytics:matrix", "analytics:territory", "analytics:targets"])
def test_each_page_runs_the_same_queries_for_a_rep_whatever_the_data_size(
    client, org, company, django_assert_num_queries, name
):
    client.force_login(org.rep_a1)
    queries = {
        "analytics:matrix": 2 + 1 + 2 + 2 + 1,
        "analytics:territory": 2 + 4,
        "analytics:targets": 2 + 2 + 1 + 1 + 2,
    }[name]

    with django_assert_num_queries(queries):
        response = client.get(reverse(name))

    assert response.status_code == 200


@pytest.mark.parametrize("viewer", ["rep_a1", "manager_a", "director"])
def test_the_page_selectors_run_their_fixed_number_of_queries(
    org, default_pipeline, company, django_assert_num_queries, viewer
):
    user = getattr(org, viewer)
    with django_assert_num_queries(1):
        agenda = visit_agenda(viewer=user)
    with django_assert_num_queries(1):
        people = team_people(viewer=user)
    with django_assert_num_queries(1):
        assert matrix_years() == [2026, 2025]
    with django_assert_num_queries(20):
        overview = team_overview(viewer=user, pipeline=default_pipeline, start=date(2026, 4, 1), end=NOW.date())

    visible_reps = {"rep_a1": 1, "manager_a": 2, "director": 3}[viewer]
    assert agenda.later_count == visible_reps * company  # one visit planned tomorrow per account
    assert len([p for p in people if p.is_rep]) == visible_reps
    assert len([m for m in overview.members if m.person.is_rep]) == visible_reps
