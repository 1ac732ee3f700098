"""Load test (issue 10): issue 10's mix and /login/ alone, under Locust, against gunicorn with 3 workers on loopback.

Usage: make loadtest   (DATABASE_URL must name an already seeded database: `manage.py migrate` and
                        `manage.py seed_demo --scale 10` first; the mix adds planned visits to it)

Runs the nightly analytics (compute_analytics: the pages read its snapshots), starts gunicorn (DEBUG off, collected
static files, API throttles raised so the load is not answered 429, plain HTTP on 127.0.0.1 with secure cookies and
the HTTPS redirect off, database connections kept for the whole run), signs rep1..rep14 in once (the /login/ form
and POST /api/v1/auth/token/), then runs Locust headless:
  1. the mix with a single user and no think time: the latency of the mix without contention;
  2. for each of LOADTEST_USERS (20,50): the mix, then /login/ alone, LOADTEST_SECONDS (60) each.
Users think LOADTEST_WAIT seconds between requests ("0.5-1.5"; "0" for a closed loop that measures capacity).
The cost of a request is the CPU time the server spent on it: gunicorn's processes and their PostgreSQL backends,
over the requests served. Prints req/s and p50/p95/p99 per phase and per request of the mix, and exits 1 when there
was an error, when p95 at 20 users is above 3x the single-user p95, or when a request of the mix costs more than 4x
a /login/ request at the same load; 2 when it cannot run. gunicorn is stopped at the end, also on Ctrl-C or failure.
The visits the mix planned are deleted at the end (the next run meets the same database).
Output, Locust's CSV files and the server's log go to bench-results/loadtest/.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.loadtest_targets import (
    MAX_COST_RATIO,
    MAX_P95_RATIO,
    TARGET_USERS,
    Phase,
    format_phases,
    load_failures,
    parse_stats,
)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-results" / "loadtest"
HOST = "127.0.0.1"  # loopback only, never configurable
REPS = [f"rep{n}" for n in range(1, 15)]
PASSWORD = "salesflow"
WORKERS = 3


# Running it -------------------------------------------------------------------------------------------------------


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def cannot_run(message: str) -> NoReturn:
    sys.stderr.write(message + "\n")
    raise SystemExit(2)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_environment() -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "0",
        # Plain HTTP on loopback stands in for the HTTPS proxy: no redirect, cookies without the Secure flag.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        # Many users from one address: the per-address and per-user throttles must not answer 429 to the test.
        "API_THROTTLE_ANON": "1000000/minute",
        "API_THROTTLE_USER": "1000000/minute",
        "API_THROTTLE_AUTH": "1000000/minute",
        # One connection per worker for the whole run (production reconnects every 60 s: negligible), so each
        # database backend's CPU time is counted from start to end.
        "CONN_MAX_AGE": "3600",
        "LOG_LEVEL": "WARNING",
    }


def start_gunicorn(port: int, log: Path) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "salesflow.wsgi:application",
        f"--workers={WORKERS}",
        f"--bind={HOST}:{port}",
        f"--error-logfile={log}",
        "--log-level=warning",
        "--timeout=60",
        "--graceful-timeout=5",
    ]
    # Its own session: Ctrl-C reaches us, and we stop it (and only it) by its process group.
    return subprocess.Popen(command, cwd=ROOT, env=server_environment(), start_new_session=True)


def stop_gunicorn(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_until_up(base: str, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            cannot_run(f"gunicorn exited with {server.returncode}:\n{tail(log)}")
        try:
            if requests.get(f"{base}/login/", timeout=5, allow_redirects=False).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    cannot_run(f"gunicorn did not answer /login/ within {timeout:.0f} s:\n{tail(log)}")


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def sign_in(base: str, username: str) -> dict:
    """Signs `username` in through the /login/ form and POST /api/v1/auth/token/, and lists their accounts."""
    import requests

    session = requests.Session()
    page = session.get(f"{base}/login/", timeout=30)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if page.status_code != 200 or not match:
        cannot_run(f"GET /login/ answered {page.status_code} without a CSRF token")
    form = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": match.group(1)}
    answer = session.post(f"{base}/login/", data=form, timeout=60, allow_redirects=False)
    if answer.status_code != 302:
        cannot_run(f"{username} could not sign in (/login/ answered {answer.status_code}): seed the database?")
    answer = session.post(f"{base}/api/v1/auth/token/", json={"username": username, "password": PASSWORD}, timeout=60)
    if answer.status_code not in (200, 201):
        cannot_run(f"POST /api/v1/auth/token/ for {username} answered {answer.status_code}: {answer.text[:200]}")
    token = answer.json()["token"]
    listed = session.get(
        f"{base}/api/v1/accounts/?page_size=100", headers={"Authorization": f"Token {token}"}, timeout=120
    )
    if listed.status_code != 200:
        cannot_run(f"GET /api/v1/accounts/ for {username} answered {listed.status_code}")
    body = listed.json()
    account_ids = [row["id"] for row in (body["results"] if isinstance(body, dict) else body)]
    if not account_ids:
        cannot_run(f"{username} sees no account: seed the database with seed_demo --scale 10")
    return {"username": username, "cookies": session.cookies.get_dict(), "token": token, "account_ids": account_ids}


def revoke_tokens(base: str, reps: list[dict]) -> None:
    """Best effort: the tokens issued for the test stop working (the demo users keep their other tokens)."""
    import requests

    for rep in reps:
        with contextlib.suppress(requests.RequestException):
            requests.delete(
                f"{base}/api/v1/auth/token/", headers={"Authorization": f"Token {rep['token']}"}, timeout=10
            )


LOAD_PURPOSE = "负载测试 load test"  # the purpose of every visit the mix plans (scripts/locustfile.py)


def remove_load_visits(*, since) -> int:
    """Deletes the visits the mix planned since `since` and refreshes the visit table's statistics and visibility map
    (VACUUM ANALYZE on PostgreSQL), so that the next run meets the database this one found: the rep's agenda and to-do
    do not grow from run to run. Returns how many were deleted."""
    from django.db import connection

    from pipeline.models import Visit

    deleted, _by_model = Visit.objects.filter(purpose=LOAD_PURPOSE, created_at__gte=since).delete()
    if connection.vendor == "postgresql" and not connection.in_atomic_block:  # VACUUM cannot run in a transaction
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {Visit._meta.db_table}")
    return deleted


class CpuMeter:
    """CPU seconds of gunicorn (master and workers) and of the database backends serving this database."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid

    def _pids(self) -> set[int]:
        import psutil
        from django.db import connection

        pids = {self.server_pid} | {child.pid for child in psutil.Process(self.server_pid).children(recursive=True)}
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                pids |= {pid for (pid,) in cursor.fetchall()}
        return pids

    def sample(self) -> dict[int, float] | None:
        import psutil

        seconds = {}
        try:
            for pid in self._pids():
                try:
                    times = psutil.Process(pid).cpu_times()
                except psutil.NoSuchProcess:
                    continue
                seconds[pid] = times.user + times.system
        except psutil.AccessDenied:
            return None  # e.g. a database server in another container: the cost is not known
        return seconds

    @staticmethod
    def spent(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
        """CPU seconds between two samples; a process that started in between counts from zero."""
        if before is None or after is None:
            return None
        return sum(max(0.0, now - before.get(pid, 0.0)) for pid, now in after.items())


def run_locust(base: str, *, label: str, users: int, seconds: int, wait: str, meter: CpuMeter, name: str) -> Phase:
    user_class = "MixUser" if label == "mix" else "LoginPageUser"
    prefix = OUT / name
    command = [
        str(ROOT / ".venv" / "bin" / "locust"),
        "--locustfile",
        str(ROOT / "scripts" / "locustfile.py"),
        "--headless",
        f"--host={base}",
        f"--users={users}",
        f"--spawn-rate={users}",
        f"--run-time={seconds}s",
        "--stop-timeout=5",
        f"--csv={prefix}",
        "--only-summary",
        "--loglevel=WARNING",
        user_class,
    ]
    env = {**os.environ, "LOADTEST_WAIT": wait, "LOADTEST_CREDENTIALS": str(OUT / "credentials.json")}
    stats_file = Path(f"{prefix}_stats.csv")
    stats_file.unlink(missing_ok=True)  # never read an earlier run's numbers
    before = meter.sample()
    with open(f"{prefix}.log", "w") as log:
        result = subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=seconds + 90)
    after = meter.sample()
    if result.returncode not in (0, 1) or not stats_file.exists():  # 1: some requests failed, counted below
        cannot_run(f"Locust exited with {result.returncode}:\n{tail(Path(f'{prefix}.log'))}")
    with open(stats_file, newline="") as file:
        total, per_request = parse_stats(list(csv.DictReader(file)))
    return Phase(label, users, seconds, total, per_request, CpuMeter.spent(before, after))


