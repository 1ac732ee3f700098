"""Nightly analytics jobs (SPEC §7): each computes first, then replaces its snapshot in one transaction.

Running a job twice leaves the same rows; a job that raises leaves the previous snapshot in place. Each job has a
PostgreSQL path, where the database computes and writes the snapshot in one round trip (the SQL is in
analytics.snapshot_sql; `make bench-analytics` holds each to twice a plain read of the same aggregation), and a
portable twin that computes with the ORM and pandas (STYLE §5); tests check both store the same rows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Model, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from accounts.models import Account, AccountYear, Industry, InstalledBase, Region
from analytics import matrix, rollups, snapshot_sql
from analytics.models import AccountValue, JobRun, MatrixRun, Quadrant, StaleFlag, UntouchedFlag
from core.calendar import day_start, today, year_bounds
from pipeline.models import Opportunity, StageChange, Visit
from pipeline.selectors.opportunities import is_stale_expression, stale_cutoff

BATCH_SIZE = 2000


def _matrix_inputs(*, year: int) -> pd.DataFrame:
    """One row per account with what CV and PV of `year` are made of (money in cents), in four queries."""
    start, end = year_bounds(year)
    accounts = list(
        Account.objects.values_list(
            "id",
            "name",
            "is_target",
            "employee_count",
            "industry__spend_per_employee",
            "region__code",
            "region__sort_order",
        ).order_by()
    )
    won = dict(
        Opportunity.objects.won()
        .closed_between(start, end)
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
        .order_by()
    )
    years = {
        account_id: (other, potential)
        for account_id, other, potential in AccountYear.objects.filter(year=year)
        .values_list("account_id", "other_revenue", "potential_value")
        .order_by()
    }
    # Installed base is today's; units installed after `year` were not there yet.
    units = {
        account_id: (ours or 0, theirs or 0)
        for account_id, ours, theirs in InstalledBase.objects.filter(Q(year__isnull=True) | Q(year__lte=year))
        .values("account_id")
        .annotate(ours=Sum("units", filter=Q(is_ours=True)), theirs=Sum("units", filter=Q(is_ours=False)))
        .values_list("account_id", "ours", "theirs")
        .order_by()
    }
    columns = [list(column) for column in zip(*accounts, strict=True)] or [[] for _ in range(7)]
    ids, names, is_target, employees, spend, region_codes, region_orders = columns
    no_year, no_units = (0, None), (0, 0)
    return pd.DataFrame(
        {
            "account": pd.array(ids, dtype="int64"),
            "name": names,
            "is_target": pd.array(is_target, dtype=bool),
            "region_code": pd.array(region_codes, dtype=object),
            "region_order": pd.array(region_orders, dtype="Int64"),
            "employee_count": pd.array(employees, dtype="Int64"),
            "spend_cents": matrix.cents_array(spend),
            "won_cents": matrix.cents_array(won.get(i, 0) for i in ids),
            "other_cents": matrix.cents_array(years.get(i, no_year)[0] or 0 for i in ids),
            "potential_cents": matrix.cents_array(years.get(i, no_year)[1] for i in ids),
            "our_units": pd.array([units.get(i, no_units)[0] for i in ids], dtype="int64"),
            "competitor_units": pd.array([units.get(i, no_units)[1] for i in ids], dtype="int64"),
        }
    )


def compute_matrix(*, year: int) -> MatrixRun:
    """Replaces the CV/PV snapshot of `year` (thresholds, a row per account); keeps the old one if it raises.

    The run's computed_at is this run; a row's computed_at is the run that last changed one of its values.
    """
    return _write_matrix_snapshot(year=year)


def _write_matrix_snapshot(*, year: int) -> MatrixRun:
    """The one choice of STYLE §5: the PostgreSQL-only speedup on PostgreSQL, its portable twin elsewhere."""
    if connection.vendor == "postgresql":
        return write_matrix_snapshot_postgresql(year=year)
    return write_matrix_snapshot_portable(year=year)


def _matrix_settings() -> tuple[Decimal, Decimal, Decimal | None, Decimal | None]:
    """Value per unit, default spend per employee (integer settings) and the fixed thresholds, as Decimals."""
    value_per_unit = Decimal(settings.SALESFLOW_VALUE_PER_UNIT)
    default_spend = Decimal(settings.SALESFLOW_SPEND_PER_EMPLOYEE)
    fixed_cv, fixed_pv = matrix.fixed_thresholds(
        fixed_cv=settings.SALESFLOW_CV_THRESHOLD, fixed_pv=settings.SALESFLOW_PV_THRESHOLD
    )
    return value_per_unit, default_spend, fixed_cv, fixed_pv


def _lock_matrix_run(
    *, year: int, computed_at: datetime, thresholds: tuple[Decimal | None, Decimal | None], fixed: bool
) -> MatrixRun:
    """Inside the caller's transaction, writes the run row of `year`, which locks it until the transaction ends."""
    # A concurrent run of the same year waits here until this one commits.
    run, _ = MatrixRun.objects.update_or_create(
        year=year,
        defaults={
            "computed_at": computed_at,
            "cv_threshold": thresholds[0],
            "pv_threshold": thresholds[1],
            "thresholds_fixed": fixed,
        },
    )
    return run


