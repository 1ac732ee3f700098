"""The calendar feed: /calendar/<token>.ics answers the token's owner's visits without signing in (the token is the
secret, replaced from the profile page); an unknown or replaced token, or an inactive user, answers 404."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.calendar import user_time_zone
from pipeline.calendar_feed import build_calendar
from pipeline.selectors.calendar_feed import calendar_visits

TOKEN_MAX_LENGTH = 64


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The user's visits as text/calendar, in their language and zone; two queries."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise Http404
    user = get_object_or_404(get_user_model().objects.filter(is_active=True), calendar_token=token)
    with translation.override(user.language or None):
        body = build_calendar(
            visits=calendar_visits(user=user),
            zone=user_time_zone(user),
            name=_("SalesFlow visits of %(name)s") % {"name": user.display_name},
        )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="salesflow-visits.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
