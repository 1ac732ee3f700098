"""Times every page and endpoint for a director, a manager and a rep on demo companies of several sizes, side by side,
and fails when cost grows with the company instead of with what the viewer sees (issue 10's targets).

Usage: python scripts/bench.py [--scales 1,10] [--runs 5] [--json bench-results/bench.json] [--keep] [--reuse]
                              [--pages search]
(`make bench` runs collectstatic first; BENCH_SCALES=1,10,50 and BENCH_RUNS=5 set the defaults.)

DATABASE_URL picks the server (SQLite by default). The configured database itself is never touched: for each scale
the bench creates a throwaway database `<name>_bench_s<scale>` beside it (a temporary file for SQLite), migrates it,
times `seed_demo --scale <scale>`, runs ANALYZE and the nightly analytics (so pages read real snapshots), and drops it
at the end (--keep leaves them; --reuse measures kept ones without seeding again, so seed time is not judged).

Pages are served as in production: DEBUG off, HTTPS, static files from collectstatic's manifest, no test
instrumentation of templates. For each page and user: one warm-up request per scale, one request counting SQL
queries and response bytes, then --runs timed requests, alternating between the scales so a busy machine slows all
alike; the median is reported. Exits 1 when a target in scripts/bench_targets.py is missed, 2 when it cannot run.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import signal
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.bench_databases import (
    BenchDatabase,
    create_database,
    database_exists,
    drop_database,
    make_database,
    throwaway_name,
    use,
)
from scripts.bench_targets import (
    Measurement,
    fmt_scale,
    format_export_table,
    format_table,
    is_export,
    seed_failures,
    target_failures,
    targets_legend,
)

ROLES = ["director", "manager1", "rep1"]
# (name in the table, URL name or API path). Detail pages and search get their URL per user and scale below.
LIST_PAGES = [
    ("home", "home"),
    ("board", "pipeline:board"),
    ("opportunity list", "pipeline:opportunity_list"),
    ("opportunity page", None),
    ("account list", "accounts:list"),
    ("account page", None),
    ("visit list", "pipeline:visit_list"),
    ("visit plan", "pipeline:visit_plan"),
    ("team", "analytics:team"),
    ("rep cockpit", None),
    ("matrix", "analytics:matrix"),
    ("territory", "analytics:territory"),
    ("targets", "analytics:targets"),
    ("targets grid", "analytics:targets_edit"),
    ("forecast", "analytics:forecast"),
    ("what changed", "analytics:changes"),
    ("win/loss", "analytics:winloss"),
    ("digest preview", "digest:preview"),
    ("API opportunities", "/api/v1/opportunities/"),
    ("API accounts", "/api/v1/accounts/"),
    ("API visits", "/api/v1/visits/"),
    ("API funnel", "/api/v1/analytics/funnel/"),
    ("API cvpv", "/api/v1/analytics/cvpv/"),
    ("API untouched", "/api/v1/analytics/untouched/"),
    ("API attainment", "/api/v1/analytics/attainment/"),
    ("API territory", "/api/v1/analytics/territory/?dimension=region"),
    ("API forecast", "/api/v1/analytics/forecast/"),
    ("API changes", "/api/v1/analytics/changes/"),
    ("API win/loss", "/api/v1/analytics/winloss/?dimension=reason"),
    ("API search", None),
    ("API search pinyin", None),
    ("export opps CSV", "pipeline:opportunity_export?format=csv"),
    ("export opps XLSX", "pipeline:opportunity_export?format=xlsx"),
]
# Pages measured only when --pages names them (an XLSX of every opportunity takes seconds per request).
ON_REQUEST_PAGES = frozenset({"export opps XLSX"})


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def cannot_run(message: str) -> NoReturn:
    sys.stderr.write(message + "\n")
    raise SystemExit(2)


def parse_scales(text: str) -> list[float]:
    scales = sorted({float(part) for part in text.split(",") if part.strip()})
    if not scales or any(scale <= 0 for scale in scales):
        raise argparse.ArgumentTypeError(f"scales must be positive numbers, got {text!r}")
    return scales


def setup_django() -> None:
    """Production settings: DEBUG off whatever the environment says; requests come over HTTPS (see fetch)."""
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesflow.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # no per-login or per-request chatter between the results
    import django

    django.setup()
    from django.conf import settings

    # A page a role may not open answers 404, a broken one 500: the table and the failures below say so, in one line.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)

    # The test client calls itself "testserver"; setup_test_environment() would add it too, but it also instruments
    # every template render (copying the context each time), which would distort the timings.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def analyze() -> None:
    from django.db import connection

    # On PostgreSQL also VACUUM (as autovacuum does), so index-only scans are planned as the cheap reads they are.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def prepare(db: BenchDatabase, *, reuse: bool) -> None:
    """Migrates and seeds `db` (timing seed_demo), then ANALYZE and the nightly analytics, as after a night."""
    from django.core.management import call_command

    from accounts.models import Account, User
    from pipeline.models import Opportunity, Visit

    use(db)
    quiet = io.StringIO()
    if reuse and "accounts_account" in db.wrapper.introspection.table_names() and Account.objects.exists():
        say(f"scale {fmt_scale(db.scale)}: reusing {db.name} (seed time not measured)")
    else:
        migrate_s = timed(lambda: call_command("migrate", interactive=False, verbosity=0, stdout=quiet))
        args = ["seed_demo", "--scale", fmt_scale(db.scale), "--seed", "1"]
        db.seed_seconds = timed(lambda: call_command(*args, stdout=quiet))
        say(f"scale {fmt_scale(db.scale)}: migrate {migrate_s:.1f} s, seed_demo {db.seed_seconds:.1f} s")
    analyze_s = timed(analyze)
    nightly_s = timed(lambda: call_command("compute_analytics", stdout=quiet))
    analyze()  # the snapshot tables the nightly run just filled
    say(
        f"  {Account.objects.count():,} accounts, {Opportunity.objects.count():,} opportunities, "
        f"{Visit.objects.count():,} visits, {User.objects.count():,} users · ANALYZE {analyze_s:.1f} s · "
        f"nightly analytics (compute_analytics, first run) {nightly_s:.1f} s"
    )


def median_visible(queryset):
    """The row in the middle by number of visits (then id): a typical page, the same rule at every scale."""
    from django.db.models import Count

    ids = list(queryset.annotate(n=Count("visits")).order_by("n", "pk").values_list("pk", flat=True))
    return queryset.model.objects.get(pk=ids[len(ids) // 2]) if ids else None


def open_stages(user) -> dict[str, int]:
    """Stage code → order of the stages holding open opportunities `user` can see."""
    from pipeline.models import Opportunity

    return dict(Opportunity.objects.visible_to(user).open().values_list("stage__code", "stage__order").distinct())


def page_urls(user, stage: str | None) -> dict[str, str | None]:
    """The URL of every page for `user` on the current database; None when the page does not exist (yet).

    The opportunity page shows an open opportunity of `stage` (what a page shows depends on the stage, so every
    scale shows the same one), the account page an account of the user; each the median by number of visits. The
    rep cockpit is the first visible rep's by username (a rep's own)."""
    from django.urls import NoReverseMatch, Resolver404, resolve, reverse

    from accounts.models import Account, User
    from pipeline.models import Opportunity

    urls: dict[str, str | None] = {}
    for page, target in LIST_PAGES:
        if target is None:
            continue
        name, _, query = target.partition("?")
        try:
            urls[page] = target if target.startswith("/") else reverse(name) + (f"?{query}" if query else "")
        except NoReverseMatch:
            urls[page] = None
    opportunities = Opportunity.objects.visible_to(user).open().filter(stage__code=stage)
    opportunity = median_visible(opportunities) if stage else None
    account = median_visible(Account.objects.visible_to(user))
    urls["opportunity page"] = reverse("pipeline:opportunity", args=[opportunity.pk]) if opportunity else None
    urls["account page"] = reverse("accounts:detail", args=[account.pk]) if account else None
    rep = User.objects.visible_to(user).filter(is_active=True, role=User.Role.REP).order_by("username").first()
    urls["rep cockpit"] = reverse("analytics:rep_cockpit", args=[rep.pk]) if rep else None
    try:
        search = resolve("/api/v1/search/").func.__name__ != "not_found"
    except Resolver404:
        search = False
    urls.update(search_urls(account) if search else {"API search": None, "API search pinyin": None})
    return urls


def search_urls(account) -> dict[str, str | None]:
    """The search as a user types it: four characters from inside the name of one of their accounts (a match
    anywhere, read from the trigram index), and the first syllables of its pinyin."""
    if account is None:
        return {"API search": None, "API search pinyin": None}
    characters = account.name[2:6] or account.name
    pinyin = account.name_pinyin[:8] or characters
    return {
        "API search": f"/api/v1/search/?{urlencode({'q': characters})}",
        "API search pinyin": f"/api/v1/search/?{urlencode({'q': pinyin})}",
    }


@dataclass
class Answer:
    status: int
    body_bytes: int
    error: str = ""


def backend_cpu_ns(db: BenchDatabase) -> int | None:
    """CPU nanoseconds the database server process of `db`'s connection has run (0 for SQLite, which runs inside
    the bench's own process); None when the kernel does not tell (a server on another machine)."""
    if db.wrapper.vendor == "sqlite":
        return 0
    db.wrapper.ensure_connection()
    try:
        with open(f"/proc/{db.wrapper.connection.info.backend_pid}/schedstat") as file:
            return int(file.read().split()[0])
    except (OSError, ValueError, AttributeError):
        return None


