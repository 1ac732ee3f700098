"""Every analytics read of SPEC §6–§7 that a page, the API, an export or a digest shows; nothing here writes.

Each selector starts from the viewer's visibility, runs a fixed number of queries (said in its docstring, pinned
by a test) whatever the amount of data, and leaves medians, pivots and ratios to pandas and Python.
Periods given as `start`/`end` dates include both days, in the company's time zone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from django.conf import settings
from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth, TruncQuarter, TruncWeek, TruncYear
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import Account, InstalledBase, Region, Team, User, size_band_for
from accounts.visibility import visibility_filter
from analytics import funnel, matrix, territory
from analytics.models import AccountValue, JobRun, MatrixRun, StaleFlag, UntouchedFlag
from core.calendar import (
    company_tz,
    current_quarter_bounds,
    day_start,
    local_date,
    period_bounds,
    period_end,
    period_start,
    today,
    year_bounds,
)
from pipeline.models import Opportunity, Pipeline, SalesTarget, Stage, StageChange, Visit

CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=20, decimal_places=4)
PERIOD_TRUNC = {"year": TruncYear, "quarter": TruncQuarter, "month": TruncMonth, "week": TruncWeek}


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return day_start(start), day_start(end + timedelta(days=1))


def _scope(viewer: User, owner_path: str, *, owner: User | None = None, team: Team | None = None) -> Q:
    """The rows the viewer may see, narrowed to one owner or one team's members."""
    scope = visibility_filter(viewer, owner_path)
    if owner is not None:
        scope &= Q(**{owner_path: owner})
    if team is not None:
        scope &= Q(**{f"{owner_path}__team": team})
    return scope


def visible_teams(viewer: User) -> QuerySet[Team]:
    """Teams whose numbers the viewer may ask for: all for a director, the ones they manage or belong to otherwise."""
    if viewer.is_director:
        return Team.objects.all()
    return Team.objects.filter(Q(manager=viewer) | Q(members=viewer)).distinct()


def job_computed_at(job: str) -> datetime | None:
    """When a nightly job last completed, in one query; None if it never ran."""
    return JobRun.objects.filter(job=job).values_list("computed_at", flat=True).first()


# Funnel ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStage:
    stage: Stage
    count: int
    amount: Decimal
    weighted_amount: Decimal


def funnel_snapshot(
    *, viewer: User, pipeline: Pipeline, owner: User | None = None, team: Team | None = None
) -> list[FunnelStage]:
    """Open opportunities per stage of `pipeline` as of now, empty stages included, in one query."""
    in_funnel = Q(opportunities__status=Opportunity.Status.OPEN) & _scope(
        viewer, "opportunities__owner", owner=owner, team=team
    )
    stages = pipeline.stages.order_by("order").annotate(
        open_count=Count("opportunities", filter=in_funnel),
        open_amount=Sum("opportunities__amount", filter=in_funnel, default=0),
        open_weighted=Sum(
            F("opportunities__amount") * F("opportunities__probability"),
            filter=in_funnel,
            default=0,
            output_field=MONEY,
        ),
    )
    return [
        FunnelStage(
            stage=s,
            count=s.open_count,
            amount=_money(s.open_amount),
            weighted_amount=_money(Decimal(s.open_weighted) / 100),
        )
        for s in stages
    ]


def without_empty_after_sales(rows: list[FunnelStage]) -> list[FunnelStage]:
    """The funnel rows a chart shows: after-sales stages only while they hold open opportunities; runs no query."""
    return [row for row in rows if row.count or not row.stage.is_after_sales]


@dataclass(frozen=True)
class FunnelTotal:
    count: int
    amount: Decimal
    weighted_amount: Decimal
    max_count: int
    max_amount: Decimal


def funnel_total(rows: list[FunnelStage]) -> FunnelTotal:
    """Sums funnel rows and gives the largest count and amount (for scaling bars); runs no query."""
    return FunnelTotal(
        count=sum(r.count for r in rows),
        amount=sum((r.amount for r in rows), Decimal(0)),
        weighted_amount=sum((r.weighted_amount for r in rows), Decimal(0)),
        max_count=max((r.count for r in rows), default=0),
        max_amount=max((r.amount for r in rows), default=Decimal(0)),
    )


def funnel_snapshot_by_owner(
    *, viewer: User, pipeline: Pipeline, team: Team | None = None
) -> dict[int, list[FunnelStage]]:
    """`funnel_snapshot` for each owner id with open opportunities the viewer sees (side by side); 2 queries."""
    stages = list(pipeline.stages.order_by("order"))
    totals = {
        (row["owner_id"], row["stage_id"]): row
        for row in Opportunity.objects.open()
        .filter(_scope(viewer, "owner", team=team), pipeline=pipeline)
        .values("owner_id", "stage_id")
        .annotate(
            n=Count("id"),
            total=Sum("amount"),
            weighted=Sum(F("amount") * F("probability"), output_field=MONEY),
        )
        .order_by()
    }
    empty = {"n": 0, "total": 0, "weighted": 0}
    return {
        owner_id: [
            FunnelStage(
                stage=stage,
                count=(row := totals.get((owner_id, stage.pk), empty))["n"],
                amount=_money(row["total"]),
                weighted_amount=_money(Decimal(row["weighted"]) / 100),
            )
            for stage in stages
        ]
        for owner_id in sorted({owner_id for owner_id, _stage in totals})
    }


