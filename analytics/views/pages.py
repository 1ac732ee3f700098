"""Pages of the analytics area: home, team, CV/PV matrix, territory analysis and targets (SPEC §9).

Every number comes from the modules of analytics/selectors/ with `viewer=request.user`, so a page shows exactly what
the viewer may see; a team the viewer may not see answers 404. A malformed query string answers 400 with the form's
errors.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

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
from analytics.selectors.attainment import current_attainment
from analytics.selectors.cvpv import (
    MatrixChart,
    MatrixSummary,
    bin_centre,
    bin_edges,
    matrix_accounts,
    matrix_chart,
    matrix_rows,
    matrix_summary,
)
from analytics.selectors.forecast import ForecastRow, forecast_owners, forecast_rows
from analytics.selectors.funnel import funnel_snapshot, funnel_total, without_empty_after_sales
from analytics.selectors.pages import TeamOverview, matrix_years, team_overview, team_people, visit_agenda
from analytics.selectors.targets import targets_pivot
from analytics.selectors.territory import TerritoryRow, territory_analysis
from analytics.selectors.todo import todo_list
from analytics.views.home_rows import agenda_rows, todo_rows
from core.calendar import period_end, period_start, today
from pipeline.models import Pipeline
from pipeline.selectors.planning import PlanAdherence, plan_adherence_by_owner
from pipeline.services.targets import may_set_targets

HOME_LIST_LENGTH = 10
HOME_ATTAINMENT_ROWS = 8
MATRIX_ROWS_PER_PAGE = 50
MATRIX_CHART_POINTS = 200
TEAM_PEOPLE_PER_PAGE = 20
TARGETS_OWNERS_PER_PAGE = 25
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


def _week_plan(adherence: dict[int, PlanAdherence]) -> PlanAdherence:
    return PlanAdherence(
        planned=sum(a.planned for a in adherence.values()),
        done=sum(a.done for a in adherence.values()),
        cancelled=sum(a.cancelled for a in adherence.values()),
        open=sum(a.open for a in adherence.values()),
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in user's start page: first the to-do (overdue visits, due follow-ups, opportunities past their
    expected close date, stale opportunities, untouched targets), then the visible open pipeline by stage, this week's
    visits and the current month's and quarter's attainment; the same queries whatever the data."""
    viewer, day = request.user, today()
    pipeline = Pipeline.objects.filter(is_default=True).first()
    rows = without_empty_after_sales(funnel_snapshot(viewer=viewer, pipeline=pipeline)) if pipeline else []
    owner = viewer if viewer.is_rep else None
    month_start, quarter_start = period_start("month", day), period_start("quarter", day)
    todo = todo_list(viewer=viewer)
    agenda = visit_agenda(viewer=viewer, on=day, limit=HOME_LIST_LENGTH)
    show_owner = not viewer.is_rep
    current = current_attainment(viewer=viewer, owner=owner, on=day)
    month, quarter = current.month, current.quarter
    context = {
        "pipeline": pipeline,
        "pipeline_heading": _pipeline_heading(viewer),
        "funnel_rows": rows,
        "funnel_total": funnel_total(rows),
        "agenda": agenda,
        "agenda_rows": agenda_rows(agenda.upcoming, show_owner=show_owner),
        "week_plan": _week_plan(plan_adherence_by_owner(viewer=viewer, week_start=period_start("week", day))),
        "todo": todo,
        "todo_rows": todo_rows(todo, request=request, show_owner=show_owner),
        "untouched": todo.untouched.items,
        "untouched_count": todo.untouched.total,
        "stale": todo.stale.items,
        "stale_count": todo.stale.total,
        "month_attainment": month[:HOME_ATTAINMENT_ROWS],
        "quarter_attainment": quarter[:HOME_ATTAINMENT_ROWS],
        "attainment_more": max(len(month), len(quarter)) > HOME_ATTAINMENT_ROWS,
        "month_start": month_start,
        "quarter_start": quarter_start,
    }
    return render(request, "analytics/home.html", context)


# Team ------------------------------------------------------------------------------------------------------------


def team_for(viewer: User, team_id: int | None, teams: list[Team]) -> Team | None:
    """The team the page shows: the one asked for if the viewer may see it (404 otherwise); by default a manager's
    first managed team and a director's first team by name (None: there is no team yet)."""
    if team_id is not None:
        for team in teams:
            if team.pk == team_id:
                return team
        raise Http404
    managed = [t for t in teams if t.manager_id == viewer.pk] or teams
    if not managed and not viewer.is_director:
        raise Http404
    return managed[0] if managed else None


