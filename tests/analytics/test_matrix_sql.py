"""compute_matrix's PostgreSQL statement stores exactly the rows of its portable pandas twin (STYLE §5).

Each test runs both paths on the same PostgreSQL data, with the clock pinned so both stamp the same computed_at, and
compares every column of the run and of every row (all but the row id: the portable twin deletes and re-inserts).
Both keep the computed_at of a row whose values stay: the statement does not even rewrite it.
"""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DataError, connection, transaction

from accounts.models import Account, AccountYear, InstalledBase
from analytics.models import AccountValue, MatrixRun
from analytics.services import compute_matrix, write_matrix_snapshot_portable, write_matrix_snapshot_postgresql
from tests.analytics.conftest import NOW, at, won
from tests.factories import AccountFactory, AccountYearFactory, CompetitorFactory, IndustryFactory, RegionFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the statement is PostgreSQL's"),
]

ROW_COLUMNS = [f.attname for f in AccountValue._meta.concrete_fields if f.attname != "id"]
RUN_COLUMNS = [f.attname for f in MatrixRun._meta.concrete_fields]


def stored(year: int) -> tuple[tuple, list[tuple]]:
    """The run of `year` and its rows, every column, rows in account order."""
    run = MatrixRun.objects.filter(year=year).values_list(*RUN_COLUMNS).get()
    rows = list(AccountValue.objects.filter(year=year).order_by("account_id").values_list(*ROW_COLUMNS))
    return run, rows


def returned(run: MatrixRun) -> tuple:
    return tuple(getattr(run, column) for column in RUN_COLUMNS)


def assert_both_paths_agree(year: int, *, fresh: bool = True) -> list[tuple]:
    """Runs the statement (on no rows of `year` if `fresh`), the twin, then the statement over the twin's rows: all
    three store the same; returns the rows."""
    if fresh:
        AccountValue.objects.filter(year=year).delete()
    inserted = returned(write_matrix_snapshot_postgresql(year=year)), stored(year)
    portable = returned(write_matrix_snapshot_portable(year=year)), stored(year)
    updated = returned(write_matrix_snapshot_postgresql(year=year)), stored(year)

    assert inserted == portable
    assert updated == portable
    assert portable[0] == portable[1][0]  # the run returned is the run stored
    return portable[1][1]


@pytest.fixture
def varied_company(now):
    """200 accounts drawn with a fixed seed across every input of SPEC §7, names and codes that sort differently by
    locale than by code point, and cent amounts whose medians fall on half cents."""
    rng = random.Random(20260515)
    owner = AccountFactory().owner
    industries = [None, IndustryFactory(code="none", spend_per_employee=None)] + [
        IndustryFactory(code=f"i{i}", spend_per_employee=Decimal(rng.randint(0, 200_000)) / 100) for i in range(3)
    ]
    # Sort orders against the codes' order, ties included (those fall back to the code).
    regions = [None] + [
        RegionFactory(code=code, sort_order=order)
        for code, order in [("EAST", 30), ("east", 10), ("Éast", 10), ("北京", 0), ("z", 20), ("A-1", 30)]
    ]
    competitor = CompetitorFactory()
    names = ["Zeta", "alpha", "Alpha", "Ärzte", "上海", "北京", "beta", "Beta", "_x", "10", "9"]
    accounts = Account.objects.bulk_create(
        Account(
            owner=owner,
            name=f"{rng.choice(names)} {rng.randint(0, 3)}",
            industry=rng.choice(industries),
            region=rng.choice(regions),
            employee_count=rng.choice([None, 0, 1, 7, 120, 5000]),
            is_target=rng.random() < 0.3,
        )
        for _ in range(200)
    )
    units, years = [], []
    for account in accounts:
        for _ in range(rng.choice([0, 0, 1, 2, 3])):
            ours = rng.random() < 0.5
            units.append(
                InstalledBase(
                    account=account,
                    is_ours=ours,
                    competitor=None if ours else competitor,
                    product="MFP",
                    units=rng.choice([0, 1, 2, 9]),
                    year=rng.choice([None, 2024, 2025, 2026]),
                )
            )
        years.extend(
            AccountYear(
                account=account,
                year=year,
                other_revenue=Decimal(rng.choice([0, 1, 3, 12345, 999_999])) / 100,
                potential_value=rng.choice([None, None, Decimal(0), Decimal(rng.randint(1, 10**9)) / 100]),
            )
            for year in (2025, 2026)
            if rng.random() < 0.6
        )
        for _ in range(rng.choice([0, 0, 1, 2])):
            closed_at = at(2025, 12, 31, 23, 59, 59) + timedelta(seconds=rng.choice([0, 1, 86400 * 100]))
            won(account=account, amount=str(Decimal(rng.randint(1, 10**8)) / 100), closed_at=closed_at)
    InstalledBase.objects.bulk_create(units)
    AccountYear.objects.bulk_create(years)
    return accounts