@dataclass(frozen=True)
class FlowStage:
    stage: Stage
    reached: int
    conversion: float | None
    median_days: float | None


@dataclass(frozen=True)
class FunnelFlow:
    stages: list[FlowStage]
    created: int
    won: int
    lost: int
    untouched_losses: int


def _flow_frames(
    *, viewer: User, pipeline: Pipeline, start: date, end: date, owner: User | None, team: Team | None
) -> tuple[list[Stage], pd.DataFrame, pd.DataFrame]:
    """The pipeline's stages, outcome counts and stage changes of opportunities created in the period; 3 queries."""
    created_from, created_to = _bounds(start, end)
    stages = list(pipeline.stages.order_by("order"))
    created = Opportunity.objects.filter(
        _scope(viewer, "owner", owner=owner, team=team),
        pipeline=pipeline,
        created_at__gte=created_from,
        created_at__lt=created_to,
    )
    outcome_columns = ["owner_id", "furthest_stage__order", "status", "is_untouched_loss"]
    outcomes = pd.DataFrame.from_records(
        created.values(*outcome_columns).annotate(n=Count("id")).values_list(*outcome_columns, "n").order_by(),
        columns=[*outcome_columns, "n"],
    )
    changes = pd.DataFrame.from_records(
        StageChange.objects.filter(
            _scope(viewer, "opportunity__owner", owner=owner, team=team),
            opportunity__pipeline=pipeline,
            opportunity__created_at__gte=created_from,
            opportunity__created_at__lt=created_to,
        )
        .values_list(
            "pk", "opportunity", "opportunity__owner_id", "from_stage", "changed_at", "opportunity__created_at"
        )
        .order_by(),
        columns=["pk", "opportunity", "owner_id", "from_stage", "changed_at", "created_at"],
    )
    changes["changed_at"] = pd.to_datetime(changes["changed_at"], utc=True)
    changes["created_at"] = pd.to_datetime(changes["created_at"], utc=True)
    return stages, outcomes, changes


def _flow(stages: list[Stage], outcomes: pd.DataFrame, changes: pd.DataFrame) -> FunnelFlow:
    """The funnel flow of the opportunities behind `outcomes` and `changes`; runs no query."""
    medians = funnel.median_days_in_stage(changes)
    reached = funnel.reached_counts(
        [s.order for s in stages], outcomes.groupby("furthest_stage__order")["n"].sum().to_dict()
    )
    status, untouched = outcomes["status"], outcomes["is_untouched_loss"].astype(bool)
    return FunnelFlow(
        stages=[
            FlowStage(stage=s, reached=r, conversion=c, median_days=medians.get(s.pk))
            for s, r, c in zip(stages, reached, funnel.conversions(reached), strict=True)
        ],
        created=int(outcomes["n"].sum()),
        won=int(outcomes.loc[status == Opportunity.Status.WON, "n"].sum()),
        lost=int(outcomes.loc[status == Opportunity.Status.LOST, "n"].sum()),
        untouched_losses=int(outcomes.loc[(status == Opportunity.Status.LOST) & untouched, "n"].sum()),
    )


def funnel_flow(
    *,
    viewer: User,
    pipeline: Pipeline,
    start: date,
    end: date,
    owner: User | None = None,
    team: Team | None = None,
) -> FunnelFlow:
    """Opportunities created from `start` to `end`: reached per stage, conversion, median days, outcomes; 3 queries.

    Reached counts an opportunity at every stage up to its furthest; conversion is reached ÷ reached at the stage
    before; median days come from the stays in a stage that a StageChange ended.
    """
    stages, outcomes, changes = _flow_frames(
        viewer=viewer, pipeline=pipeline, start=start, end=end, owner=owner, team=team
    )
    return _flow(stages, outcomes, changes)


def funnel_flow_by_owner(
    *, viewer: User, pipeline: Pipeline, start: date, end: date, team: Team | None = None
) -> dict[int, FunnelFlow]:
    """`funnel_flow` for each owner id with opportunities created in the period that the viewer sees; 3 queries."""
    stages, outcomes, changes = _flow_frames(
        viewer=viewer, pipeline=pipeline, start=start, end=end, owner=None, team=team
    )
    return {
        int(owner_id): _flow(
            stages, outcomes[outcomes["owner_id"] == owner_id], changes[changes["owner_id"] == owner_id]
        )
        for owner_id in sorted(outcomes["owner_id"].unique())
    }


@dataclass(frozen=True)
class WinRate:
    won: int
    lost: int

    @property
    def rate(self) -> float | None:
        """Won ÷ (won + lost); None when nothing was decided."""
        return self.won / (self.won + self.lost) if self.won + self.lost else None


def _closed(*, viewer: User, start: date, end: date, owner: User | None, team: Team | None, pipeline: Pipeline | None):
    closed = Opportunity.objects.filter(_scope(viewer, "owner", owner=owner, team=team)).closed_between(
        *_bounds(start, end)
    )
    return closed.filter(pipeline=pipeline) if pipeline is not None else closed


