"""Activates the signed-in user's language and time zone for each request, and clears them afterwards."""

import contextlib
import zoneinfo

from django.utils import timezone, translation


class UserPreferencesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Start from the defaults: a time zone left active on this thread by an earlier request must not leak.
        timezone.deactivate()
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if user.language:  # the language switch stores the choice on the user
                translation.activate(user.language)
                request.LANGUAGE_CODE = translation.get_language()
            with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