def test_both_paths_store_the_same_rows_for_a_varied_company(varied_company):
    rows_2026 = assert_both_paths_agree(2026)
    rows_2025 = assert_both_paths_agree(2025)

    # The data reaches every branch the two paths must agree on.
    columns = {name: {row[ROW_COLUMNS.index(name)] for row in rows_2026 + rows_2025} for name in ROW_COLUMNS}
    assert columns["pv_source"] == {"explicit", "installed_base", "employees", "current_value"}
    assert columns["quadrant"] == {"core", "develop", "maintain", "observe"}
    assert columns["customer_type"] == {"ours", "competitor", "mixed", "none"}
    assert None in columns["priority"]
    assert None not in columns["share"] and max(columns["share"]) == 1.0  # PV >= CV and above 0: always a share
    assert len(rows_2026) > 100


def test_both_paths_order_regions_by_their_sort_order_not_their_code(now):
    # Alphabetically A < M < Z; the company's order is Z (地域-1), A (地域-2), M (地域-3); no region comes last.
    regions = {code: RegionFactory(code=code, sort_order=order) for code, order in [("A", 20), ("M", 30), ("Z", 10)]}
    for name, code in [("a1", "A"), ("m1", "M"), ("z1", "Z"), ("none", None), ("z0", "Z")]:
        account = AccountFactory(name=name, region=regions.get(code), employee_count=None, is_target=True)
        AccountYearFactory(account=account, year=2026, other_revenue=Decimal(0), potential_value=Decimal(100))

    assert_both_paths_agree(2026)

    ordered = AccountValue.objects.filter(year=2026).order_by("priority").values_list("account__name", "priority")
    assert list(ordered) == [("z0", 1), ("z1", 2), ("a1", 3), ("m1", 4), ("none", 5)]


def test_both_paths_agree_on_half_cent_medians_and_ties(now):
    for name, cv, pv in [("a", "0.01", "0.02"), ("b", "0.02", "0.05"), ("c", "0.02", "0.02"), ("d", "7.77", "0.03")]:
        AccountYearFactory(
            account=AccountFactory(name=name, employee_count=None),
            year=2026,
            other_revenue=Decimal(cv),
            potential_value=Decimal(pv),
        )

    assert_both_paths_agree(2026)

    # CV 0.01, 0.02, 0.02, 7.77: median 0.02; PV never below CV: 0.02, 0.05, 0.02, 7.77 (d's 0.03 < its CV), so
    # sorted 0.02, 0.02, 0.05, 7.77: median 0.035, half up to 0.04
    assert MatrixRun.objects.values_list("cv_threshold", "pv_threshold").get() == (Decimal("0.02"), Decimal("0.04"))


def test_both_paths_agree_with_fixed_thresholds(varied_company, settings):
    settings.SALESFLOW_CV_THRESHOLD = 1234.565
    settings.SALESFLOW_PV_THRESHOLD = None

    assert_both_paths_agree(2026)

    run = MatrixRun.objects.get(year=2026)
    assert (run.cv_threshold, run.thresholds_fixed) == (Decimal("1234.56"), True)


def test_the_statement_updates_stayers_inserts_joiners_and_deletes_leavers_as_the_twin_replaces_rows(now):
    stays, leaves = AccountFactory(name="stays"), AccountFactory(name="leaves")
    write_matrix_snapshot_postgresql(year=2026)
    leaves.employee_count = 0
    leaves.save()
    joins = AccountFactory(name="joins")

    rows = assert_both_paths_agree(2026, fresh=False)

    assert [row[ROW_COLUMNS.index("account_id")] for row in rows] == [stays.pk, joins.pk]


