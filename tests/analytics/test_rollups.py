"""Monthly rollups (analytics.rollups): the nightly job sums the months that are over, a director's win/loss and
activity read those sums plus the live days and show exactly what the rows alone give, and the PostgreSQL triggers
drop a month from the rollups in the transaction that changes one of its rows, whatever wrote it."""

from __future__ import annotations

import itertools
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from analytics.models import ClosedMonthSum, RolledMonth, VisitMonthSum
from analytics.rollups import roll_up_months
from analytics.selectors.activity import visits_vs_won_by_team
from analytics.selectors.winloss import WINLOSS_DIMENSIONS, win_loss_by
from pipeline.models import Opportunity, Visit
from tests.analytics.conftest import at, done_visit
from tests.analytics.test_winloss import closed
from tests.e2e.helpers import install_default_pipeline
from tests.factories import AccountFactory, CompetitorFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="rollups and their triggers: PostgreSQL")

REASONS = ["price", "timing", "budget", "other"]
SOURCES = ["referral", "cold_visit", ""]
STAGES = ["prep", "needs", "implement"]
# Periods a director picks: the default year to date, whole months, months cut in the middle, across a year's end.
PERIODS = [
    (date(2026, 1, 1), date(2026, 5, 15)),
    (date(2026, 2, 1), date(2026, 3, 31)),
    (date(2026, 2, 14), date(2026, 4, 3)),
    (date(2025, 11, 20), date(2026, 5, 31)),
    (date(2026, 3, 2), date(2026, 3, 4)),
]


@pytest.fixture
def company(org, now):
    """Wins and losses and completed visits of four people in two teams, every month from November 2025 to the clock's
    May 2026, with reasons, sources, furthest stages, untouched causes and competitors in play varied."""
    competitors = [CompetitorFactory(name=name) for name in ("X", "Y", "Z")]
    reps = [org.rep_a1, org.rep_a2, org.rep_b1, org.manager_b]
    accounts = {rep.pk: AccountFactory(owner=rep) for rep in reps}
    months = [(2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3), (2026, 4), (2026, 5)]
    for i, ((year, month), rep) in enumerate(itertools.product(months, reps)):
        lost = i % 3 != 0
        closed(
            rep,
            "lost" if lost else "won",
            str(1000 * (i + 1)),
            at(year, month, 1 + i % 14, hour=0 if i % 5 == 0 else 15),  # midnight: the month's first moments
            stage=STAGES[i % 3],
            competitors=competitors[: i % 4],
            loss_reason=REASONS[i % 4] if lost else "",
            source=SOURCES[i % 3],
            is_untouched_loss=lost and i % 4 == 1,
            untouched_cause="no_plan" if lost and i % 4 == 1 else "",
        )
        for k in range(i % 3 + 1):
            done_visit(account=accounts[rep.pk], done_at=at(year, month, 2 + k * 9), owner=rep)
    return org


def shown(org, start: date, end: date):
    return (
        win_loss_by(viewer=org.director, dimensions=list(WINLOSS_DIMENSIONS), start=start, end=end),
        visits_vs_won_by_team(viewer=org.director, start=start, end=end),
    )


def live(org, start: date, end: date):
    """What the rows alone give: the same reads with no month rolled up (undone at once)."""
    with transaction.atomic():
        RolledMonth.objects.all().delete()
        rows = shown(org, start, end)
        transaction.set_rollback(True)
    return rows


def rolled() -> set[tuple[str, date]]:
    return set(RolledMonth.objects.values_list("kind", "month"))


