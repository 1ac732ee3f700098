"""A user's visits as an iCalendar feed (RFC 5545) that a phone or desktop calendar subscribes to: one VEVENT per
visit with the account, purpose and a link to the visit, times in the user's own zone (TZID with its VTIMEZONE).
Runs no query: the caller passes the visits with their account and contact loaded."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from pipeline.models import Visit

VISIT_LENGTH = timedelta(hours=1)  # a visit has a start only; calendars need an end


def visit_uid(visit: Visit) -> str:
    """The event's UID: the same for a visit whatever changes on it, so calendars update it instead of adding one."""
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "salesflow"
    return f"visit-{visit.pk}@{host}"


def build_calendar(*, visits: Iterable[Visit], zone: ZoneInfo, name: str, now: datetime | None = None) -> bytes:
    """The feed as iCalendar bytes: a VEVENT per visit, its times in `zone`, the VTIMEZONE added."""
    stamp = now or timezone.now()
    site = settings.SITE_URL.rstrip("/")
    calendar = Calendar()
    calendar.add("prodid", "-//SalesFlow//Visits//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", zone.key)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    for visit in visits:
        start = visit.planned_at.astimezone(zone)
        url = f"{site}{visit.get_absolute_url()}"
        event = Event()
        event.add("uid", visit_uid(visit))
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + VISIT_LENGTH)
        event.add("summary", f"{visit.get_kind_display()}: {visit.account.name}")
        lines = [visit.purpose] if visit.purpose else []
        if visit.contact is not None:
            lines.append(_("Contact: %(name)s") % {"name": visit.contact.name})
        lines.append(url)
        event.add("description", "\n".join(lines))
        event.add("url", url)
        event.add("status", "CONFIRMED")
        if visit.status == Visit.Status.DONE:
            event.add("categories", [str(_("Done"))])
        event.add("last-modified", visit.updated_at)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
