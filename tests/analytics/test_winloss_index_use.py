"""Win/loss reads only the closed opportunities it counts, from a covering index (issue 10): PostgreSQL's plans over a
company of realistic size, after ANALYZE. A director's dimensions read the period's entries of `opp_closed_idx`; a
manager's or a rep's read their owners' entries of the period from `opp_owner_closed_idx`, not the whole company's
period filtered by owner. No dimension reads an opportunity row, and competitors and stages meet their names only
after the opportunities are grouped.

The rows are committed (a transactional test) so that VACUUM can mark their pages all-visible, as autovacuum does in
production: only then does PostgreSQL count an index-only scan as the cheap read it is."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Competitor, Team, User
from analytics.selectors.winloss import WINLOSS_DIMENSIONS, win_loss, win_loss_by
from pipeline.models import Opportunity
from tests.analytics.conftest import at
from tests.e2e.helpers import install_default_pipeline
from tests.factories import AccountFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's query plans"),
]
TEAMS, REPS_PER_TEAM, OPPORTUNITIES = 10, 4, 4_000  # two years of a company's opportunities, two in three closed
START, END = date(2026, 1, 1), date(2026, 5, 15)
SOURCES, REASONS = list(Opportunity.Source), list(Opportunity.LossReason)
CAUSES = list(Opportunity.UntouchedCause)


@pytest.fixture
def company(transactional_db):
    """A director, 10 teams of a manager and 4 reps, 4,000 opportunities spread evenly over the reps and two years,
    with every dimension's values and one to two of five competitors in play for two in three. Returns the
    director, a manager and a rep."""
    pipeline = install_default_pipeline()  # a transactional test empties every table after it
    stages = list(pipeline.stages.order_by("order"))
    director = User.objects.create(username="director", role=User.Role.DIRECTOR)
    teams = Team.objects.bulk_create([Team(name=f"Team {t}") for t in range(TEAMS)])
    managers = User.objects.bulk_create(
        [User(username=f"manager{t}", role=User.Role.MANAGER, team=team) for t, team in enumerate(teams)]
    )
    for team, manager in zip(teams, managers, strict=True):
        team.manager = manager
    Team.objects.bulk_update(teams, ["manager"])
    reps = User.objects.bulk_create(
        [User(username=f"rep{t}_{r}", team=team) for t, team in enumerate(teams) for r in range(REPS_PER_TEAM)]
    )
    account = AccountFactory(owner=reps[0])
    competitors = Competitor.objects.bulk_create([Competitor(name=f"竞争对手 {c}") for c in range(5)])
    start = at(2024, 5, 16)
    opportunities = []
    for i in range(OPPORTUNITIES):
        created_at = start + timedelta(minutes=263 * i)  # two years up to the clock's day
        status = [Opportunity.Status.OPEN, Opportunity.Status.WON, Opportunity.Status.LOST][i % 3]
        lost = status == Opportunity.Status.LOST
        untouched = lost and i % 5 == 0
        opportunities.append(
            Opportunity(
                pipeline=pipeline,
                stage=stages[i % 7],
                furthest_stage=stages[i % 7],
                account=account,
                owner=reps[i % len(reps)],
                name=f"商机 {i}",
                amount=Decimal(1000 + i),
                created_at=created_at,
                status=status,
                closed_at=created_at + timedelta(days=9) if status != Opportunity.Status.OPEN else None,
                source=SOURCES[i % len(SOURCES)] if i % 4 else "",
                loss_reason=REASONS[i % len(REASONS)] if lost else "",
                is_untouched_loss=untouched,
                untouched_cause=CAUSES[i % len(CAUSES)] if untouched else "",
            )
        )
    Opportunity.objects.bulk_create(opportunities)
    Opportunity.competitors.through.objects.bulk_create(
        Opportunity.competitors.through(opportunity=opportunity, competitor=competitors[(i + k) % 5])
        for i, opportunity in enumerate(opportunities)
        for k in range(i % 3)
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE pipeline_opportunity, pipeline_opportunity_competitors, accounts_user")
    return director, managers[3], reps[7]


ROLLED, SUMS = '"analytics_rolledmonth"', '"analytics_closedmonthsum"'


def plan_of(viewer: User, dimension: str) -> dict:
    """PostgreSQL's plan (EXPLAIN's JSON tree) of the one query `win_loss` runs on the opportunities (a director's
    whole company also looks up its rolled-up months and their sums: none here)."""
    with CaptureQueriesContext(connection) as queries:
        rows = win_loss(viewer=viewer, dimension=dimension, start=START, end=END)
    assert sum(row.won + row.lost for row in rows) > 0
    (query,) = [query for query in queries.captured_queries if ROLLED not in query["sql"] and SUMS not in query["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {query['sql']}")
        return cursor.fetchone()[0][0]["Plan"]


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def scans_of(plan: dict, table: str) -> list[str]:
    """How each scan of `table` in the plan reads it: "Index Only Scan using <index>", "Seq Scan", ..."""
    return [
        f"{node['Node Type']} using {node['Index Name']}" if "Index Name" in node else node["Node Type"]
        for node in nodes(plan)
        if node.get("Relation Name") == table
    ]


def test_a_directors_dimensions_read_the_periods_entries_of_the_closed_index(company):
    director, _, _ = company

    for dimension in WINLOSS_DIMENSIONS:
        plan = plan_of(director, dimension)
        assert scans_of(plan, "pipeline_opportunity") == ["Index Only Scan using opp_closed_idx"], (dimension, plan)


def test_a_managers_or_reps_dimensions_read_their_owners_entries_of_the_period(company):
    _, manager, rep = company

    for viewer in (manager, rep):
        for dimension in WINLOSS_DIMENSIONS:
            plan = plan_of(viewer, dimension)
            assert scans_of(plan, "pipeline_opportunity") == ["Index Only Scan using opp_owner_closed_idx"], (
                viewer.username,
                dimension,
                plan,
            )


def test_competitors_and_stages_meet_their_names_after_the_grouping(company):
    director, _, _ = company

    for dimension, names in [("competitor", "accounts_competitor"), ("stage", "pipeline_stage")]:
        plan = plan_of(director, dimension)
        aggregates = [node for node in nodes(plan) if node["Node Type"] == "Aggregate"]
        assert aggregates, plan
        assert all(scans_of(aggregate, "pipeline_opportunity") for aggregate in aggregates), plan
        assert not any(scans_of(aggregate, names) for aggregate in aggregates), plan  # names meet groups, not rows


def test_the_pages_dimensions_but_the_competitors_come_from_one_scan_of_the_period(company):
    """The page's five analyses: the competitors in one query, every other dimension in a second that reads the
    period's entries once (GROUPING SETS), from the index alone, whatever the viewer's role."""
    for viewer, index in zip(company, ["opp_closed_idx", "opp_owner_closed_idx", "opp_owner_closed_idx"], strict=True):
        with CaptureQueriesContext(connection) as queries:
            by_dimension = win_loss_by(viewer=viewer, dimensions=list(WINLOSS_DIMENSIONS), start=START, end=END)
        assert set(by_dimension) == set(WINLOSS_DIMENSIONS)
        # A director's whole company: + its rolled-up months and their sums (none here).
        assert len(queries.captured_queries) == (4 if viewer.is_director else 2)
        (grouped,) = [query["sql"] for query in queries.captured_queries if "GROUPING SETS" in query["sql"]]
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {grouped}")
            plan = cursor.fetchone()[0][0]["Plan"]
        assert scans_of(plan, "pipeline_opportunity") == [f"Index Only Scan using {index}"], (viewer.username, plan)
        for dimension in ("reason", "stage", "untouched_cause", "source"):
            single = win_loss(viewer=viewer, dimension=dimension, start=START, end=END)
            assert by_dimension[dimension] == single, dimension


def test_activity_counts_its_owners_completed_visits_of_the_period_from_an_index_alone(company):
    """Activity vs results: a director's visits per person or team from the period's entries of the completed
    visits' index, a manager's or a rep's from their owners' entries, never the company's period filtered."""
    from analytics.selectors.activity import visits_vs_won, visits_vs_won_by_team
    from pipeline.models import Visit

    director, manager, rep = company
    account, owners = AccountFactory(owner=rep), list(User.objects.filter(role=User.Role.REP))
    Visit.objects.bulk_create(
        Visit(
            account=account,
            owner=owners[i % len(owners)],
            status=Visit.Status.DONE if i % 4 else Visit.Status.PLANNED,
            done_at=at(2024, 5, 16) + timedelta(minutes=88 * i) if i % 4 else None,  # two years
            planned_at=None if i % 4 else at(2026, 6, 1),
        )
        for i in range(12_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE pipeline_visit")

    def visit_scans(read) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            read()
        (sql,) = [query["sql"] for query in queries.captured_queries if 'FROM "pipeline_visit"' in query["sql"]]
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            return scans_of(cursor.fetchone()[0][0]["Plan"], "pipeline_visit")

    assert visit_scans(lambda: visits_vs_won(viewer=director, start=START, end=END)) == [
        "Index Only Scan using visit_done_owner_idx"
    ]
    assert visit_scans(lambda: visits_vs_won_by_team(viewer=director, start=START, end=END)) == [
        "Index Only Scan using visit_done_owner_idx"
    ]
    for viewer in (manager, rep):
        assert visit_scans(lambda v=viewer: visits_vs_won(viewer=v, start=START, end=END)) == [
            "Index Only Scan using visit_owner_done_idx"
        ], viewer.username
