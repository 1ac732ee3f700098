"""The company calendar: today, weeks, periods and years as local dates in settings.TIME_ZONE, whoever is looking,
and each user's own zone for what is displayed or sent at a local hour.

A period is [start, end) in dates; its bounds as aware datetimes start at 00:00 company time.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


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


# --- periods -----------------------------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    return date(day.year + month_index // 12, month_index % 12 + 1, 1)


def period_start(period_type: str, day: date) -> date:
    """The first day of the period of `period_type` ("year", "quarter", "month", "week") containing `day`."""
    if period_type == "year":
        return date(day.year, 1, 1)
    if period_type == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if period_type == "month":
        return date(day.year, day.month, 1)
    if period_type == "week":
        return day - timedelta(days=day.weekday())
    raise ValueError(f"unknown period type {period_type!r}")


def period_end(period_type: str, start: date) -> date:
    """The first day after the period of `period_type` that starts on `start`."""
    if period_type == "year":
        return date(start.year + 1, 1, 1)
    if period_type == "quarter":
        return _add_months(start, 3)
    if period_type == "month":
        return _add_months(start, 1)
    if period_type == "week":
        return start + timedelta(days=7)
    raise ValueError(f"unknown period type {period_type!r}")


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[start, end) of a company year as aware datetimes."""
    return day_start(date(year, 1, 1)), day_start(date(year + 1, 1, 1))


def period_bounds(period_type: str, start: date) -> tuple[datetime, datetime]:
    """[start, end) of the period of `period_type` starting on `start`, as aware datetimes."""
    return day_start(start), day_start(period_end(period_type, start))


def current_quarter_bounds(*, on: date | None = None) -> tuple[datetime, datetime]:
    return period_bounds("quarter", period_start("quarter", on or today()))


# --- weeks (Monday to Sunday) ------------------------------------------------------------------------------------


def week_start_of(day: date) -> date:
    """The Monday of the week containing `day`."""
    return period_start("week", day)


def week_start_of_moment(moment: datetime) -> date:
    """The Monday of the company week in which `moment` falls."""
    return week_start_of(local_date(moment))


def week_bounds(week_start: date) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) of a week in the company's time zone, as aware datetimes."""
    return period_bounds("week", week_start)


def week_from(value: Any, *, today: date) -> date:
    """The Monday of the week containing the ISO date `value`; the week of `today` when it is missing or not a date."""
    try:
        day = date.fromisoformat(value) if value else today
    except (TypeError, ValueError):
        day = today
    return week_start_of(day)


# --- the user's own zone -----------------------------------------------------------------------------------------


@cache
def known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def user_time_zone(user: Any) -> ZoneInfo:
    """The user's time zone, or the company's when theirs is not a known zone."""
    if getattr(user, "time_zone", None) in known_time_zones():
        return ZoneInfo(user.time_zone)
    return company_tz()


def user_today(user: Any) -> date:
    """Today's date in the user's own time zone."""
    return timezone.localdate(timezone=user_time_zone(user))


def user_day(user: Any, now: datetime | None = None) -> tuple[date, datetime]:
    """The user's own date at `now` (default: now) and the aware moment that day ends in their zone."""
    zone = user_time_zone(user)
    local = timezone.localtime(now or timezone.now(), zone)
    return local.date(), datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=zone)