def check_database() -> None:
    """The configured database must be seeded (the reps exist) and the static files collected."""
    from django.conf import settings
    from django.contrib.staticfiles.storage import staticfiles_storage

    from accounts.models import User

    manifest = getattr(staticfiles_storage, "manifest_name", None)
    if manifest and not staticfiles_storage.exists(manifest):
        cannot_run("No staticfiles manifest: run `DEBUG=0 manage.py collectstatic` first (`make loadtest` does).")
    missing = set(REPS) - set(User.objects.filter(username__in=REPS).values_list("username", flat=True))
    if missing:
        cannot_run(
            f"{settings.DATABASES['default']['NAME']} has no {', '.join(sorted(missing))}: run "
            "`manage.py migrate` and `manage.py seed_demo --scale 10` on it first."
        )


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesflow.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    check_database()
    run_started = timezone.now()
    started = time.monotonic()
    call_command("compute_analytics", stdout=io.StringIO())  # pages read the nightly snapshots: fill them as at night
    nightly_seconds = time.monotonic() - started
    seconds = env_int("LOADTEST_SECONDS", 60)
    single_seconds = env_int("LOADTEST_SINGLE_SECONDS", 30)
    warmup_seconds = env_int("LOADTEST_WARMUP_SECONDS", 10)
    user_counts = [int(n) for n in os.environ.get("LOADTEST_USERS", "20,50").split(",") if n.strip()]
    wait = os.environ.get("LOADTEST_WAIT", "0.5-1.5")
    OUT.mkdir(parents=True, exist_ok=True)
    port = int(os.environ.get("LOADTEST_PORT") or free_port())
    base, log = f"http://{HOST}:{port}", OUT / "gunicorn.log"
    say(
        f"Load test of {connection.vendor} database {connection.settings_dict['NAME']} through gunicorn "
        f"({WORKERS} workers) on {base}; think time {wait} s; nightly analytics refreshed first "
        f"({nightly_seconds:.0f} s); load average {os.getloadavg()[0]:.2f}"
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally below, then exit
    server = start_gunicorn(port, log)
    reps: list[dict] = []
    try:
        wait_until_up(base, server, log)
        reps = [sign_in(base, username) for username in REPS]
        (OUT / "credentials.json").write_text(json.dumps({"reps": reps}))
        meter = CpuMeter(server.pid)
        say(f"Signed in {len(reps)} reps; warming up ({warmup_seconds} s, 3 users)")
        run_locust(base, label="mix", users=3, seconds=warmup_seconds, wait="0", meter=meter, name="warmup")
        say(f"Single user, no think time ({single_seconds} s)")
        single = run_locust(base, label="mix", users=1, seconds=single_seconds, wait="0", meter=meter, name="single")
        phases = []
        for users in user_counts:
            for label in ("mix", "login page"):
                say(f"{label} at {users} users ({seconds} s)")
                name = f"{'mix' if label == 'mix' else 'login'}_{users}"
                phases.append(
                    run_locust(base, label=label, users=users, seconds=seconds, wait=wait, meter=meter, name=name)
                )
    finally:
        if reps:
            revoke_tokens(base, reps)
        (OUT / "credentials.json").unlink(missing_ok=True)
        stop_gunicorn(server)
        say(f"gunicorn stopped (log: {log.relative_to(ROOT)})")
        say(f"Removed the {remove_load_visits(since=run_started)} visits the mix planned.")
    failures = load_failures(single, phases)
    say()
    for line in format_phases(single, phases):
        say(line)
    say()
    say(
        f"Targets: no error; p95 at {TARGET_USERS} users at most {MAX_P95_RATIO:g}x the single-user p95; a request "
        f"of the mix at most {MAX_COST_RATIO:g}x the server CPU of a /login/ request at the same load. CPU ms/req: "
        "gunicorn's processes and this database's backends, over the requests answered."
    )
    if TARGET_USERS not in user_counts:
        say(f"Not judged: the p95 target, since LOADTEST_USERS has no {TARGET_USERS}.")
    say(f"Load average at the end {os.getloadavg()[0]:.2f} (other work on the machine stretches the latencies).")
    body = {"single": asdict(single), "phases": [asdict(p) for p in phases], "failures": failures, "wait": wait}
    (OUT / "loadtest.json").write_text(json.dumps(body, indent=2))
    if failures:
        say()
        say(f"FAIL: {len(failures)} target(s) missed:")
        for failure in failures:
            say(f"  - {failure}")
        return 1
    say("PASS: every target met.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("Interrupted; gunicorn stopped.")
        sys.exit(130)
