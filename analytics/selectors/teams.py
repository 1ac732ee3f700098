"""Numbers per team, each in one grouped query over what the viewer sees: the open funnel by stage, wins and losses
of a period, reps' completed visits and idle reps, coverage of target accounts, and team targets against their
members' wins. For a director's summaries (a row per team, not per person); a result holds a row per team, so its
size follows the number of teams, never the number of opportunities, visits or people.

Rows are keyed by team id; None holds the people in no team. Definitions are those of the per-owner selectors
(`funnel`, `outcomes`, `activity`, `coverage`, `attainment`), summed over each team's current members.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import reduce

from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from accounts.models import Account, User
from analytics.selectors._common import MONEY, _bounds, _money, _scope
from analytics.selectors.coverage import TargetCoverage
from analytics.selectors.funnel import FunnelStage
from core.calendar import current_quarter_bounds, day_start, period_bounds, period_end, today, year_bounds
from pipeline.models import Opportunity, Pipeline, SalesTarget, Stage, Visit

TeamKey = int | None  # a team's id; None: people in no team


def funnel_by_team(*, viewer: User, pipeline: Pipeline) -> tuple[list[Stage], dict[TeamKey, list[FunnelStage]]]:
    """The pipeline's stages in order and, per team with open opportunities, `funnel_snapshot` of its members over
    those stages (zeros included); 2 queries."""
    stages = list(pipeline.stages.order_by("order"))
    rows = {
        (row["owner__team_id"], row["stage_id"]): row
        for row in Opportunity.objects.open()
        .filter(_scope(viewer, "owner"), pipeline=pipeline)
        .values("owner__team_id", "stage_id")
        .annotate(n=Count("id"), total=Sum("amount"), weighted=Sum(F("amount") * F("probability"), output_field=MONEY))
        .order_by()
    }
    empty = {"n": 0, "total": 0, "weighted": 0}
    return stages, {
        team_id: [
            FunnelStage(
                stage=stage,
                count=(row := rows.get((team_id, stage.pk), empty))["n"],
                amount=_money(row["total"]),
                weighted_amount=_money(Decimal(row["weighted"]) / 100),
            )
            for stage in stages
        ]
        for team_id in {team_id for team_id, _stage in rows}
    }


@dataclass(frozen=True)
class TeamOutcomes:
    won: int = 0
    lost: int = 0
    untouched_losses: int = 0  # among the losses


def outcomes_by_team(*, viewer: User, start: date, end: date) -> dict[TeamKey, TeamOutcomes]:
    """Opportunities won and lost (untouched losses among them) closed from `start` to `end`, per team; 1 query."""
    rows = (
        Opportunity.objects.filter(_scope(viewer, "owner"))
        .closed_between(*_bounds(start, end))
        .values("owner__team_id")
        .annotate(
            won=Count("id", filter=Q(status=Opportunity.Status.WON)),
            lost=Count("id", filter=Q(status=Opportunity.Status.LOST)),
            untouched=Count("id", filter=Q(status=Opportunity.Status.LOST, is_untouched_loss=True)),
        )
        .order_by()
    )
    return {
        row["owner__team_id"]: TeamOutcomes(won=row["won"], lost=row["lost"], untouched_losses=row["untouched"])
        for row in rows
    }


@dataclass(frozen=True)
class TeamActivity:
    reps: int  # active reps
    idle_reps: int  # of those, with no completed visit in the period
    done_visits: int  # completed in the period by anyone of the team


def _done_between(start: date, end: date):
    since, until = _bounds(start, end)
    return Visit.objects.done().filter(done_at__gte=since, done_at__lt=until)


def idle_reps(*, viewer: User, start: date, end: date):
    """The viewer's active reps with no completed visit from `start` to `end`, by team name then username, with
    their team loaded; unevaluated (slice it: one query)."""
    visited = _done_between(start, end).filter(owner=OuterRef("pk"))
    return (
        User.objects.visible_to(viewer)
        .filter(role=User.Role.REP, is_active=True)
        .filter(~Exists(visited))
        .select_related("team")
        .order_by(F("team__name").asc(nulls_last=True), "username")
    )


def activity_by_team(*, viewer: User, start: date, end: date) -> dict[TeamKey, TeamActivity]:
    """Per team: active reps, how many of them completed no visit from `start` to `end`, and the visits its people
    completed then; 2 queries."""
    # The week's visitors once (a hashed list), not a lookup of each rep's visits.
    visitors = _done_between(start, end).values("owner_id")
    reps = (
        User.objects.visible_to(viewer)
        .filter(role=User.Role.REP, is_active=True)
        .values("team_id")
        .annotate(reps=Count("pk"), idle=Count("pk", filter=~Q(pk__in=visitors)))
        .order_by()
    )
    visits = dict(
        _done_between(start, end)
        .filter(_scope(viewer, "owner"))
        .values("owner__team_id")
        .annotate(n=Count("pk"))
        .values_list("owner__team_id", "n")
        .order_by()
    )
    counts = {row["team_id"]: (row["reps"], row["idle"]) for row in reps}
    return {
        team_id: TeamActivity(
            reps=counts.get(team_id, (0, 0))[0],
            idle_reps=counts.get(team_id, (0, 0))[1],
            done_visits=visits.get(team_id, 0),
        )
        for team_id in counts.keys() | visits.keys()
    }


def coverage_by_team(*, viewer: User, on: date | None = None) -> dict[TeamKey, TargetCoverage]:
    """`target_coverage` of each team's target accounts (those its members own); 1 query."""
    day = on or today()
    quarter_from, quarter_to = current_quarter_bounds(on=day)
    year_from, _ = year_bounds(day.year)
    q1_end = period_bounds("quarter", date(day.year, 1, 1))[1]
    done = Visit.objects.done().filter(account=OuterRef("pk"))
    rows = (
        Account.objects.targets()
        .filter(_scope(viewer, "owner"))
        .annotate(
            visited=Exists(done.filter(done_at__gte=quarter_from, done_at__lt=quarter_to)),
            visited_q1=Exists(done.filter(done_at__gte=year_from, done_at__lt=q1_end)),
        )
        .values("owner__team_id")
        .annotate(
            targets=Count("id"),
            covered=Count("id", filter=Q(visited=True)),
            new_targets=Count("id", filter=Q(target_since__year=day.year)),
            new_covered=Count("id", filter=Q(target_since__year=day.year, visited_q1=True)),
        )
        .order_by()
    )
    return {
        row["owner__team_id"]: TargetCoverage(
            targets=row["targets"],
            covered=row["covered"],
            new_targets=row["new_targets"],
            new_covered=row["new_covered"],
        )
        for row in rows
    }


