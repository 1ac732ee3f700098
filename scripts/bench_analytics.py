"""Times each nightly analytics job, first run and repeat run, against a plain-SQL read doing the same aggregation.

Usage (PostgreSQL, after `manage.py seed_demo --scale 10`): python scripts/bench_analytics.py [--runs 5] [--selectors]
The jobs replace their snapshots (they are safe to repeat), so run it on a demo or staging database.

For each job the reference is a plain SQL SELECT that computes exactly the rows the job stores (the same grouping,
filters and values; the matrix's is the job's own snapshot query without its writes), read into Python. A first run
starts from an emptied snapshot (the year's matrix rows, or every flag, deleted and the table vacuumed, untimed), as
on the first night; a repeat run follows a run on the same data, as on every other night. First runs, repeat runs
and references alternate (after one warm-up each) so a busy machine slows them alike; medians are compared. A job
passes when both its first and its repeat run take at most --max-ratio (2) times its reference; the script exits 1
if any job fails, and also when a job stores a different number of rows than its reference reads.
With --selectors it also times every analytics selector as the director, a manager and a rep.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesflow.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Model  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import Account, User  # noqa: E402
from analytics import rollups, services  # noqa: E402
from analytics.models import (  # noqa: E402
    AccountValue,
    ClosedMonthSum,
    MatrixRun,
    RolledMonth,
    StaleFlag,
    TerritorySnapshot,
    UntouchedFlag,
    VisitMonthSum,
)
from analytics.selectors.activity import visits_per_rep_week, visits_vs_won  # noqa: E402
from analytics.selectors.attainment import attainment, stability  # noqa: E402
from analytics.selectors.coverage import (  # noqa: E402
    company_coverage,
    stale_opportunities,
    target_coverage,
    untouched_accounts,
)
from analytics.selectors.funnel import funnel_flow, funnel_snapshot  # noqa: E402
from analytics.selectors.matrix import cvpv_matrix  # noqa: E402
from analytics.selectors.outcomes import untouched_losses, win_rate  # noqa: E402
from analytics.selectors.territory import TERRITORY_DIMENSIONS, territory_analysis, whole_company_sums  # noqa: E402
from core.calendar import day_start, period_start, today  # noqa: E402
from pipeline.models import Opportunity, Pipeline, StageChange, Visit  # noqa: E402

MAX_RATIO = 2.0
SNAPSHOTS = (
    MatrixRun,
    AccountValue,
    UntouchedFlag,
    StaleFlag,
    RolledMonth,
    ClosedMonthSum,
    VisitMonthSum,
    TerritorySnapshot,
)
ROLES = ["director", "manager1", "rep1"]


@dataclass
class JobResult:
    name: str
    rows: int  # rows the reference reads
    stored: int  # rows the job's snapshot holds after a run
    reference_ms: float
    first_ms: float
    repeat_ms: float
    first_queries: int
    repeat_queries: int
    max_ratio: float

    @property
    def first_ratio(self) -> float:
        return self.first_ms / self.reference_ms if self.reference_ms else float("inf")

    @property
    def repeat_ratio(self) -> float:
        return self.repeat_ms / self.reference_ms if self.reference_ms else float("inf")

    @property
    def ratio(self) -> float:
        return max(self.first_ratio, self.repeat_ratio)

    @property
    def passed(self) -> bool:
        return self.ratio <= self.max_ratio and self.rows == self.stored


@dataclass(frozen=True)
class Job:
    name: str
    reference: Callable[[], int]  # reads the rows the job stores; returns how many
    run: Callable[[], object]
    empty: Callable[[], None]  # empties the job's snapshot, as before a first run
    stored: Callable[[], int]  # rows the job's snapshot holds


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def read(sql: str, params: dict | list | tuple) -> int:
    """Runs a plain SELECT and fetches its rows, as a read would; returns how many."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall())


