"""Account-level pages that are not about customers: the language switch."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_POST

from core.views import safe_next


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switches the interface language (POST language=zh-hans|en) and redirects to a safe `next`.

    Sets the language cookie (used before sign-in and after sign-out); a signed-in user also keeps the choice on
    their profile, which UserPreferencesMiddleware activates on every later request and the digest uses.
    An unknown language changes nothing.
    """
    response = HttpResponseRedirect(safe_next(request, use_referer=True) or "/")
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return response
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    if request.user.is_authenticated and request.user.language != language:
        request.user.language = language
        request.user.save(update_fields=["language"])
    return response
