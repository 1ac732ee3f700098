"""Throttles that read their rates when a request comes in, so settings (and tests) can change them at run time.

DRF's own classes copy the rates once, at import; these look them up in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].
This module imports nothing but DRF's throttling, because DRF loads it while defining APIView.
"""

from rest_framework import throttling
from rest_framework.settings import api_settings


class RuntimeRateMixin:
    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonRateThrottle(RuntimeRateMixin, throttling.AnonRateThrottle):
    """Requests without a signed-in user, per client address (scope "anon")."""


class UserRateThrottle(RuntimeRateMixin, throttling.UserRateThrottle):
    """Requests of a signed-in user (scope "user")."""


class ScopedRateThrottle(RuntimeRateMixin, throttling.ScopedRateThrottle):
    """Requests to views that name a `throttle_scope` (e.g. "auth" for the token endpoint, "actions")."""

    def allow_request(self, request, view) -> bool:
        scope = getattr(view, self.scope_attr, None)
        if scope and scope not in api_settings.DEFAULT_THROTTLE_RATES:
            return True  # a scope without a configured rate is not limited
        return super().allow_request(request, view)
