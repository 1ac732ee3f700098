"""A director's weekly digest (SPEC §8), summarised by team: a line per team (not per person of the company) with
its open funnel, last week's movements, outcomes and visits, its idle reps, coverage and the team's attainment, and
the company's total. Each figure is one grouped query over the company (analytics/selectors/teams.py), so the
digest grows with the number of teams, not with the number of opportunities, visits or people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from accounts.models import Team, User
from analytics.digests.parts import (
    LIST_LENGTH,
    Attainment,
    Listing,
    Movements,
    Outcomes,
    listing,
    page_path,
    percent,
    sum_movements,
    sum_outcomes,
)
from analytics.selectors.coverage import TargetCoverage
from analytics.selectors.funnel import FunnelStage
from analytics.selectors.teams import (
    TeamActivity,
    TeamAttainment,
    activity_by_team,
    attainment_by_team,
    coverage_by_team,
    funnel_by_team,
    idle_reps,
)
from core.calendar import period_start
from pipeline.models import Opportunity, Pipeline, Stage


@dataclass(frozen=True)
class TeamLine:
    """One team's line in a director's digest, or the company's total."""

    team: Team | None  # None: people in no team (or, for the total, the whole company)
    funnel: list[FunnelStage]  # the digest's funnel stages, in order, zeros included
    movements: Movements
    outcomes: Outcomes
    activity: TeamActivity
    coverage: TargetCoverage | None  # None: no target accounts
    month: Attainment | None  # the team's own target of the month; None: none, and nothing won
    quarter: Attainment | None
    url: str = field(default="")  # the team page showing this team's people

    @property
    def open_count(self) -> int:
        return sum(s.count for s in self.funnel)

    @property
    def open_amount(self) -> Decimal:
        return sum((s.amount for s in self.funnel), Decimal(0))

    @property
    def coverage_percent(self) -> int | None:
        return percent(self.coverage.coverage) if self.coverage else None


@dataclass(frozen=True)
class CompanySections:
    """What a director's digest shows team by team."""

    stages: list[Stage]  # the default pipeline's funnel columns
    teams: list[TeamLine]  # every team by name, then the people in no team if they have any numbers
    total: TeamLine  # the company
    idle_reps: Listing[User]  # active reps with no completed visit last week, by team
    untouched_losses: Listing[Opportunity]


def _attainment(row: TeamAttainment | None) -> Attainment | None:
    if row is None:
        return None
    return Attainment(period_start=row.period_start, target=row.target, won_amount=row.won_amount, rate=row.attainment)


def _sum_funnels(funnels: list[list[FunnelStage]], stages: list[Stage]) -> list[FunnelStage]:
    return [
        FunnelStage(
            stage=stage,
            count=sum(f[i].count for f in funnels),
            amount=sum((f[i].amount for f in funnels), Decimal(0)),
            weighted_amount=sum((f[i].weighted_amount for f in funnels), Decimal(0)),
        )
        for i, stage in enumerate(stages)
    ]


def _sum_coverage(coverage: list[TargetCoverage]) -> TargetCoverage | None:
    if not coverage:
        return None
    return TargetCoverage(
        targets=sum(c.targets for c in coverage),
        covered=sum(c.covered for c in coverage),
        new_targets=sum(c.new_targets for c in coverage),
        new_covered=sum(c.new_covered for c in coverage),
    )


def company_sections(
    *,
    user: User,
    week_start: date,
    last_week_start: date,
    movements: dict[int | None, Movements],
    outcomes: dict[int | None, Outcomes],
    untouched: Listing[Opportunity],
) -> CompanySections:
    """A line per team the director sees (and one for people in no team), from `movements` and `outcomes` keyed by
    team id and the grouped selectors; 10 queries whatever the size of the company."""
    last_week_end = week_start - timedelta(days=1)
    pipeline = Pipeline.objects.filter(is_default=True).first()
    stages, funnels = funnel_by_team(viewer=user, pipeline=pipeline) if pipeline else ([], {})
    activity = activity_by_team(viewer=user, start=last_week_start, end=last_week_end)
    coverage = coverage_by_team(viewer=user, on=week_start)
    month, quarter = ("month", period_start("month", week_start)), ("quarter", period_start("quarter", week_start))
    attained = attainment_by_team(viewer=user, periods=[month, quarter])
    teams = list(Team.objects.visible_to(user).order_by("name", "pk"))

    # Funnel columns: every stage, after-sales ones only when a team has an open opportunity there.
    shown = [
        i for i, stage in enumerate(stages) if not stage.is_after_sales or any(f[i].count for f in funnels.values())
    ]
    columns = [stages[i] for i in shown]
    no_activity = TeamActivity(reps=0, idle_reps=0, done_visits=0)

    def line(team: Team | None) -> TeamLine:
        key = team.pk if team else None
        return TeamLine(
            team=team,
            funnel=[funnels[key][i] for i in shown] if key in funnels else _sum_funnels([], columns),
            movements=movements.get(key, Movements()),
            outcomes=outcomes.get(key, Outcomes()),
            activity=activity.get(key, no_activity),
            coverage=coverage.get(key),
            month=_attainment(attained[month].get(key)) if team else None,
            quarter=_attainment(attained[quarter].get(key)) if team else None,
            url=page_path("analytics:team", team=team.pk) if team else "",
        )

    lines = [line(team) for team in teams]
    nobody = {*funnels, *movements, *outcomes, *activity, *coverage}
    if None in nobody:  # people in no team (a director who sells, say) still count
        lines.append(line(None))
    total = TeamLine(
        team=None,
        funnel=_sum_funnels([line.funnel for line in lines], columns),
        movements=sum_movements(movements),
        outcomes=sum_outcomes(outcomes),
        activity=TeamActivity(
            reps=sum(a.reps for a in activity.values()),
            idle_reps=sum(a.idle_reps for a in activity.values()),
            done_visits=sum(a.done_visits for a in activity.values()),
        ),
        coverage=_sum_coverage(list(coverage.values())),
        month=None,
        quarter=None,
    )
    idle = list(idle_reps(viewer=user, start=last_week_start, end=last_week_end)[:LIST_LENGTH])
    return CompanySections(
        stages=columns,
        teams=lines,
        total=total,
        idle_reps=listing(idle, total.activity.idle_reps, url=page_path("analytics:team")),
        untouched_losses=untouched,
    )
