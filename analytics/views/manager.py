"""The manager's week (issue 13): what changed since a day, why we win and lose, the forecast against target.

Both pages show what the viewer may see (a rep: their own opportunities, as on the matrix and territory pages); a team
or owner in the query string that the viewer may not see answers 404, a malformed one 400 with the form's errors. The
same queries whatever the data.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Team, User
from analytics.forms import ChangesQueryForm, ForecastCallForm, ForecastQueryForm, ScopeQueryForm, WinLossQueryForm
from analytics.selectors._common import visible_teams
from analytics.selectors.activity import visits_vs_won, visits_vs_won_by_team
from analytics.selectors.changes import change_events, change_rows, shown_change
from analytics.selectors.forecast import (
    ForecastRow,
    ForecastTotals,
    ForecastWeek,
    forecast_owners,
    forecast_period,
    forecast_rows,
    forecast_totals,
    forecast_weeks,
)
from analytics.selectors.winloss import WinLossRow, win_loss_by
from core.calendar import today, week_start_of
from core.errors import SalesFlowError
from pipeline.models import Opportunity
from pipeline.services.forecast_calls import record_forecast_call

CHANGES_PER_PAGE = 50
FORECAST_ROWS_PER_PAGE = 25
DIMENSION_LABELS = {
    "reason": gettext_lazy("Loss reason"),
    "competitor": gettext_lazy("Competitor"),
    "stage": gettext_lazy("Furthest stage reached"),
    "untouched_cause": gettext_lazy("Untouched-loss cause"),
    "source": gettext_lazy("Source"),
}
C = Opportunity.UntouchedCause
# The decks' two branches of untouched losses (未接触性失败原因) and the corrective action each calls for.
CAUSE_TREE = [
    {
        "code": "never_visited",
        "label": gettext_lazy("Never visited the account"),
        "action": gettext_lazy(
            "Analyse your territory and accounts, then plan visits: every target account visited, at least once in "
            "the first quarter, and the plan carried out."
        ),
        "causes": (C.NO_PLAN, C.THOUGHT_UNNEEDED, C.VISITED_BEFORE, C.NO_MOTIVATION, C.PLAN_NOT_EXECUTED),
    },
    {
        "code": "visited_not_engaged",
        "label": gettext_lazy("Visited, but not engaged"),
        "action": gettext_lazy(
            "Analyse your sales activities and plan them: visit again after a refusal, reach the right department, "
            "notice the customer's timing early."
        ),
        "causes": (
            C.COMPETITOR_RELATIONSHIP,
            C.NOTICED_LATE,
            C.REJECTED_NOT_REVISITED,
            C.WRONG_DEPARTMENT,
            C.MISSED_TIMING,
        ),
    },
]


def _people_offered(viewer: User, *, team: Team | None, owner_id: int | None) -> QuerySet[User]:
    """The people the owner filter offers: everyone the viewer sees when that is a team (a manager's, a rep's own);
    for a director, whose everyone is the company, the chosen team's people or the chosen person's team, and none
    before a team or a person is chosen. The chosen person is always among them."""
    people = User.objects.visible_to(viewer)
    if not viewer.is_director:
        return people
    if team is None and owner_id is None:
        return people.none()
    offered = Q(pk=owner_id) if owner_id is not None else Q()
    if team is not None:
        offered |= Q(team=team)
    else:
        offered |= Q(team=Subquery(User.objects.filter(pk=owner_id).values("team")[:1]))
    return people.filter(offered)


def report_scope(request: HttpRequest, form: ScopeQueryForm) -> tuple[dict, dict]:
    """The filter's choices (visible teams, and the people of `_people_offered`) and the chosen team and owner; 404
    for one not visible. Two queries (one for a director who chose neither)."""
    viewer = request.user
    data = form.cleaned_data if form.is_valid() else {}
    teams = list(visible_teams(viewer).order_by("name", "pk"))
    chosen = {"team": None, "owner": None}
    if data.get("team") is not None:
        chosen["team"] = next((team for team in teams if team.pk == data["team"]), None)
        if chosen["team"] is None:
            raise Http404
    owners = list(_people_offered(viewer, team=chosen["team"], owner_id=data.get("owner")).order_by("username", "pk"))
    if data.get("owner") is not None:
        chosen["owner"] = next((owner for owner in owners if owner.pk == data["owner"]), None)
        if chosen["owner"] is None:
            raise Http404
    return {"teams": teams, "owners": owners, "chosen_team": chosen["team"], "chosen_owner": chosen["owner"]}, chosen


@login_required
def changes(request: HttpRequest) -> HttpResponse:
    """What moved in the viewer's pipeline since a day (this week's Monday by default), newest first,
    CHANGES_PER_PAGE a page: six queries whatever the number of events."""
    form = ChangesQueryForm(request.GET)
    context, scope = report_scope(request, form)
    context["form"] = form
    if not form.is_valid():
        return render(request, "analytics/changes.html", {**context, "invalid": True}, status=400)
    since = form.cleaned_data["since"] or week_start_of(today())
    paginator = Paginator(change_events(viewer=request.user, since=since, **scope), CHANGES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = [shown_change(row) for row in change_rows(list(page.object_list))]
    context |= {"since": since, "page_obj": page, "show_owner": not request.user.is_rep}
    return render(request, "analytics/changes.html", context)


def _bars(rows: list[WinLossRow]) -> dict:
    return {
        "labels": [r.label for r in rows],
        "series": [
            {"label": _("Won amount"), "data": [float(r.won_amount) for r in rows]},
            {"label": _("Lost amount"), "data": [float(r.lost_amount) for r in rows]},
        ],
    }


def cause_tree(rows: list[WinLossRow]) -> list[dict]:
    """The untouched losses per branch of the decks' tree, from the rows by untouched cause (lost counts)."""
    by_key = {r.key: r for r in rows}
    branches = []
    for branch in CAUSE_TREE:
        causes = [(str(c.label), by_key[c.value].lost if c.value in by_key else 0) for c in branch["causes"]]
        branches.append({**branch, "causes": causes, "lost": sum(n for _label, n in causes)})
    return branches