def test_the_job_sums_each_month_that_is_over_once(company):
    assert roll_up_months() == 12  # November to April, of both kinds; May is the clock's month

    assert rolled() == {(kind, date(y, m, 1)) for kind in ("closed", "visits") for y, m in
                        [(2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3), (2026, 4)]}  # fmt: skip
    march = ClosedMonthSum.objects.filter(month=date(2026, 3, 1))
    closed_in_march = Opportunity.objects.filter(closed_at__gte=at(2026, 3, 1, 0), closed_at__lt=at(2026, 4, 1, 0))
    for dimension in ("reason", "source", "owner", "stage"):
        assert sum(row.won + row.lost for row in march.filter(dimension=dimension)) == closed_in_march.count() == 4
    assert sum(row.won_amount for row in march.filter(dimension="owner")) == sum(
        o.amount for o in closed_in_march.filter(status="won")
    )
    assert sum(VisitMonthSum.objects.filter(month=date(2026, 3, 1)).values_list("done", flat=True)) == (
        Visit.objects.done().filter(done_at__gte=at(2026, 3, 1, 0), done_at__lt=at(2026, 4, 1, 0)).count()
    )

    with CaptureQueriesContext(connection) as queries:
        assert roll_up_months() == 0  # nothing new: nothing summed again
    # savepoint, two locks, the first closing and visit, each kind's rolled-up months, release: no sum written
    assert len(queries.captured_queries) == 8
    assert ClosedMonthSum.objects.filter(month=date(2026, 5, 1)).count() == 0


@pytest.mark.parametrize(("start", "end"), PERIODS)
def test_a_directors_win_loss_and_activity_read_from_the_rollups_equal_the_rows(company, start, end):
    before = shown(company, start, end)
    roll_up_months()

    assert shown(company, start, end) == live(company, start, end) == before
    rows, teams = before
    assert sum(row.won + row.lost for row in rows["reason"]) > 0
    assert sum(team.done_visits for team in teams) > 0


