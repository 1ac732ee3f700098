"""What a user's weekly digest shows (SPEC §8).

What a digest shows comes only from the visibility-filtered selectors of analytics and pipeline, read as the
recipient: a rep's own numbers, a manager's team person by person, a director's company team by team
(`company.py`). Periods are company-calendar weeks, months and quarters (as on every page); times are shown in the
recipient's time zone and language.

Every list stops at LIST_LENGTH items (`parts.py`), says how many there are in all and links to the page that holds
the rest; counts and the first items come from SQL (COUNT, LIMIT), so a digest costs what its reader sees, whatever
the size of the company.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Sum

from accounts.models import Team, User
from analytics.digests.company import CompanySections, company_sections
from analytics.digests.parts import (
    LIST_LENGTH,
    Attainment,
    Listing,
    Movements,
    Outcomes,
    latest_closed,
    listing,
    page_path,
    percent,
    period_attainment,
    sum_movements,
    sum_outcomes,
    untouched_losses_listing,
    week_movements,
    week_outcomes,
)
from analytics.selectors.activity import visits_per_rep_week
from analytics.selectors.attainment import Stability, attainment
from analytics.selectors.attainment import stability as monthly_stability
from analytics.selectors.changes import change_events, change_rows, shown_change
from analytics.selectors.coverage import (
    StaleOpportunity,
    TargetCoverage,
    UntouchedAccount,
    stale_opportunities_shortlist,
    target_coverage_by_owner,
    untouched_accounts_shortlist,
)
from analytics.selectors.funnel import FunnelStage, funnel_snapshot_by_owner
from core.calendar import day_start, period_start
from pipeline.models import Opportunity, Pipeline, Stage, StageChange, Visit
from pipeline.selectors.planning import PlanAdherence, plan_adherence, plan_adherence_by_owner, visit_plan_week


@dataclass(frozen=True)
class PersonRow:
    """One person's line in a manager's digest."""

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
        return percent(self.coverage.coverage) if self.coverage else None

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
    planned_visits: Listing[Visit]  # this week's, not cancelled, in time order
    untouched_accounts: Listing[UntouchedAccount]  # in visit-priority order
    stale_opportunities: Listing[StaleOpportunity]
    closes_ahead: Listing[Opportunity]  # open, expected to close within SALESFLOW_CLOSES_AHEAD_DAYS
    closes_ahead_amount: Decimal
    month: Attainment | None
    quarter: Attainment | None


@dataclass(frozen=True)
class TeamSections:
    """What a manager's digest shows per person of their team (the first LIST_LENGTH people, by name)."""

    stages: list[Stage]  # the default pipeline's funnel columns
    teams: list[TeamBlock]
    people_total: int  # the people with a line, shown or not
    people_url: str  # the team page, which shows everyone
    idle_reps: Listing[User]  # active reps with no completed visit last week
    untouched_losses: Listing[Opportunity]
    changes: Listing[dict]  # what moved last week (analytics.selectors.changes), newest first, as shown

    @property
    def people(self) -> list[PersonRow]:
        return [person for block in self.teams for person in block.people]

    @property
    def people_more(self) -> int:
        return max(self.people_total - len(self.people), 0)


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
    team: TeamSections | None  # a manager's digest
    company: CompanySections | None  # a director's digest

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)


def _rep_sections(*, user: User, week_start: date, last_week_start: date) -> RepSections:
    """A rep's own week; 14 queries."""
    last_week_end = week_start - timedelta(days=1)
    done = visits_per_rep_week(viewer=user, owner=user, start=last_week_start, end=last_week_end)
    planned = [
        visit
        for day in visit_plan_week(rep=user, week_start=week_start)
        for visit in day.visits
        if visit.status != Visit.Status.CANCELLED
    ]
    ahead_until = week_start + timedelta(days=settings.SALESFLOW_CLOSES_AHEAD_DAYS)
    closes_ahead = (
        Opportunity.objects.visible_to(user)
        .open()
        .filter(expected_close_date__gte=week_start, expected_close_date__lte=ahead_until)
    )
    first_closes = list(
        closes_ahead.select_related("account", "stage").order_by("expected_close_date", "-amount", "pk")[:LIST_LENGTH]
    )
    closes_total = closes_ahead.aggregate(n=Count("pk"), amount=Sum("amount", default=Decimal(0)))
    untouched = untouched_accounts_shortlist(viewer=user, owner=user, on=week_start, limit=LIST_LENGTH)
    stale = stale_opportunities_shortlist(viewer=user, owner=user, on=week_start, limit=LIST_LENGTH)
    month_start, quarter_start = period_start("month", week_start), period_start("quarter", week_start)
    months = attainment(viewer=user, period_type="month", year=week_start.year, owner=user, period=month_start)
    quarters = attainment(viewer=user, period_type="quarter", year=week_start.year, owner=user, period=quarter_start)
    return RepSections(
        adherence=plan_adherence(rep=user, week_start=last_week_start),
        done_visits=sum(week.done for week in done),
        planned_visits=listing(planned, url=page_path("pipeline:visit_plan", week=week_start.isoformat())),
        untouched_accounts=listing(
            untouched.items, untouched.total, url=page_path("accounts:list", is_target=1, sort="last_visit")
        ),
        stale_opportunities=listing(stale.items, stale.total, url=page_path("pipeline:board")),
        closes_ahead=listing(
            first_closes,
            closes_total["n"],
            url=page_path(
                "pipeline:opportunity_list",
                status=Opportunity.Status.OPEN,
                close_from=week_start.isoformat(),
                close_to=ahead_until.isoformat(),
                sort="close",
            ),
        ),
        closes_ahead_amount=closes_total["amount"],
        month=period_attainment(months, owner_type="user", owner_id=user.pk, start=month_start),
        quarter=period_attainment(quarters, owner_type="user", owner_id=user.pk, start=quarter_start),
    )


