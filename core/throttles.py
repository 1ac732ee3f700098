"""Throttles that read their rates when a request comes in, so settings (and tests) can change them at run time, and
the one rule for a request's client address.

DRF's own classes copy the rates once, at import; these look them up in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].
This module imports nothing but DRF's throttling and Django's settings, because DRF loads it while defining APIView.
"""

import ipaddress

from django.conf import settings
from rest_framework import throttling
from rest_framework.settings import api_settings


def client_address(request) -> str:
    """The address a request came from: REMOTE_ADDR, or with NUM_PROXIES > 0 the address the outermost of our proxies
    saw, read from X-Forwarded-For counting that many entries from the right (what a client wrote there itself is
    left of them, so it is never believed). Without trusted proxies the header is ignored."""
    remote_address = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    proxies = settings.NUM_PROXIES
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        candidate = hops[-min(proxies, len(hops))]
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass  # a proxy that forwarded garbage: count the connection's own address
    return remote_address


class RuntimeRateMixin:
    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request) -> str:
        return client_address(request)


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