# What a row of the matrix stores besides its keys and computed_at: a row whose values all stay keeps computed_at.
_MATRIX_VALUE_COLUMNS = ("cv", "pv", "pv_source", "share", "quadrant", "customer_type", "priority")


def write_matrix_snapshot_portable(*, year: int) -> MatrixRun:
    """compute_matrix on any database: reads the inputs, computes with pandas, then writes in one transaction.

    Every row is written anew, but a row whose values did not change keeps its computed_at (when it last changed).
    """
    value_per_unit, default_spend, fixed_cv, fixed_pv = _matrix_settings()
    values = matrix.account_values(
        _matrix_inputs(year=year), value_per_unit=value_per_unit, default_spend=default_spend
    )
    cv_threshold, pv_threshold = matrix.thresholds(values, fixed_cv=fixed_cv, fixed_pv=fixed_pv)
    computed_at = timezone.now()
    rows: list[AccountValue] = []
    if not values.empty:
        classified = matrix.visit_priority(
            matrix.classify_accounts(values, cv_threshold=cv_threshold, pv_threshold=pv_threshold)
        )
        columns = ["account", "cv", "pv", "pv_source", "share", "quadrant", "customer_type", "priority"]
        rows = [
            AccountValue(
                account_id=account,
                year=year,
                cv=cv,
                pv=pv,
                pv_source=pv_source,
                share=share,
                quadrant=quadrant,
                customer_type=customer_type,
                priority=None if priority is pd.NA else priority,
                computed_at=computed_at,
            )
            for account, cv, pv, pv_source, share, quadrant, customer_type, priority in zip(
                *(classified[column].tolist() for column in columns), strict=True
            )
        ]
    with transaction.atomic():
        run = _lock_matrix_run(
            year=year,
            computed_at=computed_at,
            thresholds=(cv_threshold, pv_threshold),
            fixed=fixed_cv is not None or fixed_pv is not None,
        )
        # Read under the run's lock, so no concurrent run of the year changes the rows between here and the write.
        previous = {
            account_id: (stored, changed_at)
            for account_id, changed_at, *stored in AccountValue.objects.filter(year=year)
            .values_list("account_id", "computed_at", "run_id", *_MATRIX_VALUE_COLUMNS)
            .order_by()
        }
        for row in rows:
            row.run_id = run.pk
            stored, changed_at = previous.get(row.account_id, (None, None))
            if stored == [getattr(row, column) for column in ("run_id", *_MATRIX_VALUE_COLUMNS)]:
                row.computed_at = changed_at  # unchanged: keeps when it last changed, as the statement leaves it
        AccountValue.objects.filter(year=year).delete()
        AccountValue.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return run


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _matrix_statement(template: str, *, year: int) -> tuple[str, dict]:
    """`template` (the snapshot's CTEs and what follows them) with its tables and its parameters for `year`."""
    value_per_unit, default_spend, fixed_cv, fixed_pv = _matrix_settings()
    start, end = year_bounds(year)
    sql = template.format(
        opportunity=_table(Opportunity),
        installed_base=_table(InstalledBase),
        account=_table(Account),
        industry=_table(Industry),
        region=_table(Region),
        account_year=_table(AccountYear),
        run=_table(MatrixRun),
        account_value=_table(AccountValue),
    )
    params = {
        "year": year,
        "start": start,
        "end": end,
        "won": Opportunity.Status.WON.value,
        "value_per_unit": matrix.whole_cents(value_per_unit),
        "default_spend": matrix.whole_cents(default_spend),
        "fixed_cv": fixed_cv,
        "fixed_pv": fixed_pv,
        "explicit": AccountValue.PvSource.EXPLICIT.value,
        "installed_base": AccountValue.PvSource.INSTALLED_BASE.value,
        "employees": AccountValue.PvSource.EMPLOYEES.value,
        "current_value": AccountValue.PvSource.CURRENT_VALUE.value,
        "ours": AccountValue.CustomerType.OURS.value,
        "mixed": AccountValue.CustomerType.MIXED.value,
        "competitor": AccountValue.CustomerType.COMPETITOR.value,
        "none": AccountValue.CustomerType.NONE.value,
        "core": Quadrant.CORE.value,
        "develop": Quadrant.DEVELOP.value,
        "maintain": Quadrant.MAINTAIN.value,
        "observe": Quadrant.OBSERVE.value,
        "quadrant_order": matrix.PRIORITY_QUADRANT_ORDER,
    }
    return sql, params