@login_required
def winloss(request: HttpRequest) -> HttpResponse:
    """Won and lost counts and amounts per reason, competitor, furthest stage, untouched cause and source over the
    opportunities closed in a period (this year by default), each with a bar chart; the untouched losses on the
    decks' two-branch cause tree; done visits against won amount per rep (per team for a director's whole company).
    Nine queries whatever the data."""
    form = WinLossQueryForm(request.GET)
    context, scope = report_scope(request, form)
    context["form"] = form
    if not form.is_valid():
        return render(request, "analytics/winloss.html", {**context, "invalid": True}, status=400)
    end = form.cleaned_data["end"] or today()
    start = form.cleaned_data["start"] or date(end.year, 1, 1)
    if start > end:
        start = date(end.year, 1, 1)
    viewer = request.user
    by_dimension = win_loss_by(viewer=viewer, dimensions=list(DIMENSION_LABELS), start=start, end=end, **scope)
    dimensions = []
    for code, label in DIMENSION_LABELS.items():
        rows = by_dimension[code]
        dimensions.append(
            {"code": code, "label": label, "rows": rows, "chart": _bars(rows), "chart_id": f"chart-{code}"}
        )
    untouched = next(d for d in dimensions if d["code"] == "untouched_cause")["rows"]
    context |= {
        "start": start,
        "end": end,
        "dimensions": dimensions,
        "tree": cause_tree(untouched),
    }
    # The whole company's activity is read per team (each row leads to its reps); a team's or a person's, per rep.
    if viewer.is_director and scope["team"] is None and scope["owner"] is None:
        context["team_activity"] = visits_vs_won_by_team(viewer=viewer, start=start, end=end)
    else:
        context["activity"] = visits_vs_won(viewer=viewer, start=start, end=end, **scope)
    return render(request, "analytics/winloss.html", context)


def _forecast_chart(rows: list[ForecastRow]) -> dict:
    return {
        "labels": [r.owner_name for r in rows],
        "series": [
            {"label": _("Target"), "data": [float(r.target or 0) for r in rows]},
            {"label": _("Won"), "data": [float(r.won) for r in rows]},
            {"label": _("Commit"), "data": [float(r.commit) for r in rows]},
            {"label": _("Best case"), "data": [float(r.best_case) for r in rows]},
        ],
    }


