"""Times each nightly analytics job on the configured database next to a plain read of the same input rows.

Usage (after `manage.py seed_demo --scale 10`):  python scripts/bench_analytics.py [--runs 5] [--selectors]
The jobs replace their snapshots (they are safe to repeat), so run it on a demo or staging database. The plain read
fetches every row the job reads, with the job's filters, unaggregated, into Python: the floor a set-based job can
approach. Read and job run alternately (after one warm-up each) so a busy machine slows both alike; the medians are
compared. A job passes when it takes at most --max-ratio (2) times its read; the script exits 1 if any job fails.
With --selectors it also times every analytics selector as the director (what pages and the API run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesflow.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import Account, AccountYear, InstalledBase, User  # noqa: E402
from analytics import services  # noqa: E402
from analytics.selectors.activity import visits_per_rep_week, visits_vs_won  # noqa: E402
from analytics.selectors.attainment import attainment, stability  # noqa: E402
from analytics.selectors.coverage import stale_opportunities, target_coverage, untouched_accounts  # noqa: E402
from analytics.selectors.funnel import funnel_flow, funnel_snapshot  # noqa: E402
from analytics.selectors.matrix import cvpv_matrix  # noqa: E402
from analytics.selectors.outcomes import untouched_losses, win_rate  # noqa: E402
from analytics.selectors.territory import TERRITORY_DIMENSIONS, territory_analysis  # noqa: E402
from core.calendar import today, year_bounds  # noqa: E402
from pipeline.models import Opportunity, Pipeline, StageChange, Visit  # noqa: E402

MAX_RATIO = 2.0


@dataclass
class JobResult:
    name: str
    input_rows: int
    read_ms: float
    job_ms: float
    job_queries: int
    max_ratio: float

    @property
    def ratio(self) -> float:
        return self.job_ms / self.read_ms if self.read_ms else float("inf")

    @property
    def passed(self) -> bool:
        return self.ratio <= self.max_ratio


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def matrix_inputs(year: int) -> int:
    """The rows compute_matrix(year=year) reads: accounts, won opportunities of the year, its account years, units."""
    start, end = year_bounds(year)
    rows = list(
        Account.objects.values_list(
            "id", "name", "is_target", "employee_count", "industry__spend_per_employee", "region__code"
        ).order_by()
    )
    rows += list(Opportunity.objects.won().closed_between(start, end).values_list("account_id", "amount").order_by())
    rows += list(
        AccountYear.objects.filter(year=year).values_list("account_id", "other_revenue", "potential_value").order_by()
    )
    rows += list(
        InstalledBase.objects.filter(Q(year__isnull=True) | Q(year__lte=year))
        .values_list("account_id", "is_ours", "units")
        .order_by()
    )
    return len(rows)


def untouched_inputs() -> int:
    """The rows flag_untouched reads: target accounts and their completed visits."""
    rows = list(Account.objects.targets().values_list("id").order_by())
    rows += list(Visit.objects.done().filter(account__is_target=True).values_list("account_id", "done_at").order_by())
    return len(rows)


def stale_inputs() -> int:
    """The rows flag_stale reads: open opportunities, their stage changes and their completed visits."""
    rows = list(Opportunity.objects.open().values_list("id", "stage_entered_at").order_by())
    rows += list(
        StageChange.objects.filter(opportunity__status=Opportunity.Status.OPEN)
        .values_list("opportunity_id", "changed_at")
        .order_by()
    )
    rows += list(
        Visit.objects.done()
        .filter(opportunity__status=Opportunity.Status.OPEN)
        .values_list("opportunity_id", "done_at")
        .order_by()
    )
    return len(rows)


def timed(action: Callable[[], object], *, runs: int) -> tuple[float, int, object]:
    """Median wall time in ms over `runs`, the queries of the first run, and its result."""
    times, queries, result = [], 0, None
    for run in range(runs):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            result = action()
            times.append((time.perf_counter() - start) * 1000)
        if run == 0:
            queries = len(captured)
    return statistics.median(times), queries, result


def compare(name: str, read: Callable[[], int], job: Callable[[], object], *, runs: int, max_ratio: float) -> JobResult:
    """Times `read` and `job` alternately, after one untimed run of each; medians over `runs`."""
    rows, job_queries = read(), 0
    job()
    read_times, job_times = [], []
    for _ in range(runs):
        read_ms, _queries, rows = timed(read, runs=1)
        job_ms, job_queries, _result = timed(job, runs=1)
        read_times.append(read_ms)
        job_times.append(job_ms)
    return JobResult(name, rows, statistics.median(read_times), statistics.median(job_times), job_queries, max_ratio)


def nightly_jobs(*, runs: int = 5, max_ratio: float = MAX_RATIO) -> list[JobResult]:
    """Times every nightly job next to the plain read of its input rows on the current database."""
    jobs: list[tuple[str, Callable[[], int], Callable[[], object]]] = [
        (f"compute_matrix {year}", lambda y=year: matrix_inputs(y), lambda y=year: services.compute_matrix(year=y))
        for year in services.nightly_matrix_years()
    ]
    jobs += [
        ("flag_untouched", untouched_inputs, services.flag_untouched),
        ("flag_stale", stale_inputs, services.flag_stale),
    ]
    return [compare(name, read, job, runs=runs, max_ratio=max_ratio) for name, read, job in jobs]


def print_jobs(results: list[JobResult]) -> None:
    say(f"{'job':<22} {'input rows':>11} {'input-read ms':>14} {'job ms':>10} {'ratio':>7} {'queries':>8}  result")
    say("-" * 86)
    for r in results:
        verdict = "PASS" if r.passed else f"FAIL (> {r.max_ratio:g}x)"
        say(
            f"{r.name:<22} {r.input_rows:>11} {r.read_ms:>14.1f} {r.job_ms:>10.1f} {r.ratio:>7.2f} "
            f"{r.job_queries:>8}  {verdict}"
        )


def time_selectors(*, runs: int) -> None:
    director = User.objects.filter(role=User.Role.DIRECTOR, is_active=True).order_by("pk").first()
    pipeline = Pipeline.objects.filter(is_default=True).first()
    if director is None or pipeline is None:
        say("\nNo active director or default pipeline: selectors skipped.")
        return
    this_year = today().year
    start, end = today().replace(month=1, day=1), today()
    reads = {
        "funnel_snapshot": lambda: funnel_snapshot(viewer=director, pipeline=pipeline),
        "funnel_flow": lambda: funnel_flow(viewer=director, pipeline=pipeline, start=start, end=end),
        "win_rate": lambda: win_rate(viewer=director, start=start, end=end),
        "untouched_losses": lambda: untouched_losses(viewer=director, start=start, end=end),
        "visits_per_rep_week": lambda: visits_per_rep_week(viewer=director, start=start, end=end),
        "visits_vs_won": lambda: visits_vs_won(viewer=director, start=start, end=end),
        "cvpv_matrix": lambda: cvpv_matrix(viewer=director, year=this_year),
        "untouched_accounts": lambda: untouched_accounts(viewer=director),
        "target_coverage": lambda: target_coverage(viewer=director),
        "stale_opportunities": lambda: stale_opportunities(viewer=director),
        "attainment (month)": lambda: attainment(viewer=director, period_type="month", year=this_year),
        "stability": lambda: stability(viewer=director),
        **{
            f"territory {d}": lambda d=d: territory_analysis(viewer=director, dimension=d) for d in TERRITORY_DIMENSIONS
        },
    }
    say()
    say(f"{'selector (director)':<26} {'ms':>10} {'queries':>8}")
    say("-" * 46)
    for name, read in reads.items():
        ms, queries, _ = timed(read, runs=runs)
        say(f"{name:<26} {ms:>10.1f} {queries:>8}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement (median reported)")
    parser.add_argument("--max-ratio", type=float, default=MAX_RATIO, help="job ÷ read above which a job fails")
    parser.add_argument("--selectors", action="store_true", help="also time every selector as the director")
    args = parser.parse_args()

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
        say(f"\nFAIL: {', '.join(failed)} took more than {args.max_ratio:g}x the plain read of their input.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