WON_AND_LOST = {
    "won": Count("id", filter=Q(status=Opportunity.Status.WON)),
    "lost": Count("id", filter=Q(status=Opportunity.Status.LOST)),
}


def win_rate(
    *,
    viewer: User,
    start: date,
    end: date,
    owner: User | None = None,
    team: Team | None = None,
    pipeline: Pipeline | None = None,
) -> WinRate:
    """Won ÷ (won + lost) among opportunities closed from `start` to `end`; None when none closed; one query."""
    counts = _closed(viewer=viewer, start=start, end=end, owner=owner, team=team, pipeline=pipeline).aggregate(
        **WON_AND_LOST
    )
    return WinRate(won=counts["won"], lost=counts["lost"])


def win_rate_by_owner(
    *, viewer: User, start: date, end: date, team: Team | None = None, pipeline: Pipeline | None = None
) -> dict[int, WinRate]:
    """`win_rate` for each owner id who closed an opportunity in the period that the viewer sees; one query."""
    rows = (
        _closed(viewer=viewer, start=start, end=end, owner=None, team=team, pipeline=pipeline)
        .values("owner_id")
        .annotate(**WON_AND_LOST)
        .order_by()
    )
    return {row["owner_id"]: WinRate(won=row["won"], lost=row["lost"]) for row in rows}


@dataclass(frozen=True)
class UntouchedLosses:
    losses: list[Opportunity]  # with account, owner, lost_to and stage loaded; the cause is `untouched_cause`
    causes: dict[str, int]  # every cause of SPEC §4, and "" for losses nobody has explained yet


def untouched_losses(
    *, viewer: User, start: date, end: date, owner: User | None = None, team: Team | None = None
) -> UntouchedLosses:
    """Untouched losses closed from `start` to `end` with their causes and a count per cause; one query."""
    losses = list(
        Opportunity.objects.filter(_scope(viewer, "owner", owner=owner, team=team), is_untouched_loss=True)
        .lost()
        .closed_between(*_bounds(start, end))
        .select_related("account", "owner", "lost_to", "stage")
        .order_by("-closed_at", "pk")
    )
    causes = dict.fromkeys(["", *Opportunity.UntouchedCause.values], 0)
    for loss in losses:
        causes[loss.untouched_cause] += 1
    return UntouchedLosses(losses=losses, causes=causes)


# Activity -------------------------------------------------------------------------------------------------------


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


def visits_vs_won(
    *, viewer: User, start: date, end: date, owner: User | None = None, team: Team | None = None
) -> list[RepActivity]:
    """Per visible rep, completed visits and won opportunities (count, amount) from `start` to `end`; 3 queries
    (reps, visits grouped by owner, wins grouped by owner: each a range scan, not a subquery per rep)."""
    since, until = _bounds(start, end)
    scope = _scope(viewer, "owner", owner=owner, team=team)
    visits = dict(
        Visit.objects.done()
        .filter(scope, done_at__gte=since, done_at__lt=until)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
        .order_by()
    )
    wins = {
        row["owner_id"]: (row["n"], row["total"])
        for row in Opportunity.objects.won()
        .filter(scope)
        .closed_between(since, until)
        .values("owner_id")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by()
    }
    return [
        RepActivity(
            owner=rep,
            done_visits=visits.get(rep.pk, 0),
            won_count=wins.get(rep.pk, (0, 0))[0],
            won_amount=_money(wins.get(rep.pk, (0, 0))[1]),
        )
        for rep in _visible_reps(viewer, owner=owner, team=team)
    ]


# CV/PV matrix ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatrixRow:
    account_id: int
    name: str
    owner_id: int
    region_code: str | None
    customer_type: str
    cv: Decimal
    pv: Decimal
    pv_source: str
    share: float | None
    quadrant: str
    previous_quadrant: str | None
    priority: int | None


@dataclass(frozen=True)
class CvPvMatrix:
    year: int
    computed_at: datetime | None  # None: the matrix of this year was never computed
    cv_threshold: Decimal | None
    pv_threshold: Decimal | None
    thresholds_fixed: bool
    rows: list[MatrixRow]
    transitions: dict[str, dict[str, int]]


def cvpv_matrix(*, viewer: User, year: int, owner: User | None = None, team: Team | None = None) -> CvPvMatrix:
    """The stored matrix of `year`: company-wide thresholds, the viewer's accounts in visit-priority order with their
    quadrant of the year before, and the 4×4 transitions among them; 2 queries."""
    run = MatrixRun.objects.filter(year=year).first()
    previous = AccountValue.objects.filter(account=OuterRef("account"), year=year - 1).values("quadrant")[:1]
    values = (
        AccountValue.objects.filter(_scope(viewer, "account__owner", owner=owner, team=team), year=year)
        .annotate(previous_quadrant=Subquery(previous))
        .values_list(
            "account_id",
            "account__name",
            "account__owner_id",
            "account__region__code",
            "customer_type",
            "cv",
            "pv",
            "pv_source",
            "share",
            "quadrant",
            "previous_quadrant",
            "priority",
        )
        .order_by(F("priority").asc(nulls_last=True), "account__name", "account_id")
    )
    rows = [MatrixRow(*row) for row in values]
    quadrants = pd.DataFrame(
        {"previous_quadrant": [r.previous_quadrant for r in rows], "quadrant": [r.quadrant for r in rows]}
    )
    return CvPvMatrix(
        year=year,
        computed_at=run.computed_at if run else None,
        cv_threshold=run.cv_threshold if run else None,
        pv_threshold=run.pv_threshold if run else None,
        thresholds_fixed=run.thresholds_fixed if run else False,
        rows=rows,
        transitions=matrix.transitions(quadrants),
    )


