"""What a user's weekly digest shows (SPEC §8).

What a digest shows comes only from the visibility-filtered selectors of analytics and pipeline, read as the
recipient: a rep's own numbers, a manager's team, a director's whole company. Periods are company-calendar weeks,
months and quarters (as on every page); times are shown in the recipient's time zone and language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Generic, TypeVar

from django.conf import settings
from django.db.models import Count, F, Q

from accounts.models import Team, User
from analytics.selectors.activity import visits_per_rep_week
from analytics.selectors.attainment import AttainmentRow, Stability, attainment
from analytics.selectors.attainment import stability as monthly_stability
from analytics.selectors.coverage import (
    StaleOpportunity,
    TargetCoverage,
    UntouchedAccount,
    stale_opportunities,
    target_coverage_by_owner,
    untouched_accounts,
)
from analytics.selectors.funnel import FunnelStage, funnel_snapshot_by_owner
from analytics.selectors.outcomes import untouched_losses, win_rate_by_owner
from core.calendar import day_start, period_start
from pipeline.models import Opportunity, Pipeline, Stage, StageChange, Visit
from pipeline.selectors.planning import PlanAdherence, plan_adherence, plan_adherence_by_owner, visit_plan_week

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Lists in an email stop here and say how many more there are; the numbers above them count everything.
LIST_LENGTH = 20


# What a digest shows ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing(Generic[T]):
    """The first LIST_LENGTH items of a list and how many there are in all."""

    items: list[T]
    total: int

    @property
    def more(self) -> int:
        return max(self.total - len(self.items), 0)


def _listing(items: list[T], total: int | None = None) -> Listing[T]:
    return Listing(items=items[:LIST_LENGTH], total=len(items) if total is None else total)


def _percent(rate: float | None) -> int | None:
    return None if rate is None else round(rate * 100)


@dataclass(frozen=True)
class Attainment:
    """One owner's target of one period against what they won in it."""

    period_start: date
    target: Decimal | None
    won_amount: Decimal
    rate: float | None

    @property
    def percent(self) -> int | None:
        return _percent(self.rate)


@dataclass(frozen=True)
class Movements:
    """Stage changes of a period: opportunities created, moved forward, moved back."""

    new: int = 0
    forward: int = 0
    backward: int = 0

    @property
    def total(self) -> int:
        return self.new + self.forward + self.backward


@dataclass(frozen=True)
class Outcomes:
    """Opportunities closed in a period; untouched losses are among the losses."""

    won: int = 0
    lost: int = 0
    untouched_losses: int = 0


@dataclass(frozen=True)
class PersonRow:
    """One person's line in a manager's or director's digest."""

    user: User
    funnel: list[FunnelStage]  # the digest's funnel stages, in order (empty without open opportunities)
    movements: Movements
    outcomes: Outcomes
    done_visits: int  # completed last week
    coverage: TargetCoverage | None  # None: no target accounts
    adherence: PlanAdherence | None  # None: no visit planned last week
    month: Attainment | None
    quarter: Attainment | None
    stability: Stability | None

    @property
    def open_stages(self) -> list[FunnelStage]:
        return [s for s in self.funnel if s.count]

    @property
    def open_count(self) -> int:
        return sum(s.count for s in self.funnel)

    @property
    def open_amount(self) -> Decimal:
        return sum((s.amount for s in self.funnel), Decimal(0))

    @property
    def coverage_percent(self) -> int | None:
        return _percent(self.coverage.coverage) if self.coverage else None

    @property
    def adherence_percent(self) -> int | None:
        return self.adherence.percent if self.adherence else None


@dataclass(frozen=True)
class TeamBlock:
    team: Team | None  # None: people in no team
    people: list[PersonRow]
    month: Attainment | None  # the team's own target
    quarter: Attainment | None


@dataclass(frozen=True)
class RepSections:
    """What only a rep's digest shows: their week ahead and what needs their attention."""

    adherence: PlanAdherence  # last week's plan
    done_visits: int  # all visits completed last week, planned or not
    planned_visits: list[Visit]  # this week's, not cancelled
    untouched_accounts: Listing[UntouchedAccount]  # in visit-priority order
    stale_opportunities: Listing[StaleOpportunity]
    closes_ahead: Listing[Opportunity]  # open, expected to close within SALESFLOW_CLOSES_AHEAD_DAYS
    closes_ahead_amount: Decimal
    month: Attainment | None
    quarter: Attainment | None


@dataclass(frozen=True)
class TeamSections:
    """What a manager's (their team) or director's (every team) digest shows per person."""

    stages: list[Stage]  # the default pipeline's funnel columns
    teams: list[TeamBlock]
    idle_reps: list[User]  # active reps with no completed visit last week
    untouched_losses: Listing[Opportunity]

    @property
    def people(self) -> list[PersonRow]:
        return [person for block in self.teams for person in block.people]


