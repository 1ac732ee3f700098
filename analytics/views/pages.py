"""Pages of the analytics area: home, team, CV/PV matrix, territory analysis and targets (SPEC §9).

Every number comes from the modules of analytics/selectors/ with `viewer=request.user`, so a page shows exactly what
the viewer may see; a team the viewer may not see answers 404. A malformed query string answers 400 with the form's
errors.
"""

from __future__ import annotations

from datetime import date
from operator import attrgetter

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.facts import CUSTOMER_TYPE_LABELS
from accounts.models import Team, User
from analytics.forms import (
    MATRIX_SORTS,
    TERRITORY_LABELS,
    MatrixQueryForm,
    TargetsQueryForm,
    TeamQueryForm,
    TerritoryQueryForm,
)
from analytics.models import Quadrant
from analytics.selectors._common import visible_teams
from analytics.selectors.attainment import AttainmentRow, attainment, stability
from analytics.selectors.coverage import stale_opportunities, untouched_accounts
from analytics.selectors.funnel import funnel_snapshot, funnel_total, without_empty_after_sales
from analytics.selectors.matrix import CvPvMatrix, MatrixRow, cvpv_matrix
from analytics.selectors.pages import matrix_years, team_overview, visit_agenda
from analytics.selectors.territory import TerritoryRow, territory_analysis
from core.calendar import period_end, period_start, today
from pipeline.models import Pipeline
from pipeline.selectors.planning import PlanAdherence, plan_adherence_by_owner

HOME_LIST_LENGTH = 10
HOME_ATTAINMENT_ROWS = 8
MATRIX_ROWS_PER_PAGE = 50
QUADRANT_COLOURS = {"core": "#15803d", "develop": "#1d4ed8", "maintain": "#b45309", "observe": "#94a3b8"}


def _pipeline_heading(user) -> str:
    if user.is_director:
        return _("Company pipeline")
    if user.is_manager:
        return _("My team's pipeline")
    return _("My pipeline")


