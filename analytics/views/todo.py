"""The home to-do's in-place actions and the header's due badge.

Each action posts a small form to one existing service (complete_visit, update_visit, update_opportunity, which
records the change history). From htmx it answers with the to-do redrawn (the new counts) and the header badge swapped
out of band; without JavaScript it redirects to the home page with a message (POST-redirect-GET), a refusal included.
What the user may not see answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from analytics.forms import TodoCloseDateForm, TodoDoneForm, TodoRescheduleForm
from analytics.models import JobRun
from analytics.selectors.coverage import stale_opportunities_page, untouched_accounts_page
from analytics.selectors.todo import todo_list
from analytics.views.home_rows import stale_rows, todo_rows, untouched_rows
from core.calendar import user_day
from core.errors import SalesFlowError
from pipeline.models import Opportunity, Visit
from pipeline.selectors.todo import due_counts
from pipeline.services.opportunities import update_opportunity
from pipeline.services.visits import complete_visit, update_visit


def _badge_context(request: HttpRequest) -> dict:
    now = timezone.now()
    day, day_end = user_day(request.user, now)
    return {"due": due_counts(user=request.user, now=now, today=day, day_end=day_end)}


@login_required
@require_GET
def due_badge(request: HttpRequest) -> HttpResponse:
    """The header's badge: how many of the user's own visits, follow-ups and opportunities are due or overdue; loaded
    by htmx after the page, so a page costs no query for it; one query."""
    return render(request, "shared/due_badge.html", _badge_context(request))


def _answer(request: HttpRequest, *, done: str = "", error: str = "") -> HttpResponse:
    """The to-do redrawn with a notice or the refusal (htmx), or a redirect home with the same message."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        return redirect(reverse("home") + "#todo")
    todo = todo_list(viewer=request.user)
    context = {
        "todo": todo,
        "todo_rows": todo_rows(todo, request=request, show_owner=not request.user.is_rep),
        "todo_notice": done,
        "todo_error": error,
        "badge_oob": True,
        **_badge_context(request),
    }
    todo = render(request, "analytics/home.html#todo", context).content
    badge = render(request, "shared/due_badge.html", context).content
    return HttpResponse(todo + badge)


def _first_error(form) -> str:
    return next((str(e) for errors in form.errors.values() for e in errors), _("Check the form."))


@login_required
@require_POST
def visit_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Marks a planned visit of the user's side done now with its outcome (complete_visit)."""
    visit = get_object_or_404(Visit.objects.editable_by(request.user), pk=pk)
    form = TodoDoneForm(request.POST, prefix=f"done-{pk}")
    if not form.is_valid():
        return _answer(request, error=_first_error(form))
    try:
        complete_visit(visit=visit, completed_by=request.user, summary=form.cleaned_data["summary"])
    except SalesFlowError as error:
        return _answer(request, error=str(error.message))
    return _answer(request, done=_("Visit completed."))


@login_required
@require_POST
def visit_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    """Moves a planned visit of the user's side to a new time, today or later (update_visit)."""
    visit = get_object_or_404(Visit.objects.editable_by(request.user), pk=pk)
    form = TodoRescheduleForm(request.POST, prefix=f"move-{pk}")
    if not form.is_valid():
        return _answer(request, error=_first_error(form))
    try:
        update_visit(visit=visit, changed_by=request.user, planned_at=form.cleaned_data["planned_at"])
    except SalesFlowError as error:
        return _answer(request, error=str(error.message))
    return _answer(request, done=_("Visit rescheduled."))


@login_required
@require_POST
def close_date(request: HttpRequest, pk: int) -> HttpResponse:
    """Sets a new expected close date on an opportunity (update_opportunity, which records the change)."""
    opportunity = get_object_or_404(Opportunity.objects.visible_to(request.user), pk=pk)
    form = TodoCloseDateForm(request.POST, prefix=f"close-{pk}")
    if not form.is_valid():
        return _answer(request, error=_first_error(form))
    try:
        update_opportunity(
            opportunity=opportunity,
            changed_by=request.user,
            expected_close_date=form.cleaned_data["expected_close_date"],
        )
    except SalesFlowError as error:
        return _answer(request, error=str(error.message))
    return _answer(request, done=_("Expected close date updated."))


FLAG_LIST_PER_PAGE = 25


@login_required
@require_GET
def stale_list(request: HttpRequest) -> HttpResponse:
    """Every stale opportunity the user sees, longest idle first, FLAG_LIST_PER_PAGE a page (the to-do's full
    list)."""
    day, _end = user_day(request.user)
    page = stale_opportunities_page(
        viewer=request.user, page=request.GET.get("page"), per_page=FLAG_LIST_PER_PAGE, on=day
    )
    context = {
        "kind": "stale",
        "page_obj": page,
        "rows": stale_rows(page.object_list, show_owner=not request.user.is_rep),
        "computed_at": JobRun.objects.filter(job=JobRun.STALE).values_list("computed_at", flat=True).first(),
    }
    return render(request, "analytics/todo_flags.html", context)


@login_required
@require_GET
def untouched_list(request: HttpRequest) -> HttpResponse:
    """Every untouched target account the user sees, in visit-priority order, FLAG_LIST_PER_PAGE a page (the
    to-do's full list)."""
    day, _end = user_day(request.user)
    page = untouched_accounts_page(
        viewer=request.user, page=request.GET.get("page"), per_page=FLAG_LIST_PER_PAGE, on=day
    )
    context = {
        "kind": "untouched",
        "page_obj": page,
        "rows": untouched_rows(page.object_list, show_owner=not request.user.is_rep),
        "computed_at": JobRun.objects.filter(job=JobRun.UNTOUCHED).values_list("computed_at", flat=True).first(),
    }
    return render(request, "analytics/todo_flags.html", context)
