"""View helpers every app's pages share."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, *, use_referer: bool = False) -> str | None:
    """The `next` parameter (POST, then GET; then the Referer header when asked) if it points at this site, else None.

    Anything pointing elsewhere is ignored, so a crafted link cannot send the user off-site after a form.
    """
    candidates = [request.POST.get("next"), request.GET.get("next")]
    if use_referer:
        candidates.append(request.META.get("HTTP_REFERER"))
    for candidate in candidates:
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
    return None