def _team_forecast(viewer: User, team: Team, people: list[User], period: str, start: date) -> dict[int, ForecastRow]:
    """The forecast of the whole current `period` for each of `people` (one page of the team), by user id; one
    query."""
    last_day = period_end(period, start) - timedelta(days=1)
    owners = forecast_owners(viewer=viewer, period_type=period, start=start, end=last_day, team=team)
    return {row.owner_id: row for row in forecast_rows(list(owners.filter(pk__in=[p.pk for p in people])))}


def _team_charts(overview: TeamOverview, forecast: dict[int, ForecastRow]) -> dict[str, dict]:
    """The team page's three bar charts over its people: open amount per stage (stacked), target against won, and
    won + commit + best case (stacked) against target; runs no query."""
    people = [m.person for m in overview.members]
    labels = [p.display_name for p in people]
    rows = [forecast.get(p.pk) for p in people]

    def amounts(name: str) -> list[float]:
        return [float(getattr(r, name) or 0) if r is not None else 0.0 for r in rows]

    return {
        "funnel": {
            "labels": labels,
            "stacked": True,
            "series": [
                {
                    "label": row.stage.name,
                    "data": [float(cell.amount) for cell in row.cells],
                    "colour_var": f"--stage-{row.stage.order}",
                }
                for row in overview.funnel
            ],
        },
        "attainment": {
            "labels": labels,
            "series": [{"label": _("Target"), "data": amounts("target")}, {"label": _("Won"), "data": amounts("won")}],
        },
        "forecast": {
            "labels": labels,
            "stacked": True,
            "series": [
                {"label": _("Target"), "data": amounts("target"), "stack": "target"},
                {"label": _("Won"), "data": amounts("won"), "stack": "forecast"},
                {"label": _("Commit"), "data": amounts("commit"), "stack": "forecast"},
                {"label": _("Best case"), "data": amounts("best_case"), "stack": "forecast"},
            ],
        },
    }


@login_required
def team(request: HttpRequest) -> HttpResponse:
    """The team page (SPEC §9): one team at a time, its people side by side, TEAM_PEOPLE_PER_PAGE a page; a manager
    sees the teams they manage, a director picks any team and steps from one to the next; reps get 404. Charts of the
    page's people (open amount per stage now; target and won, forecast against target for the chosen period) and
    each person's name a link to their cockpit. The same queries whatever the size of the company or of the team."""
    viewer = request.user
    if viewer.is_rep:
        raise Http404
    form = TeamQueryForm(request.GET)
    teams = list(visible_teams(viewer).order_by("name", "pk"))
    context = {"form": form, "teams": teams, "periods": form.fields["period"].choices}
    if not form.is_valid():
        return _invalid(request, "analytics/team.html", context)
    chosen = team_for(viewer, form.cleaned_data["team"], teams)
    period = form.cleaned_data["period"] or "quarter"
    day = today()
    start = period_start(period, day)
    pipeline = Pipeline.objects.filter(is_default=True).first()
    people, overview = None, None
    if chosen is not None and pipeline is not None:
        people = Paginator(team_people(viewer=viewer, team=chosen), TEAM_PEOPLE_PER_PAGE).get_page(
            request.GET.get("page")
        )
        overview = team_overview(
            viewer=viewer, pipeline=pipeline, start=start, end=day, team=chosen, people=list(people), on=day
        )
        forecast = _team_forecast(viewer, chosen, list(people), period, start)
        context["charts"] = _team_charts(overview, forecast)
    index = teams.index(chosen) if chosen is not None else 0
    context |= {
        "team": chosen,
        "team_number": index + 1,
        "previous_team": teams[index - 1] if chosen is not None and index > 0 else None,
        "next_team": teams[index + 1] if chosen is not None and index + 1 < len(teams) else None,
        "period": period,
        "period_label": dict(form.fields["period"].choices)[period],
        "start": start,
        "end": day,
        "pipeline": pipeline,
        "page_obj": people,
        "overview": overview,
    }
    return render(request, "analytics/team.html", context)


# CV/PV matrix ----------------------------------------------------------------------------------------------------


