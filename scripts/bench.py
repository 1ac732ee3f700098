"""Times seed_demo, the home page and the nightly analytics jobs on the configured database server, in a throwaway
database.

Usage: python scripts/bench.py [--scale 1] [--runs 20] [--job-runs 5] [--json bench-results/bench.json]
DATABASE_URL picks the server (SQLite by default). The benchmark never touches the configured database itself: it
creates `<name>_bench` beside it (a temporary file for SQLite), migrates it, measures, and drops it.
Prints one row per benchmark: runs, median / min / max wall time in milliseconds, and SQL queries per run; then each
nightly job next to a plain read of its input rows (scripts/bench_analytics.py). Exits 1 if a job takes more than
twice its read.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesflow.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from accounts.models import Account, User  # noqa: E402
from pipeline.models import Opportunity, Pipeline, Visit  # noqa: E402
from scripts.bench_analytics import nightly_jobs, print_jobs  # noqa: E402

ROLES = ["director", "manager1", "rep1"]


@dataclass
class Result:
    name: str
    runs: int
    median_ms: float
    min_ms: float
    max_ms: float
    queries: int


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def measure(name: str, action: Callable[[], object], *, runs: int, warmup: int = 1) -> Result:
    """Runs `action` warmup + runs times; the first measured run also counts its SQL queries."""
    for _ in range(warmup):
        action()
    timings = []
    # A request empties the query log when it starts, so the count must start from an empty log too.
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    query_count = len(queries)  # read now: the next request empties the log this count is read from
    for _ in range(runs - 1):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    ms = [t * 1000 for t in timings]
    return Result(name, runs, statistics.median(ms), min(ms), max(ms), query_count)


def use_throwaway_database(folder: Path) -> str:
    """Points the default connection at a new, migrated database and returns its name."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = str(folder / "bench.sqlite3")
    else:
        db.setdefault("TEST", {})["NAME"] = f"{db['NAME']}_bench"
    return connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)


def bench_seed_demo(scale: int) -> Result:
    quiet = io.StringIO()
    # seed_demo writes thousands of rows: one run says enough, and a second would need a flush first.
    result = measure(
        f"seed_demo --scale {scale}",
        lambda: call_command("seed_demo", "--scale", str(scale), "--seed", "1", stdout=quiet),
        runs=1,
        warmup=0,
    )
    say(
        f"  seeded {Account.objects.count()} accounts, {Opportunity.objects.count()} opportunities,"
        f" {Visit.objects.count()} visits, {User.objects.count()} users"
    )
    return result


def bench_home_page(username: str, runs: int) -> Result:
    client = Client()
    client.force_login(User.objects.get(username=username))
    url = reverse("home")

    def get_home() -> None:
        response = client.get(url, secure=settings.SECURE_SSL_REDIRECT)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} as {username} answered {response.status_code}")

    return measure(f"GET / as {username}", get_home, runs=runs)


def bench_home_selector(username: str, runs: int) -> Result:
    from analytics.selectors.funnel import funnel_snapshot

    viewer = User.objects.get(username=username)
    pipeline = Pipeline.objects.get(is_default=True)
    return measure(
        f"funnel_snapshot ({username})",
        lambda: funnel_snapshot(viewer=viewer, pipeline=pipeline),
        runs=runs,
    )


def print_table(results: list[Result]) -> None:
    say()
    say(f"{'benchmark':<44} {'runs':>5} {'median ms':>10} {'min ms':>9} {'max ms':>9} {'queries':>8}")
    say("-" * 90)
    for r in results:
        say(f"{r.name:<44} {r.runs:>5} {r.median_ms:>10.1f} {r.min_ms:>9.1f} {r.max_ms:>9.1f} {r.queries:>8}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="seed_demo --scale (default 1)")
    parser.add_argument("--runs", type=int, default=20, help="measured runs per page or selector (default 20)")
    parser.add_argument(
        "--job-runs", type=int, default=5, help="measured runs per nightly job and its read (default 5)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    options = parser.parse_args()

    setup_test_environment()  # lets the test client's host in and keeps email in memory
    configured = settings.DATABASES["default"]["NAME"]
    engine = connection.vendor
    with tempfile.TemporaryDirectory(prefix="salesflow-bench-") as folder:
        name = use_throwaway_database(Path(folder))
        say(f"Benchmark on {engine} in throwaway database {name} (configured: {configured})")
        try:
            results = [bench_seed_demo(options.scale)]
            results += [bench_home_page(username, options.runs) for username in ROLES]
            results += [bench_home_selector(username, options.runs) for username in ROLES]
            jobs = nightly_jobs(runs=options.job_runs)
        finally:
            connection.creation.destroy_test_db(configured, verbosity=0)
    print_table(results)
    say()
    print_jobs(jobs)
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "database": engine,
            "results": [asdict(r) for r in results],
            "jobs": [{**asdict(j), "ratio": j.ratio, "passed": j.passed} for j in jobs],
        }
        options.json.write_text(json.dumps(body, indent=2))
    return 0 if all(j.passed for j in jobs) else 1


if __name__ == "__main__":
    sys.exit(main())
