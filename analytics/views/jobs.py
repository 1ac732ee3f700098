"""The director's Jobs page: whether the nightly analytics and the weekly digests ran, and what failed."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from analytics.models import JobAttempt
from analytics.selectors.jobs import FAILURE_WINDOW_DAYS, jobs_overview


@login_required
def jobs(request: HttpRequest) -> HttpResponse:
    """Each scheduled job's last success, latest run and recent failures, and this week's digests; 404 for anyone
    but a director."""
    if not request.user.is_director:
        raise Http404
    context = {
        "overview": jobs_overview(now=timezone.now()),
        "failure_window_days": FAILURE_WINDOW_DAYS,
        "keep_days": JobAttempt.KEEP_DAYS,
    }
    return render(request, "analytics/jobs.html", context)
