"""Reads only the server-rendered analytics pages need beyond the metric selectors (home agenda, team columns,
matrix years), and the team page's overview composed from them. Metrics themselves always come from the metric
modules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial

from django.db.models import Case, Count, F, Q, Value, When, Window

from accounts.models import Team, User
from accounts.visibility import VIEWER_SHAPE
from analytics.models import MatrixRun
from analytics.selectors._common import _bounds
from analytics.selectors.activity import visits_per_rep_week
from analytics.selectors.attainment import AttainmentRow, Stability, attainment, stability
from analytics.selectors.coverage import TargetCoverage, target_coverage_by_owner
from analytics.selectors.first_rows import owner_columns, visit_of
from analytics.selectors.funnel import (
    FlowStage,
    FunnelFlow,
    FunnelStage,
    funnel_flow_by_owner,
    funnel_snapshot,
    funnel_snapshot_by_owner,
    without_empty_after_sales,
)
from analytics.selectors.outcomes import WinRate, win_rate_by_owner
from core.calendar import day_start, period_end, period_start, today
from core.statements import QueryStatement, bound_statement, query_statement, read_rows
from pipeline.models import Pipeline, Stage, Visit
from pipeline.selectors.planning import PlanAdherence, plan_adherence_by_owner


@dataclass(frozen=True)
class VisitAgenda:
    upcoming: list[Visit]  # planned from today to the end of this week, in time order, at most `limit`
    today_count: int  # planned for today
    later_count: int  # planned from tomorrow to Sunday
    overdue_count: int  # still planned from the 7 days before today (as on the visit log page)

    @property
    def more(self) -> int:
        """Upcoming visits of the week left out of `upcoming`."""
        return self.today_count + self.later_count - len(self.upcoming)


def visit_agenda(*, viewer: User, on: date | None = None, limit: int = 10) -> VisitAgenda:
    """The viewer's visible visits still planned for today and the rest of this week, with account, contact and
    owner loaded (their names), and how many were left overdue in the last 7 days; one query: the planned visits
    from 7 days ago to the end of the week, counted per span over the whole window of rows and cut after the first
    `limit` of the week (the overdue ones sort last)."""
    day = on or today()
    today_from, tomorrow = _bounds(day, day)
    week_end = day_start(period_end("week", period_start("week", day)))
    statement, params = bound_statement(
        ("visit agenda", limit),
        partial(_agenda_statement, limit=limit),
        keep={"viewer": VIEWER_SHAPE},
        # one generic plan misjudged the visibility rule's OR where the owners' names are joined (6 ms against 2)
        prepare=viewer.role == User.Role.REP,
        viewer=viewer,
        today_from=today_from,
        tomorrow=tomorrow,
        week_end=week_end,
        week_ago=today_from - timedelta(days=7),
    )
    counts = {"today_count": 0, "later_count": 0, "overdue_count": 0}
    upcoming = []
    for row in read_rows(statement, params):
        counts = {name: row[name] for name in counts}
        if row["item_at"] >= today_from:
            upcoming.append(visit_of(row))
    return VisitAgenda(upcoming=upcoming, **counts)


# What the agenda shows of a visit: when, where, why, and whose (to a manager or director: a rep's are their own).
_AGENDA_COLUMNS = {"item_id": "pk", "item_at": "planned_at", "item_name": "purpose", "item_kind": "kind"}
_AGENDA_PLACE = {"account_ref": "account_id", "account_label": "account__name"}


def _agenda_columns(viewer: User) -> dict[str, str]:
    owner = {"owner_ref": "owner_id"} if viewer.role == User.Role.REP else owner_columns("owner")
    return {**_AGENDA_COLUMNS, **_AGENDA_PLACE, **owner}


def _agenda_statement(
    *, viewer: User, today_from: datetime, tomorrow: datetime, week_end: datetime, week_ago: datetime, limit: int
) -> QueryStatement:
    overdue = Q(planned_at__lt=today_from)
    return query_statement(
        Visit.objects.visible_to(viewer)
        .planned()
        .filter(planned_at__gte=week_ago, planned_at__lt=week_end)
        .order_by(Case(When(overdue, then=Value(1)), default=Value(0)), "planned_at", "pk")
        .values(
            **{name: F(path) for name, path in _agenda_columns(viewer).items()},
            today_count=Window(Count("pk", filter=Q(planned_at__gte=today_from, planned_at__lt=tomorrow))),
            later_count=Window(Count("pk", filter=Q(planned_at__gte=tomorrow))),
            overdue_count=Window(Count("pk", filter=overdue)),
        )[:limit]
    )


def team_people(*, viewer: User, team: Team | None = None) -> list[User]:
    """The active reps and managers the viewer sees (of one team when given), reps first, by username; one query."""
    people = User.objects.visible_to(viewer).filter(is_active=True, role__in=[User.Role.REP, User.Role.MANAGER])
    if team is not None:
        people = people.filter(team=team)
    return sorted(people.select_related("team"), key=lambda u: (u.role != User.Role.REP, u.username))


def matrix_years() -> list[int]:
    """The years whose CV/PV matrix has been computed, newest first; one query."""
    return list(MatrixRun.objects.order_by("-year").values_list("year", flat=True))


@dataclass(frozen=True)
class TeamMemberRow:
    person: User
    open_count: int
    open_amount: Decimal
    flow: FunnelFlow | None  # None: created nothing in the period
    win_rate: WinRate
    coverage: TargetCoverage | None  # None: owns no target account
    adherence: PlanAdherence | None  # last week's plan; None: planned nothing
    visits_last_week: int | None  # completed visits last week; None for a manager
    month: AttainmentRow | None
    quarter: AttainmentRow | None
    stability: Stability | None


@dataclass(frozen=True)
class FunnelCell:
    person: User
    count: int  # the person's open opportunities in the row's stage
    amount: Decimal


@dataclass(frozen=True)
class FunnelPivotRow:
    """One stage of the open funnel, a cell per member."""

    stage: Stage
    cells: list[FunnelCell]  # one per member, in the members' order, zeros included
    total: FunnelStage  # the whole scope (every owner in it, not only the members shown)


@dataclass(frozen=True)
class ConversionCell:
    person: User
    step: FlowStage | None  # the row's stage in the person's flow; None: they created nothing in the period


@dataclass(frozen=True)
class ConversionRow:
    """One stage of the funnel flow of the period, a cell per member."""

    stage: Stage
    cells: list[ConversionCell]  # one per member, in the members' order


@dataclass(frozen=True)
class TeamOverview:
    stages: list[Stage]  # the pipeline's stages, after-sales ones only while they hold open opportunities
    total: list[FunnelStage]  # the whole scope's funnel over `stages` (every owner in it)
    members: list[TeamMemberRow]  # the people shown, in the order given
    funnel: list[FunnelPivotRow]  # a row per stage of `stages`, a cell per member
    conversion: list[ConversionRow]  # a row per stage of `stages`, a cell per member
    idle_reps: list[User]  # active reps of the scope (not only those shown) with no completed visit last week
    teams_month: list[AttainmentRow]  # team targets of the current month and quarter in the scope
    teams_quarter: list[AttainmentRow]
    last_week_start: date


def _attainment_of(rows: list[AttainmentRow], owner_type: str, start: date) -> dict[int, AttainmentRow]:
    return {r.owner_id: r for r in rows if r.owner_type == owner_type and r.period_start == start}


def team_overview(
    *,
    viewer: User,
    pipeline: Pipeline,
    start: date,
    end: date,
    team: Team | None = None,
    people: list[User] | None = None,
    on: date | None = None,
) -> TeamOverview:
    """The team page: per person of `people` (by default every visible rep and manager of `team`, or all), the
    funnel by stage, the flow, win rate of the period `start`–`end`, coverage, last week's plan adherence and visits,
    current attainment and stability, each from its own selector above, and the funnel and conversion as rows of a
    cell per person; 20 queries whatever the number of people (19 when `people` is given)."""
    day = on or today()
    last_week_start = period_start("week", day) - timedelta(days=7)
    total = without_empty_after_sales(funnel_snapshot(viewer=viewer, pipeline=pipeline, team=team))
    funnels = funnel_snapshot_by_owner(viewer=viewer, pipeline=pipeline, team=team)
    flows = funnel_flow_by_owner(viewer=viewer, pipeline=pipeline, start=start, end=end, team=team)
    rates = win_rate_by_owner(viewer=viewer, start=start, end=end, team=team, pipeline=pipeline)
    coverage = target_coverage_by_owner(viewer=viewer, team=team, on=day)
    adherence = plan_adherence_by_owner(viewer=viewer, week_start=last_week_start, team=team)
    last_week = visits_per_rep_week(
        viewer=viewer, start=last_week_start, end=last_week_start + timedelta(days=6), team=team
    )
    visits = {row.owner.pk: row.done for row in last_week}
    month_start, quarter_start = period_start("month", day), period_start("quarter", day)
    months = attainment(viewer=viewer, period_type="month", year=day.year, team=team, period=month_start)
    quarters = attainment(viewer=viewer, period_type="quarter", year=day.year, team=team, period=quarter_start)
    month_of, quarter_of = _attainment_of(months, "user", month_start), _attainment_of(quarters, "user", quarter_start)
    stable = {row.owner.pk: row for row in stability(viewer=viewer, team=team, on=day)}
    shown = people if people is not None else team_people(viewer=viewer, team=team)
    # person id -> stage id -> the person's open funnel there, and the same for their flow (None: created nothing)
    funnel_of = {person.pk: {row.stage.pk: row for row in funnels.get(person.pk, [])} for person in shown}
    flow_of = {p.pk: {step.stage.pk: step for step in flows[p.pk].stages} for p in shown if p.pk in flows}
    members = []
    for person in shown:
        own = [funnel_of[person.pk][row.stage.pk] for row in total if row.stage.pk in funnel_of[person.pk]]
        members.append(
            TeamMemberRow(
                person=person,
                open_count=sum(r.count for r in own),
                open_amount=sum((r.amount for r in own), Decimal(0)),
                flow=flows.get(person.pk),
                win_rate=rates.get(person.pk, WinRate(won=0, lost=0)),
                coverage=coverage.get(person.pk),
                adherence=adherence.get(person.pk),
                visits_last_week=visits.get(person.pk),
                month=month_of.get(person.pk),
                quarter=quarter_of.get(person.pk),
                stability=stable.get(person.pk),
            )
        )
    return TeamOverview(
        stages=[row.stage for row in total],
        total=total,
        members=members,
        funnel=[
            FunnelPivotRow(
                stage=row.stage,
                cells=[
                    FunnelCell(person=person, count=cell.count, amount=cell.amount)
                    if (cell := funnel_of[person.pk].get(row.stage.pk))
                    else FunnelCell(person=person, count=0, amount=Decimal(0))
                    for person in shown
                ],
                total=row,
            )
            for row in total
        ],
        conversion=[
            ConversionRow(
                stage=row.stage,
                cells=[
                    ConversionCell(
                        person=person,
                        step=flow_of[person.pk].get(row.stage.pk) if person.pk in flow_of else None,
                    )
                    for person in shown
                ],
            )
            for row in total
        ],
        idle_reps=[row.owner for row in last_week if row.done == 0],
        teams_month=list(_attainment_of(months, "team", month_start).values()),
        teams_quarter=list(_attainment_of(quarters, "team", quarter_start).values()),
        last_week_start=last_week_start,
    )
