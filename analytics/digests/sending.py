"""The weekly digest as an email (SPEC §8): rendered in the user's language and zone, sent to whom it is due,
at most once per user and week (core.mail.deliver_once)."""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from accounts.models import User
from analytics import robots
from analytics.digests.content import weekly_digest
from analytics.models import DigestDelivery
from core.calendar import known_time_zones, user_time_zone
from core.mail import deliver_once

logger = logging.getLogger(__name__)

SEND_AT = time(8, 0)  # Monday, in each user's own time zone
SUBJECT = gettext_noop("SalesFlow weekly digest, week of %(week)s")


# Rendering --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    text: str
    html: str


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def render_weekly_digest(*, user: User, week_start: date) -> RenderedDigest:
    """`user`'s digest for the week as subject, plain text and HTML, in their language and time zone; reads only."""
    with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(user_time_zone(user)):
        digest = weekly_digest(user=user, week_start=week_start)
        preview = reverse("digest:preview")
        subject = gettext(SUBJECT) % {"week": week_start.isoformat()}
        context = {
            "subject": subject,
            "digest": digest,
            "site_url": settings.SITE_URL.rstrip("/"),
            "preview_url": _absolute(f"{preview}?week={week_start.isoformat()}"),
            "opt_out_url": _absolute(preview),
            "closes_ahead_days": settings.SALESFLOW_CLOSES_AHEAD_DAYS,
            "language_code": translation.get_language(),
        }
        return RenderedDigest(
            subject=subject,
            text=render_to_string("emails/weekly_digest.txt", context),
            html=render_to_string("emails/weekly_digest.html", context),
        )


# Who gets it, and sending ------------------------------------------------------------------------------------------


def _receiving_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True, digest_opt_out=False).exclude(email="")


def _sent(week_start: date) -> Exists:
    return Exists(
        DigestDelivery.objects.filter(user=OuterRef("pk"), week_start=week_start, status=DigestDelivery.Status.SENT)
    )


def digest_recipients(*, week_start: date) -> QuerySet[User]:
    """Active users with an email address who did not opt out and have not been sent the week's digest yet, by
    username (unevaluated)."""
    return _receiving_users().filter(~_sent(week_start)).order_by("username")


def digests_due(*, now: datetime) -> list[tuple[int, date]]:
    """(user id, week start) of every digest due at `now`: users whose local time is Monday 08:00 or later that
    Monday and who have not been sent that week's digest; at most one query.

    Every time zone on a Monday at `now` is on the same Monday, so one week start serves them all.
    """
    due_zones, monday = [], None
    for name in known_time_zones():
        local = now.astimezone(zoneinfo.ZoneInfo(name))
        if local.weekday() == 0 and local.time() >= SEND_AT:
            due_zones.append(name)
            monday = local.date()
    if monday is None:
        return []
    in_due_zone = Q(time_zone__in=due_zones)
    if settings.TIME_ZONE in due_zones:  # users with an unknown zone get theirs on the company's clock
        in_due_zone |= ~Q(time_zone__in=known_time_zones())
    ids = _receiving_users().filter(in_due_zone).filter(~_sent(monday)).order_by("pk").values_list("pk", flat=True)
    return [(user_id, monday) for user_id in ids]


def _build_email(*, user: User, week_start: date) -> EmailMultiAlternatives:
    rendered = render_weekly_digest(user=user, week_start=week_start)
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"List-Unsubscribe": f"<{_absolute(reverse('digest:preview'))}>"},
    )
    message.attach_alternative(rendered.html, "text/html")
    return message


def send_weekly_digest(*, user_id: int, week_start: date) -> bool:
    """Sends a user's digest for one week at most once; returns True if this call sent it.

    Writes nothing for an inactive or opted-out user or one without an email address. A send that raises leaves the
    delivery failed with the error (retried by the next call) and re-raises, so the task can retry transient errors
    (core.mail.deliver_once).
    """
    user = _receiving_users().filter(pk=user_id).select_related("team").first()
    if user is None:
        return False
    if user.is_manager:
        robots.post_weekly_summaries(manager=user, week_start=week_start)
    return deliver_once(
        model=DigestDelivery,
        key={"user_id": user_id, "week_start": week_start},
        build=lambda: _build_email(user=user, week_start=week_start),
    )
