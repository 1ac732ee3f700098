"""Account-level pages that are not about customers: signing in and the language switch."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_POST

from accounts.services import set_user_language
from core.signin import LockoutLoginView
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
    if request.user.is_authenticated:
        set_user_language(user=request.user, language=language)
    return response


class SignInView(LockoutLoginView):
    """Django's sign-in, keeping the language the visitor picked on the login page (the language cookie) as the
    user's own, so the choice survives signing in instead of being replaced by the profile's."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        if language := self.request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
            set_user_language(user=form.get_user(), language=language)
        return response
