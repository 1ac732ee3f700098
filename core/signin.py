"""Signing in against password guessing: what a locked-out sign-in answers on the login page, the API and elsewhere.

django-axes counts failed sign-ins per username and per client address (`core.throttles.client_address`) in a store
every web worker shares, and refuses any further attempt of a username or from an address with too many recent
failures, right password or not: its backend makes `authenticate()` return None and flags the request
`axes_locked_out`. This module turns that flag into our answers: a form error (HTTP 429) on the login page, JSON 429
with Retry-After on the API, a plain 429 on any other sign-in form (the admin's).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponse
from django.utils.translation import ngettext
from rest_framework import exceptions


def cool_off_seconds() -> int:
    """How long a lockout lasts; attempts while locked are not counted, so no lock outlives this."""
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_message() -> str:
    minutes = max(1, cool_off_seconds() // 60)
    return ngettext(
        "Too many failed sign-ins. Signing in is paused for %(minutes)d minute; please try again later.",
        "Too many failed sign-ins. Signing in is paused for %(minutes)d minutes; please try again later.",
        minutes,
    ) % {"minutes": minutes}


def is_locked_out(request: Any) -> bool:
    """True once django-axes refused this request's sign-in (or this failure reached the limit)."""
    return bool(getattr(request, "axes_locked_out", False))


def lockout_username(request: Any, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the username failures are counted under.

    django-axes keys its cache counters by the bare value, so a "username" spelled like an address would count
    against that address's own lockout, letting anyone lock out any office's address; such a username is counted
    under a marked name instead.
    """
    data = credentials or getattr(request, "data", request.POST)
    username = data.get("username")
    if not username:
        return username
    try:
        ipaddress.ip_address(username)
    except ValueError:
        return username
    return f"username:{username}"


def lockout_response(request: Any, original_response: HttpResponse | None, credentials: dict | None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: our sign-in views have answered the lockout themselves (status 429); any other sign-in
    form, such as the admin's, gets a plain 429."""
    if original_response is not None and original_response.status_code == 429:
        return original_response
    response = HttpResponse(lockout_message(), status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(cool_off_seconds())
    return response


class SignInLocked(exceptions.Throttled):
    """The API's answer to a locked-out sign-in: 429, code locked_out, Retry-After."""

    default_code = "locked_out"

    def __init__(self) -> None:
        super().__init__(detail=lockout_message(), code=self.default_code)
        self.wait = cool_off_seconds()  # after super(), which would append DRF's own "Expected available in" text


class SignInForm(AuthenticationForm):
    """Django's sign-in form; a locked-out username or address gets its own error instead of "did not match"."""

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError:
            if is_locked_out(self.request):
                raise ValidationError(lockout_message(), code="locked_out") from None
            raise


class LockoutLoginView(LoginView):
    """Django's login page, where a locked-out attempt shows the form with the lockout error, answering 429 with
    Retry-After (accounts.views.SignInView builds on it)."""

    form_class = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form: SignInForm) -> HttpResponse:
        if not form.has_error(NON_FIELD_ERRORS, "locked_out"):
            return super().form_invalid(form)
        response = self.render_to_response(self.get_context_data(form=form, locked_out=True), status=429)
        response["Retry-After"] = str(cool_off_seconds())
        return response