def _invalid(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """The page with its query form's errors and no figures, answered 400."""
    return render(request, template, {**context, "invalid": True}, status=400)


def _current_attainment(rows: list[AttainmentRow], start: date) -> list[AttainmentRow]:
    """The rows of the period starting on `start`, teams first."""
    return sorted((r for r in rows if r.period_start == start), key=lambda r: r.owner_type != "team")


def _week_plan(adherence: dict[int, PlanAdherence]) -> PlanAdherence:
    return PlanAdherence(
        planned=sum(a.planned for a in adherence.values()),
        done=sum(a.done for a in adherence.values()),
        cancelled=sum(a.cancelled for a in adherence.values()),
        open=sum(a.open for a in adherence.values()),
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in user's start page: visible open pipeline by stage, this week's visits, untouched targets,
    stale opportunities and the current month's and quarter's attainment; the same queries whatever the data."""
    viewer, day = request.user, today()
    pipeline = Pipeline.objects.filter(is_default=True).first()
    rows = without_empty_after_sales(funnel_snapshot(viewer=viewer, pipeline=pipeline)) if pipeline else []
    owner = viewer if viewer.is_rep else None
    month_start, quarter_start = period_start("month", day), period_start("quarter", day)
    untouched = untouched_accounts(viewer=viewer, on=day)
    stale = stale_opportunities(viewer=viewer, on=day)
    month = _current_attainment(attainment(viewer=viewer, period_type="month", year=day.year, owner=owner), month_start)
    quarter = _current_attainment(
        attainment(viewer=viewer, period_type="quarter", year=day.year, owner=owner), quarter_start
    )
    context = {
        "pipeline": pipeline,
        "pipeline_heading": _pipeline_heading(viewer),
        "funnel_rows": rows,
        "funnel_total": funnel_total(rows),
        "agenda": visit_agenda(viewer=viewer, on=day, limit=HOME_LIST_LENGTH),
        "week_plan": _week_plan(plan_adherence_by_owner(viewer=viewer, week_start=period_start("week", day))),
        "untouched": untouched[:HOME_LIST_LENGTH],
        "untouched_count": len(untouched),
        "stale": stale[:HOME_LIST_LENGTH],
        "stale_count": len(stale),
        "month_attainment": month[:HOME_ATTAINMENT_ROWS],
        "quarter_attainment": quarter[:HOME_ATTAINMENT_ROWS],
        "attainment_more": max(len(month), len(quarter)) > HOME_ATTAINMENT_ROWS,
        "month_start": month_start,
        "quarter_start": quarter_start,
        "show_owner": not viewer.is_rep,
    }
    return render(request, "analytics/home.html", context)


# Team ------------------------------------------------------------------------------------------------------------


def _team_for(viewer: User, team_id: int | None, teams: list[Team]) -> Team | None:
    """The team the page shows: the one asked for if the viewer may see it (404 otherwise); by default a manager's
    first managed team and, for a director, the whole company (None)."""
    if team_id is not None:
        for team in teams:
            if team.pk == team_id:
                return team
        raise Http404
    if viewer.is_director:
        return None
    managed = [t for t in teams if t.manager_id == viewer.pk] or teams
    if not managed:
        raise Http404
    return managed[0]


@login_required
def team(request: HttpRequest) -> HttpResponse:
    """The manager's team page (SPEC §9): per rep side by side; a director picks a team or all; reps get 404."""
    viewer = request.user
    if viewer.is_rep:
        raise Http404
    form = TeamQueryForm(request.GET)
    teams = list(visible_teams(viewer).order_by("name"))
    context = {"form": form, "teams": teams, "periods": form.fields["period"].choices}
    if not form.is_valid():
        return _invalid(request, "analytics/team.html", context)
    chosen = _team_for(viewer, form.cleaned_data["team"], teams)
    period = form.cleaned_data["period"] or "quarter"
    day = today()
    start = period_start(period, day)
    pipeline = Pipeline.objects.filter(is_default=True).first()
    overview = (
        team_overview(viewer=viewer, pipeline=pipeline, start=start, end=day, team=chosen, on=day) if pipeline else None
    )
    context |= {
        "team": chosen,
        "period": period,
        "start": start,
        "end": day,
        "pipeline": pipeline,
        "overview": overview,
    }
    return render(request, "analytics/team.html", context)


# CV/PV matrix ----------------------------------------------------------------------------------------------------


def _sorted_rows(rows: list[MatrixRow], sort: str) -> list[MatrixRow]:
    """The rows in the order of `sort` (a MATRIX_SORTS value); empty values last either way."""
    if sort == "priority":
        return rows  # the selector's order: visit priority, then name
    field = sort.lstrip("-")
    known = [r for r in rows if getattr(r, field) is not None]
    unknown = [r for r in rows if getattr(r, field) is None]
    return sorted(known, key=attrgetter(field), reverse=sort.startswith("-")) + unknown


def _matrix_chart(matrix: CvPvMatrix) -> dict:
    """The scatter chart's data: one point per account (x = PV, y = CV), the thresholds and quadrant labels."""
    return {
        "points": [{"x": float(r.pv), "y": float(r.cv), "quadrant": r.quadrant, "name": r.name} for r in matrix.rows],
        "cv_threshold": None if matrix.cv_threshold is None else float(matrix.cv_threshold),
        "pv_threshold": None if matrix.pv_threshold is None else float(matrix.pv_threshold),
        "quadrants": [{"code": q.value, "label": str(q.label), "colour": QUADRANT_COLOURS[q.value]} for q in Quadrant],
        "axes": {"x": _("Potential value (PV, ¥)"), "y": _("Current value (CV, ¥)")},
    }


@login_required
def matrix(request: HttpRequest) -> HttpResponse:
    """The CV/PV matrix of a year (SPEC §7): scatter chart, the viewer's accounts, year-over-year transitions."""
    form = MatrixQueryForm(request.GET)
    years = matrix_years()
    day = today()
    context = {"form": form, "years": years}
    if not form.is_valid():
        return _invalid(request, "analytics/matrix.html", context)
    year = form.cleaned_data["year"] or (years[0] if years and day.year not in years else day.year)
    sort = form.cleaned_data["sort"] or "priority"
    result = cvpv_matrix(viewer=request.user, year=year)
    page = Paginator(_sorted_rows(result.rows, sort), MATRIX_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    quadrant_labels = dict(Quadrant.choices)
    context |= {
        "year": year,
        "matrix": result,
        "page_obj": page,
        "sort": sort,
        "sorts": MATRIX_SORTS,
        "chart": _matrix_chart(result),
        "quadrant_labels": quadrant_labels,
        "customer_types": CUSTOMER_TYPE_LABELS,
        "transitions": [
            (quadrant_labels[src], [counts[dst] for dst in quadrant_labels])
            for src, counts in result.transitions.items()
        ],
        "quadrant_counts": {q: sum(1 for r in result.rows if r.quadrant == q) for q in quadrant_labels},
    }
    return render(request, "analytics/matrix.html", context)


# Territory -------------------------------------------------------------------------------------------------------


def _territory_chart(rows: list[TerritoryRow], dimension: str) -> dict:
    """The bar chart's data: CV, PV and open pipeline per group (regions: the top level only)."""
    shown = [r for r in rows if r.level in (None, 1)] if dimension == "region" else rows
    return {
        "labels": [r.label for r in shown],
        "series": [
            {"label": _("CV"), "data": [float(r.cv) for r in shown]},
            {"label": _("PV"), "data": [float(r.pv) for r in shown]},
            {"label": _("Open pipeline"), "data": [float(r.open_pipeline) for r in shown]},
        ],
    }


@login_required
def territory(request: HttpRequest) -> HttpResponse:
    """The decks' five territory views as tabs, each a table over the viewer's accounts and a bar chart."""
    form = TerritoryQueryForm(request.GET)
    context = {"form": form, "tabs": list(TERRITORY_LABELS.items())}
    if not form.is_valid():
        return _invalid(request, "analytics/territory.html", context)
    dimension = form.cleaned_data["dimension"] or "region"
    rows = territory_analysis(viewer=request.user, dimension=dimension)
    context |= {
        "dimension": dimension,
        "dimension_label": TERRITORY_LABELS[dimension],
        "rows": rows,
        "chart": _territory_chart(rows, dimension),
        "computed_year": today().year,
    }
    return render(request, "analytics/territory.html", context)


# Targets ---------------------------------------------------------------------------------------------------------


@login_required
def targets(request: HttpRequest) -> HttpResponse:
    """Attainment per owner and period of a year for the viewer's visible users and teams, with each rep's
    stability over the last 12 complete months."""
    form = TargetsQueryForm(request.GET)
    day = today()
    context = {"form": form, "years": list(range(day.year + 1, day.year - 5, -1))}
    if not form.is_valid():
        return _invalid(request, "analytics/targets.html", context)
    period_type = form.cleaned_data["period_type"] or "month"
    year = form.cleaned_data["year"] or day.year
    rows = attainment(viewer=request.user, period_type=period_type, year=year)
    current = period_start(period_type, day)
    context |= {
        "period_type": period_type,
        "period_types": form.fields["period_type"].choices,
        "year": year,
        "rows": rows,
        "current_start": current,
        "current_end": period_end(period_type, current),
        "stability": stability(viewer=request.user, on=day),
    }
    return render(request, "analytics/targets.html", context)
