"""The targets of `make loadtest` (issue 10) as pure functions: Locust's statistics and the server's CPU in, the
table and the misses out. No Django, no server and no Locust here, so the rules are unit-tested on made-up numbers
(tests/test_bench_loadtest.py); scripts/loadtest.py runs the load.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_P95_RATIO = 3.0  # p95 at TARGET_USERS over the single-user p95
MAX_COST_RATIO = 4.0  # server CPU per mix request over server CPU per /login/ request
TARGET_USERS = 20


@dataclass
class RequestStats:
    name: str
    requests: int
    failures: int
    rps: float
    p50: float | None
    p95: float | None
    p99: float | None


@dataclass
class Phase:
    label: str  # "mix" or "login page"
    users: int
    seconds: float  # Locust's run time (its start-up and the stop are not in it)
    total: RequestStats
    per_request: list[RequestStats] = field(default_factory=list)
    cpu_seconds: float | None = None  # server CPU (gunicorn + its database backends) during the phase

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.cpu_seconds is None or not self.total.requests:
            return None
        return self.cpu_seconds * 1000 / self.total.requests


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None  # Locust writes "N/A" when nothing was measured


def parse_stats(rows: list[dict[str, str]]) -> tuple[RequestStats, list[RequestStats]]:
    """Locust's *_stats.csv rows → (the Aggregated row, one row per request name)."""

    def stats(row: dict[str, str]) -> RequestStats:
        return RequestStats(
            name=row["Name"],
            requests=int(row["Request Count"]),
            failures=int(row["Failure Count"]),
            rps=_number(row["Requests/s"]) or 0.0,
            p50=_number(row["50%"]),
            p95=_number(row["95%"]),
            p99=_number(row["99%"]),
        )

    total = next((stats(row) for row in rows if row["Name"] == "Aggregated"), None)
    if total is None:
        raise ValueError("Locust's statistics have no Aggregated row")
    return total, [stats(row) for row in rows if row["Name"] != "Aggregated"]


def cost_ratio(mix: Phase, login: Phase) -> float | None:
    mix_cost, login_cost = mix.cpu_ms_per_request, login.cpu_ms_per_request
    if mix_cost is None or not login_cost:
        return None
    return mix_cost / login_cost


def load_failures(single: Phase, phases: list[Phase]) -> list[str]:
    """Every missed target: errors or no requests in any phase; the mix's p95 at TARGET_USERS above MAX_P95_RATIO
    times the single-user p95; a mix request costing more than MAX_COST_RATIO /login/ requests at the same load."""
    failures = []
    for phase in [single, *phases]:
        where = f"{phase.label} at {phase.users} user{'s' if phase.users > 1 else ''}"
        if phase.total.failures:
            failures.append(f"{where}: {phase.total.failures} of {phase.total.requests} requests failed")
        if not phase.total.requests:
            failures.append(f"{where}: no request was answered")
    mixes = {p.users: p for p in phases if p.label == "mix"}
    logins = {p.users: p for p in phases if p.label != "mix"}
    at_target = mixes.get(TARGET_USERS)
    if at_target and at_target.total.p95 is not None and single.total.p95:
        ratio = at_target.total.p95 / single.total.p95
        if ratio > MAX_P95_RATIO:
            failures.append(
                f"mix at {TARGET_USERS} users: p95 {at_target.total.p95:.0f} ms is {ratio:.1f}x the single-user p95 "
                f"{single.total.p95:.0f} ms (limit {MAX_P95_RATIO:g}x)"
            )
    for users, mix in sorted(mixes.items()):
        login = logins.get(users)
        if login is None:
            continue
        ratio = cost_ratio(mix, login)
        if ratio is None:
            failures.append(
                f"mix at {users} users: the server's CPU time could not be measured, so its cost is unknown"
            )
        elif ratio > MAX_COST_RATIO:
            failures.append(
                f"mix at {users} users: a request costs {mix.cpu_ms_per_request:.1f} ms of server CPU, {ratio:.1f}x "
                f"a /login/ request ({login.cpu_ms_per_request:.1f} ms; limit {MAX_COST_RATIO:g}x)"
            )
    return failures


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def format_phases(single: Phase, phases: list[Phase]) -> list[str]:
    logins = {p.users: p for p in phases if p.label != "mix"}
    lines = [
        f"{'phase':<12} {'users':>5} {'s':>4} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50':>6} {'p95':>6} "
        f"{'p99':>6} {'CPU ms/req':>10} {'x login':>7}",
        "-" * 86,
    ]
    for phase in [single, *phases]:
        t = phase.total
        cost = phase.cpu_ms_per_request
        login = logins.get(phase.users)
        ratio = cost_ratio(phase, login) if phase.label == "mix" and login and phase is not single else None
        lines.append(
            f"{phase.label:<12} {phase.users:>5} {phase.seconds:>4.0f} {t.requests:>8} {t.failures:>6} {t.rps:>7.1f} "
            f"{_ms(t.p50):>6} {_ms(t.p95):>6} {_ms(t.p99):>6} {'-' if cost is None else f'{cost:.1f}':>10} "
            f"{'-' if ratio is None else f'{ratio:.1f}':>7}"
        )
    lines += ["", "The mix by request (ms):"]
    for phase in [single, *phases]:
        if phase.label != "mix":
            continue
        for r in phase.per_request:
            lines.append(
                f"  {phase.users:>3} users  {r.name:<20} {r.requests:>6} requests {r.failures:>4} errors  "
                f"p50 {_ms(r.p50):>5}  p95 {_ms(r.p95):>5}  p99 {_ms(r.p99):>5}"
            )
    return lines
