"""The weekly forecast snapshot (issue 13): every Monday at 00:00 (company time) each active person's forecast of the
current month, quarter and year is kept as ForecastSnapshot rows, so the forecast page can show how the numbers and
the manager's call moved over a period.

The snapshot of a week is replaced as a whole in one transaction, so taking it twice (a redelivered task, the catch-up
tick, the command run by hand) leaves one set of rows. Taken late (the broker lost the Monday task), it keeps the
numbers of when it ran, under that week's Monday.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from analytics.models import ForecastSnapshot
from analytics.selectors._common import _money
from analytics.selectors.forecast import FORECAST_PERIOD_TYPES, with_forecast
from core.calendar import company_tz, local_date, period_end, period_start, week_start_of

# The catch-up tick takes a missed snapshot once the Monday task had this long to run.
SNAPSHOT_GRACE = timedelta(minutes=30)


@transaction.atomic
def take_forecast_snapshot(*, on: date) -> int:
    """Replaces the snapshot of the week of `on` (kept under its Monday) with each active non-director's forecast of
    the month, the quarter and the year `on` falls in; returns how many rows it wrote. Two queries per period type
    plus the delete: its cost grows with the number of people, not of opportunities."""
    week = week_start_of(on)
    people = User.objects.filter(is_active=True).exclude(role=User.Role.DIRECTOR)
    ForecastSnapshot.objects.filter(taken_on=week).delete()
    now, rows = timezone.now(), []
    for period_type in FORECAST_PERIOD_TYPES:
        start = period_start(period_type, on)
        end = period_end(period_type, start) - timedelta(days=1)
        numbers = with_forecast(people, period_type=period_type, start=start, end=end).values_list(
            "pk", "target", "won", "commit", "best_case", "pipeline", "call"
        )
        rows += [
            ForecastSnapshot(
                taken_on=week,
                period_type=period_type,
                period_start=start,
                owner_user_id=pk,
                target=None if target is None else _money(target),
                won=_money(won),
                commit=_money(commit),
                best_case=_money(best_case),
                pipeline=_money(pipeline),
                call=None if call is None else _money(call),
                taken_at=now,
            )
            for pk, target, won, commit, best_case, pipeline, call in numbers
        ]
    ForecastSnapshot.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def snapshot_due_at(day: date) -> datetime:
    """When the snapshot of the week of `day` is due: the beat entry's time on that week's Monday."""
    schedule = settings.CELERY_BEAT_SCHEDULE["forecast-snapshot"]["schedule"]
    monday = week_start_of(day)
    return datetime.combine(monday, time(min(schedule.hour), min(schedule.minute)), tzinfo=company_tz())


def snapshot_missed(*, now: datetime) -> bool:
    """Whether this week's snapshot is due since SNAPSHOT_GRACE and was not taken; one query."""
    week = week_start_of(local_date(now))
    if now < snapshot_due_at(week) + SNAPSHOT_GRACE:
        return False
    return not ForecastSnapshot.objects.filter(taken_on=week).exists()
