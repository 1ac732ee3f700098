"""The weekly forecast snapshot (issue 13): each Monday keeps every person's month, quarter and year, the forecast
page shows how the totals and the manager's call moved, and a manager enters their call in the rep's row.

Against the hand-computed company of tests/analytics/test_forecast.py (clock: Friday 15 May 2026, Q2)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.schedules import crontab
from django.core.management import call_command

from analytics import tasks
from analytics.forecast_snapshots import snapshot_missed, take_forecast_snapshot
from analytics.models import ForecastSnapshot, JobAttempt
from analytics.selectors.forecast import forecast_weeks
from pipeline.models import ForecastCall, ForecastCallChange
from pipeline.services.forecast_calls import record_forecast_call
from salesflow.celery import app
from tests.analytics.test_forecast import company, open_opportunity  # noqa: F401  (the fixture; open opportunities)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
Q2 = date(2026, 4, 1)
M = Decimal


def quarter(owner) -> tuple:
    snap = ForecastSnapshot.objects.get(owner_user=owner, period_type="quarter", period_start=Q2)
    return (snap.taken_on, snap.target, snap.won, snap.commit, snap.best_case, snap.pipeline, snap.call)


def sign_in(client, user) -> None:
    """Signs `user` in with the English interface (the default is Chinese)."""
    user.language = "en"
    user.save(update_fields=["language"])
    client.force_login(user)


def week_numbers(weeks) -> list[tuple]:
    return [(w.taken_on, w.target, w.won, w.commit, w.best_case, w.pipeline, w.gap, w.call) for w in weeks]


# The snapshot -------------------------------------------------------------------------------------------------------


def test_the_snapshot_keeps_each_persons_month_quarter_and_year_under_the_weeks_monday(org, company):  # noqa: F811
    written = take_forecast_snapshot(on=date(2026, 5, 13))  # a Wednesday: kept under Monday 11 May

    people = [org.manager_a, org.manager_b, org.rep_a1, org.rep_a2, org.rep_b1]  # no director
    assert written == 3 * len(people)
    assert set(ForecastSnapshot.objects.values_list("taken_on", flat=True)) == {date(2026, 5, 11)}
    assert set(ForecastSnapshot.objects.values_list("period_type", "period_start").distinct()) == {
        ("month", date(2026, 5, 1)),
        ("quarter", Q2),
        ("year", date(2026, 1, 1)),
    }
    assert quarter(org.rep_a1) == (date(2026, 5, 11), M(1000000), M(350000), M(200000), M(150000), M(80000), None)
    assert quarter(org.rep_a2) == (date(2026, 5, 11), None, M(0), M(100000), M(0), M(0), None)
    may = ForecastSnapshot.objects.get(owner_user=org.rep_a1, period_type="month")
    assert (may.target, may.won, may.best_case) == (M(7), M(0), M(150000))
    year = ForecastSnapshot.objects.get(owner_user=org.rep_a1, period_type="year")
    # The year adds the wins of Q1 (31 March) and Q3 (1 July: closed, though after the clock) and two more commits.
    assert (year.won, year.commit) == (M(550000), M(201887))


def test_taking_the_snapshot_twice_keeps_one_set_of_rows_with_the_latest_numbers(org, company):  # noqa: F811
    take_forecast_snapshot(on=date(2026, 5, 11))
    open_opportunity(org.rep_a2, "5000", "commit", date(2026, 6, 1))
    take_forecast_snapshot(on=date(2026, 5, 11))

    assert ForecastSnapshot.objects.count() == 15
    assert quarter(org.rep_a2)[3] == M(105000)


def test_an_archived_person_is_left_out(org, company):  # noqa: F811
    org.rep_a2.is_active = False
    org.rep_a2.save(update_fields=["is_active"])

    assert take_forecast_snapshot(on=date(2026, 5, 11)) == 12
    assert not ForecastSnapshot.objects.filter(owner_user=org.rep_a2).exists()


# How it moved -------------------------------------------------------------------------------------------------------


@pytest.fixture
def two_weeks(org, company):  # noqa: F811
    """Monday 4 May as the company stood; then manager_a calls rep_a1's quarter at 500,000 and rep_a2 commits 50,000
    more, and Monday 11 May keeps that."""
    take_forecast_snapshot(on=date(2026, 5, 4))
    record_forecast_call(called_by=org.manager_a, owner=org.rep_a1, period_type="quarter", period_start=Q2,
                         amount=M(500000))  # fmt: skip
    open_opportunity(org.rep_a2, "50000", "commit", date(2026, 6, 15))
    take_forecast_snapshot(on=date(2026, 5, 11))


def test_a_manager_sees_their_teams_totals_week_by_week(org, two_weeks):
    weeks = forecast_weeks(viewer=org.manager_a, period_type="quarter", start=Q2)

    assert week_numbers(weeks) == [
        (date(2026, 5, 4), M(1100000), M(350000), M(300000), M(150000), M(80000), M(450000), None),
        (date(2026, 5, 11), M(1100000), M(350000), M(350000), M(150000), M(80000), M(400000), M(500000)),
    ]


def test_each_viewer_sees_the_weeks_of_the_people_they_see(org, two_weeks):
    director = forecast_weeks(viewer=org.director, period_type="quarter", start=Q2)
    rep = forecast_weeks(viewer=org.rep_a2, period_type="quarter", start=Q2)
    team_b = forecast_weeks(viewer=org.director, period_type="quarter", start=Q2, team=org.team_b)

    assert [(w.target, w.won, w.commit) for w in director] == [(M(1600000), M(950000), M(300000)),
                                                               (M(1600000), M(950000), M(350000))]  # fmt: skip
    assert [(w.target, w.commit, w.call) for w in rep] == [(None, M(100000), None), (None, M(150000), None)]
    assert [(w.target, w.won) for w in team_b] == [(M(500000), M(600000))] * 2
    assert forecast_weeks(viewer=org.manager_b, period_type="quarter", start=Q2, owner=org.rep_b1)[0].won == M(600000)


def test_the_forecast_page_shows_each_week_then_today(client, org, two_weeks):
    sign_in(client, org.manager_a)
    html = client.get("/analytics/forecast/").content.decode()

    assert 'data-week="2026-05-04"' in html and 'data-week="2026-05-11"' in html
    assert html.index('data-week="2026-05-04"') < html.index('data-week="2026-05-11"')
    assert 'data-chart="lines"' in html
    import json
    import re

    data = json.loads(re.search(r'id="forecast-weeks-data" type="application/json">(.*?)</script>', html).group(1))
    assert data["labels"] == ["2026-05-04", "2026-05-11", "Now"]
    assert data["series"][2]["data"] == [650000.0, 700000.0, 700000.0]  # won + commit
    assert data["series"][3]["data"] == [None, 500000.0, 500000.0]  # the manager's call


def test_with_no_snapshot_yet_the_page_says_when_the_first_comes(client, org, company):  # noqa: F811
    sign_in(client, org.manager_a)
    html = client.get("/analytics/forecast/").content.decode()

    assert "the first is taken on Monday at 00:00" in html
    assert 'data-chart="lines"' not in html


# Entering the manager's call on the page ------------------------------------------------------------------------------

CALL_URL = "/analytics/forecast/call/"
Q2_QUERY = {"period_type": "quarter", "year": "2026", "period": "2"}


def test_a_manager_enters_a_call_in_a_reps_row_and_comes_back_to_the_same_page(client, org, company):  # noqa: F811
    sign_in(client, org.manager_a)
    form_html = client.get("/analytics/forecast/", Q2_QUERY).content.decode()
    assert f'data-call-form="{org.rep_a1.pk}"' in form_html
    assert f'data-call-form="{org.manager_a.pk}"' not in form_html  # nobody calls their own numbers

    response = client.post(CALL_URL, {**Q2_QUERY, "rep": org.rep_a1.pk, "amount": "420000", "note": "two deals"})

    assert response.status_code == 302
    assert response["Location"] == "/analytics/forecast/?period_type=quarter&year=2026&period=2"
    call = ForecastCall.objects.get()
    assert (call.owner_user, call.period_type, call.period_start, call.amount, call.note, call.called_by) == (
        org.rep_a1, "quarter", Q2, M(420000), "two deals", org.manager_a)  # fmt: skip
    assert ForecastCallChange.objects.filter(call=call).count() == 2  # amount and note, from nothing
    page = client.get(response["Location"]).content.decode()
    assert "¥420,000" in page and "Your call for" in page


def test_changing_the_call_keeps_its_history(client, org, company):  # noqa: F811
    sign_in(client, org.manager_a)
    client.post(CALL_URL, {**Q2_QUERY, "rep": org.rep_a1.pk, "amount": "420000"})
    client.post(CALL_URL, {**Q2_QUERY, "rep": org.rep_a1.pk, "amount": "380000"})

    amounts = ForecastCallChange.objects.filter(field="amount").order_by("pk").values_list("old", "new")
    assert [tuple(Decimal(v) if v is not None else None for v in pair) for pair in amounts] == [
        (None, M(420000)),
        (M(420000), M(380000)),
    ]


@pytest.mark.parametrize("amount,message", [("-1", "greater than or equal to 0"), ("lots", "Enter a number")])
def test_a_bad_amount_comes_back_in_the_reps_row_and_writes_nothing(client, org, company, amount, message):  # noqa: F811
    sign_in(client, org.manager_a)
    response = client.post(CALL_URL, {**Q2_QUERY, "rep": org.rep_a1.pk, "amount": amount})

    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and f'value="{amount}" aria-invalid="true"' in html
    assert not ForecastCall.objects.exists()


def test_a_rep_cannot_call_and_a_manager_cannot_call_themselves(client, org, company):  # noqa: F811
    sign_in(client, org.rep_a1)
    assert "data-call-form" not in client.get("/analytics/forecast/").content.decode()
    refused = client.post(CALL_URL, {**Q2_QUERY, "rep": org.rep_a1.pk, "amount": "1"})
    assert refused.status_code == 400
    assert "Only a manager or a director makes a forecast call." in refused.content.decode()

    sign_in(client, org.manager_a)
    itself = client.post(CALL_URL, {**Q2_QUERY, "rep": org.manager_a.pk, "amount": "1"})
    assert itself.status_code == 400
    assert "judgment of someone else" in itself.content.decode()
    assert not ForecastCall.objects.exists()


def test_a_rep_of_another_team_answers_404(client, org, company):  # noqa: F811
    sign_in(client, org.manager_a)

    assert client.post(CALL_URL, {**Q2_QUERY, "rep": org.rep_b1.pk, "amount": "1"}).status_code == 404
    assert client.get(CALL_URL).status_code == 405
    assert not ForecastCall.objects.exists()


@pytest.mark.parametrize("weeks", [1, 10])
def test_the_page_runs_the_same_queries_whatever_the_number_of_weeks_and_reps(
    client,
    org,
    company,  # noqa: F811
    weeks,
    django_assert_num_queries,
):
    for i in range(weeks):
        UserFactory(team=org.team_a)
        take_forecast_snapshot(on=date(2026, 4, 6) + timedelta(weeks=i))
    sign_in(client, org.manager_a)

    with django_assert_num_queries(7):  # session, user, teams, people, totals, the page of reps, the weeks
        assert client.get("/analytics/forecast/").status_code == 200


# Scheduling ---------------------------------------------------------------------------------------------------------


def test_beat_takes_the_snapshot_on_monday_at_midnight_company_time(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["forecast-snapshot"]

    assert entry["task"] == tasks.take_forecast_snapshot_task.name
    assert entry["task"] in app.tasks
    assert entry["schedule"] == crontab(hour=0, minute=0, day_of_week="mon")
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"


def test_the_task_is_recorded_and_safe_to_repeat(celery_eager, org, company):  # noqa: F811
    monday = datetime(2026, 5, 18, 0, 0, tzinfo=SHANGHAI)
    with time_machine.travel(monday, tick=False):
        tasks.take_forecast_snapshot_task.delay()
        tasks.take_forecast_snapshot_task.delay()

    assert ForecastSnapshot.objects.filter(taken_on=date(2026, 5, 18)).count() == 15
    assert list(JobAttempt.objects.values_list("job", "status")) == [("forecast_snapshot", "succeeded")] * 2


def test_the_catch_up_tick_takes_a_missed_snapshot_once(celery_eager, org, company):  # noqa: F811
    monday = datetime(2026, 5, 18, 0, 0, tzinfo=SHANGHAI)
    assert not snapshot_missed(now=monday + timedelta(minutes=29))
    assert snapshot_missed(now=monday + timedelta(minutes=31))
    with time_machine.travel(monday + timedelta(hours=3), tick=False):
        tasks.catch_up_nightly_analytics_task.delay()
        tasks.catch_up_nightly_analytics_task.delay()

    assert ForecastSnapshot.objects.filter(taken_on=date(2026, 5, 18)).count() == 15
    assert JobAttempt.objects.filter(job="forecast_snapshot").count() == 1
    assert not snapshot_missed(now=monday + timedelta(hours=4))


def test_the_command_takes_the_snapshot_and_refuses_a_bad_date(org, company, capsys):  # noqa: F811
    call_command("snapshot_forecast", "--on", "2026-05-12")
    assert "15" in capsys.readouterr().out
    assert ForecastSnapshot.objects.filter(taken_on=date(2026, 5, 11)).count() == 15

    from django.core.management import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("snapshot_forecast", "--on", "12/05/2026")
