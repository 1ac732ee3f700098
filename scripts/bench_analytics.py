"""Times each nightly analytics job on the configured database next to a plain read of the same input rows.

Usage (after `manage.py seed_demo --scale 10`):  python scripts/bench_analytics.py [--runs 3] [--selectors]
The jobs replace their snapshots (they are safe to repeat), so run it on a demo or staging database. The plain read
fetches every row the job reads, unaggregated, into Python: the floor a set-based job can approach. With
--selectors it also times every analytics selector as the director (what pages and the API run).
Prints one row per job: input rows, plain read and job wall time (median of the runs, ms), job ÷ read, job queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesflow.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import Account, AccountYear, InstalledBase, User  # noqa: E402
from analytics import selectors, services  # noqa: E402
from analytics.dates import today, year_bounds  # noqa: E402
from pipeline.models import Opportunity, Pipeline, StageChange, Visit  # noqa: E402


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")


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


def matrix_inputs(year: int) -> int:
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
    rows = list(Account.objects.targets().values_list("id").order_by())
    rows += list(Visit.objects.done().filter(account__is_target=True).values_list("account_id", "done_at").order_by())
    return len(rows)


def stale_inputs() -> int:
    rows = list(Opportunity.objects.open().values_list("id", "created_at", "stage_entered_at").order_by())
    rows += list(
        StageChange.objects.filter(opportunity__status="open").values_list("opportunity_id", "changed_at").order_by()
    )
    rows += list(
        Visit.objects.done().filter(opportunity__status="open").values_list("opportunity_id", "done_at").order_by()
    )
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--selectors", action="store_true", help="also time every selector as the director")
    args = parser.parse_args()

    this_year = today().year
    jobs = [
        (
            f"compute_matrix {this_year}",
            lambda: matrix_inputs(this_year),
            lambda: services.compute_matrix(year=this_year),
        ),
        (
            f"compute_matrix {this_year - 1}",
            lambda: matrix_inputs(this_year - 1),
            lambda: services.compute_matrix(year=this_year - 1),
        ),
        ("flag_untouched", untouched_inputs, services.flag_untouched),
        ("flag_stale", stale_inputs, services.flag_stale),
    ]
    say(
        f"Database: {connection.vendor} {connection.settings_dict['NAME']} · accounts {Account.objects.count()} · "
        f"opportunities {Opportunity.objects.count()} · visits {Visit.objects.count()} · runs {args.runs}"
    )
    say()
    say(f"{'job':<22} {'input rows':>11} {'plain read ms':>14} {'job ms':>10} {'job/read':>9} {'job queries':>12}")
    say("-" * 83)
    for name, read, job in jobs:
        read_ms, _read_queries, rows = timed(read, runs=args.runs)
        job_ms, job_queries, _ = timed(job, runs=args.runs)
        ratio = job_ms / read_ms if read_ms else float("nan")
        say(f"{name:<22} {rows:>11} {read_ms:>14.1f} {job_ms:>10.1f} {ratio:>9.1f} {job_queries:>12}")

    if args.selectors:
        director = User.objects.filter(role=User.Role.DIRECTOR, is_active=True).order_by("pk").first()
        pipeline = Pipeline.objects.filter(is_default=True).first()
        if director is None or pipeline is None:
            say("\nNo active director or default pipeline: selectors skipped.")
            return
        start, end = today().replace(month=1, day=1), today()
        reads = {
            "funnel_snapshot": lambda: selectors.funnel_snapshot(viewer=director, pipeline=pipeline),
            "funnel_flow": lambda: selectors.funnel_flow(viewer=director, pipeline=pipeline, start=start, end=end),
            "win_rate": lambda: selectors.win_rate(viewer=director, start=start, end=end),
            "untouched_losses": lambda: selectors.untouched_losses(viewer=director, start=start, end=end),
            "visits_per_rep_week": lambda: selectors.visits_per_rep_week(viewer=director, start=start, end=end),
            "visits_vs_won": lambda: selectors.visits_vs_won(viewer=director, start=start, end=end),
            "cvpv_matrix": lambda: selectors.cvpv_matrix(viewer=director, year=this_year),
            "untouched_accounts": lambda: selectors.untouched_accounts(viewer=director),
            "target_coverage": lambda: selectors.target_coverage(viewer=director),
            "stale_opportunities": lambda: selectors.stale_opportunities(viewer=director),
            "attainment (month)": lambda: selectors.attainment(viewer=director, period_type="month", year=this_year),
            "stability": lambda: selectors.stability(viewer=director),
            **{
                f"territory {d}": lambda d=d: selectors.territory_analysis(viewer=director, dimension=d)
                for d in selectors.TERRITORY_DIMENSIONS
            },
        }
        say()
        say(f"{'selector (director)':<26} {'ms':>10} {'queries':>8}")
        say("-" * 46)
        for name, read in reads.items():
            ms, queries, _ = timed(read, runs=args.runs)
            say(f"{name:<26} {ms:>10.1f} {queries:>8}")


if __name__ == "__main__":
    main()
