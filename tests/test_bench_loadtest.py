"""`make loadtest`'s rules (scripts/loadtest_targets.py) on made-up Locust statistics, and its Locust users, without
load."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.loadtest_targets import Phase, RequestStats, format_phases, load_failures, parse_stats

ROOT = Path(__file__).resolve().parent.parent


def stats(requests=600, failures=0, rps=10.0, p50=40.0, p95=100.0, p99=150.0, name="Aggregated"):
    return RequestStats(name=name, requests=requests, failures=failures, rps=rps, p50=p50, p95=p95, p99=p99)


def phase(label="mix", users=20, cpu_seconds=12.0, **total):
    return Phase(label=label, users=users, seconds=60, total=stats(**total), cpu_seconds=cpu_seconds)


def good_run():
    """Single user p95 100 ms; at 20 users p95 300 ms; a mix request 20 ms of CPU, a /login/ request 5 ms."""
    single = phase(users=1, p95=100.0)
    phases = [
        phase(users=20, p95=300.0, cpu_seconds=12.0),
        phase(label="login page", users=20, p95=20.0, cpu_seconds=3.0),
        phase(users=50, p95=900.0, cpu_seconds=12.0),
        phase(label="login page", users=50, p95=30.0, cpu_seconds=3.0),
    ]
    return single, phases


def test_a_run_within_every_target_passes():
    assert load_failures(*good_run()) == []


def test_any_failed_request_fails_the_run():
    single, phases = good_run()
    phases[3].total.failures = 2

    assert load_failures(single, phases) == ["login page at 50 users: 2 of 600 requests failed"]


def test_the_p95_at_twenty_users_may_be_at_most_three_times_the_single_user_p95():
    single, phases = good_run()
    phases[0].total.p95 = 301.0

    assert load_failures(single, phases) == [
        "mix at 20 users: p95 301 ms is 3.0x the single-user p95 100 ms (limit 3x)"
    ]


def test_the_p95_at_fifty_users_is_shown_but_not_judged():
    single, phases = good_run()
    phases[2].total.p95 = 10_000.0

    assert load_failures(single, phases) == []


def test_a_mix_request_may_cost_at_most_four_login_requests():
    single, phases = good_run()
    phases[2].cpu_seconds = 12.1  # 20.2 ms per request against 5 ms

    assert load_failures(single, phases) == [
        "mix at 50 users: a request costs 20.2 ms of server CPU, 4.0x a /login/ request (5.0 ms; limit 4x)"
    ]


def test_an_unmeasured_cost_fails_rather_than_passes():
    single, phases = good_run()
    phases[1].cpu_seconds = None

    assert load_failures(single, phases) == [
        "mix at 20 users: the server's CPU time could not be measured, so its cost is unknown"
    ]


def test_a_phase_without_requests_fails():
    single, phases = good_run()
    single.total = stats(requests=0, rps=0.0, p50=None, p95=None, p99=None)

    assert load_failures(single, phases) == ["mix at 1 user: no request was answered"]


def test_locust_statistics_are_read_from_its_csv_rows():
    header = ["Type", "Name", "Request Count", "Failure Count", "Requests/s", "50%", "95%", "99%"]
    rows = [
        dict(zip(header, ["GET", "home", "30", "0", "3.1", "40", "90", "120"], strict=True)),
        dict(zip(header, ["POST", "visit create (API)", "25", "1", "2.5", "N/A", "N/A", "N/A"], strict=True)),
        dict(zip(header, ["", "Aggregated", "55", "1", "5.6", "42", "95", "130"], strict=True)),
    ]

    total, per_request = parse_stats(rows)

    assert total == RequestStats("Aggregated", 55, 1, 5.6, 42.0, 95.0, 130.0)
    assert per_request == [
        RequestStats("home", 30, 0, 3.1, 40.0, 90.0, 120.0),
        RequestStats("visit create (API)", 25, 1, 2.5, None, None, None),
    ]


def test_the_table_shows_the_cost_of_a_mix_request_in_login_requests():
    lines = format_phases(*good_run())

    assert " ".join(lines[3].split()) == "mix 20 60 600 0 10.0 40 300 150 20.0 4.0"
    assert " ".join(lines[4].split()) == "login page 20 60 600 0 10.0 40 20 150 5.0 -"


def test_the_locustfile_defines_the_mix_of_issue_ten():
    # In a child process: importing Locust patches the standard library with gevent for the whole process.
    code = (
        "import json, scripts.locustfile as f; "
        "tasks = {t.__name__: w for t, w in __import__('collections').Counter(f.MixUser.tasks).items()}; "
        "print(json.dumps({'weights': f.MIX_WEIGHTS, 'tasks': tasks, 'login': len(f.LoginPageUser.tasks), "
        "'wait': [f.MixUser.wait_time(None) <= 1.5, f.think_time('0')(None)]}))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["weights"] == {"home": 30, "board": 20, "account page": 25, "visit create (API)": 25}
    assert loaded["tasks"] == {"home": 30, "board": 20, "account_page": 25, "visit_create": 25}
    assert loaded["login"] == 1
    assert loaded["wait"] == [True, 0]


def test_the_locustfile_plans_its_visits_with_the_purpose_the_load_test_removes():
    from scripts.loadtest import LOAD_PURPOSE

    text = (ROOT / "scripts" / "locustfile.py").read_text(encoding="utf-8")
    assert f'LOAD_PURPOSE = "{LOAD_PURPOSE}"' in text and '"purpose": LOAD_PURPOSE' in text


@pytest.mark.django_db
def test_the_visits_the_mix_planned_are_removed_after_the_run(org):
    from datetime import timedelta

    from django.utils import timezone

    from pipeline.models import Visit
    from scripts.loadtest import LOAD_PURPOSE, remove_load_visits
    from tests.factories import AccountFactory, VisitFactory

    since = timezone.now()
    account = AccountFactory(owner=org.rep_a1)
    planned = [VisitFactory(account=account, owner=org.rep_a1, purpose=LOAD_PURPOSE) for _ in range(3)]
    kept = [
        VisitFactory(account=account, owner=org.rep_a1, purpose="客户的真实拜访"),
        VisitFactory(account=account, owner=org.rep_a1, purpose=LOAD_PURPOSE, created_at=since - timedelta(days=1)),
    ]

    assert remove_load_visits(since=since) == len(planned)
    assert sorted(Visit.objects.values_list("pk", flat=True)) == sorted(visit.pk for visit in kept)
