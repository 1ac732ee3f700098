"""Company calendar: periods and years are local dates in settings.TIME_ZONE, whoever is looking."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from pipeline.periods import period_end, period_start


def company_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def today() -> date:
    """Today's date in the company's time zone."""
    return timezone.localdate(timezone=company_tz())


def local_date(moment: datetime) -> date:
    return timezone.localdate(moment, timezone=company_tz())


def day_start(day: date) -> datetime:
    """The aware moment the company's day `day` begins."""
    return datetime.combine(day, time.min, tzinfo=company_tz())


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[start, end) of a company year as aware datetimes."""
    return day_start(date(year, 1, 1)), day_start(date(year + 1, 1, 1))


def period_bounds(period_type: str, start: date) -> tuple[datetime, datetime]:
    """[start, end) of the period of `period_type` starting on `start`, as aware datetimes."""
    return day_start(start), day_start(period_end(period_type, start))


def current_quarter_bounds(*, on: date | None = None) -> tuple[datetime, datetime]:
    return period_bounds("quarter", period_start("quarter", on or today()))