def empty_snapshot(model: type[Model], where: str = "", params: tuple = ()) -> None:
    """Deletes a snapshot's rows in SQL, then vacuums the table so the next run starts as on a fresh one."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_table(model)} {where}", params)
        cursor.execute(f"VACUUM ANALYZE {_table(model)}")


def matrix_job(year: int) -> Job:
    def empty() -> None:
        empty_snapshot(AccountValue, "WHERE year = %s", (year,))
        empty_snapshot(MatrixRun, "WHERE year = %s", (year,))

    return Job(
        name=f"compute_matrix {year}",
        reference=lambda: read(*services.matrix_snapshot_query(year=year)),
        run=lambda: services.compute_matrix(year=year),
        empty=empty,
        stored=lambda: AccountValue.objects.filter(year=year).count(),
    )


def untouched_reference() -> int:
    """The target accounts with no completed visit since the cutoff and their last completed visit: one GROUP BY."""
    cutoff = day_start(today() - timedelta(days=settings.SALESFLOW_UNTOUCHED_DAYS))
    return read(
        f"""
        SELECT a.id, MAX(v.done_at) AS last_visit_at
        FROM {_table(Account)} a
        LEFT JOIN {_table(Visit)} v ON v.account_id = a.id AND v.status = %s
        WHERE a.is_target
        GROUP BY a.id
        HAVING MAX(v.done_at) IS NULL OR MAX(v.done_at) < %s
        """,
        (Visit.Status.DONE.value, cutoff),
    )


def stale_reference() -> int:
    """The open opportunities with no stage entry, stage change or completed visit since the cutoff, and the last of
    them: the board's stale rule as NOT EXISTS, the last moments as MAX per opportunity."""
    cutoff = day_start(today()) - timedelta(days=settings.SALESFLOW_STALE_DAYS)
    done = Visit.Status.DONE.value
    return read(
        f"""
        SELECT o.id,
               GREATEST(o.stage_entered_at,
                        (SELECT MAX(c.changed_at) FROM {_table(StageChange)} c WHERE c.opportunity_id = o.id),
                        (SELECT MAX(v.done_at) FROM {_table(Visit)} v WHERE v.opportunity_id = o.id AND v.status = %s))
        FROM {_table(Opportunity)} o
        WHERE o.status = %s AND o.stage_entered_at < %s
          AND NOT EXISTS (SELECT 1 FROM {_table(StageChange)} c WHERE c.opportunity_id = o.id AND c.changed_at >= %s)
          AND NOT EXISTS (SELECT 1 FROM {_table(Visit)} v
                          WHERE v.opportunity_id = o.id AND v.status = %s AND v.done_at >= %s)
        """,
        (done, Opportunity.Status.OPEN.value, cutoff, cutoff, done, cutoff),
    )


def rollup_reference() -> int:
    """Every month's sums the roll-up stores, up to the current month: the closed opportunities per month and value
    of each dimension (GROUPING SETS; the competitors in play through their links), the completed visits per month
    and owner."""
    tz = settings.TIME_ZONE
    until = day_start(period_start("month", today()))
    links = _table(Opportunity.competitors.through)
    sums = (
        "COUNT(*) FILTER (WHERE status = 'won'), COUNT(*) FILTER (WHERE status = 'lost'),"
        " COALESCE(SUM(amount) FILTER (WHERE status = 'won'), 0),"
        " COALESCE(SUM(amount) FILTER (WHERE status = 'lost'), 0)"
    )
    month = f"date_trunc('month', {{moment}} AT TIME ZONE '{tz}')::date"
    return read(
        f"""
        SELECT month, loss_reason, furthest_stage_id, untouched_cause, source, owner_id, NULL::int, {sums}
        FROM (SELECT {month.format(moment="closed_at")} AS month, * FROM {_table(Opportunity)}
              WHERE closed_at < %(until)s) o
        GROUP BY GROUPING SETS ((month, loss_reason), (month, furthest_stage_id), (month, untouched_cause),
                                (month, source), (month, owner_id))
        UNION ALL
        SELECT month, NULL, NULL, NULL, NULL, NULL, competitor_id, {sums}
        FROM (SELECT {month.format(moment="o.closed_at")} AS month, o.status, o.amount, l.competitor_id
              FROM {_table(Opportunity)} o LEFT JOIN {links} l ON l.opportunity_id = o.id
              WHERE o.closed_at < %(until)s) o
        GROUP BY month, competitor_id
        UNION ALL
        SELECT {month.format(moment="done_at")}, NULL, NULL, NULL, NULL, owner_id, NULL, COUNT(*), 0, 0, 0
        FROM {_table(Visit)} WHERE status = %(done)s AND done_at < %(until)s
        GROUP BY 1, owner_id
        """,
        {"until": until, "done": Visit.Status.DONE.value},
    )


