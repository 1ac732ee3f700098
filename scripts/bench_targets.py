"""The targets of `make bench` (issue 10) as pure functions: measurements in, the table and the misses out.

No Django and no database here, so the rules are unit-tested on made-up numbers (tests/test_bench_targets.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

# A page or endpoint may grow at most this much from the smallest scale to a larger one, by role kind: a director's
# company grows with the scale, a manager's team and a rep's own book do not.
RATIO_LIMITS = {"director": 2.0, "manager": 1.3, "rep": 1.3}
# Times below this floor count as the floor, so a 2 ms page that takes 3 ms on a busy machine does not fail.
FLOOR_MS = 5.0
MAX_BYTES = 500_000  # 500 kB, at every scale
SEED_LIMIT_SECONDS = 180.0  # seed_demo --scale 10
SEED_LIMIT_SCALE = 10
# An export (issue 14) holds every row the viewer sees, so its time and bytes grow with them by design and are shown,
# not judged; what must not grow is its memory: it streams. Its peak Python memory at a larger scale may be at most
# this many times the smallest scale's (peaks under the floor count as the floor).
EXPORT_MEMORY_RATIO = 2.0
EXPORT_MEMORY_FLOOR_KB = 2_000.0
# Statuses that mean "this page is not for this role" when they are the same at every scale: shown, not failed.
NOT_FOR_ROLE = frozenset({403, 404})


@dataclass
class Measurement:
    """One page or endpoint for one user at one scale: median wall time, SQL queries and response bytes."""

    page: str
    role: str  # the username: director, manager1, rep1
    scale: float
    status: int | None = None
    ms: float | None = None  # median of runs_ms: wall time, what the targets judge
    queries: int | None = None
    bytes: int | None = None
    runs_ms: list[float] = field(default_factory=list)
    # Median CPU time of the same runs: the bench's process and its database backend (not PostgreSQL's parallel
    # workers). Steadier than wall time on a busy machine; shown, not judged.
    cpu_ms: float | None = None
    cpu_runs_ms: list[float] = field(default_factory=list)
    error: str = ""  # an exception or an unexpected status: the measurement failed
    peak_kb: float | None = None  # exports: the peak of Python memory (tracemalloc) while one is made and read

    @property
    def measured(self) -> bool:
        return not self.error and self.status == 200 and self.ms is not None


def is_export(page: str) -> bool:
    return "export" in page


def role_kind(role: str) -> str:
    """director, manager or rep, from a demo username (manager1 → manager)."""
    return role.rstrip("0123456789")


def ratio_limit(role: str) -> float:
    return RATIO_LIMITS.get(role_kind(role), min(RATIO_LIMITS.values()))


def floored(ms: float) -> float:
    return max(ms, FLOOR_MS)


def growth_ratio(base_ms: float, ms: float) -> float:
    """Time at a larger scale over time at the base scale, each raised to FLOOR_MS first."""
    return floored(ms) / floored(base_ms)


def fmt_scale(scale: float) -> str:
    return f"{scale:g}"


def _grouped(measurements: list[Measurement]) -> dict[tuple[str, str], dict[float, Measurement]]:
    grouped: dict[tuple[str, str], dict[float, Measurement]] = defaultdict(dict)
    for m in measurements:
        grouped[(m.page, m.role)][m.scale] = m
    return grouped


def not_for_role(per_scale: dict[float, Measurement]) -> bool:
    """True when the page answers the same 403/404 at every scale: the role may not open it."""
    statuses = {m.status for m in per_scale.values()}
    return len(statuses) == 1 and statuses <= NOT_FOR_ROLE and not any(m.error for m in per_scale.values())


def target_failures(measurements: list[Measurement]) -> list[str]:
    """Every missed target, one sentence each: errors, responses over MAX_BYTES at any scale, and, for every larger
    scale against the smallest, a different query count or a growth ratio above the role's limit."""
    return [failure for per_scale in _grouped(measurements).values() for failure in _page_failures(per_scale)]


def _page_failures(per_scale: dict[float, Measurement]) -> list[str]:
    """The missed targets of one page for one role, over its scales."""
    if not_for_role(per_scale):
        return []
    failures = []
    base_scale = min(per_scale)
    base = per_scale[base_scale]
    for scale in sorted(per_scale):
        m = per_scale[scale]
        where = f"{m.page} as {m.role} at scale {fmt_scale(scale)}"
        if m.error or m.status != 200:
            failures.append(f"{where}: {m.error or f'answered {m.status}'}")
            continue
        if m.bytes is not None and m.bytes > MAX_BYTES and not is_export(m.page):
            failures.append(f"{where}: {m.bytes:,} bytes > {MAX_BYTES:,}")
        if scale == base_scale or not base.measured or not m.measured:
            continue
        # Fewer is not growth: a page skips a fetch when there is nothing to fetch (no changes this week, say).
        if m.queries > base.queries:
            failures.append(f"{where}: {m.queries} queries, {base.queries} at scale {fmt_scale(base_scale)}")
        if is_export(m.page):
            failures += _memory_failures(where, base, m, base_scale)
            continue
        ratio, limit = growth_ratio(base.ms, m.ms), ratio_limit(m.role)
        if ratio > limit:
            failures.append(
                f"{where}: {m.ms:.1f} ms is {ratio:.2f}x its {base.ms:.1f} ms at scale {fmt_scale(base_scale)}"
                f" (limit {limit:g}x for a {role_kind(m.role)})"
            )
    return failures