@dataclass(frozen=True)
class WeeklyDigest:
    user: User
    week_start: date  # the Monday the digest is for
    last_week_start: date
    last_week_end: date  # Sunday, included
    movements: Movements
    stage_changes: Listing[StageChange]  # last week's, newest first
    outcomes: Outcomes
    closed: Listing[Opportunity]  # won and lost last week, newest first; `is_untouched_loss` marks untouched ones
    rep: RepSections | None  # a rep's digest
    team: TeamSections | None  # a manager's or director's digest

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)


def _period_attainment(rows: list[AttainmentRow], *, owner_type: str, owner_id: int, start: date):
    for row in rows:
        if row.owner_type == owner_type and row.owner_id == owner_id and row.period_start == start:
            return Attainment(
                period_start=row.period_start, target=row.target, won_amount=row.won_amount, rate=row.attainment
            )
    return None


def _movements(*, viewer: User, since: datetime, until: datetime) -> tuple[dict[int, Movements], list[StageChange]]:
    """Stage changes of [since, until) per opportunity owner id, and the latest LIST_LENGTH of them; 2 queries."""
    changes = StageChange.objects.visible_to(viewer).filter(changed_at__gte=since, changed_at__lt=until)
    counts = {
        row["opportunity__owner_id"]: Movements(new=row["new"], forward=row["forward"], backward=row["backward"])
        for row in changes.values("opportunity__owner_id")
        .annotate(
            new=Count("pk", filter=Q(from_stage__isnull=True)),
            forward=Count("pk", filter=Q(to_stage__order__gt=F("from_stage__order"))),
            backward=Count("pk", filter=Q(to_stage__order__lt=F("from_stage__order"))),
        )
        .order_by()
    }
    latest = list(
        changes.select_related("opportunity__account", "opportunity__owner", "from_stage", "to_stage").order_by(
            "-changed_at", "-pk"
        )[:LIST_LENGTH]
    )
    return counts, latest


def _outcomes(*, viewer: User, start: date, end: date) -> tuple[dict[int, Outcomes], list[Opportunity], list]:
    """Won, lost and untouched losses per owner id closed from `start` to `end`, the latest LIST_LENGTH closed
    opportunities, and the untouched losses; 3 queries."""
    rates = win_rate_by_owner(viewer=viewer, start=start, end=end)
    untouched = untouched_losses(viewer=viewer, start=start, end=end).losses
    untouched_by_owner: dict[int, int] = {}
    for loss in untouched:
        untouched_by_owner[loss.owner_id] = untouched_by_owner.get(loss.owner_id, 0) + 1
    since, until = day_start(start), day_start(end + timedelta(days=1))
    closed = list(
        Opportunity.objects.visible_to(viewer)
        .filter(status__in=[Opportunity.Status.WON, Opportunity.Status.LOST])
        .closed_between(since, until)
        .select_related("account", "owner", "lost_to", "stage")
        .order_by("-closed_at", "-pk")[:LIST_LENGTH]
    )
    per_owner = {
        owner_id: Outcomes(won=rate.won, lost=rate.lost, untouched_losses=untouched_by_owner.get(owner_id, 0))
        for owner_id, rate in rates.items()
    }
    return per_owner, closed, untouched


def _rep_sections(*, user: User, week_start: date, last_week_start: date) -> RepSections:
    """A rep's own week; 13 queries."""
    last_week_end = week_start - timedelta(days=1)
    done = visits_per_rep_week(viewer=user, owner=user, start=last_week_start, end=last_week_end)
    planned = [
        visit
        for day in visit_plan_week(rep=user, week_start=week_start)
        for visit in day.visits
        if visit.status != Visit.Status.CANCELLED
    ]
    ahead_until = week_start + timedelta(days=settings.SALESFLOW_CLOSES_AHEAD_DAYS)
    closes_ahead = list(
        Opportunity.objects.visible_to(user)
        .open()
        .filter(expected_close_date__gte=week_start, expected_close_date__lte=ahead_until)
        .select_related("account", "stage")
        .order_by("expected_close_date", "-amount", "pk")
    )
    month_start, quarter_start = period_start("month", week_start), period_start("quarter", week_start)
    months = attainment(viewer=user, period_type="month", year=week_start.year, owner=user)
    quarters = attainment(viewer=user, period_type="quarter", year=week_start.year, owner=user)
    return RepSections(
        adherence=plan_adherence(rep=user, week_start=last_week_start),
        done_visits=sum(week.done for week in done),
        planned_visits=planned,
        untouched_accounts=_listing(untouched_accounts(viewer=user, owner=user, on=week_start)),
        stale_opportunities=_listing(stale_opportunities(viewer=user, owner=user, on=week_start)),
        closes_ahead=_listing(closes_ahead),
        closes_ahead_amount=sum((o.amount for o in closes_ahead), Decimal(0)),
        month=_period_attainment(months, owner_type="user", owner_id=user.pk, start=month_start),
        quarter=_period_attainment(quarters, owner_type="user", owner_id=user.pk, start=quarter_start),
    )


