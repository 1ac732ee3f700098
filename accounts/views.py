"""Account-level pages that are not about customers: signing in, the language switch and the user's own settings
(reminder email, calendar feed)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.services import calendar_token_for, regenerate_calendar_token, set_reminder_opt_out, set_user_language
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


@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    """The user's own settings: the daily reminder and weekly digest emails, and the secret calendar feed URL."""
    token = calendar_token_for(user=request.user)
    feed_url = request.build_absolute_uri(reverse("calendar_feed", args=[token]))
    return render(request, "accounts/profile.html", {"feed_url": feed_url})


@login_required
@require_POST
def profile_reminders(request: HttpRequest) -> HttpResponse:
    """Sets whether the user gets the daily reminder email (`opt_out` 1 or 0)."""
    value = request.POST.get("opt_out")
    if value not in ("0", "1"):
        return HttpResponseBadRequest(_("Choose whether to receive the daily reminder."))
    set_reminder_opt_out(user=request.user, opt_out=value == "1")
    if value == "1":
        messages.success(request, _("You will no longer receive the daily reminder by email."))
    else:
        messages.success(request, _("You will receive a reminder at 08:00 on days when something is due."))
    return redirect("profile")


@login_required
@require_POST
def profile_calendar_regenerate(request: HttpRequest) -> HttpResponse:
    """Gives the user a new calendar feed URL; the old one answers 404 from now on."""
    regenerate_calendar_token(user=request.user)
    messages.success(request, _("New calendar address created. The old one no longer works: subscribe again."))
    return redirect("profile")