def _memory_failures(where: str, base: Measurement, m: Measurement, base_scale: float) -> list[str]:
    if base.peak_kb is None or m.peak_kb is None:
        return [f"{where}: peak memory not measured"]
    ratio = max(m.peak_kb, EXPORT_MEMORY_FLOOR_KB) / max(base.peak_kb, EXPORT_MEMORY_FLOOR_KB)
    if ratio <= EXPORT_MEMORY_RATIO:
        return []
    return [
        f"{where}: peak memory {m.peak_kb:,.0f} kB is {ratio:.2f}x its {base.peak_kb:,.0f} kB at scale "
        f"{fmt_scale(base_scale)} (limit {EXPORT_MEMORY_RATIO:g}x: an export streams)"
    ]


def seed_failures(seed_seconds: dict[float, float]) -> list[str]:
    """seed_demo at SEED_LIMIT_SCALE must finish within SEED_LIMIT_SECONDS; other scales are not judged."""
    seconds = seed_seconds.get(SEED_LIMIT_SCALE)
    if seconds is None or seconds <= SEED_LIMIT_SECONDS:
        return []
    return [f"seed_demo --scale {SEED_LIMIT_SCALE} took {seconds:.0f} s > {SEED_LIMIT_SECONDS:.0f} s"]


def _verdict(per_scale: dict[float, Measurement]) -> str:
    if not_for_role(per_scale):
        return f"n/a ({next(iter(per_scale.values())).status})"
    return "FAIL" if _page_failures(per_scale) else "ok"


def _cells(m: Measurement | None) -> str:
    if m is None:
        return f"{'-':>8} {'-':>6} {'-':>4} {'-':>7}"
    if not m.measured:
        return f"{'(' + str(m.status or 'error') + ')':>8} {'-':>6} {'-':>4} {'-':>7}"
    kb = (m.bytes or 0) / 1000
    cpu = "-" if m.cpu_ms is None else f"{m.cpu_ms:.0f}"
    return f"{m.ms:>8.1f} {cpu:>6} {m.queries:>4} {kb:>7.1f}"


def format_table(measurements: list[Measurement]) -> list[str]:
    """One line per page and role: ms / CPU ms / queries / kB at each scale, the growth ratios of ms against the
    smallest scale (floored times), and ok, FAIL or n/a."""
    scales = sorted({m.scale for m in measurements})
    if not scales:
        return ["(nothing measured)"]
    base = scales[0]
    head = f"{'page':<20} {'role':<9}"
    rule = f"{'':<20} {'':<9}"
    for scale in scales:
        head += f" | {'scale ' + fmt_scale(scale):^28}"
        rule += f" | {'ms':>8} {'cpu':>6} {'q':>4} {'kB':>7}"
    for scale in scales[1:]:
        head += f" {fmt_scale(scale) + '/' + fmt_scale(base):>7}"
        rule += f" {'ratio':>7}"
    lines = [head + "  result", rule, "-" * (len(rule) + 8)]
    for (page, role), per_scale in _grouped(measurements).items():
        line = f"{page:<20} {role:<9}"
        for scale in scales:
            line += f" | {_cells(per_scale.get(scale))}"
        first = per_scale.get(base)
        for scale in scales[1:]:
            m = per_scale.get(scale)
            ok = first is not None and m is not None and first.measured and m.measured
            line += f" {growth_ratio(first.ms, m.ms):>7.2f}" if ok else f" {'-':>7}"
        lines.append(f"{line}  {_verdict(per_scale)}")
    return lines


def format_export_table(measurements: list[Measurement]) -> list[str]:
    """The exports apart: at each scale, wall time, kB sent and the peak of Python memory while making it."""
    exports = [m for m in measurements if is_export(m.page) and m.measured]
    if not exports:
        return []
    lines = [f"{'export':<24} {'role':<9} {'scale':>6} {'ms':>9} {'kB':>10} {'peak kB':>9}"]
    for m in exports:
        peak = "-" if m.peak_kb is None else f"{m.peak_kb:,.0f}"
        lines.append(
            f"{m.page:<24} {m.role:<9} {fmt_scale(m.scale):>6} {m.ms:>9.1f} {(m.bytes or 0) / 1000:>10,.1f} {peak:>9}"
        )
    return lines


def targets_legend() -> str:
    limits = ", ".join(f"{kind} {limit:g}x" for kind, limit in RATIO_LIMITS.items())
    return (
        f"Targets: no more queries at any scale than at the smallest; time at a larger scale over time at the "
        f"smallest at most {limits} (times under {FLOOR_MS:g} ms count as {FLOOR_MS:g} ms, so noise on tiny pages "
        f"fails nothing); no response over {MAX_BYTES:,} bytes; seed_demo --scale {SEED_LIMIT_SCALE} under "
        f"{SEED_LIMIT_SECONDS:.0f} s. Exports hold every visible row: their time and size are shown, not judged, "
        f"and their peak memory may be at most {EXPORT_MEMORY_RATIO:g}x the smallest scale's."
    )