def _team_sections(
    *,
    user: User,
    week_start: date,
    last_week_start: date,
    movements: dict[int, Movements],
    outcomes: dict[int, Outcomes],
    untouched: list[Opportunity],
) -> TeamSections:
    """Per person the viewer sees: funnel, movements, outcomes, visits, coverage, plan, attainment, stability;
    16 queries."""
    last_week_end = week_start - timedelta(days=1)
    pipeline = Pipeline.objects.filter(is_default=True).first()
    people = {person.pk: person for person in User.objects.visible_to(user).select_related("team")}
    funnels = funnel_snapshot_by_owner(viewer=user, pipeline=pipeline) if pipeline else {}
    visits = visits_per_rep_week(viewer=user, start=last_week_start, end=last_week_end)
    done_visits: dict[int, int] = {}
    for week in visits:
        done_visits[week.owner.pk] = done_visits.get(week.owner.pk, 0) + week.done
    coverage = target_coverage_by_owner(viewer=user, on=week_start)
    adherence = plan_adherence_by_owner(viewer=user, week_start=last_week_start)
    month_start, quarter_start = period_start("month", week_start), period_start("quarter", week_start)
    months = attainment(viewer=user, period_type="month", year=week_start.year)
    quarters = attainment(viewer=user, period_type="quarter", year=week_start.year)
    stability = {row.owner.pk: row for row in monthly_stability(viewer=user, on=week_start)}

    # Funnel columns: every stage, after-sales ones only when someone has an open opportunity there.
    all_stages = [row.stage for row in next(iter(funnels.values()), [])]
    shown = [
        i for i, stage in enumerate(all_stages) if not stage.is_after_sales or any(f[i].count for f in funnels.values())
    ]
    with_numbers = {
        *funnels,
        *movements,
        *outcomes,
        *coverage,
        *adherence,
        *stability,
        *(row.owner_id for row in [*months, *quarters] if row.owner_type == "user"),
    }
    rows = [
        PersonRow(
            user=person,
            funnel=[funnels[pk][i] for i in shown] if pk in funnels else [],
            movements=movements.get(pk, Movements()),
            outcomes=outcomes.get(pk, Outcomes()),
            done_visits=done_visits.get(pk, 0),
            coverage=coverage.get(pk),
            adherence=adherence.get(pk),
            month=_period_attainment(months, owner_type="user", owner_id=pk, start=month_start),
            quarter=_period_attainment(quarters, owner_type="user", owner_id=pk, start=quarter_start),
            stability=stability.get(pk),
        )
        for pk, person in people.items()
        if (person.is_rep and person.is_active) or pk in with_numbers
    ]
    by_team: dict[int | None, list[PersonRow]] = {}
    for row in sorted(rows, key=lambda r: (r.user.display_name, r.user.username)):
        by_team.setdefault(row.user.team_id, []).append(row)
    teams = sorted(
        (
            TeamBlock(
                team=block[0].user.team,
                people=block,
                month=_period_attainment(months, owner_type="team", owner_id=team_id, start=month_start)
                if team_id
                else None,
                quarter=_period_attainment(quarters, owner_type="team", owner_id=team_id, start=quarter_start)
                if team_id
                else None,
            )
            for team_id, block in by_team.items()
        ),
        key=lambda block: (block.team is None, block.team.name if block.team else ""),
    )
    return TeamSections(
        stages=[all_stages[i] for i in shown],
        teams=teams,
        idle_reps=[week.owner for week in visits if not done_visits.get(week.owner.pk)],
        untouched_losses=_listing(untouched),
    )


def weekly_digest(*, user: User, week_start: date) -> WeeklyDigest:
    """What `user`'s digest for the week starting on Monday `week_start` shows, all of it visible to them: last
    week's movements and outcomes, then a rep's own week (18 queries) or, for a manager or director, a line per
    person they see (21 queries); the count does not grow with the data."""
    last_week_start = week_start - timedelta(days=7)
    last_week_end = week_start - timedelta(days=1)
    movements, stage_changes = _movements(viewer=user, since=day_start(last_week_start), until=day_start(week_start))
    outcomes, closed, untouched = _outcomes(viewer=user, start=last_week_start, end=last_week_end)
    total_outcomes = Outcomes(
        won=sum(o.won for o in outcomes.values()),
        lost=sum(o.lost for o in outcomes.values()),
        untouched_losses=sum(o.untouched_losses for o in outcomes.values()),
    )
    is_rep = user.is_rep
    return WeeklyDigest(
        user=user,
        week_start=week_start,
        last_week_start=last_week_start,
        last_week_end=last_week_end,
        movements=Movements(
            new=sum(m.new for m in movements.values()),
            forward=sum(m.forward for m in movements.values()),
            backward=sum(m.backward for m in movements.values()),
        ),
        stage_changes=_listing(stage_changes, sum(m.total for m in movements.values())),
        outcomes=total_outcomes,
        closed=_listing(closed, total_outcomes.won + total_outcomes.lost),
        rep=_rep_sections(user=user, week_start=week_start, last_week_start=last_week_start) if is_rep else None,
        team=None
        if is_rep
        else _team_sections(
            user=user,
            week_start=week_start,
            last_week_start=last_week_start,
            movements=movements,
            outcomes=outcomes,
            untouched=untouched,
        ),
    )
