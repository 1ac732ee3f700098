"""A territory table reads what its viewer sees, not the company (issue 10): the open pipeline comes from its covering
index (a director's from the whole index, a rep's by owner), and the quarter's coverage is looked up target by target
in the visits' account index, never by hashing the company's quarter of completed visits. Read from PostgreSQL's
plans over a company of realistic size, after VACUUM ANALYZE (committed rows, as autovacuum leaves a production
table; see tests/pipeline/test_index_use.py)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, Industry, InstalledBase, Region, Team, User
from analytics.models import AccountValue, MatrixRun
from analytics.selectors.territory import territory_analysis
from core.calendar import current_quarter_bounds
from pipeline.models import Opportunity, Visit
from tests.e2e.helpers import install_default_pipeline

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's query plans"),
]

TEAMS, REPS_PER_TEAM, ACCOUNTS_PER_REP = 10, 5, 40  # 2,000 accounts, 6,000 opportunities, 8,000 visits
DAY = date(2026, 5, 15)  # the table's day: the quarter is April to June 2026


def _build_company() -> tuple[User, User]:
    """Returns a director and a rep. Every third account is a target; each account has three opportunities (one
    open), four completed visits (one this quarter at every other account), an installed base and this year's
    stored value."""
    director = User.objects.create(username="director", role=User.Role.DIRECTOR)
    teams = Team.objects.bulk_create([Team(name=f"Team {t}") for t in range(TEAMS)])
    reps = User.objects.bulk_create(
        [
            User(username=f"rep{t}_{r}", role=User.Role.REP, team=team)
            for t, team in enumerate(teams)
            for r in range(REPS_PER_TEAM)
        ]
    )
    regions = Region.objects.bulk_create([Region(code=f"R{i}", name=f"地区 {i}", level=1) for i in range(8)])
    industries = Industry.objects.bulk_create([Industry(code=f"i{i}", name=f"行业 {i}") for i in range(6)])
    accounts = Account.objects.bulk_create(
        [
            Account(
                name=f"客户 {i:05d}",
                owner=reps[i % len(reps)],
                region=regions[i % len(regions)],
                industry=industries[i % len(industries)],
                employee_count=(i * 37) % 2000,
                is_target=i % 3 == 0,
                target_since=DAY.replace(month=1, day=1) if i % 3 == 0 else None,
            )
            for i in range(len(reps) * ACCOUNTS_PER_REP)
        ]
    )
    InstalledBase.objects.bulk_create(
        [InstalledBase(account=a, is_ours=True, product="MFP", units=2) for a in accounts]
    )
    run = MatrixRun.objects.create(year=DAY.year)
    AccountValue.objects.bulk_create(
        [AccountValue(run=run, account=a, year=DAY.year, cv=1, pv=2, quadrant="core") for a in accounts]
    )
    pipeline = install_default_pipeline()  # safe to repeat; an earlier transactional test may have emptied it
    stage = pipeline.stages.order_by("order").first()
    quarter_from, _ = current_quarter_bounds(on=DAY)
    closed_at = quarter_from - timedelta(days=30)
    Opportunity.objects.bulk_create(
        [
            Opportunity(
                pipeline=pipeline,
                stage=stage,
                furthest_stage=stage,
                account=a,
                owner=a.owner,
                name=f"商机 {a.pk}-{n}",
                amount=Decimal(1000 + n),
                status=Opportunity.Status.OPEN if n == 0 else Opportunity.Status.WON,
                closed_at=None if n == 0 else closed_at,
            )
            for a in accounts
            for n in range(3)
        ]
    )
    Visit.objects.bulk_create(
        [
            Visit(
                account=a,
                owner=a.owner,
                status=Visit.Status.DONE,
                done_at=_done_at(quarter_from, i, n),
                created_at=_done_at(quarter_from, i, n),
            )
            for i, a in enumerate(accounts)
            for n in range(4)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return director, reps[1]


def _done_at(quarter_from: datetime, i: int, n: int) -> datetime:
    """This quarter for the first visit of every other account, the quarters before for the rest."""
    if n == 0 and i % 2 == 0:
        return quarter_from + timedelta(days=i % 40, hours=3)
    return quarter_from - timedelta(days=20 + 60 * n + i % 50)


@pytest.fixture
def company():
    return _build_company()


def _queries(viewer: User, dimension: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        territory_analysis(viewer=viewer, dimension=dimension, on=DAY)
    return [q["sql"] for q in queries.captured_queries]


def _plan(sql: str, *, analyze: bool = False) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {'(ANALYZE, TIMING OFF) ' if analyze else ''}{sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def _one(queries: list[str], marker: str) -> str:
    (sql,) = [sql for sql in queries if marker in sql]
    return sql


def test_the_open_pipeline_comes_from_its_covering_index(company):
    director, rep = company
    for dimension in ("region", "industry_size", "revenue"):
        director_plan = _plan(_one(_queries(director, dimension), 'AS "open_pipeline"'))
        rep_plan = _plan(_one(_queries(rep, dimension), 'AS "open_pipeline"'))

        assert "Index Only Scan using opp_open_owner_account_idx" in director_plan, director_plan
        assert "Heap Scan on pipeline_opportunity" not in director_plan, director_plan
        assert "Seq Scan on pipeline_opportunity" not in director_plan, director_plan
        by_owner = r"Index Only Scan using opp_open_owner_account_idx .*\n\s+Index Cond: \(owner_id = "
        assert re.search(by_owner, rep_plan), rep_plan


def test_coverage_is_looked_up_for_each_visible_target_only(company):
    director, rep = company
    for dimension in ("region", "industry_size", "org", "revenue"):
        for viewer in (director, rep):
            targets = Account.objects.visible_to(viewer).filter(is_target=True).count()

            plan = _plan(_one(_queries(viewer, dimension), 'AS "covered"'), analyze=True)

            lookups = re.search(r"Index Only Scan using visit_account_status_done_idx .* loops=(\d+)\)", plan)
            assert lookups, plan
            assert int(lookups.group(1)) == targets, plan
            # never the quarter's completed visits of the company, hashed (a rep's visibility rule reads their own)
            assert "visit_done_owner_idx" not in plan, plan
            assert "Heap Scan on pipeline_visit" not in plan, plan
            assert "Seq Scan on pipeline_visit" not in plan, plan