def matrix_snapshot_query(*, year: int) -> tuple[str, dict]:
    """The plain read of the rows compute_matrix stores for `year` on PostgreSQL (the same aggregation, nothing
    written): SQL and parameters for a cursor. For benchmarks and checks."""
    return _matrix_statement(
        snapshot_sql.MATRIX_SNAPSHOT_CTES
        + "SELECT account_id, cv, pv, pv_source, share, quadrant, customer_type, priority FROM snapshot",
        year=year,
    )


def write_matrix_snapshot_postgresql(*, year: int) -> MatrixRun:
    """compute_matrix on PostgreSQL: write_matrix_snapshot_portable's rows, computed and written in the database.

    One transaction and one round trip: the run row (locked first), then one statement that updates the year's rows
    whose values change, inserts and deletes rows of accounts that joined or left, and stores the thresholds; no
    account row travels to Python.
    """
    sql, params = _matrix_statement(snapshot_sql.MATRIX_SQL, year=year)
    computed_at = timezone.now()
    fixed = params["fixed_cv"] is not None or params["fixed_pv"] is not None
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, {**params, "computed_at": computed_at, "thresholds_fixed": fixed})
        stored = dict(zip((column.name for column in cursor.description), cursor.fetchone(), strict=True))
    refresh_statistics(AccountValue, ("year", "account_id", "quadrant", "priority"))
    fields = [field.attname for field in MatrixRun._meta.concrete_fields]
    return MatrixRun.from_db(connection.alias, fields, [stored[name] for name in fields])


def nightly_matrix_years(*, on: date | None = None) -> list[int]:
    """The years the nightly job recomputes: this year and last year."""
    year = (on or today()).year
    return [year, year - 1]


def _latest(*moments: datetime | None) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


def _untouched_targets(*, on: date | None) -> QuerySet:
    """(account id, last completed visit) of every target account with no completed visit since the cutoff."""
    day = on or today()
    cutoff = day_start(day - timedelta(days=settings.SALESFLOW_UNTOUCHED_DAYS))
    return (
        Account.objects.targets()
        .annotate(last_visit_at=Max("visits__done_at", filter=Q(visits__status=Visit.Status.DONE)))
        .filter(Q(last_visit_at__isnull=True) | Q(last_visit_at__lt=cutoff))
        .values_list("id", "last_visit_at")
        .order_by()
    )


def flag_untouched(*, on: date | None = None) -> int:
    """Replaces the untouched-target snapshot; returns how many target accounts it flagged.

    A target is untouched when no visit to it was done (by anyone) on or after the day SALESFLOW_UNTOUCHED_DAYS
    before `on`: a visit exactly that many days ago still counts as a touch. One transaction; on PostgreSQL one round
    trip in which the database computes and writes the flags (flag_untouched_postgresql), elsewhere its portable twin.
    """
    if connection.vendor == "postgresql":
        return flag_untouched_postgresql(on=on)
    return flag_untouched_portable(on=on)


def flag_untouched_portable(*, on: date | None = None) -> int:
    """flag_untouched on any database: reads the flags, then replaces every row with them."""
    computed_at = timezone.now()
    flags = [
        UntouchedFlag(account_id=account_id, last_visit_at=last, computed_at=computed_at)
        for account_id, last in _untouched_targets(on=on)
    ]
    return _replace_flags_portable(UntouchedFlag, job=JobRun.UNTOUCHED, flags=flags, computed_at=computed_at)


def flag_untouched_postgresql(*, on: date | None = None) -> int:
    """flag_untouched_portable's flags, computed and written by PostgreSQL (replace_flags_postgresql)."""
    cutoff = day_start((on or today()) - timedelta(days=settings.SALESFLOW_UNTOUCHED_DAYS))
    return replace_flags_postgresql(
        UntouchedFlag,
        job=JobRun.UNTOUCHED,
        key="account_id",
        moment="last_visit_at",
        flagged=snapshot_sql.UNTOUCHED_SQL.format(account=_table(Account), visit=_table(Visit)),
        params={"done": Visit.Status.DONE.value, "cutoff": cutoff},
    )


