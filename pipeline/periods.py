"""Calendar periods of targets and reports: a period is [start, end) in dates."""

from __future__ import annotations

from datetime import date, timedelta


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