def account_value_history(*, viewer: User, account: Account) -> list[AccountValue]:
    """An account's stored CV, PV and quadrant per year, oldest first (empty if not visible); one query."""
    return list(AccountValue.objects.visible_to(viewer).filter(account=account).order_by("year"))


# Targets: untouched accounts, coverage ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UntouchedAccount:
    account_id: int
    name: str
    owner: User
    last_visit_at: datetime | None
    days_since: int | None  # None: never visited
    priority: int | None


def untouched_accounts(
    *, viewer: User, owner: User | None = None, team: Team | None = None, on: date | None = None
) -> list[UntouchedAccount]:
    """The stored untouched target accounts the viewer sees, in this year's visit-priority order; one query."""
    day = on or today()
    priority = AccountValue.objects.filter(account=OuterRef("account"), year=day.year).values("priority")[:1]
    flags = (
        UntouchedFlag.objects.filter(_scope(viewer, "account__owner", owner=owner, team=team), account__is_target=True)
        .select_related("account__owner")
        .annotate(priority=Subquery(priority))
        .order_by(F("priority").asc(nulls_last=True), F("last_visit_at").asc(nulls_first=True), "account__name")
    )
    return [
        UntouchedAccount(
            account_id=flag.account_id,
            name=flag.account.name,
            owner=flag.account.owner,
            last_visit_at=flag.last_visit_at,
            days_since=(day - local_date(flag.last_visit_at)).days if flag.last_visit_at else None,
            priority=flag.priority,
        )
        for flag in flags
    ]


@dataclass(frozen=True)
class TargetCoverage:
    targets: int
    covered: int  # targets with a completed visit in the current quarter
    new_targets: int  # targets since this year
    new_covered: int  # of those, visited from New Year to the end of Q1

    @property
    def coverage(self) -> float | None:
        return self.covered / self.targets if self.targets else None

    @property
    def new_target_coverage(self) -> float | None:
        return self.new_covered / self.new_targets if self.new_targets else None


def target_coverage_by_owner(
    *, viewer: User, owner: User | None = None, team: Team | None = None, on: date | None = None
) -> dict[int, TargetCoverage]:
    """Coverage and new-target coverage of the viewer's target accounts per owner id; one query."""
    day = on or today()
    quarter_from, quarter_to = current_quarter_bounds(on=day)
    year_from, _ = year_bounds(day.year)
    q1_end = period_bounds("quarter", date(day.year, 1, 1))[1]
    done = Visit.objects.done().filter(account=OuterRef("pk"))
    rows = (
        Account.objects.targets()
        .filter(_scope(viewer, "owner", owner=owner, team=team))
        .annotate(
            visited=Exists(done.filter(done_at__gte=quarter_from, done_at__lt=quarter_to)),
            visited_q1=Exists(done.filter(done_at__gte=year_from, done_at__lt=q1_end)),
        )
        .values("owner_id")
        .annotate(
            targets=Count("id"),
            covered=Count("id", filter=Q(visited=True)),
            new_targets=Count("id", filter=Q(target_since__year=day.year)),
            new_covered=Count("id", filter=Q(target_since__year=day.year, visited_q1=True)),
        )
        .order_by()
    )
    return {
        row["owner_id"]: TargetCoverage(
            targets=row["targets"],
            covered=row["covered"],
            new_targets=row["new_targets"],
            new_covered=row["new_covered"],
        )
        for row in rows
    }


def target_coverage(
    *, viewer: User, owner: User | None = None, team: Team | None = None, on: date | None = None
) -> TargetCoverage:
    """Coverage and new-target coverage over all the viewer's target accounts; one query."""
    per_owner = target_coverage_by_owner(viewer=viewer, owner=owner, team=team, on=on).values()
    return TargetCoverage(
        targets=sum(c.targets for c in per_owner),
        covered=sum(c.covered for c in per_owner),
        new_targets=sum(c.new_targets for c in per_owner),
        new_covered=sum(c.new_covered for c in per_owner),
    )


# Stale opportunities --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaleOpportunity:
    opportunity: Opportunity
    last_activity_at: datetime | None
    days_idle: int | None


def stale_opportunities(
    *, viewer: User, owner: User | None = None, team: Team | None = None, on: date | None = None
) -> list[StaleOpportunity]:
    """The stored stale opportunities the viewer sees that are still open, longest idle first; one query."""
    day = on or today()
    flags = (
        StaleFlag.objects.filter(
            _scope(viewer, "opportunity__owner", owner=owner, team=team),
            opportunity__status=Opportunity.Status.OPEN,
        )
        .select_related("opportunity__account", "opportunity__owner", "opportunity__stage")
        .order_by(F("last_activity_at").asc(nulls_first=True), "opportunity_id")
    )
    return [
        StaleOpportunity(
            opportunity=flag.opportunity,
            last_activity_at=flag.last_activity_at,
            days_idle=(day - local_date(flag.last_activity_at)).days if flag.last_activity_at else None,
        )
        for flag in flags
    ]