@dataclass(frozen=True)
class TeamAttainment:
    period_type: str
    period_start: date
    target: Decimal | None  # the team's own target; None: it has none for the period
    won_amount: Decimal  # its current members' wins closed in the period

    @property
    def attainment(self) -> float | None:
        return float(self.won_amount / self.target) if self.target else None


def attainment_by_team(
    *, viewer: User, periods: list[tuple[str, date]]
) -> dict[tuple[str, date], dict[TeamKey, TeamAttainment]]:
    """For each (period type, period start) of `periods`: per team with a visible target or a win in it, the team's
    target against its current members' wins closed in the period (SPEC §6); 2 queries whatever the periods."""
    if not periods:
        return {}
    targets = (
        SalesTarget.objects.visible_to(viewer)
        .filter(owner_team__isnull=False)
        .filter(reduce(operator.or_, [Q(period_type=kind, period_start=start) for kind, start in periods]))
        .values_list("period_type", "period_start", "owner_team_id", "amount")
    )
    bounds = {key: (day_start(key[1]), day_start(period_end(*key))) for key in periods}
    sums = {
        f"won_{i}": Sum("amount", filter=Q(closed_at__gte=since, closed_at__lt=until))
        for i, (since, until) in enumerate(bounds.values())
    }
    wins = (
        Opportunity.objects.won()
        .filter(_scope(viewer, "owner"), closed_at__gte=min(b[0] for b in bounds.values()))
        .filter(closed_at__lt=max(b[1] for b in bounds.values()))
        .values("owner__team_id")
        .annotate(**sums)
        .order_by()
    )
    won = {row["owner__team_id"]: row for row in wins}
    amounts = {(kind, start, team_id): amount for kind, start, team_id, amount in targets}
    result = {}
    for i, (kind, start) in enumerate(periods):
        teams = {team_id for k, s, team_id in amounts if (k, s) == (kind, start)}
        teams |= {team_id for team_id, row in won.items() if row[f"won_{i}"]}
        result[kind, start] = {
            team_id: TeamAttainment(
                period_type=kind,
                period_start=start,
                target=_money(amounts[kind, start, team_id]) if (kind, start, team_id) in amounts else None,
                won_amount=_money(won.get(team_id, {}).get(f"won_{i}")),
            )
            for team_id in teams
        }
    return result
