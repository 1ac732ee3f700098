"""Rep activity: completed visits per rep and week, and visits against wins over a period."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek

from accounts.models import Team, User
from analytics import rollups
from analytics.models import RolledMonth
from analytics.selectors._common import _bounds, _money, _scope, visible_teams, whole_company
from core.calendar import company_tz, local_date, period_start
from pipeline.models import Opportunity, Visit

CLOSED, VISITS = RolledMonth.Kind.CLOSED, RolledMonth.Kind.VISITS


@dataclass(frozen=True)
class WeekVisits:
    owner: User
    week_start: date
    done: int


def _visible_reps(viewer: User, *, owner: User | None, team: Team | None) -> QuerySet[User]:
    reps = User.objects.visible_to(viewer).filter(role=User.Role.REP, is_active=True)
    if owner is not None:
        reps = reps.filter(pk=owner.pk)
    if team is not None:
        reps = reps.filter(team=team)
    return reps.order_by("username")


def visits_per_rep_week(
    *, viewer: User, start: date, end: date, owner: User | None = None, team: Team | None = None
) -> list[WeekVisits]:
    """Completed visits per visible rep per week (Monday) from `start` to `end`, zero weeks included; 2 queries."""
    reps = list(_visible_reps(viewer, owner=owner, team=team))
    since, until = _bounds(start, end)
    counts = (
        Visit.objects.done()
        .filter(_scope(viewer, "owner", owner=owner, team=team), done_at__gte=since, done_at__lt=until)
        .annotate(week=TruncWeek("done_at", tzinfo=company_tz()))
        .values("owner_id", "week")
        .annotate(n=Count("id"))
        .order_by()
    )
    done = {(row["owner_id"], local_date(row["week"])): row["n"] for row in counts}
    first = period_start("week", start)
    weeks = [first + timedelta(weeks=i) for i in range((end - first).days // 7 + 1)]
    return [WeekVisits(owner=rep, week_start=week, done=done.get((rep.pk, week), 0)) for rep in reps for week in weeks]


@dataclass(frozen=True)
class RepActivity:
    owner: User
    done_visits: int
    won_count: int
    won_amount: Decimal


def _per_owner(
    scope: Q, since: datetime, until: datetime, *, rolled_up: bool
) -> tuple[dict[int, int], dict[int, tuple[int, Decimal]]]:
    """Completed visits and wins (count, amount) per owner in `scope` from `since` to `until`: two range scans of
    indexes alone, grouped by owner (not a subquery per rep, nor a join per row). For the whole company
    (`rolled_up`), the months rolled up (analytics.rollups) are read from their sums, each added to the live rows'
    groups in the same query; one more query finds those months."""
    months = rollups.rolled_months([CLOSED, VISITS], since, until) if rolled_up else {CLOSED: [], VISITS: []}
    visit_groups = (
        Visit.objects.done()
        .filter(scope, rollups.live("done_at", since, until, months[VISITS]))
        .values("owner_id")
        .annotate(n=Count("*"))  # from visit_done_owner_idx or visit_owner_done_idx alone
        .values_list("owner_id", "n")
        .order_by()
    )
    win_groups = (
        Opportunity.objects.won()
        .filter(scope, rollups.live("closed_at", since, until, months[CLOSED]))
        .values("owner_id")
        .annotate(n=Count("id"), total=Sum("amount"))
        .values_list("owner_id", "n", "total")
        .order_by()
    )
    if months[VISITS]:
        rolled = rollups.visit_sums(months[VISITS]).values("owner_id").annotate(n=Sum("done"))
        visit_groups = visit_groups.union(rolled.values_list("owner_id", "n").order_by(), all=True)
    if months[CLOSED]:
        rolled = rollups.closed_sums(months[CLOSED], "owner").filter(won__gt=0).values("owner_id")
        rolled = rolled.annotate(n=Sum("won"), total=Sum("won_amount"))
        win_groups = win_groups.union(rolled.values_list("owner_id", "n", "total").order_by(), all=True)
    visits: dict[int, int] = defaultdict(int)
    for owner_id, n in visit_groups:
        visits[owner_id] += n
    wins: dict[int, tuple[int, Decimal]] = {}
    for owner_id, n, total in win_groups:
        count, amount = wins.get(owner_id, (0, Decimal(0)))
        wins[owner_id] = (count + n, amount + (total or 0))
    return dict(visits), wins


def visits_vs_won(
    *, viewer: User, start: date, end: date, owner: User | None = None, team: Team | None = None
) -> list[RepActivity]:
    """Per visible rep, completed visits and won opportunities (count, amount) from `start` to `end`; 3 queries
    (reps, visits grouped by owner, wins grouped by owner)."""
    scope, rolled_up = _scope(viewer, "owner", owner=owner, team=team), whole_company(viewer, owner=owner, team=team)
    visits, wins = _per_owner(scope, *_bounds(start, end), rolled_up=rolled_up)
    return [
        RepActivity(
            owner=rep,
            done_visits=visits.get(rep.pk, 0),
            won_count=wins.get(rep.pk, (0, 0))[0],
            won_amount=_money(wins.get(rep.pk, (0, 0))[1]),
        )
        for rep in _visible_reps(viewer, owner=owner, team=team)
    ]


@dataclass(frozen=True)
class TeamActivity:
    team: Team | None  # None: people without a team
    done_visits: int
    won_count: int
    won_amount: Decimal


def visits_vs_won_by_team(*, viewer: User, start: date, end: date) -> list[TeamActivity]:
    """`visits_vs_won` summed per team (a director's view of the whole company: one row per team, not per rep), in
    team name order, people without a team last; archived teams only when they have numbers; 4 queries. Counted per
    owner, then added up per team over the people (a handful of rows each): joining each visit to its owner's team
    cost more than counting the visits (19 ms against 10 for a year at scale 10)."""
    visits, wins = _per_owner(_scope(viewer, "owner"), *_bounds(start, end), rolled_up=whole_company(viewer))
    team_of = dict(User.objects.visible_to(viewer).values_list("pk", "team_id").order_by())
    totals: dict[int | None, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    for owner_id, done in visits.items():
        totals[team_of.get(owner_id)][0] += done
    for owner_id, (won_count, won_amount) in wins.items():
        totals[team_of.get(owner_id)][1] += won_count
        totals[team_of.get(owner_id)][2] += won_amount or 0
    rows = []
    for team in [*visible_teams(viewer).order_by("name", "pk"), None]:
        done, won_count, won_amount = totals.get(team.pk if team is not None else None, (0, 0, 0))
        if done or won_count or (team is not None and team.archived_at is None):
            rows.append(TeamActivity(team=team, done_visits=done, won_count=won_count, won_amount=_money(won_amount)))
    return rows