def empty_rollups() -> None:
    for model in (RolledMonth, ClosedMonthSum, VisitMonthSum):
        empty_snapshot(model)


def territory_reference() -> int:
    """The whole company's territory sums of each dimension and its target coverage: the snapshot's own grouped
    reads, without its write."""
    company_coverage(today())
    return sum(len(whole_company_sums(dimension, today())) for dimension in TERRITORY_DIMENSIONS) + 1


def nightly_job_list() -> list[Job]:
    jobs = [matrix_job(year) for year in services.nightly_matrix_years()]
    jobs.append(
        Job(
            "flag_untouched",
            untouched_reference,
            services.flag_untouched,
            lambda: empty_snapshot(UntouchedFlag),
            UntouchedFlag.objects.count,
        )
    )
    jobs.append(
        Job(
            "flag_stale",
            stale_reference,
            services.flag_stale,
            lambda: empty_snapshot(StaleFlag),
            StaleFlag.objects.count,
        )
    )
    # The nightly roll-up's two parts. A repeat run of the months finds them all summed already and writes nothing:
    # that is what every night but the first does, once the month that ended is summed.
    jobs.append(
        Job(
            "roll_up_months",
            rollup_reference,
            rollups.roll_up_months,
            empty_rollups,
            lambda: ClosedMonthSum.objects.count() + VisitMonthSum.objects.count(),
        )
    )
    jobs.append(
        Job(
            "snapshot_territory",
            territory_reference,
            rollups.snapshot_territory,
            lambda: empty_snapshot(TerritorySnapshot),
            lambda: sum(len(sums) for sums in TerritorySnapshot.objects.values_list("sums", flat=True)),
        )
    )
    return jobs


def timed(action: Callable[[], object]) -> tuple[float, int, object]:
    """Wall time in ms, the queries and the result of one run."""
    with CaptureQueriesContext(connection) as captured:
        start = time.perf_counter()
        result = action()
        elapsed = (time.perf_counter() - start) * 1000
    return elapsed, len(captured), result


def compare(job: Job, *, runs: int, max_ratio: float) -> JobResult:
    """Times `job`'s first runs (each on an emptied snapshot) and repeat runs against its reference, alternately,
    after one untimed run of each; medians over `runs`."""
    job.reference()
    job.run()
    references, firsts, repeats = [], [], []
    first_queries = repeat_queries = rows = 0
    for _ in range(runs):
        job.empty()
        ms, first_queries, _result = timed(job.run)
        firsts.append(ms)
        ms, _queries, rows = timed(job.reference)
        references.append(ms)
        ms, repeat_queries, _result = timed(job.run)
        repeats.append(ms)
        ms, _queries, rows = timed(job.reference)
        references.append(ms)
    return JobResult(
        name=job.name,
        rows=rows,
        stored=job.stored(),
        reference_ms=statistics.median(references),
        first_ms=statistics.median(firsts),
        repeat_ms=statistics.median(repeats),
        first_queries=first_queries,
        repeat_queries=repeat_queries,
        max_ratio=max_ratio,
    )


def nightly_jobs(*, runs: int = 5, max_ratio: float = MAX_RATIO) -> list[JobResult]:
    """Times every nightly job, first and repeat run, next to its plain-SQL reference on the current database; then
    refreshes the snapshots' statistics, which the emptied tables left describing no rows."""
    results = [compare(job, runs=runs, max_ratio=max_ratio) for job in nightly_job_list()]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(_table(model) for model in SNAPSHOTS)}")
    return results


