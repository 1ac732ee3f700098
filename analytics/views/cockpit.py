"""A rep's cockpit (issue 13), `/team/<user id>/`: what their manager needs to coach them, on one page.

Who may open whose cockpit is the one visibility rule: a director anyone's, a manager their own and their team
members', a rep only their own (the same figures they see elsewhere, so showing it is friendlier than a redirect). Any
other id, an unknown one or an inactive user's answers 404; a malformed `?period_type=` 400 with the form's error.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from accounts.models import User
from analytics.forms import CockpitQueryForm
from analytics.selectors.changes import shown_change
from analytics.selectors.cockpit import COCKPIT_CHANGES, coaching_points
from analytics.selectors.cockpit import rep_cockpit as rep_cockpit_of
from core.calendar import today
from pipeline.models import Pipeline


@login_required
def rep_cockpit(request: HttpRequest, user_id: int) -> HttpResponse:
    """The cockpit of the user `user_id`: their funnel, the forecast for the current month, quarter or year, this
    week's plan, stale opportunities, untouched targets, this week's changes and the coaching points; 14 queries
    whatever the data: session, user, the rep, the pipeline and `rep_cockpit`'s (analytics/selectors/cockpit.py)."""
    viewer = request.user
    people = User.objects.visible_to(viewer).filter(is_active=True).select_related("team")
    rep = get_object_or_404(people, pk=user_id)
    form = CockpitQueryForm(request.GET)
    context = {"form": form, "rep": rep, "period_types": form.fields["period_type"].choices}
    if not form.is_valid():
        return render(request, "analytics/rep_cockpit.html", {**context, "invalid": True}, status=400)
    period_type = form.cleaned_data["period_type"] or "quarter"
    pipeline = Pipeline.objects.filter(is_default=True).first()
    cockpit = rep_cockpit_of(viewer=viewer, rep=rep, pipeline=pipeline, period_type=period_type, on=today())
    context |= {
        "cockpit": cockpit,
        "pipeline": pipeline,
        "period_type": period_type,
        "points": coaching_points(cockpit),
        "changes": [shown_change(row) for row in cockpit.changes],
        "changes_more": cockpit.changes_total > COCKPIT_CHANGES,
        "team_link": rep.team if rep.team_id and not viewer.is_rep else None,
    }
    return render(request, "analytics/rep_cockpit.html", context)