def _matrix_chart(summary: MatrixSummary, chart: MatrixChart) -> dict:
    """The scatter chart's data: the first accounts by visit priority as points (x = PV, y = CV), every other account
    in a density bin (its geometric middle, its edges and how many), the thresholds and quadrant labels."""
    per_decade = chart.bins_per_decade
    return {
        "points": [{"x": float(p.pv), "y": float(p.cv), "quadrant": p.quadrant, "name": p.name} for p in chart.points],
        "bins": [
            {
                "x": bin_centre(b.pv_bin, per_decade),
                "y": bin_centre(b.cv_bin, per_decade),
                "x_range": bin_edges(b.pv_bin, per_decade),
                "y_range": bin_edges(b.cv_bin, per_decade),
                "n": b.count,
                "quadrant": b.quadrant,
            }
            for b in chart.bins
        ],
        "cv_threshold": None if summary.cv_threshold is None else float(summary.cv_threshold),
        "pv_threshold": None if summary.pv_threshold is None else float(summary.pv_threshold),
        "quadrants": [{"code": q.value, "label": str(q.label), "colour": QUADRANT_COLOURS[q.value]} for q in Quadrant],
        "axes": {"x": _("Potential value (PV, ¥)"), "y": _("Current value (CV, ¥)")},
        "labels": {"accounts": _("%(n)s accounts")},
    }


@login_required
def matrix(request: HttpRequest) -> HttpResponse:
    """The CV/PV matrix of a year (SPEC §7): counts per quadrant, a chart of the first MATRIX_CHART_POINTS accounts
    by visit priority with the others as density bins, one page of the viewer's accounts, year-over-year
    transitions; the same queries and a bounded page whatever the number of accounts."""
    form = MatrixQueryForm(request.GET)
    years = matrix_years()
    day = today()
    context = {"form": form, "years": years}
    if not form.is_valid():
        return _invalid(request, "analytics/matrix.html", context)
    year = form.cleaned_data["year"] or (years[0] if years and day.year not in years else day.year)
    sort = form.cleaned_data["sort"] or "priority"
    summary = matrix_summary(viewer=request.user, year=year)
    quadrant_labels = dict(Quadrant.choices)
    context |= {
        "year": year,
        "matrix": summary,
        "sort": sort,
        "sorts": MATRIX_SORTS,
        "quadrant_labels": quadrant_labels,
        "transitions": [
            (quadrant_labels[src], [counts[dst] for dst in quadrant_labels])
            for src, counts in summary.transitions.items()
        ],
        "quadrant_stats": [(code, label, summary.quadrant_counts[code]) for code, label in quadrant_labels.items()],
    }
    if summary.computed_at is not None:
        chart = matrix_chart(viewer=request.user, year=year, points=MATRIX_CHART_POINTS)
        paginator = Paginator(matrix_accounts(viewer=request.user, year=year, sort=sort), MATRIX_ROWS_PER_PAGE)
        paginator.count = summary.total  # counted with the quadrants already: no COUNT query of its own
        page = paginator.get_page(request.GET.get("page"))
        page.object_list = matrix_rows(page.object_list)
        context |= {"chart": _matrix_chart(summary, chart), "chart_points": len(chart.points), "page_obj": page}
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
        "as_of": rows.as_of,  # a director's whole company: the nightly snapshot's time
    }
    return render(request, "analytics/territory.html", context)


# Targets ---------------------------------------------------------------------------------------------------------


@login_required
def targets(request: HttpRequest) -> HttpResponse:
    """Attainment of a year as a pivot: the viewer's visible owners (teams, each before its members) × the year's
    months, quarters or the year, one page of TARGETS_OWNERS_PER_PAGE owners at a time, with each person's stability
    over the last 12 complete months; the same queries whatever the number of targets."""
    form = TargetsQueryForm(request.GET)
    day = today()
    context = {"form": form, "years": list(range(day.year + 1, day.year - 5, -1))}
    if not form.is_valid():
        return _invalid(request, "analytics/targets.html", context)
    period_type = form.cleaned_data["period_type"] or "month"
    year = form.cleaned_data["year"] or day.year
    pivot = targets_pivot(
        viewer=request.user,
        period_type=period_type,
        year=year,
        page=request.GET.get("page"),
        per_page=TARGETS_OWNERS_PER_PAGE,
        on=day,
    )
    context |= {
        "period_type": period_type,
        "period_types": form.fields["period_type"].choices,
        "year": year,
        "pivot": pivot,
        "page_obj": pivot.page,
        "current_start": period_start(period_type, day),
        "may_set_targets": may_set_targets(actor=request.user),
    }
    return render(request, "analytics/targets.html", context)
