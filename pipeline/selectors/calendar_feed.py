"""The visits of a user's calendar feed (/calendar/<token>.ics): those they own that are planned or done, planned
from FEED_DAYS_BACK days ago to FEED_DAYS_AHEAD days ahead, at most FEED_MAX_EVENTS of them. Never writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from pipeline.models import Visit

if TYPE_CHECKING:
    from accounts.models import User

FEED_DAYS_BACK = 14
FEED_DAYS_AHEAD = 60
FEED_MAX_EVENTS = 500


def calendar_visits(*, user: User, now: datetime | None = None) -> list[Visit]:
    """The user's own planned and done visits planned in the feed's window, in time order, with account and contact;
    one query, at most FEED_MAX_EVENTS rows."""
    now = now or timezone.now()
    return list(
        Visit.objects.filter(
            owner=user,
            status__in=[Visit.Status.PLANNED, Visit.Status.DONE],
            planned_at__gte=now - timedelta(days=FEED_DAYS_BACK),
            planned_at__lt=now + timedelta(days=FEED_DAYS_AHEAD),
        )
        .select_related("account", "contact")
        .order_by("planned_at", "pk")[:FEED_MAX_EVENTS]
    )