CHANGES = {
    "amount": lambda o: Opportunity.objects.filter(pk=o.pk).update(amount=o.amount + Decimal(1)),
    "loss reason": lambda o: Opportunity.objects.filter(pk=o.pk).update(loss_reason="other"),
    "owner": lambda o: Opportunity.objects.filter(pk=o.pk).update(owner=o.owner.team.manager),
    "reopened": lambda o: Opportunity.objects.filter(pk=o.pk).update(
        status="open", closed_at=None, loss_reason="", is_untouched_loss=False, untouched_cause="", lost_to=None
    ),
    "competitor added": lambda o: o.competitors.add(CompetitorFactory(name="W")),
    "competitors cleared": lambda o: o.competitors.clear(),
    "deleted": lambda o: o.delete(),
    "closed again later": lambda o: Opportunity.objects.filter(pk=o.pk).update(closed_at=at(2026, 4, 20)),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_to_a_closed_opportunity_drops_its_months_and_the_pages_show_it_at_once(company, change):
    roll_up_months()
    opportunity = (
        Opportunity.objects.lost()
        .filter(closed_at__gte=at(2026, 3, 1, 0), closed_at__lt=at(2026, 4, 1, 0))
        .exclude(competitors=None)
        .first()
    )
    before = rolled()

    CHANGES[change](opportunity)

    gone = {("closed", date(2026, 3, 1))} | (
        {("closed", date(2026, 4, 1))} if change == "closed again later" else set()
    )
    assert rolled() == before - gone
    for start, end in PERIODS:
        assert shown(company, start, end) == live(company, start, end)
    assert roll_up_months() == len(gone)  # the next night sums the changed months again
    assert rolled() == before


def test_a_change_that_the_sums_do_not_read_keeps_the_month(company):
    roll_up_months()
    before = rolled()
    opportunity = Opportunity.objects.filter(closed_at__lt=at(2026, 4, 1, 0)).first()

    Opportunity.objects.filter(pk=opportunity.pk).update(name="新名字", probability=90)
    Opportunity.objects.filter(status="open").update(amount=1)  # open ones are in no month

    assert rolled() == before


def test_a_visit_logged_changed_or_deleted_in_a_past_month_drops_that_month(company, org):
    roll_up_months()
    before = rolled()
    account = AccountFactory(owner=org.rep_a1)

    done_visit(account=account, done_at=at(2026, 1, 5), owner=org.rep_a1)  # logged late
    assert rolled() == before - {("visits", date(2026, 1, 1))}

    visit = Visit.objects.done().filter(done_at__gte=at(2026, 2, 1, 0), done_at__lt=at(2026, 3, 1, 0)).first()
    Visit.objects.filter(pk=visit.pk).update(done_at=at(2026, 3, 3))  # moved from February to March
    assert rolled() == before - {("visits", date(2026, m, 1)) for m in (1, 2, 3)}

    Visit.objects.filter(done_at__gte=at(2025, 12, 1, 0), done_at__lt=at(2026, 1, 1, 0)).delete()
    assert rolled() == before - {("visits", date(y, m, 1)) for y, m in [(2025, 12), (2026, 1), (2026, 2), (2026, 3)]}
    assert {kind for kind, _month in before - rolled()} == {"visits"}  # closed months untouched by visits
    for start, end in PERIODS:
        assert shown(org, start, end) == live(org, start, end)


@pytest.fixture
def pipeline_installed(transactional_db):
    return install_default_pipeline()  # an earlier transactional test may have emptied every table


@pytest.mark.django_db(transaction=True)
def test_a_writer_in_flight_when_the_job_starts_is_summed_after_it_commits(pipeline_installed, company):
    """The job locks the tables it sums: a change not yet committed when it starts makes it wait, and the sums it
    then writes include the change (without the lock it would mark March with the old amount)."""
    opportunity = Opportunity.objects.filter(closed_at__gte=at(2026, 3, 1, 0), closed_at__lt=at(2026, 4, 1, 0)).first()
    changed, release = threading.Event(), threading.Event()

    def writer():
        try:
            with transaction.atomic():
                Opportunity.objects.filter(pk=opportunity.pk).update(amount=Decimal("123456.00"))
                changed.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert changed.wait(10)
    job = threading.Thread(target=lambda: (roll_up_months(), connection.close()))
    job.start()
    job.join(0.5)
    assert job.is_alive()  # waiting for the writer
    release.set()
    thread.join(10)
    job.join(10)

    assert not job.is_alive()
    assert ("closed", date(2026, 3, 1)) in rolled()
    for start, end in PERIODS:
        assert shown(company, start, end) == live(company, start, end)


def test_the_bench_reference_reads_as_many_rows_as_the_roll_up_stores(company):
    """`make bench-analytics` holds the roll-up to a plain SQL read of the same sums: the two must agree on the rows."""
    from scripts import bench_analytics

    roll_up_months()

    assert bench_analytics.rollup_reference() == ClosedMonthSum.objects.count() + VisitMonthSum.objects.count() > 0


def test_a_team_or_person_chosen_a_manager_and_a_former_director_never_read_the_company_sums(company):
    """The sums are the whole company's: a director narrowed to a team or a person, a manager and a rep read their
    own rows, the same before and after the roll-up; a director who has left sees nothing either way."""
    start, end = PERIODS[0]
    narrowed = [
        (company.director, {"team": company.team_a}),
        (company.director, {"owner": company.rep_b1}),
        (company.manager_a, {}),
        (company.rep_a1, {}),
    ]
    read = lambda viewer, scope: win_loss_by(  # noqa: E731
        viewer=viewer, dimensions=list(WINLOSS_DIMENSIONS), start=start, end=end, **scope
    )
    before = [read(viewer, scope) for viewer, scope in narrowed]
    roll_up_months()

    for (viewer, scope), rows in zip(narrowed, before, strict=True):
        with CaptureQueriesContext(connection) as queries:
            assert read(viewer, scope) == rows
        assert not any('"analytics_' in query["sql"] for query in queries.captured_queries), (viewer.username, scope)
    assert sum(row.won + row.lost for row in before[0]["reason"]) < sum(
        row.won + row.lost for row in shown(company, start, end)[0]["reason"]
    )  # team A is part of the company
    company.director.is_active = False
    assert all(rows == [] for rows in read(company.director, {}).values())
