"""One rep's cockpit as their manager sees it (issue 13): the open funnel, the forecast of a period, this week's visit
plan, stale opportunities, untouched target accounts and what changed this week, each from its own metric selector
narrowed to the rep and to what the viewer sees; and the coaching points those figures raise. Never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from accounts.models import User
from analytics.models import JobRun
from analytics.selectors.changes import ChangeRow, change_events, change_rows
from analytics.selectors.coverage import (
    Shortlist,
    StaleOpportunity,
    UntouchedAccount,
    stale_opportunities_shortlist,
    untouched_accounts_shortlist,
)
from analytics.selectors.forecast import ForecastRow, forecast_owners, forecast_rows
from analytics.selectors.funnel import (
    FunnelStage,
    FunnelTotal,
    funnel_snapshot,
    funnel_total,
    without_empty_after_sales,
)
from core.calendar import period_end, period_start, week_start_of
from pipeline.models import Pipeline
from pipeline.selectors.planning import PlanAdherence, plan_adherence

COCKPIT_LIST_LENGTH = 10
COCKPIT_CHANGES = 20
# Below this share of the week's planned visits done (SPEC §5's adherence), the plan was not carried out.
PLAN_ADHERENCE_FLOOR = 0.8


@dataclass(frozen=True)
class RepCockpit:
    rep: User
    funnel: list[FunnelStage]  # the rep's open pipeline by stage (after-sales stages only while they hold some)
    funnel_total: FunnelTotal
    period_type: str  # "month", "quarter" or "year": the forecast's period, the one containing `on`
    period_start: date
    period_last_day: date
    forecast: ForecastRow
    week_start: date  # this week's Monday: the week of the plan and the first day of `changes`
    week_plan: PlanAdherence
    stale: Shortlist[StaleOpportunity]
    untouched: Shortlist[UntouchedAccount]
    stale_computed_at: datetime | None  # None: the nightly flags never ran (no flag is not "nothing stale")
    untouched_computed_at: datetime | None
    changes: list[ChangeRow]  # the first COCKPIT_CHANGES since `week_start`, newest first
    changes_total: int


def _empty_forecast(rep: User) -> ForecastRow:
    zero = Decimal("0.00")
    return ForecastRow(
        owner_id=rep.pk,
        owner_name=rep.display_name,
        target=None,
        won=zero,
        commit=zero,
        best_case=zero,
        pipeline=zero,
        call=None,
    )


def rep_cockpit(
    *, viewer: User, rep: User, pipeline: Pipeline | None, period_type: str, on: date, limit: int = COCKPIT_LIST_LENGTH
) -> RepCockpit:
    """The cockpit of `rep` (a user the viewer sees) on day `on`, the forecast for the `period_type` containing it;
    10 queries whatever the data (9 without a pipeline; one fewer for each of the week's two change tables
    without an event among the first COCKPIT_CHANGES)."""
    funnel = without_empty_after_sales(funnel_snapshot(viewer=viewer, pipeline=pipeline, owner=rep)) if pipeline else []
    start = period_start(period_type, on)
    last_day = period_end(period_type, start) - timedelta(days=1)
    owners = forecast_owners(viewer=viewer, period_type=period_type, start=start, end=last_day, owner=rep)
    forecast = next(iter(forecast_rows(list(owners))), None) or _empty_forecast(rep)
    week_start = week_start_of(on)
    runs = dict(JobRun.objects.filter(job__in=[JobRun.STALE, JobRun.UNTOUCHED]).values_list("job", "computed_at"))
    events = change_events(viewer=viewer, since=week_start, owner=rep)
    return RepCockpit(
        rep=rep,
        funnel=funnel,
        funnel_total=funnel_total(funnel),
        period_type=period_type,
        period_start=start,
        period_last_day=last_day,
        forecast=forecast,
        week_start=week_start,
        week_plan=plan_adherence(rep=rep, week_start=week_start),
        stale=stale_opportunities_shortlist(viewer=viewer, limit=limit, owner=rep, on=on),
        untouched=untouched_accounts_shortlist(viewer=viewer, limit=limit, owner=rep, on=on),
        stale_computed_at=runs.get(JobRun.STALE),
        untouched_computed_at=runs.get(JobRun.UNTOUCHED),
        changes=change_rows(list(events[:COCKPIT_CHANGES])),
        changes_total=events.count(),
    )


@dataclass(frozen=True)
class CoachingPoint:
    code: str  # what to talk about: "gap", "plan", "no_plan", "stale", "untouched", "empty_funnel"
    amount: Decimal | None = None  # the money the point is about (the gap left after best case)
    count: int | None = None  # how many rows it is about
    rate: float | None = None  # a share: the best adherence the week can still reach


def coaching_points(cockpit: RepCockpit) -> list[CoachingPoint]:
    """What a manager should take up with the rep, most pressing first: a gap to target that even the best case
    leaves open, a week plan that can no longer be carried out (or none), stale opportunities, untouched target
    accounts, an empty funnel; runs no query."""
    points = []
    forecast = cockpit.forecast
    if forecast.gap is not None and forecast.gap > forecast.best_case:
        points.append(CoachingPoint(code="gap", amount=forecast.gap - forecast.best_case))
    plan = cockpit.week_plan
    if not plan.planned:
        points.append(CoachingPoint(code="no_plan"))
    elif (plan.done + plan.open) / plan.planned < PLAN_ADHERENCE_FLOOR:
        # Even if every visit still open gets done, the plan falls short: too many were cancelled.
        points.append(CoachingPoint(code="plan", count=plan.cancelled, rate=(plan.done + plan.open) / plan.planned))
    if cockpit.stale.total:
        points.append(CoachingPoint(code="stale", count=cockpit.stale.total))
    if cockpit.untouched.total:
        points.append(CoachingPoint(code="untouched", count=cockpit.untouched.total))
    if cockpit.funnel and not cockpit.funnel_total.count:
        points.append(CoachingPoint(code="empty_funnel"))
    return points
