"""Territory analysis in the decks' five dimensions (SPEC §7)."""

from decimal import Decimal

import pytest
from django.utils import translation

from accounts.models import Account, Competitor
from analytics.models import AccountValue, MatrixRun
from analytics.selectors.territory import territory_analysis
from tests.analytics.conftest import at, done_visit, won
from tests.factories import (
    AccountFactory,
    CompetitorFactory,
    IndustryFactory,
    InstalledBaseFactory,
    OpportunityFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal


def stored_values(year: int, values: dict) -> None:
    run = MatrixRun.objects.create(year=year, cv_threshold=0, pv_threshold=0)
    for account, (cv, pv) in values.items():
        AccountValue.objects.create(run=run, account=account, year=year, cv=cv, pv=pv, quadrant="core")


@pytest.fixture
def territory(org, now):
    east = RegionFactory(code="EAST", name="华东", name_en="East", level=1)
    shanghai = RegionFactory(code="SH", name="上海", level=2, parent=east)
    pudong = RegionFactory(code="PD", name="浦东", level=3, parent=shanghai)
    RegionFactory(code="JS", name="江苏", level=2, parent=east)  # no account
    north = RegionFactory(code="NORTH", name="华北", level=1)
    fin = IndustryFactory(code="fin", name="金融")
    canon, xerox = CompetitorFactory(name="Canon"), CompetitorFactory(name="Xerox")
    since = at(2026, 1, 1).date()
    a1 = AccountFactory(
        owner=org.rep_a1, region=pudong, industry=fin, employee_count=120, is_headquarters=True, is_target=True,
        target_since=since,
    )  # fmt: skip
    a2 = AccountFactory(
        owner=org.rep_a2, region=shanghai, industry=fin, employee_count=40, parent=a1, is_target=True,
        target_since=since,
    )  # fmt: skip
    AccountFactory(owner=org.rep_b1, region=north, industry=None, employee_count=None)
    a4 = AccountFactory(
        owner=org.rep_b1, region=None, industry=fin, employee_count=1500, is_target=True, target_since=since
    )
    done_visit(account=a1, done_at=at(2026, 4, 2))
    done_visit(account=a2, done_at=at(2026, 3, 31))  # last quarter
    done_visit(account=a4, done_at=at(2026, 5, 1))
    InstalledBaseFactory(account=a1, units=3)
    InstalledBaseFactory(account=a1, is_ours=False, competitor=canon, units=1)
    InstalledBaseFactory(account=a2, is_ours=False, competitor=canon, units=2)
    InstalledBaseFactory(account=a2, is_ours=False, competitor=xerox, units=4)
    InstalledBaseFactory(account=a4, units=1)
    OpportunityFactory(account=a1, owner=org.rep_a1, amount=D("100"))
    OpportunityFactory(account=a1, owner=org.rep_a1, amount=D("200"))
    OpportunityFactory(account=a2, owner=org.rep_a2, amount=D("50"))
    won(account=a1, amount="999", closed_at=at(2026, 2, 1))
    stored_values(2026, {a1: (D("1000"), D("5000")), a2: (D("0"), D("3000"))})
    stored_values(2025, {a1: (D("150000"), D("1")), a2: (D("50000"), D("1")), a4: (D("2000000"), D("1"))})


def table(viewer, dimension) -> list[tuple]:
    return [
        (
            r.key,
            r.accounts,
            r.targets,
            r.our_units,
            r.competitor_units,
            r.our_share,
            r.cv,
            r.pv,
            r.open_pipeline,
            r.coverage,
        )
        for r in territory_analysis(viewer=viewer, dimension=dimension)
    ]


def test_by_region_rolls_accounts_up_to_every_level(org, territory):
    assert table(org.director, "region") == [
        ("EAST", 2, 2, 3, 7, 0.3, D("1000.00"), D("8000.00"), D("350.00"), 0.5),
        ("SH", 2, 2, 3, 7, 0.3, D("1000.00"), D("8000.00"), D("350.00"), 0.5),
        ("PD", 1, 1, 3, 1, 0.75, D("1000.00"), D("5000.00"), D("300.00"), 1.0),
        ("NORTH", 1, 0, 0, 0, None, D("0.00"), D("0.00"), D("0.00"), None),
        ("", 1, 1, 1, 0, 1.0, D("0.00"), D("0.00"), D("0.00"), 1.0),
    ]
    with translation.override("en"):
        rows = territory_analysis(viewer=org.director, dimension="region")
    assert [(r.level, r.parent, r.label) for r in rows] == [
        (1, None, "East"),
        (2, "EAST", "上海"),
        (3, "SH", "浦东"),
        (1, None, "华北"),
        (None, None, "Unknown"),
    ]


def test_by_industry_and_size_band(org, territory):
    assert [(key, accounts, targets) for key, accounts, targets, *_ in table(org.director, "industry_size")] == [
        ("fin/1-49", 1, 1),
        ("fin/100-299", 1, 1),
        ("fin/1000+", 1, 1),
        ("/", 1, 0),
    ]
    row = territory_analysis(viewer=org.director, dimension="industry_size")[0]
    assert (row.industry, row.size_band, row.label) == ("fin", "1-49", "金融 · 1-49")


def test_by_organisation_headquarters_branches_and_standalone_accounts(org, territory):
    assert [(key, accounts, open_pipeline) for key, accounts, *_, open_pipeline, _c in table(org.director, "org")] == [
        ("headquarters", 1, D("300.00")),
        ("branch", 1, D("50.00")),
        ("standalone", 2, D("0.00")),
    ]


def test_by_competitor_counts_each_competitors_units_against_ours(org, territory):
    canon, xerox = (str(Competitor.objects.get(name=name).pk) for name in ("Canon", "Xerox"))
    assert table(org.director, "competitor") == [
        (canon, 2, 2, 3, 3, 0.5, D("1000.00"), D("8000.00"), D("350.00"), 0.5),
        (xerox, 1, 1, 0, 4, 0.0, D("0.00"), D("3000.00"), D("50.00"), 0.0),
        ("", 2, 1, 1, 0, 1.0, D("0.00"), D("0.00"), D("0.00"), 1.0),
    ]


def test_an_account_counts_once_per_competitor_however_many_of_its_products_and_zero_units_do_not_count(org, territory):
    canon = Competitor.objects.get(name="Canon")
    a1 = Account.objects.get(region__code="PD")
    InstalledBaseFactory(account=a1, is_ours=False, competitor=canon, units=5, product="another Canon model")
    InstalledBaseFactory(account=a1, is_ours=False, competitor=CompetitorFactory(name="Ricoh"), units=0)

    rows = {row[0]: row for row in table(org.director, "competitor")}

    assert sorted(rows) == sorted([str(canon.pk), str(Competitor.objects.get(name="Xerox").pk), ""])
    assert rows[str(canon.pk)] == (str(canon.pk), 2, 2, 3, 8, 3 / 11, D("1000.00"), D("8000.00"), D("350.00"), 0.5)


def test_a_cv_on_a_band_edge_falls_in_the_band_it_starts_and_a_zero_cv_in_none(org, territory):
    last_year = AccountValue.objects.filter(year=2025)
    last_year.filter(account__region__code="PD").update(cv=D("100000"))  # was 150,000
    last_year.filter(account__region__code="SH").update(cv=D("0"))  # was 50,000
    north = Account.objects.get(region__code="NORTH")  # had no value: now exactly the last edge
    AccountValue.objects.create(
        run=MatrixRun.objects.get(year=2025), account=north, year=2025, cv=D("1000000"), pv=1, quadrant="core"
    )

    assert [(key, accounts) for key, accounts, *_ in table(org.director, "revenue")] == [
        ("none", 1),
        ("0-100000", 0),
        ("100000-500000", 1),
        ("500000-1000000", 0),
        ("1000000+", 2),
    ]


def test_by_last_years_cv_band_shows_every_band(org, territory):
    assert [(key, accounts) for key, accounts, *_ in table(org.director, "revenue")] == [
        ("none", 1),
        ("0-100000", 1),
        ("100000-500000", 1),
        ("500000-1000000", 0),
        ("1000000+", 1),
    ]


def test_a_rep_sees_only_their_accounts_in_every_dimension(org, territory):
    assert table(org.rep_a1, "region") == [
        ("EAST", 1, 1, 3, 1, 0.75, D("1000.00"), D("5000.00"), D("300.00"), 1.0),
        ("SH", 1, 1, 3, 1, 0.75, D("1000.00"), D("5000.00"), D("300.00"), 1.0),
        ("PD", 1, 1, 3, 1, 0.75, D("1000.00"), D("5000.00"), D("300.00"), 1.0),
    ]
    for dimension in ("industry_size", "org", "competitor", "revenue"):
        assert sum(row[1] for row in table(org.rep_a1, dimension)) == 1


def test_no_visible_account_gives_empty_tables_or_empty_bands(org, now):
    assert table(org.rep_a1, "region") == []
    assert table(org.rep_a1, "competitor") == []
    assert [row[1] for row in table(org.rep_a1, "org")] == [0, 0, 0]


def test_by_region_follows_the_company_region_order_not_the_alphabet(org, now):
    # Alphabetically ALPHA < MID < ZULU; the company's order is ZULU (地域-1), ALPHA (地域-2), MID (地域-3). Within
    # ZULU, its provinces follow their own sort order too (Z-B before Z-A).
    zulu = RegionFactory(code="ZULU", level=1, sort_order=10)
    alpha = RegionFactory(code="ALPHA", level=1, sort_order=20)
    mid = RegionFactory(code="MID", level=1, sort_order=30)
    z_a = RegionFactory(code="Z-A", level=2, parent=zulu, sort_order=12)
    z_b = RegionFactory(code="Z-B", level=2, parent=zulu, sort_order=11)
    for region in (alpha, mid, z_a, z_b, None):
        AccountFactory(owner=org.rep_a1, region=region)

    keys = [row[0] for row in table(org.director, "region")]

    assert keys == ["ZULU", "Z-B", "Z-A", "ALPHA", "MID", ""]