def fetch(client, url: str) -> Answer:
    """GET over HTTPS, as behind the production proxy; an exception in the view is an answer with an error."""
    try:
        response = client.get(url, secure=True)
        # A streamed body is read piece by piece and kept nowhere, as a browser saving a download would.
        size = sum(map(len, response.streaming_content)) if response.streaming else len(response.content)
    except Exception as error:
        return Answer(status=500, body_bytes=0, error=f"raised {type(error).__name__}: {error}"[:300])
    return Answer(status=response.status_code, body_bytes=size)


def peak_kb(client, url: str) -> float:
    """The peak of Python memory (kB, tracemalloc) while the page is made and read; slow, so measured once."""
    tracemalloc.start()
    try:
        fetch(client, url)
        return round(tracemalloc.get_traced_memory()[1] / 1000, 1)
    finally:
        tracemalloc.stop()


def measure_page(
    page: str, role: str, targets: list[tuple[BenchDatabase, object, str]], runs: int
) -> list[Measurement]:
    """One page for one user at every scale: warm-up, a counted request, then `runs` timed requests alternating
    between the scales (in turn forwards and backwards)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from scripts.bench_targets import NOT_FOR_ROLE

    results = {}
    for db, client, url in targets:
        use(db)
        m = Measurement(page=page, role=role, scale=db.scale)
        results[db.scale] = m
        first = fetch(client, url)
        if first.error or first.status != 200:
            m.status = first.status
            if first.error or first.status not in NOT_FOR_ROLE:
                m.error = first.error or f"answered {first.status}"
            continue
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            counted = fetch(client, url)
        m.status, m.queries, m.bytes, m.error = counted.status, len(queries), counted.body_bytes, counted.error
        if is_export(page):
            m.peak_kb = peak_kb(client, url)
    live = [(db, client, url) for db, client, url in targets if results[db.scale].status == 200]
    for run in range(runs):
        for db, client, url in live if run % 2 == 0 else reversed(live):
            use(db)
            backend_before, cpu_before = backend_cpu_ns(db), time.process_time_ns()
            start = time.perf_counter()
            answer = fetch(client, url)
            elapsed_ms = (time.perf_counter() - start) * 1000
            cpu_ns, backend_after = time.process_time_ns() - cpu_before, backend_cpu_ns(db)
            m = results[db.scale]
            if answer.error or answer.status != 200:
                m.error = m.error or answer.error or f"answered {answer.status} on a timed run"
            m.runs_ms.append(round(elapsed_ms, 2))
            if backend_before is not None and backend_after is not None:
                m.cpu_runs_ms.append(round((cpu_ns + backend_after - backend_before) / 1e6, 2))
    for m in results.values():
        if m.runs_ms:
            m.ms = statistics.median(m.runs_ms)
        if m.cpu_runs_ms and len(m.cpu_runs_ms) == len(m.runs_ms):
            m.cpu_ms = statistics.median(m.cpu_runs_ms)
    return [results[db.scale] for db, _client, _url in targets]


def measure_role(role: str, dbs: list[BenchDatabase], runs: int, pages: str = "") -> list[Measurement]:
    from django.test import Client

    from accounts.models import User

    users, open_by_scale = {}, []
    for db in dbs:
        use(db)
        users[db.scale] = User.objects.filter(username=role).first()
        if users[db.scale] is None:
            cannot_run(f"No user {role!r} at scale {fmt_scale(db.scale)}: seed_demo did not create the demo roles.")
        open_by_scale.append(open_stages(users[db.scale]))
    common = set.intersection(*(set(stages) for stages in open_by_scale))
    # The furthest stage with open opportunities at every scale: the most criteria, the fullest page.
    stage = max(common, key=open_by_scale[0].get, default=None)
    per_scale = {}
    for db in dbs:
        use(db)
        client = Client(raise_request_exception=True)
        client.force_login(users[db.scale])
        per_scale[db.scale] = (client, page_urls(users[db.scale], stage))
    measurements = []
    for page, _target in LIST_PAGES:
        if (pages and pages.lower() not in page.lower()) or (page in ON_REQUEST_PAGES and not pages):
            continue
        targets = [(db, per_scale[db.scale][0], per_scale[db.scale][1].get(page)) for db in dbs]
        if any(url is None for _db, _client, url in targets):
            if not page.startswith("API search"):
                say(f"  skipped {page} as {role}: no such URL or nothing visible")
            continue
        measurements += measure_page(page, role, targets, runs)
    return measurements


def check_static_manifest() -> None:
    from django.contrib.staticfiles.storage import staticfiles_storage

    manifest = getattr(staticfiles_storage, "manifest_name", None)
    if manifest and not staticfiles_storage.exists(manifest):
        cannot_run("No staticfiles manifest: run `DEBUG=0 manage.py collectstatic` first (`make bench` does).")


def write_json(path: Path, *, vendor: str, dbs: list[BenchDatabase], measurements, failures, runs: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "database": vendor,
        "runs": runs,
        "scales": [{"scale": db.scale, "database": db.name, "seed_seconds": db.seed_seconds} for db in dbs],
        "measurements": [asdict(m) for m in measurements],
        "failures": failures,
    }
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=parse_scales, default=parse_scales(os.environ.get("BENCH_SCALES", "1,10")))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "5")), help="timed requests")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--keep", action="store_true", help="leave the throwaway databases for another run")
    parser.add_argument("--reuse", action="store_true", help="measure kept databases without seeding them again")
    parser.add_argument(
        "--pages",
        default=os.environ.get("BENCH_PAGES", ""),
        help="only the pages whose name contains this text (e.g. 'search' with --scales 1,50)",
    )
    options = parser.parse_args()

    setup_django()
    from django.conf import settings
    from django.db import connections

    if settings.DEBUG:
        cannot_run("DEBUG is on; the bench measures production settings.")
    check_static_manifest()
    base_wrapper = connections["default"]
    vendor, configured = base_wrapper.vendor, base_wrapper.settings_dict["NAME"]
    started, load_before = time.perf_counter(), os.getloadavg()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # drop the throwaway databases (finally below), then exit
    with tempfile.TemporaryDirectory(prefix="salesflow-bench-") as folder:
        dbs = [
            make_database(scale, throwaway_name(str(configured), scale, Path(folder), vendor))
            for scale in options.scales
        ]
        say(
            f"Bench on {vendor} (configured database {configured} is not touched), throwaway databases "
            f"{', '.join(Path(db.name).name for db in dbs)}; DEBUG off, {options.runs} timed run(s) per page "
            f"(median), load average {load_before[0]:.2f}"
        )
        measurements: list[Measurement] = []
        try:
            for db in dbs:
                reuse = options.reuse and database_exists(base_wrapper, db)
                if not reuse:
                    create_database(base_wrapper, db)
                prepare(db, reuse=reuse)
            for role in ROLES:
                role_started = time.perf_counter()
                measurements += measure_role(role, dbs, options.runs, options.pages)
                say(f"measured as {role} in {time.perf_counter() - role_started:.0f} s")
        finally:
            connections["default"] = base_wrapper
            for db in dbs:
                if options.keep:
                    db.wrapper.close()
                else:
                    drop_database(base_wrapper, db)
    failures = seed_failures({db.scale: db.seed_seconds for db in dbs if db.seed_seconds is not None})
    failures += target_failures(measurements)
    say()
    for line in format_table(measurements):
        say(line)
    say()
    for line in format_export_table(measurements):
        say(line)
    say()
    say(targets_legend())
    say(
        f"Ratios compare each larger scale with scale {fmt_scale(options.scales[0])}. ms: median wall time; cpu: "
        "median CPU ms of the bench's process and its database backend (not judged; steadier on a busy machine)."
    )
    load_after, cores = os.getloadavg(), os.cpu_count() or 1
    say(
        f"Took {time.perf_counter() - started:.0f} s; load average {load_before[0]:.2f} before, {load_after[0]:.2f} "
        "after (the scales alternate run by run, so slow spells of the machine hit both)."
    )
    if max(load_before[0], load_after[0]) > cores:
        say(
            f"Busy machine: the load average was above its {cores} cores, so wall times include waiting for a CPU and "
            "vary from run to run; where ms and cpu disagree about a ratio, measure again on a quieter machine."
        )
    if options.json:
        write_json(
            options.json, vendor=vendor, dbs=dbs, measurements=measurements, failures=failures, runs=options.runs
        )
        say(f"Results written to {options.json}")
    if failures:
        say()
        say(f"FAIL: {len(failures)} target(s) missed:")
        for failure in failures:
            say(f"  - {failure}")
        return 1
    say("PASS: every target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
