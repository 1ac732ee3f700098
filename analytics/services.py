"""Nightly analytics jobs (SPEC §7): each computes first, then replaces its snapshot in one transaction.

Running a job twice leaves the same rows; a job that raises leaves the previous snapshot in place.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Model, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from accounts.models import Account, AccountYear, Industry, InstalledBase, Region
from analytics import matrix
from analytics.models import AccountValue, JobRun, MatrixRun, Quadrant, StaleFlag, UntouchedFlag
from core.calendar import day_start, today, year_bounds
from pipeline.models import Opportunity, StageChange, Visit
from pipeline.selectors.opportunities import is_stale_expression

BATCH_SIZE = 2000


def _matrix_inputs(*, year: int) -> pd.DataFrame:
    """One row per account with what CV and PV of `year` are made of (money in cents), in four queries."""
    start, end = year_bounds(year)
    accounts = list(
        Account.objects.values_list(
            "id", "name", "is_target", "employee_count", "industry__spend_per_employee", "region__code"
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
    columns = [list(column) for column in zip(*accounts, strict=True)] or [[] for _ in range(6)]
    ids, names, is_target, employees, spend, region_codes = columns
    no_year, no_units = (0, None), (0, 0)
    return pd.DataFrame(
        {
            "account": pd.array(ids, dtype="int64"),
            "name": names,
            "is_target": pd.array(is_target, dtype=bool),
            "region_code": pd.array(region_codes, dtype=object),
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


# write_matrix_snapshot_portable's steps (analytics.matrix) as one statement, on bigint cents as numpy works on int64
# cents (an amount too large raises, as there). The medians are the exact mean of the middle value(s) (the same one
# twice for an odd count) rounded half up to the cent (ROUND on numeric; amounts are never negative); region codes and
# names sort by code point (COLLATE "C"), as Python compares strings; share is cents made float and divided, as numpy
# does. The year's rows are updated in place, with rows inserted for accounts new to the matrix and deleted for those
# that left it: an UPDATE that keeps account and run skips the foreign key checks that an INSERT of every row queues
# (a row lock on the account each, at commit). Only rows whose values change are updated (and stamped computed_at),
# as the twin keeps an unchanged row's computed_at: most nights most rows stay, and an update that writes nothing
# leaves no dead row and no index entry behind. One full join of the snapshot with the year's stored rows (`changes`)
# finds the rows to update, insert and delete, so the stored rows are read once. All parts see the same data (one
# statement) and touch disjoint rows.
_MATRIX_SQL = """
WITH won AS (
    SELECT account_id, SUM(amount) AS amount
    FROM {opportunity}
    WHERE status = %(won)s AND closed_at >= %(start)s AND closed_at < %(end)s
    GROUP BY account_id
), units AS (
    SELECT account_id,
           COALESCE(SUM(units) FILTER (WHERE is_ours), 0) AS ours,
           COALESCE(SUM(units) FILTER (WHERE NOT is_ours), 0) AS theirs
    FROM {installed_base}
    WHERE year IS NULL OR year <= %(year)s
    GROUP BY account_id
), inputs AS (
    SELECT a.id AS account_id, a.name, a.is_target, r.code AS region_code,
           ((COALESCE(w.amount, 0) + COALESCE(y.other_revenue, 0)) * 100)::bigint AS cv,
           (y.potential_value * 100)::bigint AS potential,
           COALESCE(u.ours, 0) AS ours, COALESCE(u.theirs, 0) AS theirs,
           COALESCE(a.employee_count, 0)::bigint AS employees,
           COALESCE((i.spend_per_employee * 100)::bigint, %(default_spend)s) AS spend
    FROM {account} a
    LEFT JOIN {industry} i ON i.id = a.industry_id
    LEFT JOIN {region} r ON r.id = a.region_id
    LEFT JOIN won w ON w.account_id = a.id
    LEFT JOIN {account_year} y ON y.account_id = a.id AND y.year = %(year)s
    LEFT JOIN units u ON u.account_id = a.id
), sourced AS (
    SELECT *,
           CASE WHEN potential IS NOT NULL THEN %(explicit)s
                WHEN ours + theirs > 0 THEN %(installed_base)s
                WHEN employees > 0 THEN %(employees)s
                ELSE '' END AS pv_source,
           CASE WHEN ours > 0 AND theirs > 0 THEN %(mixed)s
                WHEN ours > 0 THEN %(ours)s
                WHEN theirs > 0 THEN %(competitor)s
                ELSE %(none)s END AS customer_type
    FROM inputs
), valued AS MATERIALIZED (
    SELECT *
    FROM (
        SELECT account_id, name, is_target, region_code, cv, pv_source, customer_type,
               CASE pv_source WHEN %(explicit)s THEN potential
                              WHEN %(installed_base)s THEN (ours + theirs) * %(value_per_unit)s
                              WHEN %(employees)s THEN employees * spend
                              ELSE 0 END AS pv
        FROM sourced
    ) v
    WHERE cv > 0 OR pv > 0
), thresholds AS MATERIALIZED (
    SELECT cv, pv, (cv * 100)::bigint AS cv_cents, (pv * 100)::bigint AS pv_cents
    FROM (
        SELECT COALESCE(%(fixed_cv)s::numeric, ROUND((c[(n + 1) / 2] + c[n / 2 + 1])::numeric / 200, 2)) AS cv,
               COALESCE(%(fixed_pv)s::numeric, ROUND((p[(n + 1) / 2] + p[n / 2 + 1])::numeric / 200, 2)) AS pv
        FROM (SELECT array_agg(cv ORDER BY cv) AS c, array_agg(pv ORDER BY pv) AS p, count(*) AS n FROM valued) sorted
    ) medians
), classified AS (
    SELECT v.account_id, v.name, v.region_code, v.cv, v.pv, v.pv_source, v.customer_type,
           CASE WHEN v.pv >= t.pv_cents AND v.cv >= t.cv_cents THEN %(core)s
                WHEN v.pv >= t.pv_cents THEN %(develop)s
                WHEN v.cv >= t.cv_cents THEN %(maintain)s
                ELSE %(observe)s END AS quadrant,
           CASE WHEN v.customer_type IN (%(ours)s, %(mixed)s) THEN 0
                WHEN v.customer_type = %(competitor)s THEN 1
                WHEN v.is_target THEN 2 END AS visit_group
    FROM valued v CROSS JOIN thresholds t
), snapshot AS MATERIALIZED (
    SELECT account_id, cv * 0.01 AS cv, pv * 0.01 AS pv, pv_source, quadrant, customer_type,
           CASE WHEN pv > 0 THEN cv::float8 / pv::float8 END AS share,
           CASE WHEN visit_group IS NOT NULL THEN ROW_NUMBER() OVER (
               ORDER BY visit_group NULLS LAST, array_position(%(quadrant_order)s::text[], quadrant),
                        region_code IS NULL, region_code COLLATE "C", name COLLATE "C", account_id
           ) END AS priority
    FROM classified
), run AS (
    UPDATE {run} SET cv_threshold = t.cv, pv_threshold = t.pv
    FROM thresholds t
    WHERE {run}.id = %(run)s
    RETURNING {run}.cv_threshold, {run}.pv_threshold
), changes AS MATERIALIZED (
    SELECT o.id AS row_id, s.*
    FROM snapshot s
    FULL JOIN (SELECT * FROM {account_value} WHERE year = %(year)s) o ON o.account_id = s.account_id
    WHERE o.id IS NULL OR s.account_id IS NULL
       OR (o.run_id, o.cv, o.pv, o.pv_source, o.share, o.quadrant, o.customer_type, o.priority)
          IS DISTINCT FROM (%(run)s, s.cv, s.pv, s.pv_source, s.share, s.quadrant, s.customer_type, s.priority)
), updated AS (
    UPDATE {account_value} AS o
    SET run_id = %(run)s, cv = c.cv, pv = c.pv, pv_source = c.pv_source, share = c.share, quadrant = c.quadrant,
        customer_type = c.customer_type, priority = c.priority, computed_at = %(computed_at)s
    FROM changes c
    WHERE o.id = c.row_id AND c.account_id IS NOT NULL
), inserted AS (
    INSERT INTO {account_value}
        (run_id, account_id, year, cv, pv, pv_source, share, quadrant, customer_type, priority, computed_at)
    SELECT %(run)s, account_id, %(year)s, cv, pv, pv_source, share, quadrant, customer_type, priority, %(computed_at)s
    FROM changes
    WHERE row_id IS NULL
), deleted AS (
    DELETE FROM {account_value} AS o
    USING changes c
    WHERE o.id = c.row_id AND c.account_id IS NULL
)
SELECT cv_threshold, pv_threshold FROM run
"""


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def write_matrix_snapshot_postgresql(*, year: int) -> MatrixRun:
    """compute_matrix on PostgreSQL: write_matrix_snapshot_portable's rows, computed and written in the database.

    One transaction: the run row (locked first), then one statement that updates the year's rows whose values
    change, inserts and deletes rows of accounts that joined or left, and stores the thresholds; no account row
    travels to Python.
    """
    value_per_unit, default_spend, fixed_cv, fixed_pv = _matrix_settings()
    start, end = year_bounds(year)
    computed_at = timezone.now()
    sql = _MATRIX_SQL.format(
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
        "ours": AccountValue.CustomerType.OURS.value,
        "mixed": AccountValue.CustomerType.MIXED.value,
        "competitor": AccountValue.CustomerType.COMPETITOR.value,
        "none": AccountValue.CustomerType.NONE.value,
        "core": Quadrant.CORE.value,
        "develop": Quadrant.DEVELOP.value,
        "maintain": Quadrant.MAINTAIN.value,
        "observe": Quadrant.OBSERVE.value,
        "quadrant_order": matrix.PRIORITY_QUADRANT_ORDER,
        "computed_at": computed_at,
    }
    with transaction.atomic():
        run = _lock_matrix_run(
            year=year,
            computed_at=computed_at,
            thresholds=(fixed_cv, fixed_pv),
            fixed=fixed_cv is not None or fixed_pv is not None,
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, {**params, "run": run.pk})
            run.cv_threshold, run.pv_threshold = cursor.fetchone()
    return run


def nightly_matrix_years(*, on: date | None = None) -> list[int]:
    """The years the nightly job recomputes: this year and last year."""
    year = (on or today()).year
    return [year, year - 1]


def _latest(*moments: datetime | None) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


def flag_untouched(*, on: date | None = None) -> int:
    """Replaces the untouched-target snapshot; returns how many target accounts it flagged.

    A target is untouched when no visit to it was done (by anyone) on or after the day SALESFLOW_UNTOUCHED_DAYS
    before `on`: a visit exactly that many days ago still counts as a touch. Runs two queries and one transaction.
    """
    day = on or today()
    cutoff = day_start(day - timedelta(days=settings.SALESFLOW_UNTOUCHED_DAYS))
    last_visits = (
        Account.objects.targets()
        .annotate(last_visit_at=Max("visits__done_at", filter=Q(visits__status=Visit.Status.DONE)))
        .values_list("id", "last_visit_at")
        .order_by()
    )
    computed_at = timezone.now()
    flags = [
        UntouchedFlag(account_id=account_id, last_visit_at=last, computed_at=computed_at)
        for account_id, last in last_visits
        if last is None or last < cutoff
    ]
    with transaction.atomic():
        # Writing the job row first locks it: a concurrent run waits here until this one commits.
        JobRun.objects.update_or_create(job=JobRun.UNTOUCHED, defaults={"computed_at": computed_at})
        UntouchedFlag.objects.all().delete()
        UntouchedFlag.objects.bulk_create(flags, batch_size=BATCH_SIZE)
    return len(flags)


def flag_stale(*, on: date | None = None) -> int:
    """Replaces the stale-opportunity snapshot; returns how many open opportunities it flagged.

    Stale is the board's rule (pipeline.selectors.opportunities.is_stale_expression) as of the start of `on`: activity
    on the day SALESFLOW_STALE_DAYS before still counts. Each flag keeps the last of stage entry, stage change and
    completed visit on the opportunity. Runs one query and one transaction.
    """
    last_change = StageChange.objects.filter(opportunity=OuterRef("pk")).order_by("-changed_at").values("changed_at")
    last_visit = (
        Visit.objects.filter(opportunity=OuterRef("pk"), status=Visit.Status.DONE)
        .order_by("-done_at")
        .values("done_at")
    )
    stale = (
        Opportunity.objects.filter(is_stale_expression(as_of=day_start(on or today())))
        .annotate(last_change=Subquery(last_change[:1]), last_visit=Subquery(last_visit[:1]))
        .values_list("id", "stage_entered_at", "last_change", "last_visit")
        .order_by()
    )
    computed_at = timezone.now()
    flags = [
        StaleFlag(opportunity_id=opportunity_id, last_activity_at=_latest(*moments), computed_at=computed_at)
        for opportunity_id, *moments in stale
    ]
    with transaction.atomic():
        JobRun.objects.update_or_create(job=JobRun.STALE, defaults={"computed_at": computed_at})  # a lock, as above
        StaleFlag.objects.all().delete()
        StaleFlag.objects.bulk_create(flags, batch_size=BATCH_SIZE)
    return len(flags)


def compute_nightly_analytics(*, on: date | None = None) -> None:
    """Runs every nightly job in turn: CV/PV of this and last year, untouched targets, stale opportunities."""
    for year in nightly_matrix_years(on=on):
        compute_matrix(year=year)
    flag_untouched(on=on)
    flag_stale(on=on)