def _stale_opportunities(*, on: date | None) -> QuerySet:
    """Every opportunity stale as of the start of `on` with its stage entry, last stage change and last completed
    visit."""
    last_change = StageChange.objects.filter(opportunity=OuterRef("pk")).order_by("-changed_at").values("changed_at")
    last_visit = (
        Visit.objects.filter(opportunity=OuterRef("pk"), status=Visit.Status.DONE)
        .order_by("-done_at")
        .values("done_at")
    )
    return (
        Opportunity.objects.filter(is_stale_expression(cutoff=stale_cutoff(day_start(on or today()))))
        .annotate(last_change=Subquery(last_change[:1]), last_visit=Subquery(last_visit[:1]))
        .order_by()
    )


def flag_stale(*, on: date | None = None) -> int:
    """Replaces the stale-opportunity snapshot; returns how many open opportunities it flagged.

    Stale is the board's rule (pipeline.selectors.opportunities.is_stale_expression) as of the start of `on`: activity
    on the day SALESFLOW_STALE_DAYS before still counts. Each flag keeps the last of stage entry, stage change and
    completed visit on the opportunity. One transaction, computed and written as flag_untouched's.
    """
    if connection.vendor == "postgresql":
        return flag_stale_postgresql(on=on)
    return flag_stale_portable(on=on)


def flag_stale_portable(*, on: date | None = None) -> int:
    """flag_stale on any database: reads the flags, then replaces every row with them."""
    computed_at = timezone.now()
    flags = [
        StaleFlag(opportunity_id=opportunity_id, last_activity_at=_latest(*moments), computed_at=computed_at)
        for opportunity_id, *moments in _stale_opportunities(on=on).values_list(
            "id", "stage_entered_at", "last_change", "last_visit"
        )
    ]
    return _replace_flags_portable(StaleFlag, job=JobRun.STALE, flags=flags, computed_at=computed_at)


def flag_stale_postgresql(*, on: date | None = None) -> int:
    """flag_stale_portable's flags, computed and written by PostgreSQL (replace_flags_postgresql)."""
    cutoff = day_start(on or today()) - timedelta(days=settings.SALESFLOW_STALE_DAYS)
    return replace_flags_postgresql(
        StaleFlag,
        job=JobRun.STALE,
        key="opportunity_id",
        moment="last_activity_at",
        flagged=snapshot_sql.STALE_SQL.format(
            opportunity=_table(Opportunity), stage_change=_table(StageChange), visit=_table(Visit)
        ),
        params={"done": Visit.Status.DONE.value, "open": Opportunity.Status.OPEN.value, "cutoff": cutoff},
    )


def _replace_flags_portable(model: type[Model], *, job: str, flags: list[Model], computed_at: datetime) -> int:
    """Replaces every row of a flag snapshot with `flags` and stamps its job, in one transaction."""
    with transaction.atomic():
        # Writing the job row first locks it: a concurrent run waits here until this one commits.
        JobRun.objects.update_or_create(job=job, defaults={"computed_at": computed_at})
        model.objects.all().delete()
        model.objects.bulk_create(flags, batch_size=BATCH_SIZE)
    return len(flags)


def replace_flags_postgresql(model: type[Model], *, job: str, key: str, moment: str, flagged: str, params: dict) -> int:
    """_replace_flags_portable on PostgreSQL: the job row (a lock, as there), then the flags computed by `flagged` (a
    SELECT of the flag's `key` and `moment` columns, with named `params`) and written by the database; one round
    trip."""
    quote = connection.ops.quote_name
    sql = snapshot_sql.FLAGS_SQL.format(
        no_wait_for_disk=snapshot_sql.NO_WAIT_FOR_DISK,
        job_run=_table(JobRun),
        table=_table(model),
        key=quote(key),
        moment=quote(moment),
        flagged=flagged,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, {**params, "job": job, "computed_at": timezone.now()})
        flagged = cursor.fetchone()[0]
    refresh_statistics(model)
    return flagged


def refresh_statistics(model: type[Model], columns: tuple[str, ...] = ()) -> None:
    """A snapshot's rows were just rewritten: PostgreSQL's planner statistics of its table are refreshed now, so that
    the pages reading it next plan with them. Autovacuum analyzes only after a delay; until then the first year's
    matrix (6,000 rows at scale 10) was estimated at 30 rows, and every rep's matrix page hashed the whole year.
    `columns`: only the columns the pages filter, join and sort by (the table's size is counted either way); every
    column's statistics cost three times as much on the matrix's 12,000 rows (45 ms against 15)."""
    listed = f" ({', '.join(connection.ops.quote_name(column) for column in columns)})" if columns else ""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {_table(model)}{listed}")


def compute_nightly_analytics(*, on: date | None = None) -> None:
    """Runs every nightly job in turn: CV/PV of this and last year, untouched targets, stale opportunities, the
    company-wide sums (analytics.rollups)."""
    for year in nightly_matrix_years(on=on):
        compute_matrix(year=year)
    flag_untouched(on=on)
    flag_stale(on=on)
    rollups.roll_up(on=on)