def print_jobs(results: list[JobResult]) -> None:
    say(
        f"{'job':<20} {'rows':>6} {'reference ms':>13} {'first ms':>9} {'ratio':>6} {'repeat ms':>10} {'ratio':>6}"
        f" {'queries':>8}  result"
    )
    say("-" * 96)
    for r in results:
        if r.rows != r.stored:
            verdict = f"FAIL (stores {r.stored} rows, reference reads {r.rows})"
        else:
            verdict = "PASS" if r.passed else f"FAIL (> {r.max_ratio:g}x)"
        say(
            f"{r.name:<20} {r.rows:>6} {r.reference_ms:>13.1f} {r.first_ms:>9.1f} {r.first_ratio:>6.2f}"
            f" {r.repeat_ms:>10.1f} {r.repeat_ratio:>6.2f} {f'{r.first_queries}/{r.repeat_queries}':>8}  {verdict}"
        )


def selector_reads(viewer: User, pipeline: Pipeline) -> dict[str, Callable[[], object]]:
    this_year = today().year
    start, end = today().replace(month=1, day=1), today()
    return {
        "funnel_snapshot": lambda: funnel_snapshot(viewer=viewer, pipeline=pipeline),
        "funnel_flow": lambda: funnel_flow(viewer=viewer, pipeline=pipeline, start=start, end=end),
        "win_rate": lambda: win_rate(viewer=viewer, start=start, end=end),
        "untouched_losses": lambda: untouched_losses(viewer=viewer, start=start, end=end),
        "visits_per_rep_week": lambda: visits_per_rep_week(viewer=viewer, start=start, end=end),
        "visits_vs_won": lambda: visits_vs_won(viewer=viewer, start=start, end=end),
        "cvpv_matrix": lambda: cvpv_matrix(viewer=viewer, year=this_year),
        "untouched_accounts": lambda: untouched_accounts(viewer=viewer),
        "target_coverage": lambda: target_coverage(viewer=viewer),
        "stale_opportunities": lambda: stale_opportunities(viewer=viewer),
        "attainment (month)": lambda: attainment(viewer=viewer, period_type="month", year=this_year),
        "stability": lambda: stability(viewer=viewer),
        **{f"territory {d}": lambda d=d: territory_analysis(viewer=viewer, dimension=d) for d in TERRITORY_DIMENSIONS},
    }


def time_selectors(*, runs: int) -> None:
    """Median ms and queries of every analytics selector for each demo role present."""
    pipeline = Pipeline.objects.filter(is_default=True).first()
    viewers = [u for u in (User.objects.filter(username=name, is_active=True).first() for name in ROLES) if u]
    if not viewers or pipeline is None:
        say("\nNo demo login or no default pipeline: selectors skipped.")
        return
    table: dict[str, list[str]] = {}
    for viewer in viewers:
        for name, action in selector_reads(viewer, pipeline).items():
            action()
            times, queries = [], 0
            for run in range(runs):
                ms, count, _result = timed(action)
                times.append(ms)
                queries = count if run == 0 else queries
            table.setdefault(name, []).append(f"{statistics.median(times):>9.1f} {queries:>3}")
    say()
    say(f"{'selector (ms, queries)':<26}" + "".join(f" {v.username:>13}" for v in viewers))
    say("-" * (26 + 14 * len(viewers)))
    for name, cells in table.items():
        say(f"{name:<26}" + "".join(f" {cell:>13}" for cell in cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement (median reported)")
    parser.add_argument("--max-ratio", type=float, default=MAX_RATIO, help="job ÷ reference above which a job fails")
    parser.add_argument("--selectors", action="store_true", help="also time every selector for director, manager, rep")
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        say("The references are PostgreSQL SQL: set DATABASE_URL to a seeded PostgreSQL database.")
        return 2
    accounts = Account.objects.count()
    say(
        f"Database: {connection.vendor} {connection.settings_dict['NAME']} · accounts {accounts} · "
        f"opportunities {Opportunity.objects.count()} · visits {Visit.objects.count()} · runs {args.runs}"
    )
    if not accounts:
        say("No accounts: load data first (manage.py seed_demo --scale 10).")
        return 2
    say()
    results = nightly_jobs(runs=args.runs, max_ratio=args.max_ratio)
    print_jobs(results)
    if args.selectors:
        time_selectors(runs=args.runs)
    failed = [r.name for r in results if not r.passed]
    if failed:
        say(f"\nFAIL: {', '.join(failed)}: more than {args.max_ratio:g}x its reference, or rows differ.")
        return 1
    say(f"\nPASS: every job's first and repeat run within {args.max_ratio:g}x its plain-SQL reference.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
