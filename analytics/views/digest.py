"""The weekly digest in the browser: a preview of the signed-in user's email and their opt-out switch."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.services import set_digest_opt_out
from analytics.digests.sending import render_weekly_digest
from core.calendar import user_today, week_from, week_start_of


@login_required
def preview(request: HttpRequest) -> HttpResponse:
    """The user's digest of this week (or `?week=`) as the email would show it; `?format=text` for the plain text."""
    today = user_today(request.user)
    week_start = week_from(request.GET.get("week"), today=today)
    rendered = render_weekly_digest(user=request.user, week_start=week_start)
    if request.GET.get("format") == "text":
        return HttpResponse(rendered.text, content_type="text/plain; charset=utf-8")
    context = {
        "rendered": rendered,
        "week_start": week_start,
        "previous_week": week_start - timedelta(days=7),
        "next_week": week_start + timedelta(days=7),
        "this_week": week_start_of(today),
    }
    return render(request, "analytics/digest_preview.html", context)


@login_required
@require_POST
def opt_out(request: HttpRequest) -> HttpResponse:
    """Sets whether the user gets the weekly digest (`opt_out` 1 or 0; without it, switches the current choice)."""
    value = request.POST.get("opt_out")
    if value not in (None, "0", "1"):
        return HttpResponseBadRequest(_("Choose whether to receive the weekly digest."))
    wanted = not request.user.digest_opt_out if value is None else value == "1"
    set_digest_opt_out(user=request.user, opt_out=wanted)
    if wanted:
        messages.success(request, _("You will no longer receive the weekly digest by email."))
    else:
        messages.success(request, _("You will receive the weekly digest every Monday at 08:00."))
    return redirect(reverse("digest:preview"))
