"""The director's Jobs page: each scheduled job's last success, latest run and failures, recent failed runs and this
week's digests; 404 for anyone else, in both languages, the same queries whatever the number of runs."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from analytics import jobs
from analytics.models import DigestDelivery, JobAttempt
from analytics.selectors.jobs import jobs_overview
from salesflow.navigation import nav_links
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 18, 9, 0, tzinfo=SHANGHAI)  # Monday
WEEK = date(2026, 5, 18)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def run(job: str, key: str = "", *, status: str, at: datetime, error: str = "") -> JobAttempt:
    finished = at if status in ("succeeded", "failed") else None
    return JobAttempt.objects.create(
        job=job, key=key, status=status, created_at=at, started_at=at, finished_at=finished, error=error
    )


@pytest.fixture
def history(org, clock):
    """Yesterday's and today's nightly runs (today's untouched job failed twice, its matrix 2026 worker died, the
    stale job was lost from the queue), digest ticks, and this week's digests: one sent, one failed."""
    for job, key in jobs.nightly_jobs(on=WEEK):
        run(job, key, status="succeeded", at=NOW - timedelta(days=1, hours=8))
    run("compute_matrix", "2025", status="succeeded", at=NOW - timedelta(hours=8))
    run("compute_matrix", "2026", status="running", at=NOW - timedelta(hours=8))
    run("flag_untouched", status="failed", at=NOW - timedelta(hours=8), error="OperationalError: server closed")
    run("flag_untouched", status="failed", at=NOW - timedelta(hours=7), error="OperationalError: server closed")
    run("flag_stale", status="failed", at=NOW - timedelta(hours=7, minutes=40), error=jobs.LOST)
    run("weekly_digests", status="succeeded", at=NOW - timedelta(minutes=45))
    run("weekly_digests", status="running", at=NOW - timedelta(minutes=1))
    sent = UserFactory(username="sent_user", email="a@example.com")
    failed = UserFactory(username="failed_user", email="b@example.com")
    DigestDelivery.objects.create(user=sent, week_start=WEEK, status="sent", sent_at=timezone.now(), attempts=1)
    DigestDelivery.objects.create(
        user=failed, week_start=WEEK, status="failed", attempts=3, last_error="SMTPServerDisconnected: closed"
    )
    return org


def cell(html: str, job: str, col: str) -> str:
    match = re.search(rf'<tr data-job="{job}">.*?data-col="{col}">(.*?)</td>', html, re.DOTALL)
    assert match, f"no {col} cell for {job}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_the_director_sees_each_jobs_last_success_latest_run_and_failures(client, history):
    history.director.language = "en"
    history.director.save()
    client.force_login(history.director)

    response = client.get(reverse("analytics:jobs"))

    html = response.content.decode()
    assert response.status_code == 200
    rows = [(j.label, j.latest_status, j.failures) for j in response.context["overview"].jobs]
    assert rows == [
        ("Nightly analytics (enqueues the jobs below)", "", 0),
        ("CV/PV matrix 2026", "interrupted", 0),
        ("CV/PV matrix 2025", "succeeded", 0),
        ("Untouched target accounts", "failed", 2),
        ("Stale opportunities", "failed", 1),
        ("Company-wide sums (months that are over, territory)", "succeeded", 0),
        ("Catch-up of missed nightly jobs", "", 0),
        ("Weekly digests (enqueues those due)", "running", 0),
        ("Daily reminders (enqueues those due)", "", 0),
    ]
    assert cell(html, "compute_matrix-2025", "last-success") == "2026-05-18 01:00"
    assert cell(html, "flag_untouched", "last-success") == "2026-05-17 01:00"
    assert cell(html, "catch_up", "last-success") == "never"
    assert cell(html, "flag_stale", "latest").startswith("Failed 2026-05-18 01:20 Never started: lost from the queue")
    assert cell(html, "compute_matrix-2026", "latest") == "Interrupted (its worker stopped) 2026-05-18 01:00"
    assert cell(html, "flag_untouched", "failures") == "2"
    assert [(f.label, f.at.astimezone(SHANGHAI).hour) for f in response.context["overview"].failures] == [
        ("Untouched target accounts", 2),
        ("Stale opportunities", 1),
        ("Untouched target accounts", 1),
    ]
    digests = response.context["overview"].digests
    assert (digests.week_start, digests.sent, digests.sending, digests.failed) == (WEEK, 1, 0, 1)
    assert [(f.username, f.attempts, f.error) for f in digests.failures] == [
        ("failed_user", 3, "SMTPServerDisconnected: closed")
    ]
    assert digests.not_sent == 1  # the failed user (the org's people have no email address)


def test_the_page_is_in_chinese_by_default(client, history):
    client.force_login(history.director)

    html = client.get(reverse("analytics:jobs")).content.decode()

    assert "<h1>任务</h1>" in html
    assert "CV/PV 矩阵 2026" in html
    assert "Last success" not in html


@pytest.mark.parametrize("viewer", ["manager_a", "rep_a1"])
def test_the_page_answers_404_to_anyone_but_a_director(client, org, viewer):
    client.force_login(getattr(org, viewer))

    assert client.get(reverse("analytics:jobs")).status_code == 404


def test_the_page_asks_a_visitor_to_sign_in(client, db):
    response = client.get(reverse("analytics:jobs"))

    assert (response.status_code, response.url.split("?")[0]) == (302, reverse("login"))


def test_only_the_director_has_the_jobs_link(rf, org):
    def labels(user) -> list[str]:
        request = rf.get("/")
        request.user = user
        with translation.override("en"):
            return [link.label for link in nav_links(request)]

    assert "Jobs" in labels(org.director)
    assert "Jobs" not in labels(org.manager_a)
    assert "Jobs" not in labels(org.rep_a1)


@pytest.mark.parametrize("scale", [1, 10])
def test_the_overview_runs_six_queries_whatever_the_number_of_runs(org, clock, django_assert_num_queries, scale):
    for day in range(scale):
        for job, key in jobs.nightly_jobs(on=WEEK):
            run(job, key, status="succeeded", at=NOW - timedelta(days=day))
            run(job, key, status="failed", at=NOW - timedelta(days=day), error="boom")

    with django_assert_num_queries(6):
        overview = jobs_overview(now=NOW)

    assert [j.failures for j in overview.jobs if j.job == "flag_stale"] == [min(scale, 8)]