def _team_sections(
    *,
    user: User,
    week_start: date,
    last_week_start: date,
    movements: dict[int, Movements],
    outcomes: dict[int, Outcomes],
    untouched: Listing[Opportunity],
) -> TeamSections:
    """Per person the manager sees (the first LIST_LENGTH by name): funnel, movements, outcomes, visits, coverage,
    plan, attainment, stability, and the first LIST_LENGTH changes of last week; at most 20 queries."""
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
    months = attainment(viewer=user, period_type="month", year=week_start.year, period=month_start)
    quarters = attainment(viewer=user, period_type="quarter", year=week_start.year, period=quarter_start)
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
    listed = sorted(
        (person for pk, person in people.items() if (person.is_rep and person.is_active) or pk in with_numbers),
        key=lambda person: (person.display_name, person.username),
    )
    by_team: dict[int | None, list[PersonRow]] = {}
    for person in listed[:LIST_LENGTH]:
        pk = person.pk
        by_team.setdefault(person.team_id, []).append(
            PersonRow(
                user=person,
                funnel=[funnels[pk][i] for i in shown] if pk in funnels else [],
                movements=movements.get(pk, Movements()),
                outcomes=outcomes.get(pk, Outcomes()),
                done_visits=done_visits.get(pk, 0),
                coverage=coverage.get(pk),
                adherence=adherence.get(pk),
                month=period_attainment(months, owner_type="user", owner_id=pk, start=month_start),
                quarter=period_attainment(quarters, owner_type="user", owner_id=pk, start=quarter_start),
                stability=stability.get(pk),
            )
        )
    teams = sorted(
        (
            TeamBlock(
                team=block[0].user.team,
                people=block,
                month=period_attainment(months, owner_type="team", owner_id=team_id, start=month_start)
                if team_id
                else None,
                quarter=period_attainment(quarters, owner_type="team", owner_id=team_id, start=quarter_start)
                if team_id
                else None,
            )
            for team_id, block in by_team.items()
        ),
        key=lambda block: (block.team is None, block.team.name if block.team else ""),
    )
    team_page = page_path("analytics:team")
    events = change_events(viewer=user, since=last_week_start, until=week_start)
    first_events = list(events[:LIST_LENGTH])
    changes = listing(
        [shown_change(row) for row in change_rows(first_events)],
        total=events.count(),
        url=page_path("analytics:changes", since=last_week_start.isoformat()),
    )
    return TeamSections(
        stages=[all_stages[i] for i in shown],
        teams=teams,
        people_total=len(listed),
        people_url=team_page,
        idle_reps=listing([week.owner for week in visits if not done_visits.get(week.owner.pk)], url=team_page),
        untouched_losses=untouched,
        changes=changes,
    )


def weekly_digest(*, user: User, week_start: date) -> WeeklyDigest:
    """What `user`'s digest for the week starting on Monday `week_start` shows, all of it visible to them: last
    week's movements and outcomes, then a rep's own week (18 queries), a manager's line per person of their team and
    last week's changes (at most 25 queries) or a director's line per team (15 queries); the count does not grow
    with the data."""
    last_week_start = week_start - timedelta(days=7)
    last_week_end = week_start - timedelta(days=1)
    owner = "owner__team_id" if user.is_director else "owner_id"  # a director's numbers are per team
    movements, stage_changes = week_movements(
        viewer=user, since=day_start(last_week_start), until=day_start(week_start), by=f"opportunity__{owner}"
    )
    outcomes = week_outcomes(viewer=user, start=last_week_start, end=last_week_end, by=owner)
    total = sum_outcomes(outcomes)
    rep = team = company = None
    if user.is_rep:
        rep = _rep_sections(user=user, week_start=week_start, last_week_start=last_week_start)
    else:
        untouched = untouched_losses_listing(
            viewer=user, start=last_week_start, end=last_week_end, total=total.untouched_losses
        )
        if user.is_director:
            company = company_sections(
                user=user,
                week_start=week_start,
                last_week_start=last_week_start,
                movements=movements,
                outcomes=outcomes,
                untouched=untouched,
            )
        else:
            team = _team_sections(
                user=user,
                week_start=week_start,
                last_week_start=last_week_start,
                movements=movements,
                outcomes=outcomes,
                untouched=untouched,
            )
    return WeeklyDigest(
        user=user,
        week_start=week_start,
        last_week_start=last_week_start,
        last_week_end=last_week_end,
        movements=sum_movements(movements),
        stage_changes=stage_changes,
        outcomes=total,
        closed=latest_closed(viewer=user, start=last_week_start, end=last_week_end, total=total.won + total.lost),
        rep=rep,
        team=team,
        company=company,
    )
