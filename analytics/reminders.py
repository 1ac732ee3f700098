"""The daily reminder email: at 08:00 in each user's own time zone, to users who have something of their own due or
overdue (an overdue planned visit, a follow-up due today, an open opportunity past its expected close date), in their
language, at most once per user and day (core.mail.deliver_once over ReminderDelivery); the same reminder goes to
their team's group robots that subscribe to it (analytics.robots). Opted-out and inactive users
and users without an email address get none.

The 15-minute scheduler picks who is due now (`reminders_due`); the send service checks again and is safe to repeat.
"""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from accounts.models import User
from analytics import robots
from analytics.models import ReminderDelivery
from core.calendar import known_time_zones, user_day, user_time_zone
from core.mail import deliver_once
from pipeline.models import Opportunity, Visit
from pipeline.selectors.todo import Capped, due_follow_ups, overdue_visits, past_close_opportunities

logger = logging.getLogger(__name__)

SEND_AT = time(8, 0)  # every day, in each user's own time zone
LIST_LENGTH = 5
SUBJECT = gettext_noop("SalesFlow reminder: %(n)s due or overdue")


# Content ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    day: date
    overdue: Capped[Visit]
    follow_ups: Capped[Visit]
    past_close: Capped[Opportunity]

    @property
    def total(self) -> int:
        return self.overdue.total + self.follow_ups.total + self.past_close.total


def reminder_for(*, user: User, now: datetime) -> Reminder:
    """`user`'s own due and overdue items at `now` in their zone, each list's first rows and its count; 3 queries."""
    day, day_end = user_day(user, now)
    return Reminder(
        day=day,
        overdue=overdue_visits(viewer=user, now=now, limit=LIST_LENGTH, owner=user),
        follow_ups=due_follow_ups(viewer=user, day_end=day_end, limit=LIST_LENGTH, owner=user),
        past_close=past_close_opportunities(viewer=user, today=day, limit=LIST_LENGTH, owner=user),
    )


@dataclass(frozen=True)
class RenderedReminder:
    subject: str
    text: str
    html: str


def render_reminder(*, user: User, reminder: Reminder) -> RenderedReminder:
    """The reminder as subject, plain text and HTML in the user's language and time zone; runs no query."""
    with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(user_time_zone(user)):
        subject = gettext(SUBJECT) % {"n": reminder.total}
        site_url = settings.SITE_URL.rstrip("/")
        context = {
            "subject": subject,
            "user": user,
            "reminder": reminder,
            "site_url": site_url,
            "home_url": site_url + reverse("home") + "#todo",
            "profile_url": site_url + reverse("profile"),
            "language_code": translation.get_language(),
        }
        return RenderedReminder(
            subject=subject,
            text=render_to_string("emails/daily_reminder.txt", context),
            html=render_to_string("emails/daily_reminder.html", context),
        )


# Who gets it, and sending ---------------------------------------------------------------------------------------------


def _receiving_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True, reminder_opt_out=False).exclude(email="")


def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name if name in known_time_zones() else settings.TIME_ZONE)


def _has_something_due(*, now: datetime, day: date, day_end: datetime) -> Q:
    planned = Visit.objects.planned().filter(owner=OuterRef("pk"))
    return Q(
        Exists(planned.filter(planned_at__lt=now).exclude(kind=Visit.Kind.FOLLOW_UP))
        | Exists(planned.filter(kind=Visit.Kind.FOLLOW_UP, planned_at__lt=day_end))
        | Exists(Opportunity.objects.open().filter(owner=OuterRef("pk"), expected_close_date__lt=day))
    )


def reminders_due(*, now: datetime) -> list[tuple[int, date]]:
    """(user id, their date) of every reminder due at `now`: receiving users whose local time is 08:00 or later,
    who have something of their own due or overdue and have not been sent that day's reminder, by id; two queries
    (the receivers' zones, then the users)."""
    zones = _receiving_users().order_by().values_list("time_zone", flat=True).distinct()
    due = Q(pk__in=[])
    for name in zones:
        zone = _zone(name)
        local = now.astimezone(zone)
        if local.time() < SEND_AT:
            continue
        day = local.date()
        day_end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        sent = ReminderDelivery.objects.filter(user=OuterRef("pk"), day=day, status=ReminderDelivery.Status.SENT)
        due |= Q(time_zone=name) & ~Q(Exists(sent)) & _has_something_due(now=now, day=day, day_end=day_end)
    if not due:
        return []
    rows = _receiving_users().filter(due).order_by("pk").values_list("pk", "time_zone")
    return [(pk, now.astimezone(_zone(name)).date()) for pk, name in rows]


def _build_email(*, user: User, rendered: RenderedReminder) -> EmailMultiAlternatives:
    profile_url = settings.SITE_URL.rstrip("/") + reverse("profile")
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"List-Unsubscribe": f"<{profile_url}>"},
    )
    message.attach_alternative(rendered.html, "text/html")
    return message


def send_daily_reminder(*, user_id: int, day: date, now: datetime | None = None) -> bool:
    """Sends a user's reminder for `day` (their own date) at most once; returns True if this call sent it.

    Writes nothing when the user does not receive reminders, when `day` is no longer their date (a task that waited
    past midnight), before 08:00 their time, or when nothing of theirs is due. A send that raises leaves the delivery
    failed (claimable again) and re-raises, so the task can retry transient errors.
    """
    now = now or timezone.now()
    user = _receiving_users().filter(pk=user_id).first()
    if user is None:
        return False
    local = now.astimezone(user_time_zone(user))
    if local.date() != day or local.time() < SEND_AT:
        return False
    reminder = reminder_for(user=user, now=now)
    if reminder.total == 0:
        return False
    robots.post_daily_reminder(user=user, reminder=reminder)
    return deliver_once(
        model=ReminderDelivery,
        key={"user_id": user_id, "day": day},
        build=lambda: _build_email(user=user, rendered=render_reminder(user=user, reminder=reminder)),
    )
