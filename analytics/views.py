"""Pages of the analytics area: the home page and (later) dashboards."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from analytics.selectors import funnel_snapshot, funnel_total, without_empty_after_sales
from pipeline.models import Pipeline


def _pipeline_heading(user) -> str:
    if user.is_director:
        return _("Company pipeline")
    if user.is_manager:
        return _("My team's pipeline")
    return _("My pipeline")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in user's start page: their visible open pipeline of the default pipeline, by stage."""
    pipeline = Pipeline.objects.filter(is_default=True).first()
    rows = without_empty_after_sales(funnel_snapshot(viewer=request.user, pipeline=pipeline)) if pipeline else []
    context = {
        "pipeline": pipeline,
        "pipeline_heading": _pipeline_heading(request.user),
        "funnel_rows": rows,
        "funnel_total": funnel_total(rows),
    }
    return render(request, "analytics/home.html", context)
