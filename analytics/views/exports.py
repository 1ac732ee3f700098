"""Exports of the reports (issue 14): team, matrix, territory, targets, what changed, win/loss and forecast, as XLSX
or CSV, with the page's query string.

Each reads its query string with its page's form and the page's defaults and asks the page's selectors, without
paging: the file holds what the page shows, every page of it, to the same viewer. What the page refuses the export
refuses alike: a team or owner the viewer may not see answers 404 (a rep asking for the team report too), a malformed
query string 400.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase
from django.views.decorators.http import require_GET

from analytics.exports import (
    change_table,
    forecast_table,
    matrix_table,
    targets_table,
    team_table,
    territory_table,
    win_loss_table,
)
from analytics.forms import (
    TERRITORY_LABELS,
    ChangesQueryForm,
    ForecastQueryForm,
    MatrixQueryForm,
    TargetsQueryForm,
    TeamQueryForm,
    TerritoryQueryForm,
    WinLossQueryForm,
)
from analytics.selectors._common import visible_teams
from analytics.selectors.changes import change_events
from analytics.selectors.cvpv import matrix_accounts
from analytics.selectors.forecast import forecast_owners, forecast_period, forecast_rows
from analytics.selectors.pages import matrix_years, team_overview, team_people
from analytics.selectors.targets import targets_pivot
from analytics.selectors.territory import territory_analysis
from analytics.selectors.winloss import win_loss_by
from analytics.views.manager import DIMENSION_LABELS, report_scope
from analytics.views.pages import team_for
from core.calendar import period_start, today, week_start_of
from core.exports import download
from pipeline.models import Pipeline

ALL_OWNERS = 1_000_000  # the targets pivot's "page size" for an export: every owner on one page


def _refused(form) -> HttpResponse:
    return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain; charset=utf-8")


@login_required
@require_GET
def team_export(request: HttpRequest) -> HttpResponseBase:
    """Every member of the team the team page shows (404 for a rep, or a team the viewer may not see)."""
    viewer = request.user
    if viewer.is_rep:
        raise Http404
    form = TeamQueryForm(request.GET)
    if not form.is_valid():
        return _refused(form)
    team = team_for(viewer, form.cleaned_data["team"], list(visible_teams(viewer).order_by("name", "pk")))
    pipeline = Pipeline.objects.filter(is_default=True).first()
    if team is None or pipeline is None:
        raise Http404
    day = today()
    overview = team_overview(
        viewer=viewer,
        pipeline=pipeline,
        start=period_start(form.cleaned_data["period"] or "quarter", day),
        end=day,
        team=team,
        people=team_people(viewer=viewer, team=team),
        on=day,
    )
    return download(request, team_table(overview=overview))


@login_required
@require_GET
def matrix_export(request: HttpRequest) -> HttpResponseBase:
    """Every account of the viewer in the matrix of the page's year, in the page's order."""
    form = MatrixQueryForm(request.GET)
    if not form.is_valid():
        return _refused(form)
    years, day = matrix_years(), today()
    year = form.cleaned_data["year"] or (years[0] if years and day.year not in years else day.year)
    accounts = matrix_accounts(viewer=request.user, year=year, sort=form.cleaned_data["sort"] or "priority")
    return download(request, matrix_table(accounts=accounts, viewer=request.user))


@login_required
@require_GET
def territory_export(request: HttpRequest) -> HttpResponseBase:
    """The territory view the page shows (by region unless the query string names another)."""
    form = TerritoryQueryForm(request.GET)
    if not form.is_valid():
        return _refused(form)
    dimension = form.cleaned_data["dimension"] or "region"
    rows = territory_analysis(viewer=request.user, dimension=dimension)
    return download(request, territory_table(rows=rows, dimension_label=TERRITORY_LABELS[dimension]))


@login_required
@require_GET
def targets_export(request: HttpRequest) -> HttpResponseBase:
    """Every owner of the targets pivot of the page's year and period type."""
    form = TargetsQueryForm(request.GET)
    if not form.is_valid():
        return _refused(form)
    day = today()
    pivot = targets_pivot(
        viewer=request.user,
        period_type=form.cleaned_data["period_type"] or "month",
        year=form.cleaned_data["year"] or day.year,
        per_page=ALL_OWNERS,
        on=day,
    )
    return download(request, targets_table(pivot=pivot))


@login_required
@require_GET
def changes_export(request: HttpRequest) -> HttpResponseBase:
    """Every change the page lists since its day, newest first."""
    form = ChangesQueryForm(request.GET)
    _context, scope = report_scope(request, form)
    if not form.is_valid():
        return _refused(form)
    since = form.cleaned_data["since"] or week_start_of(today())
    events = change_events(viewer=request.user, since=since, **scope)
    return download(request, change_table(events=events, show_owner=not request.user.is_rep))


@login_required
@require_GET
def winloss_export(request: HttpRequest) -> HttpResponseBase:
    """The page's five analyses (reason, competitor, furthest stage, untouched cause, source) one under the other."""
    form = WinLossQueryForm(request.GET)
    _context, scope = report_scope(request, form)
    if not form.is_valid():
        return _refused(form)
    end = form.cleaned_data["end"] or today()
    start = form.cleaned_data["start"] or date(end.year, 1, 1)
    if start > end:
        start = date(end.year, 1, 1)
    by_dimension = win_loss_by(viewer=request.user, dimensions=list(DIMENSION_LABELS), start=start, end=end, **scope)
    dimensions = [(label, by_dimension[code]) for code, label in DIMENSION_LABELS.items()]
    return download(request, win_loss_table(dimensions=dimensions))


@login_required
@require_GET
def forecast_export(request: HttpRequest) -> HttpResponseBase:
    """Every rep of the forecast of the page's period."""
    form = ForecastQueryForm(request.GET)
    _context, scope = report_scope(request, form)
    if not form.is_valid():
        return _refused(form)
    period_type, year, period = form.chosen_period(on=today())
    start, end = forecast_period(period_type=period_type, year=year, period=period)
    owners = forecast_owners(viewer=request.user, period_type=period_type, start=start, end=end, **scope)
    return download(request, forecast_table(rows=forecast_rows(list(owners))))
