"""Every list endpoint runs the same number of queries whatever the number of rows on the page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pipeline.models import Pipeline, Stage, StageCriterion
from tests.factories import (
    AccountFactory,
    AccountYearFactory,
    CompetitorFactory,
    ContactFactory,
    IndustryFactory,
    InstalledBaseFactory,
    OpportunityFactory,
    RegionFactory,
    SalesTargetFactory,
    TeamFactory,
    UserFactory,
    VisitFactory,
    default_stage,
)

pytestmark = pytest.mark.django_db


def accounts(org, i):
    account = AccountFactory(owner=org.rep_a1)
    InstalledBaseFactory(account=account, is_ours=bool(i % 2), competitor=None if i % 2 else CompetitorFactory())


def contacts(org, i):
    ContactFactory(account=AccountFactory(owner=org.rep_a1))


def installed_base(org, i):
    InstalledBaseFactory(account=AccountFactory(owner=org.rep_a1), is_ours=False, competitor=CompetitorFactory())


def account_years(org, i):
    AccountYearFactory(account=AccountFactory(owner=org.rep_a1))


def opportunities(org, i):
    stage = default_stage(["prep", "status", "needs", "develop", "propose"][i % 5])
    opportunity = OpportunityFactory(owner=[org.rep_a1, org.rep_b1][i % 2], stage=stage, amount=Decimal(i))
    opportunity.competitors.add(CompetitorFactory(), CompetitorFactory())
    ContactFactory(account=opportunity.account, buying_role="decision_maker")
    VisitFactory(account=opportunity.account, opportunity=opportunity)


def visits(org, i):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    VisitFactory(account=opportunity.account, opportunity=opportunity)
    VisitFactory(
        account=opportunity.account,
        opportunity=opportunity,
        status="done",
        planned_at=None,
        done_at=timezone.now(),
        stage_when_done=opportunity.stage,
    )


def targets(org, i):
    start = timezone.localdate().replace(day=1) - timedelta(days=40 * i)
    SalesTargetFactory(owner_user=org.rep_a1, period_start=start.replace(day=1))
    SalesTargetFactory(owner_user=None, owner_team=org.team_a, period_start=start.replace(day=1))


def competitors(org, i):
    CompetitorFactory()


def regions(org, i):
    RegionFactory(level=2, parent=RegionFactory(level=1))


def industries(org, i):
    IndustryFactory()


def stages(org, i):
    pipeline = Pipeline.objects.create(code=f"p{i}", name_zh=f"流程{i}", name_en=f"Process {i}")
    stage = Stage.objects.create(pipeline=pipeline, order=1, code="first", name_zh="一", name_en="One")
    for n in range(2):
        StageCriterion.objects.create(
            stage=stage, order=n, code=f"c{n}", kind="manual", input_type="text", label_zh="标准", label_en="Criterion"
        )


def teams(org, i):
    team = TeamFactory(name=f"Team {i}", manager=UserFactory(role="manager"))
    UserFactory.create_batch(2, team=team)


def users(org, i):
    UserFactory(team=[org.team_a, org.team_b][i % 2])


ENDPOINTS = {
    "accounts": accounts,
    "contacts": contacts,
    "installed-base": installed_base,
    "account-years": account_years,
    "opportunities": opportunities,
    "visits": visits,
    "targets": targets,
    "competitors": competitors,
    "regions": regions,
    "industries": industries,
    "stages": stages,
    "teams": teams,
    "users": users,
}


def queries_to_list(client, path: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/{path}/")
    assert response.status_code == 200
    return len(queries), response.json()["count"]


@pytest.mark.parametrize("path", list(ENDPOINTS))
@pytest.mark.parametrize("viewer", ["director", "manager_a", "rep_a1"])
def test_a_list_runs_as_many_queries_for_ten_times_the_rows(api, org, path, viewer):
    build = ENDPOINTS[path]
    client = api(getattr(org, viewer))
    _, before = queries_to_list(client, path)  # rows the company starts with (users, teams, the default stages)
    for i in range(3):
        build(org, i)
    few, few_rows = queries_to_list(client, path)
    for i in range(3, 30):
        build(org, i)
    many, many_rows = queries_to_list(client, path)
    assert many == few
    if viewer == "director":
        assert many_rows - before == 10 * (few_rows - before) > 0


@pytest.mark.parametrize(("path", "expected"), [("opportunities", 5), ("accounts", 2), ("visits", 2), ("teams", 3)])
def test_lists_run_a_fixed_small_number_of_queries(api, org, path, expected, django_assert_num_queries):
    ENDPOINTS[path](org, 0)
    client = api(org.director)
    # opportunities: count, page, competitors, stage criteria, criteria facts; teams: count, page, members
    with django_assert_num_queries(expected):
        client.get(f"/api/v1/{path}/")
