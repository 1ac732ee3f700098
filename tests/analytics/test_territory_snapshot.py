"""The nightly territory snapshot (analytics.rollups.snapshot_territory): a director's whole company reads it on the
day it was taken, with the same rows as summing every account then gives and the time it was taken on the page and in
the API; a manager, a rep, or a director on another day get the sums of the moment."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics.models import TerritorySnapshot
from analytics.rollups import snapshot_territory
from analytics.selectors.territory import TERRITORY_DIMENSIONS, territory_analysis
from tests.analytics.conftest import NOW, at, done_visit
from tests.analytics.test_pages import cell
from tests.factories import AccountFactory, CompetitorFactory, InstalledBaseFactory, OpportunityFactory, RegionFactory

TODAY = NOW.date()


@pytest.fixture
def territory(org, now):
    """Accounts of three people in two regions (one without), targets visited this quarter and not, installed base
    of ours and two competitors', open pipeline."""
    east, west = RegionFactory(code="EAST", name="华东", level=1), RegionFactory(code="WEST", name="华西", level=1)
    canon, ricoh = CompetitorFactory(name="Canon"), CompetitorFactory(name="Ricoh")
    for i, (owner, region) in enumerate(
        [(org.rep_a1, east), (org.rep_a1, east), (org.rep_a2, west), (org.rep_b1, None), (org.rep_b1, east)]
    ):
        account = AccountFactory(owner=owner, region=region, is_target=i % 2 == 0, employee_count=40 * (i + 1))
        if i % 2 == 0:
            done_visit(account=account, done_at=at(2026, 4, 10 + i), owner=owner)
        InstalledBaseFactory(account=account, units=i + 1)
        InstalledBaseFactory(account=account, is_ours=False, competitor=(canon, ricoh)[i % 2], units=2 * i + 1)
        OpportunityFactory(owner=owner, account=account, amount=Decimal(10000 * (i + 1)))
    return org


def test_a_directors_territory_of_the_day_reads_the_snapshot_with_the_rows_summing_gives(territory):
    live = {dimension: territory_analysis(viewer=territory.director, dimension=dimension) for dimension in
            TERRITORY_DIMENSIONS}  # fmt: skip
    assert all(rows.as_of is None for rows in live.values())
    assert sum(row.accounts for row in live["region"] if row.level == 1 or row.key == "none") >= 4

    assert snapshot_territory() == len(TERRITORY_DIMENSIONS)

    for dimension, rows in live.items():
        with CaptureQueriesContext(connection) as queries:
            stored = territory_analysis(viewer=territory.director, dimension=dimension)
        assert list(stored) == list(rows), dimension
        assert stored.as_of == TerritorySnapshot.objects.get(dimension=dimension).computed_at
        # the snapshot, and the regions, industries or competitors that name its groups
        assert len(queries.captured_queries) == (2 if dimension in ("region", "industry_size", "competitor") else 1)


def test_a_snapshot_of_another_day_is_not_read(territory):
    snapshot_territory(on=TODAY - timedelta(days=1))

    rows = territory_analysis(viewer=territory.director, dimension="region")

    assert rows.as_of is None


def test_a_manager_and_a_rep_sum_their_own_accounts_now(territory):
    snapshot_territory()
    AccountFactory(owner=territory.rep_a1, region=None)  # after the snapshot: theirs shows it

    for viewer, accounts in [(territory.rep_a1, 3), (territory.manager_a, 4)]:  # + rep_a2's for the manager
        rows = territory_analysis(viewer=viewer, dimension="org")
        assert (rows.as_of, sum(row.accounts for row in rows)) == (None, accounts), viewer.username
    director = territory_analysis(viewer=territory.director, dimension="org")
    assert sum(row.accounts for row in director) == 5  # as of the night: the new account is not in it yet


def test_the_page_and_the_api_say_when_a_directors_sums_were_taken(client, territory):
    snapshot_territory()
    taken = TerritorySnapshot.objects.get(dimension="region").computed_at
    client.force_login(territory.director)

    html = client.get(reverse("analytics:territory")).content.decode()
    body = client.get("/api/v1/analytics/territory/", {"dimension": "region"}).json()

    assert "的夜间计算" in html and f"{taken.astimezone(NOW.tzinfo):%Y-%m-%d %H:%M}" in html
    assert cell(html, 'data-key="EAST"', "accounts") == "3"
    assert body["as_of"] is not None and body["as_of"].startswith(f"{taken.astimezone(NOW.tzinfo):%Y-%m-%dT%H:%M}")
    client.force_login(territory.manager_a)
    assert "data-as-of" not in client.get(reverse("analytics:territory")).content.decode()
    assert client.get("/api/v1/analytics/territory/", {"dimension": "region"}).json()["as_of"] is None


def test_the_snapshot_is_replaced_each_night(territory):
    snapshot_territory(on=date(2026, 5, 14))
    snapshot_territory()

    assert set(TerritorySnapshot.objects.values_list("dimension", "on")) == {
        (dimension, TODAY) for dimension in [*TERRITORY_DIMENSIONS, "target_coverage"]
    }


def test_a_directors_untouched_list_reads_the_companys_coverage_of_the_night(client, territory):
    client.force_login(territory.director)
    live = client.get("/api/v1/analytics/untouched/").json()
    snapshot_territory()
    taken = TerritorySnapshot.objects.get(dimension="target_coverage").computed_at
    AccountFactory(owner=territory.rep_a1, is_target=True)  # after the night: not in the director's coverage yet

    with CaptureQueriesContext(connection) as queries:
        stored = client.get("/api/v1/analytics/untouched/").json()
    manager = client.get("/api/v1/analytics/untouched/", {"team": territory.team_a.pk}).json()

    assert live["coverage_as_of"] is None
    assert (stored["coverage"], stored["new_target_coverage"]) == (live["coverage"], live["new_target_coverage"])
    assert live["coverage"] == 1.0  # the three targets were visited this quarter
    assert stored["coverage_as_of"].startswith(f"{taken.astimezone(NOW.tzinfo):%Y-%m-%dT%H:%M}")
    assert not any("accounts_account" in q["sql"] and "pipeline_visit" in q["sql"] for q in queries.captured_queries)
    assert (manager["coverage_as_of"], manager["coverage"]) == (None, 2 / 3)  # a team chosen: counted now, new one too