def test_both_paths_store_an_empty_matrix_alike(now):
    AccountFactory(employee_count=None)

    assert assert_both_paths_agree(2010) == []
    assert MatrixRun.objects.values_list("cv_threshold", "pv_threshold").get() == (None, None)


def test_a_pv_too_large_to_store_raises_on_both_paths_and_keeps_the_previous_snapshot(now):
    huge = IndustryFactory(code="huge", spend_per_employee=Decimal("9999999999.99"))
    account = AccountFactory(name="huge", employee_count=1000, industry=huge)
    compute_matrix(year=2026)
    before = stored(2026)
    account.employee_count = 2_000_000_000
    account.save()

    with pytest.raises(OverflowError):
        write_matrix_snapshot_portable(year=2026)
    assert stored(2026) == before
    with pytest.raises(DataError):
        write_matrix_snapshot_postgresql(year=2026)
    assert stored(2026) == before


def test_compute_matrix_on_postgresql_reads_no_account_row_into_python(now, django_assert_num_queries):
    AccountFactory()
    compute_matrix(year=2026)  # the run row exists, as it does every night after the first

    # savepoint, the run row's upsert (the lock) sent with the statement, release; then ANALYZE of the snapshot
    with django_assert_num_queries(4) as queries:
        compute_matrix(year=2026)

    assert queries.captured_queries[3]["sql"].startswith("ANALYZE ")
    assert "ON CONFLICT" in queries.captured_queries[1]["sql"]
    assert "INSERT INTO" in queries.captured_queries[1]["sql"]


def row_versions(year: int) -> dict[int, str]:
    """Each row's xmin by account: the (sub)transaction that last wrote it, which changes when a row is rewritten."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT account_id, xmin::text FROM {connection.ops.quote_name(AccountValue._meta.db_table)} "
            "WHERE year = %s",
            [year],
        )
        return dict(cursor.fetchall())


def test_the_statement_rewrites_only_rows_whose_values_change_and_both_paths_stamp_those_alone(
    varied_company, time_machine
):
    write_matrix_snapshot_postgresql(year=2026)
    first, versions = stored(2026), row_versions(2026)
    later = NOW + timedelta(days=1)
    time_machine.move_to(later, tick=False)

    write_matrix_snapshot_postgresql(year=2026)

    assert row_versions(2026) == versions  # nothing changed: no row written
    assert stored(2026)[1] == first[1]
    assert stored(2026)[0][RUN_COLUMNS.index("computed_at")] == later

    changed = sorted(versions)[::20]
    for account_id in changed:
        won(account=Account.objects.get(pk=account_id), amount="0.01", closed_at=at(2026, 3, 1))
    with transaction.atomic():
        by_statement = returned(write_matrix_snapshot_postgresql(year=2026)), stored(2026)
        rewritten = {account for account, version in row_versions(2026).items() if versions[account] != version}
        transaction.set_rollback(True)
    by_twin = returned(write_matrix_snapshot_portable(year=2026)), stored(2026)

    assert by_twin == by_statement
    stamps = {row[ROW_COLUMNS.index("account_id")]: row[ROW_COLUMNS.index("computed_at")] for row in by_twin[1][1]}
    assert set(stamps) == set(versions)
    assert rewritten == {account for account, stamp in stamps.items() if stamp == later} >= set(changed)
    assert {stamp for account, stamp in stamps.items() if account not in rewritten} == {NOW}


def test_the_planner_knows_the_new_snapshot_at_once():
    """The nightly jobs analyze the snapshots they rewrite: the next page's plan counts the year's rows as they are
    (before, the first year's 6,000 rows at scale 10 were estimated at 30, and a rep's matrix hashed them all)."""
    from analytics.services import flag_stale

    for i in range(40):
        AccountFactory(name=f"客户 {i}")
    compute_matrix(year=NOW.year)
    flag_stale()

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN SELECT * FROM analytics_accountvalue WHERE year = %s", [NOW.year])
        plan = cursor.fetchone()[0]
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'analytics_staleflag'")
        stale_rows = cursor.fetchone()[0]
    assert " rows=40 " in plan, plan
    assert stale_rows == 0  # analyzed: empty, not "never analyzed" (-1)