def _money_or_none(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _movement_chart(weeks: list[ForecastWeek], now: ForecastTotals) -> dict:
    """The line chart of how the period's forecast moved: each Monday's snapshot, then today's numbers."""
    points = [*weeks, now]
    return {
        "labels": [*(w.taken_on.isoformat() for w in weeks), str(_("Now"))],
        "series": [
            {"label": _("Target"), "data": [_money_or_none(p.target) for p in points]},
            {"label": _("Won"), "data": [float(p.won) for p in points]},
            {"label": _("Won + commit"), "data": [float(p.won + p.commit) for p in points]},
            {"label": _("Manager's call"), "data": [_money_or_none(p.call) for p in points]},
        ],
    }


def _carried(form: ForecastQueryForm) -> list[tuple[str, str]]:
    """The forecast page's query, which each call form carries so the page comes back as it was."""
    names = ("period_type", "year", "period", "team", "owner", "page")
    return [(name, form.data[name]) for name in names if form.data.get(name)]


def _forecast_page(
    request: HttpRequest, form: ForecastQueryForm, *, call_form: ForecastCallForm | None = None
) -> HttpResponse:
    """The forecast page for the query in `form`; with `call_form`, a call that was refused, shown in its rep's row
    with its errors (answered 400)."""
    context, scope = report_scope(request, form)
    context |= {"form": form, "period_types": form.fields["period_type"].choices}
    if not form.is_valid():
        return render(request, "analytics/forecast.html", {**context, "invalid": True}, status=400)
    viewer = request.user
    period_type, year, period = form.chosen_period(on=today())
    start, end = forecast_period(period_type=period_type, year=year, period=period)
    owners = forecast_owners(viewer=viewer, period_type=period_type, start=start, end=end, **scope)
    totals = forecast_totals(owners)
    paginator = Paginator(owners, FORECAST_ROWS_PER_PAGE)
    paginator.count = totals.owners  # counted with the totals already
    page = paginator.get_page(form.data.get("page"))
    page.object_list = forecast_rows(list(page.object_list))
    weeks = forecast_weeks(viewer=viewer, period_type=period_type, start=start, **scope)
    refused = call_form.data.get("rep") if call_form is not None else None
    context |= {
        "period_type": period_type,
        "year": year,
        "period": period,
        "start": start,
        "end": end,
        "page_obj": page,
        "totals": totals,
        "chart": _forecast_chart(page.object_list),
        "weeks": weeks,
        "movement_chart": _movement_chart(weeks, totals),
        "may_call": viewer.is_manager or viewer.is_director,
        "call_form": call_form,
        "refused_rep": int(refused) if refused and str(refused).isdigit() else None,
        "carried": _carried(form),
    }
    return render(request, "analytics/forecast.html", context, status=400 if call_form is not None else 200)


@login_required
def forecast(request: HttpRequest) -> HttpResponse:
    """Each visible rep's forecast for a month, quarter (the current one by default) or year: target, won, commit,
    best case, pipeline, gap and the manager's call (a form in each rep's row for managers and directors),
    FORECAST_ROWS_PER_PAGE reps a page, the totals over all of them, a bar chart of the page, and how the totals moved
    week by week (the Monday snapshots); the same queries whatever the number of reps."""
    return _forecast_page(request, ForecastQueryForm(request.GET))


@login_required
@require_POST
def forecast_call(request: HttpRequest) -> HttpResponse:
    """Records the viewer's call of a rep's period (the forecast page's), then back to the page as it was; a refused
    call comes back in its row with the reason (400) and nothing written. A rep the viewer cannot see answers 404."""
    query, call_form = ForecastQueryForm(request.POST), ForecastCallForm(request.POST)
    if not query.is_valid():
        return _forecast_page(request, query)
    if call_form.is_valid():
        rep = get_object_or_404(User.objects.visible_to(request.user), pk=call_form.cleaned_data["rep"])
        period_type, year, period = query.chosen_period(on=today())
        start, _end = forecast_period(period_type=period_type, year=year, period=period)
        try:
            record_forecast_call(
                called_by=request.user,
                owner=rep,
                period_type=period_type,
                period_start=start,
                amount=call_form.cleaned_data["amount"],
                note=call_form.cleaned_data["note"],
            )
        except SalesFlowError as error:
            call_form.add_error(error.field if error.field in call_form.fields else None, str(error))
        else:
            messages.success(request, _("Your call for %(rep)s is saved.") % {"rep": rep.display_name})
            carried = urlencode(_carried(query))
            return redirect(f"{reverse('analytics:forecast')}{'?' if carried else ''}{carried}")
    return _forecast_page(request, query, call_form=call_form)
