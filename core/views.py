"""View helpers every app's pages share."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
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


def with_toast(response: HttpResponse, message: str, *, level: str = "success", **extra) -> HttpResponse:
    """Asks the page (static/js/app.js) to show `message` as a toast once htmx has swapped the response in.

    Merges with any HX-Trigger the response already carries.
    """
    triggers = json.loads(response.get("HX-Trigger") or "{}")
    triggers["sf-toast"] = {"message": str(message), "level": level, **extra}
    response["HX-Trigger"] = json.dumps(triggers)
    return response


def is_quick_add(request: HttpRequest) -> bool:
    """Whether the request comes from the quick-add dialog (htmx, `?dialog=1`) rather than the full page."""
    return bool(request.htmx) and request.GET.get("dialog") == "1"


def quick_add_form(request: HttpRequest, form, *, title: str, action: str, submit_label: str) -> HttpResponse:
    """The form alone, for the quick-add dialog (templates/shared/quick_add_form.html); errors show inside it."""
    context = {"form": form, "title": title, "action": action, "submit_label": submit_label}
    return render(request, "shared/quick_add_form.html", context)


def quick_added(message: str, **added) -> HttpResponse:
    """The answer to a successful quick add: nothing to swap, a toast, and an `sf-added` event carrying `added`
    (kind, pk, url) so the page can show the new row in place."""
    response = HttpResponse(status=200)
    response["HX-Reswap"] = "none"
    response["HX-Trigger"] = json.dumps({"sf-added": added})
    return with_toast(response, message, url=added.get("url", ""))