# Attainment and stability ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttainmentRow:
    owner_type: str  # "user" or "team"
    owner_id: int
    owner_name: str
    period_type: str
    period_start: date
    target: Decimal | None  # None: no target for this owner and period
    won_amount: Decimal
    attainment: float | None  # None without a target above zero


def _won_per_period(
    opportunities: QuerySet[Opportunity], *, period_type: str, since: datetime, until: datetime
) -> pd.DataFrame:
    """Won amounts per (owner, owner's team, period start) closed in [since, until); one query."""
    trunc = PERIOD_TRUNC[period_type]("closed_at", tzinfo=company_tz())
    rows = (
        opportunities.won()
        .closed_between(since, until)
        .annotate(period=trunc)
        .values("owner_id", "owner__team_id", "period")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    frame = pd.DataFrame.from_records(rows, columns=["owner_id", "owner__team_id", "period", "total"])
    frame["period"] = [local_date(p) if isinstance(p, datetime) else p for p in frame["period"]]
    return frame


def _ratio(won: Decimal, target: Decimal | None) -> float | None:
    return float(won / target) if target else None


def attainment(
    *,
    viewer: User,
    period_type: str,
    year: int,
    owner: User | None = None,
    team: Team | None = None,
) -> list[AttainmentRow]:
    """Targets of `period_type` starting in `year` against won amounts, with rows for visible users who won
    without a target; users by their own wins, teams by their members' (current members); 3 queries."""
    targets = list(
        SalesTarget.objects.visible_to(viewer)
        .filter(period_type=period_type, period_start__year=year)
        .filter(Q(owner_user=owner) if owner is not None else Q())
        .filter(Q(owner_user__team=team) | Q(owner_team=team) if team is not None else Q())
        .select_related("owner_user", "owner_team")
    )
    first = period_start(period_type, date(year, 1, 1))
    since = day_start(first if first.year == year else first + timedelta(days=7))
    until = day_start(period_end(period_type, period_start(period_type, date(year, 12, 31))))
    won = _won_per_period(
        Opportunity.objects.filter(_scope(viewer, "owner", owner=owner, team=team)),
        period_type=period_type,
        since=since,
        until=until,
    )
    by_user = won.groupby(["owner_id", "period"])["total"].sum().to_dict() if not won.empty else {}
    by_team = won.groupby(["owner__team_id", "period"])["total"].sum().to_dict() if not won.empty else {}
    rows = []
    for target in targets:
        if target.owner_user_id:
            owner_type, owner_id, name = "user", target.owner_user_id, target.owner_user.display_name
            won_amount = by_user.get((owner_id, target.period_start), Decimal(0))
        else:
            owner_type, owner_id, name = "team", target.owner_team_id, target.owner_team.name
            won_amount = by_team.get((owner_id, target.period_start), Decimal(0))
        rows.append(
            AttainmentRow(
                owner_type=owner_type,
                owner_id=owner_id,
                owner_name=name,
                period_type=period_type,
                period_start=target.period_start,
                target=_money(target.amount),
                won_amount=_money(won_amount),
                attainment=_ratio(_money(won_amount), target.amount),
            )
        )
    with_target = {(r.owner_id, r.period_start) for r in rows if r.owner_type == "user"}
    untargeted = {key: total for key, total in by_user.items() if key not in with_target and key[1].year == year}
    users = User.objects.visible_to(viewer).only("username", "first_name", "last_name").in_bulk()
    rows += [
        AttainmentRow(
            owner_type="user",
            owner_id=owner_id,
            owner_name=users[owner_id].display_name,
            period_type=period_type,
            period_start=start,
            target=None,
            won_amount=_money(total),
            attainment=None,
        )
        for (owner_id, start), total in untargeted.items()
    ]
    return sorted(rows, key=lambda r: (r.period_start, r.owner_type == "team", r.owner_name, r.owner_id))


@dataclass(frozen=True)
class Stability:
    owner: User
    months: int  # complete months of the last 12 that have a target above zero
    cv: float | None  # None with fewer than two such months, or a mean of zero
    stable: bool | None


def stability(
    *, viewer: User, owner: User | None = None, team: Team | None = None, on: date | None = None
) -> list[Stability]:
    """Per visible user with a monthly target in the last 12 complete months: the coefficient of variation
    (population std ÷ mean) of their monthly attainment over those months, and whether it is ≤ SALESFLOW_STABLE_CV;
    2 queries."""
    this_month = period_start("month", on or today())
    first = date(this_month.year - 1, this_month.month, 1)
    targets = list(
        SalesTarget.objects.filter(
            _scope(viewer, "owner_user", owner=owner, team=team),
            owner_user__isnull=False,
            period_type=SalesTarget.PeriodType.MONTH,
            period_start__gte=first,
            period_start__lt=this_month,
            amount__gt=0,
        ).select_related("owner_user")
    )
    won = _won_per_period(
        Opportunity.objects.filter(_scope(viewer, "owner", owner=owner, team=team)),
        period_type="month",
        since=day_start(first),
        until=day_start(this_month),
    )
    won_by = won.groupby(["owner_id", "period"])["total"].sum().to_dict() if not won.empty else {}
    monthly = pd.DataFrame(
        {
            "owner": [t.owner_user_id for t in targets],
            "attainment": [float(won_by.get((t.owner_user_id, t.period_start), 0) / t.amount) for t in targets],
        }
    )
    users = {t.owner_user_id: t.owner_user for t in targets}
    limit = settings.SALESFLOW_STABLE_CV
    result = []
    for owner_id, series in monthly.groupby("owner")["attainment"]:
        mean = series.mean()
        cv = float(series.std(ddof=0) / mean) if len(series) >= 2 and mean > 0 else None
        result.append(
            Stability(
                owner=users[owner_id],
                months=len(series),
                cv=cv,
                stable=None if cv is None else cv <= limit,
            )
        )
    return sorted(result, key=lambda s: s.owner.username)


# Territory ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TerritoryRow:
    key: str
    label: str
    accounts: int
    targets: int
    our_units: int
    competitor_units: int
    our_share: float | None
    cv: Decimal
    pv: Decimal
    open_pipeline: Decimal
    coverage: float | None
    level: int | None = None  # region rows: 1–3
    parent: str | None = None  # region rows: the parent region's key
    industry: str | None = None  # industry × size rows: the industry code ("" unknown)
    size_band: str | None = None  # industry × size rows: the size band ("" unknown)


@dataclass
class _TerritoryInputs:
    accounts: pd.DataFrame  # one row per visible account, with territory.ACCOUNT_COLUMNS and its attributes
    competitor_units: pd.DataFrame  # account, competitor, name, name_en, units
    regions: list[tuple]  # (id, code, name, name_en, level, parent_id)


@dataclass
class _Grouping:
    groups: pd.DataFrame  # account, key[, competitor_units]
    labels: dict[str, str]
    order: list[str] | None = None  # every key in display order, empty groups included; None: by label
    extra: dict[str, dict] = field(default_factory=dict)


def _localized(name: str, name_en: str | None) -> str:
    return name_en if get_language() == "en" and name_en else name


def _territory_inputs(*, viewer: User, day: date) -> _TerritoryInputs:
    """The viewer's accounts with units, this year's CV and PV, last year's CV, open pipeline; 5 queries."""
    quarter_from, quarter_to = current_quarter_bounds(on=day)
    accounts = pd.DataFrame.from_records(
        Account.objects.visible_to(viewer)
        .annotate(
            is_covered=Exists(
                Visit.objects.done().filter(account=OuterRef("pk"), done_at__gte=quarter_from, done_at__lt=quarter_to)
            ),
            has_branches=Exists(Account.objects.filter(parent=OuterRef("pk"))),
        )
        .values_list(
            "id",
            "is_target",
            "is_covered",
            "region_id",
            "industry__code",
            "industry__name",
            "industry__name_en",
            "employee_count",
            "is_headquarters",
            "parent_id",
            "has_branches",
        )
        .order_by("id"),
        columns=[
            "account",
            "is_target",
            "is_covered",
            "region",
            "industry",
            "industry_name",
            "industry_name_en",
            "employee_count",
            "is_headquarters",
            "parent",
            "has_branches",
        ],
    )
    units = list(
        InstalledBase.objects.visible_to(viewer)
        .values("account_id", "competitor_id", "competitor__name", "competitor__name_en")
        .annotate(units=Sum("units"))
        .values_list("account_id", "competitor_id", "competitor__name", "competitor__name_en", "units")
        .order_by()
    )
    values = {
        (account_id, year): (cv, pv)
        for account_id, year, cv, pv in AccountValue.objects.visible_to(viewer)
        .filter(year__in=[day.year, day.year - 1])
        .values_list("account_id", "year", "cv", "pv")
        .order_by()
    }
    open_amounts = dict(
        Opportunity.objects.visible_to(viewer)
        .open()
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
        .order_by()
    )
    regions = list(Region.objects.values_list("id", "code", "name", "name_en", "level", "parent_id").order_by())

    ids = accounts["account"].tolist()
    ours, theirs = defaultdict(int), defaultdict(int)
    for account_id, competitor_id, _name, _name_en, n in units:
        (theirs if competitor_id else ours)[account_id] += n
    now, before = day.year, day.year - 1
    is_target = accounts["is_target"].astype(bool)
    accounts = accounts.assign(
        is_target=is_target,
        is_covered_target=is_target & accounts["is_covered"].astype(bool),
        our_units=[ours[i] for i in ids],
        competitor_units=[theirs[i] for i in ids],
        cv_cents=[territory.cents(values.get((i, now), (None, None))[0]) for i in ids],
        pv_cents=[territory.cents(values.get((i, now), (None, None))[1]) for i in ids],
        prev_cv_cents=[territory.cents(values.get((i, before), (None, None))[0]) for i in ids],
        open_cents=[territory.cents(open_amounts.get(i)) for i in ids],
    )
    competitor_units = pd.DataFrame.from_records(
        [row for row in units if row[1]], columns=["account", "competitor", "name", "name_en", "units"]
    )
    return _TerritoryInputs(accounts=accounts, competitor_units=competitor_units, regions=regions)


def _by_region(inputs: _TerritoryInputs) -> _Grouping:
    parents = {rid: parent for rid, _code, _name, _en, _level, parent in inputs.regions}
    codes = {rid: code for rid, code, *_ in inputs.regions}
    paths = {code: _region_path(rid, parents, codes) for rid, code, *_ in inputs.regions}
    groups = territory.region_groups(inputs.accounts, parents, codes)
    labels = {territory.NO_KEY: _("Unknown")}
    extra = {}
    for _rid, code, name, name_en, level, parent in inputs.regions:
        labels[code] = _localized(name, name_en)
        extra[code] = {"level": level, "parent": codes[parent] if parent else None}
    order = sorted(set(groups["key"]), key=lambda key: (key == territory.NO_KEY, paths.get(key, ())))
    return _Grouping(groups=groups, labels=labels, order=order, extra=extra)


def _region_path(region_id: int, parents: dict[int, int | None], codes: dict[int, str]) -> tuple[str, ...]:
    path: list[str] = []
    node: int | None = region_id
    while node is not None:
        path.insert(0, codes[node])
        node = parents.get(node)
    return tuple(path)


def _by_industry_size(inputs: _TerritoryInputs) -> _Grouping:
    frame = inputs.accounts
    bands = [size_band_for(None if pd.isna(n) else int(n)) for n in frame["employee_count"]]
    industries = [code if isinstance(code, str) else "" for code in frame["industry"]]
    keys = [f"{industry}/{band}" for industry, band in zip(industries, bands, strict=True)]
    names = {
        code: _localized(name, name_en)
        for code, name, name_en in zip(industries, frame["industry_name"], frame["industry_name_en"], strict=True)
        if code
    }
    band_order = [*(band.value for band in Account.SizeBand), ""]
    labels, extra = {}, {}
    for key, industry, band in zip(keys, industries, bands, strict=True):
        labels[key] = f"{names.get(industry) or _('Unknown')} · {band or _('Unknown')}"
        extra[key] = {"industry": industry, "size_band": band}
    order = sorted(
        set(keys),
        key=lambda k: (extra[k]["industry"] == "", extra[k]["industry"], band_order.index(extra[k]["size_band"])),
    )
    return _Grouping(
        groups=pd.DataFrame({"account": frame["account"], "key": keys}), labels=labels, order=order, extra=extra
    )


def _by_org(inputs: _TerritoryInputs) -> _Grouping:
    frame = inputs.accounts
    kinds = [
        "headquarters" if is_hq or has_branches else "standalone" if pd.isna(parent) else "branch"
        for is_hq, has_branches, parent in zip(
            frame["is_headquarters"], frame["has_branches"], frame["parent"], strict=True
        )
    ]
    labels = {"headquarters": _("Headquarters"), "branch": _("Branch"), "standalone": _("Standalone account")}
    groups = pd.DataFrame({"account": frame["account"], "key": kinds})
    return _Grouping(groups=groups, labels=labels, order=list(labels))


def _by_competitor(inputs: _TerritoryInputs) -> _Grouping:
    units = inputs.competitor_units
    labels = {territory.NO_KEY: _("No competitor installed base")}
    labels |= {
        str(int(cid)): _localized(name, name_en)
        for cid, name, name_en in zip(units["competitor"], units["name"], units["name_en"], strict=True)
    }
    return _Grouping(groups=territory.competitor_groups(inputs.accounts, units), labels=labels)


def _by_revenue(inputs: _TerritoryInputs) -> _Grouping:
    bands = settings.SALESFLOW_CV_BANDS
    keys = territory.all_band_keys(bands)
    labels = {}
    for key in keys:
        if key == "none":
            labels[key] = _("No revenue last year")
        elif key.endswith("+"):
            labels[key] = _("¥%(low)s and above") % {"low": f"{int(key[:-1]):,}"}
        else:
            low, high = key.split("-")
            labels[key] = _("¥%(low)s to under ¥%(high)s") % {"low": f"{int(low):,}", "high": f"{int(high):,}"}
    groups = pd.DataFrame(
        {"account": inputs.accounts["account"], "key": territory.band_keys(inputs.accounts["prev_cv_cents"], bands)}
    )
    return _Grouping(groups=groups, labels=labels, order=keys)


TERRITORY_DIMENSIONS = {
    "region": _by_region,
    "industry_size": _by_industry_size,
    "org": _by_org,
    "competitor": _by_competitor,
    "revenue": _by_revenue,
}


def territory_analysis(*, viewer: User, dimension: str, on: date | None = None) -> list[TerritoryRow]:
    """One of the decks' five tables over the viewer's accounts; 5 queries.

    CV and PV are this year's stored matrix values, the revenue bands last year's stored CV (SALESFLOW_CV_BANDS);
    coverage is the share of targets with a completed visit this quarter. Region rows roll up to levels 2 and 1.
    """
    inputs = _territory_inputs(viewer=viewer, day=on or today())
    grouping = TERRITORY_DIMENSIONS[dimension](inputs)
    summary = {row["key"]: row for row in territory.summarize(inputs.accounts, grouping.groups)}
    keys = grouping.order
    if keys is None:
        keys = sorted(summary, key=lambda k: (k == territory.NO_KEY, grouping.labels.get(k, k)))
    return [
        TerritoryRow(
            label=grouping.labels.get(key, key),
            **(summary.get(key) or territory.empty_row(key)),
            **grouping.extra.get(key, {}),
        )
        for key in keys
    ]


# --- pages ---
# Reads only the server-rendered analytics pages need beyond the selectors above (home agenda, team columns,
# matrix years). Metrics themselves always come from the selectors above.

from pipeline.selectors import PlanAdherence, plan_adherence_by_owner  # noqa: E402


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
    owner loaded, and how many were left overdue in the last 7 days; 2 queries."""
    day = on or today()
    today_from, tomorrow = _bounds(day, day)
    week_end = day_start(period_end("week", period_start("week", day)))
    planned = Visit.objects.visible_to(viewer).planned()
    counts = planned.aggregate(
        today_count=Count("id", filter=Q(planned_at__gte=today_from, planned_at__lt=tomorrow)),
        later_count=Count("id", filter=Q(planned_at__gte=tomorrow, planned_at__lt=week_end)),
        overdue_count=Count("id", filter=Q(planned_at__gte=today_from - timedelta(days=7), planned_at__lt=today_from)),
    )
    upcoming = list(
        planned.filter(planned_at__gte=today_from, planned_at__lt=week_end)
        .select_related("account", "contact", "owner")
        .order_by("planned_at", "pk")[:limit]
    )
    return VisitAgenda(upcoming=upcoming, **counts)


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
    funnel: list[FunnelStage]  # the overview's stages, zeros included
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
class TeamOverview:
    stages: list[Stage]  # the pipeline's stages, after-sales ones only while they hold open opportunities
    total: list[FunnelStage]  # the whole scope's funnel over `stages` (every owner in it)
    members: list[TeamMemberRow]
    idle_reps: list[User]  # reps with no completed visit last week
    teams_month: list[AttainmentRow]  # team targets of the current month and quarter in the scope
    teams_quarter: list[AttainmentRow]
    last_week_start: date


def _attainment_of(rows: list[AttainmentRow], owner_type: str, start: date) -> dict[int, AttainmentRow]:
    return {r.owner_id: r for r in rows if r.owner_type == owner_type and r.period_start == start}


def team_overview(
    *, viewer: User, pipeline: Pipeline, start: date, end: date, team: Team | None = None, on: date | None = None
) -> TeamOverview:
    """The team page: per visible rep and manager (of `team`, or all), the funnel by stage, the flow, win rate of the
    period `start`–`end`, coverage, last week's plan adherence and visits, current attainment and stability, each
    from its own selector above; 20 queries whatever the number of people."""
    day = on or today()
    last_week_start = period_start("week", day) - timedelta(days=7)
    total = without_empty_after_sales(funnel_snapshot(viewer=viewer, pipeline=pipeline, team=team))
    funnels = funnel_snapshot_by_owner(viewer=viewer, pipeline=pipeline, team=team)
    flows = funnel_flow_by_owner(viewer=viewer, pipeline=pipeline, start=start, end=end, team=team)
    rates = win_rate_by_owner(viewer=viewer, start=start, end=end, team=team, pipeline=pipeline)
    coverage = target_coverage_by_owner(viewer=viewer, team=team, on=day)
    adherence = plan_adherence_by_owner(viewer=viewer, week_start=last_week_start)
    visits = {
        row.owner.pk: row.done
        for row in visits_per_rep_week(
            viewer=viewer, start=last_week_start, end=last_week_start + timedelta(days=6), team=team
        )
    }
    month_start, quarter_start = period_start("month", day), period_start("quarter", day)
    months = attainment(viewer=viewer, period_type="month", year=day.year, team=team)
    quarters = attainment(viewer=viewer, period_type="quarter", year=day.year, team=team)
    month_of, quarter_of = _attainment_of(months, "user", month_start), _attainment_of(quarters, "user", quarter_start)
    stable = {row.owner.pk: row for row in stability(viewer=viewer, team=team, on=day)}
    members = []
    for person in team_people(viewer=viewer, team=team):
        by_stage = {row.stage.pk: row for row in funnels.get(person.pk, [])}
        funnel_rows = [by_stage.get(row.stage.pk) or FunnelStage(row.stage, 0, Decimal(0), Decimal(0)) for row in total]
        members.append(
            TeamMemberRow(
                person=person,
                funnel=funnel_rows,
                open_count=sum(r.count for r in funnel_rows),
                open_amount=sum((r.amount for r in funnel_rows), Decimal(0)),
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
        idle_reps=[m.person for m in members if m.visits_last_week == 0],
        teams_month=list(_attainment_of(months, "team", month_start).values()),
        teams_quarter=list(_attainment_of(quarters, "team", quarter_start).values()),
        last_week_start=last_week_start,
    )
