"""Reads for pages, API, exports and digests about opportunities and visits; selectors never write."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from pipeline.models import Opportunity, OpportunityQuerySet, Pipeline, Reassignment, Stage, StageChange, Visit

if TYPE_CHECKING:
    from accounts.models import User


# --- board & opportunity pages ---


@dataclass(frozen=True)
class OpportunityFilters:
    """What a board or an opportunity list is narrowed to; empty values filter nothing."""

    pipeline: Pipeline | None = None
    stage: Stage | None = None
    status: str = ""
    owner: User | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    close_from: date | None = None
    close_to: date | None = None
    search: str = ""


@dataclass(frozen=True)
class BoardCard:
    opportunity: Opportunity
    days_in_stage: int
    is_stale: bool


@dataclass(frozen=True)
class BoardColumn:
    """One stage of the board: totals over every matching opportunity, and the first cards of them."""

    stage: Stage
    count: int
    amount: Decimal
    cards: list[BoardCard]

    @property
    def hidden_count(self) -> int:
        return self.count - len(self.cards)


@dataclass(frozen=True)
class StagePathStep:
    stage: Stage
    state: str  # "done", "current" or "ahead"


@dataclass(frozen=True)
class OpportunityHistory:
    stage_changes: list[StageChange]
    reassignments: list[Reassignment]
    visits: list[Visit]


OPPORTUNITY_SORTS: dict[str, tuple[str, ...]] = {
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "name": ("name", "pk"),
    "account": ("account__name", "name", "pk"),
    "-amount": ("-amount", "-pk"),
    "amount": ("amount", "pk"),
    "close": ("expected_close_date", "pk"),
    "-close": ("-expected_close_date", "-pk"),
    "stage": ("pipeline_id", "stage__order", "-amount", "pk"),
    "-stage": ("pipeline_id", "-stage__order", "-amount", "pk"),
}


def filtered_opportunities(*, viewer: User, filters: OpportunityFilters) -> OpportunityQuerySet:
    """Returns the viewer's visible opportunities matching the filters, unevaluated (it runs no query)."""
    rows = Opportunity.objects.visible_to(viewer)
    if filters.pipeline is not None:
        rows = rows.filter(pipeline=filters.pipeline)
    if filters.stage is not None:
        rows = rows.filter(stage=filters.stage)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.owner is not None:
        rows = rows.filter(owner=filters.owner)
    if filters.amount_min is not None:
        rows = rows.filter(amount__gte=filters.amount_min)
    if filters.amount_max is not None:
        rows = rows.filter(amount__lte=filters.amount_max)
    if filters.close_from is not None:
        rows = rows.filter(expected_close_date__gte=filters.close_from)
    if filters.close_to is not None:
        rows = rows.filter(expected_close_date__lte=filters.close_to)
    if search := filters.search.strip():
        rows = rows.filter(Q(name__icontains=search) | Q(account__name__icontains=search))
    return rows


def is_stale_expression(*, as_of: datetime) -> ExpressionWrapper:
    """An annotation: open, and neither a stage change nor a completed visit on it for SALESFLOW_STALE_DAYS days.

    Entering the current stage (stage_entered_at, also set at creation) counts as a stage change.
    """
    cutoff = as_of - timedelta(days=settings.SALESFLOW_STALE_DAYS)
    recent_change = StageChange.objects.filter(opportunity=OuterRef("pk"), changed_at__gte=cutoff)
    recent_visit = Visit.objects.filter(opportunity=OuterRef("pk"), status=Visit.Status.DONE, done_at__gte=cutoff)
    return ExpressionWrapper(
        Q(status=Opportunity.Status.OPEN, stage_entered_at__lt=cutoff) & ~Exists(recent_change) & ~Exists(recent_visit),
        output_field=BooleanField(),
    )


def days_between(start: datetime, end: datetime) -> int:
    """Whole calendar days from one moment to another in the active time zone; runs no query."""
    return (timezone.localdate(end) - timezone.localdate(start)).days


def board_columns(
    *, viewer: User, pipeline: Pipeline, filters: OpportunityFilters, as_of: datetime | None = None
) -> list[BoardColumn]:
    """Returns one column per stage of the pipeline, in order, with the open matching opportunities, in 3 queries.

    Count and amount cover every matching opportunity; cards are the SALESFLOW_BOARD_CARDS_PER_COLUMN largest by
    amount, picked in the database with a row number per stage. After-sales stages appear only when they hold
    cards.
    """
    as_of = as_of or timezone.now()
    per_column = settings.SALESFLOW_BOARD_CARDS_PER_COLUMN
    matching = filtered_opportunities(
        viewer=viewer, filters=replace(filters, pipeline=pipeline, stage=None, status=Opportunity.Status.OPEN)
    )
    stages = list(pipeline.stages.order_by("order"))
    totals = {
        row["stage"]: row
        for row in matching.order_by().values("stage").annotate(count=Count("pk"), amount=Sum("amount"))
    }
    ranked = (
        matching.select_related("account", "owner")
        .annotate(
            board_rank=Window(RowNumber(), partition_by=[F("stage_id")], order_by=[F("amount").desc(), F("pk").desc()]),
            board_is_stale=is_stale_expression(as_of=as_of),
        )
        .filter(board_rank__lte=per_column)
        .order_by("stage_id", "board_rank")
    )
    cards: dict[int, list[BoardCard]] = {stage.pk: [] for stage in stages}
    for opportunity in ranked:
        cards[opportunity.stage_id].append(
            BoardCard(
                opportunity=opportunity,
                days_in_stage=days_between(opportunity.stage_entered_at, as_of),
                is_stale=opportunity.board_is_stale,
            )
        )
    return [
        BoardColumn(
            stage=stage,
            count=totals.get(stage.pk, {}).get("count", 0),
            amount=Decimal(totals.get(stage.pk, {}).get("amount") or 0),
            cards=cards[stage.pk],
        )
        for stage in stages
        if cards[stage.pk] or not stage.is_after_sales
    ]


def owner_choices(*, viewer: User) -> QuerySet:
    """The users whose opportunities the viewer may filter by: themselves, their team's members, or everyone."""
    return get_user_model().objects.visible_to(viewer).filter(is_active=True).order_by("team__name", "username")


def stage_path(*, opportunity: Opportunity, stages: list[Stage]) -> list[StagePathStep]:
    """Marks each stage of the opportunity's pipeline done, current or ahead; runs no query."""
    current = opportunity.stage.order
    return [
        StagePathStep(stage=s, state="done" if s.order < current else "current" if s.order == current else "ahead")
        for s in stages
    ]


def opportunity_history(*, opportunity: Opportunity) -> OpportunityHistory:
    """Returns the opportunity's stage changes (oldest first), reassignments and visits (newest first), in 3 queries.

    The visits on a visible opportunity are visible with it, whoever logged them.
    """
    changes = opportunity.stage_changes.select_related("from_stage", "to_stage", "changed_by")
    return OpportunityHistory(
        stage_changes=list(changes.order_by("changed_at", "pk")),
        reassignments=list(
            opportunity.reassignments.select_related("from_owner", "to_owner", "reassigned_by").order_by(
                "-reassigned_at", "-pk"
            )
        ),
        visits=list(
            Visit.objects.filter(opportunity=opportunity)
            .select_related("owner", "contact")
            .order_by(Coalesce("done_at", "planned_at").desc(nulls_last=True), "-pk")
        ),
    )


# --- visits & accounts pages ---
# Reads for the account page, the account and visit lists, visit logging and the visit plan (week view).

from datetime import time  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from django.db.models import Case, Max, Subquery, Value, When  # noqa: E402

from accounts.facts import CUSTOMER_TYPE_LABELS, customer_type_for  # noqa: E402
from accounts.models import Account, Contact, InstalledBase, Region  # noqa: E402
from accounts.models import User as UserModel  # noqa: E402
from core.calendar import week_bounds  # noqa: E402
from pipeline.models import VisitWeekComment  # noqa: E402

ACCOUNT_PAGE_TIMELINE_LENGTH = 30


@dataclass(frozen=True)
class InstalledBaseSummary:
    """An account's installed base rows and its units split ours / competitors."""

    rows: list[InstalledBase]
    our_units: int
    competitor_units: int

    @property
    def total_units(self) -> int:
        return self.our_units + self.competitor_units

    @property
    def customer_type(self) -> str:
        return customer_type_for(our_units=self.our_units, competitor_units=self.competitor_units)

    @property
    def customer_type_label(self) -> str:
        return str(CUSTOMER_TYPE_LABELS[self.customer_type])

    @property
    def our_share(self) -> float | None:
        """Our share of the installed units (0–1); None when there are none."""
        return self.our_units / self.total_units if self.total_units else None


@dataclass(frozen=True)
class AccountPage:
    account: Account
    region_path: list[Region]
    branches: list[Account]
    contacts: list[Contact]
    installed_base: InstalledBaseSummary
    opportunities: list[Opportunity]
    visits: list[Visit]
    has_more_visits: bool

    @property
    def open_opportunities(self) -> list[Opportunity]:
        return [o for o in self.opportunities if o.status == Opportunity.Status.OPEN]

    @property
    def closed_opportunities(self) -> list[Opportunity]:
        return [o for o in self.opportunities if o.status != Opportunity.Status.OPEN]


def account_page(*, viewer: User, account: Account) -> AccountPage:
    """Returns what the account page shows, whatever the data size in 6 queries; the account must come from
    `Account.objects.visible_to(viewer)` with industry, region (and its parents), owner and parent loaded.

    Opportunities and visits are those visible to the viewer; the timeline holds the latest
    ACCOUNT_PAGE_TIMELINE_LENGTH visits (done ones by done time, planned ones by planned time).
    """
    region_path: list[Region] = []
    region = account.region
    while region is not None:
        region_path.insert(0, region)
        region = region.parent
    branches = list(Account.objects.visible_to(viewer).filter(parent=account).select_related("owner").order_by("name"))
    contacts = list(Contact.objects.filter(account=account).order_by("name"))
    rows = list(InstalledBase.objects.filter(account=account).select_related("competitor"))
    opportunities = list(
        Opportunity.objects.visible_to(viewer)
        .filter(account=account)
        .select_related("stage", "owner")
        .order_by(Case(When(status=Opportunity.Status.OPEN, then=Value(0)), default=Value(1)), "-created_at")
    )
    visits = list(
        Visit.objects.visible_to(viewer)
        .filter(account=account)
        .select_related("contact", "owner", "opportunity")
        .annotate(when=Coalesce("done_at", "planned_at"))
        .order_by("-when", "-pk")[: ACCOUNT_PAGE_TIMELINE_LENGTH + 1]
    )
    return AccountPage(
        account=account,
        region_path=region_path,
        branches=branches,
        contacts=contacts,
        installed_base=InstalledBaseSummary(
            rows=rows,
            our_units=sum(r.units for r in rows if r.is_ours),
            competitor_units=sum(r.units for r in rows if not r.is_ours),
        ),
        opportunities=opportunities,
        visits=visits[:ACCOUNT_PAGE_TIMELINE_LENGTH],
        has_more_visits=len(visits) > ACCOUNT_PAGE_TIMELINE_LENGTH,
    )


def account_for_page(*, viewer: User) -> QuerySet[Account]:
    """The visible accounts with what the account page header shows loaded (use with get_object_or_404)."""
    return Account.objects.visible_to(viewer).select_related("industry", "owner", "parent", "region__parent__parent")


SIZE_BAND_RANGES: dict[str, tuple[int, int | None]] = {
    "1-49": (0, 49),
    "50-99": (50, 99),
    "100-299": (100, 299),
    "300-999": (300, 999),
    "1000+": (1000, None),
}

ACCOUNT_SORTS = {
    "name": ["name", "pk"],
    "-last_visit": [F("last_visit_at").desc(nulls_last=True), "name"],
    "last_visit": [F("last_visit_at").asc(nulls_first=True), "name"],
    "-size": [F("employee_count").desc(nulls_last=True), "name"],
    "region": [F("region__code").asc(nulls_last=True), "name"],
    "owner": ["owner__username", "name"],
    "-updated": ["-updated_at", "pk"],
}


def accounts_for_list(
    *,
    viewer: User,
    q: str = "",
    owner: User | None = None,
    region: Region | None = None,
    industry=None,
    is_target: bool | None = None,
    size_band: str = "",
    sort: str = "name",
) -> QuerySet[Account]:
    """The visible accounts matching the list's search and filters, with owner, industry and region loaded and
    `open_opportunities` and `last_visit_at` (latest completed visit) annotated; one query per page.

    A region matches its own accounts and those of the regions below it.
    """
    accounts = Account.objects.visible_to(viewer)
    if q := q.strip():
        accounts = accounts.filter(
            Q(name__icontains=q)
            | Q(address__icontains=q)
            | Q(pk__in=Contact.objects.filter(name__icontains=q).values("account_id"))
        )
    if owner is not None:
        accounts = accounts.filter(owner=owner)
    if region is not None:
        accounts = accounts.filter(Q(region=region) | Q(region__parent=region) | Q(region__parent__parent=region))
    if industry is not None:
        accounts = accounts.filter(industry=industry)
    if is_target is not None:
        accounts = accounts.filter(is_target=is_target)
    if size_band in SIZE_BAND_RANGES:
        low, high = SIZE_BAND_RANGES[size_band]
        accounts = accounts.filter(employee_count__gte=low)
        if high is not None:
            accounts = accounts.filter(employee_count__lte=high)
    open_opportunities = (
        Opportunity.objects.filter(account=OuterRef("pk"), status=Opportunity.Status.OPEN)
        .order_by()
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last_visit = (
        Visit.objects.filter(account=OuterRef("pk"), status=Visit.Status.DONE)
        .order_by()
        .values("account")
        .annotate(at=Max("done_at"))
        .values("at")
    )
    return (
        accounts.select_related("owner", "industry", "region")
        .annotate(
            open_opportunities=Coalesce(Subquery(open_opportunities), Value(0)),
            last_visit_at=Subquery(last_visit),
        )
        .order_by(*ACCOUNT_SORTS.get(sort, ACCOUNT_SORTS["name"]))
    )


VISIT_SORTS = {
    "-when": [F("when").desc(nulls_last=True), "-pk"],
    "when": [F("when").asc(nulls_last=True), "pk"],
    "account": ["account__name", "-when"],
    "owner": ["owner__username", "-when"],
}


def visits_for_list(
    *,
    viewer: User,
    q: str = "",
    status: str = "",
    kind: str = "",
    owner: User | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    account: Account | None = None,
    sort: str = "-when",
) -> QuerySet[Visit]:
    """The visible visits matching the list's search and filters, with account, contact, owner and opportunity
    loaded; one query per page. A visit's date is when it was done, else when it is planned (`when`)."""
    visits = Visit.objects.visible_to(viewer).annotate(when=Coalesce("done_at", "planned_at"))
    if q := q.strip():
        visits = visits.filter(
            Q(account__name__icontains=q)
            | Q(contact__name__icontains=q)
            | Q(purpose__icontains=q)
            | Q(summary__icontains=q)
            | Q(next_step__icontains=q)
        )
    if status:
        visits = visits.filter(status=status)
    if kind:
        visits = visits.filter(kind=kind)
    if owner is not None:
        visits = visits.filter(owner=owner)
    if account is not None:
        visits = visits.filter(account=account)
    tz = ZoneInfo(settings.TIME_ZONE)
    if date_from is not None:
        visits = visits.filter(when__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to is not None:
        visits = visits.filter(when__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz))
    return visits.select_related("account", "contact", "owner", "opportunity").order_by(
        *VISIT_SORTS.get(sort, VISIT_SORTS["-when"])
    )


def account_search(*, viewer: User, query: str, limit: int = 10) -> list[Account]:
    """Up to `limit` visible accounts whose name (or address) contains `query`, names starting with it first;
    one query, none when the query is blank."""
    query = query.strip()
    if not query:
        return []
    return list(
        Account.objects.visible_to(viewer)
        .filter(Q(name__icontains=query) | Q(address__icontains=query))
        .select_related("region")
        .annotate(rank=Case(When(name__istartswith=query, then=Value(0)), default=Value(1)))
        .order_by("rank", "name")[:limit]
    )


def plan_reps(*, viewer: User) -> list[User]:
    """The people whose visit plan the viewer may open, the viewer first: a rep only themself, a manager their
    team, a director everyone who sells; one query."""
    people = UserModel.objects.filter(is_active=True).select_related("team")
    if viewer.is_director:
        people = people.filter(role__in=[UserModel.Role.REP, UserModel.Role.MANAGER]) | people.filter(pk=viewer.pk)
    else:
        people = people.visible_to(viewer)
    return sorted(people.distinct(), key=lambda u: (u.pk != viewer.pk, u.team.name if u.team else "", u.username))


@dataclass(frozen=True)
class PlanAdherence:
    """SPEC §5 for one rep and week: visits planned for the week that were done ÷ visits planned for the week.

    A visit counts as planned for the week when its planned time falls in it, whatever it became (planned, done,
    cancelled); a visit logged directly as done, with no planned time, is not part of the plan.
    """

    planned: int
    done: int
    cancelled: int
    open: int

    @property
    def rate(self) -> float | None:
        return self.done / self.planned if self.planned else None

    @property
    def percent(self) -> int | None:
        return None if self.rate is None else round(self.rate * 100)


def plan_adherence(*, rep: User, week_start: date) -> PlanAdherence:
    """Plan adherence of `rep` for the week starting on Monday `week_start`, in one aggregate query."""
    start, end = week_bounds(week_start)
    figures = Visit.objects.filter(owner=rep, planned_at__gte=start, planned_at__lt=end).aggregate(
        planned=Count("pk"),
        done=Count("pk", filter=Q(status=Visit.Status.DONE)),
        cancelled=Count("pk", filter=Q(status=Visit.Status.CANCELLED)),
        open=Count("pk", filter=Q(status=Visit.Status.PLANNED)),
    )
    return PlanAdherence(**figures)


@dataclass(frozen=True)
class PlanDay:
    day: date
    is_today: bool
    visits: list[Visit]


def visit_plan_week(*, rep: User, week_start: date) -> list[PlanDay]:
    """The seven days of `rep`'s week, Monday first, each with its visits in time order (planned ones by planned
    time, visits logged without a plan by done time), with account, contact and opportunity loaded; one query."""
    start, end = week_bounds(week_start)
    tz = ZoneInfo(settings.TIME_ZONE)
    visits = (
        Visit.objects.filter(owner=rep)
        .filter(
            Q(planned_at__gte=start, planned_at__lt=end)
            | Q(planned_at__isnull=True, done_at__gte=start, done_at__lt=end)
        )
        .annotate(when=Coalesce("planned_at", "done_at"))
        .select_related("account", "contact", "opportunity")
        .order_by("when", "pk")
    )
    days: dict[date, list[Visit]] = {week_start + timedelta(days=i): [] for i in range(7)}
    for visit in visits:
        days[timezone.localtime(visit.when, tz).date()].append(visit)
    today = timezone.localdate(timezone=tz)
    return [PlanDay(day=day, is_today=day == today, visits=items) for day, items in days.items()]


def week_comments(*, rep: User, week_start: date) -> list[VisitWeekComment]:
    """The comments on `rep`'s week, oldest first, with their authors; one query."""
    return list(
        VisitWeekComment.objects.filter(rep=rep, week_start=week_start).select_related("author").order_by("created_at")
    )


@dataclass(frozen=True)
class TodaysVisits:
    """A user's visits still planned for today, and those left planned from the days before."""

    today: list[Visit]
    overdue: list[Visit]

    def __bool__(self) -> bool:
        return bool(self.today or self.overdue)


def todays_visits(*, user: User) -> TodaysVisits:
    """The user's visits still planned for today, and those overdue from the last 7 days, in time order; one query."""
    tz = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate(timezone=tz)
    today_start = datetime.combine(today, time.min, tzinfo=tz)
    visits = list(
        Visit.objects.filter(
            owner=user,
            status=Visit.Status.PLANNED,
            planned_at__gte=today_start - timedelta(days=7),
            planned_at__lt=today_start + timedelta(days=1),
        )
        .select_related("account", "contact")
        .order_by("planned_at", "pk")
    )
    return TodaysVisits(
        today=[v for v in visits if v.planned_at >= today_start],
        overdue=[v for v in visits if v.planned_at < today_start],
    )


def plan_adherence_by_owner(*, viewer: User, week_start: date) -> dict[int, PlanAdherence]:
    """`plan_adherence` for each owner id with visits planned in the week that the viewer sees; one query."""
    start, end = week_bounds(week_start)
    rows = (
        Visit.objects.visible_to(viewer)
        .filter(planned_at__gte=start, planned_at__lt=end)
        .values("owner_id")
        .annotate(
            planned=Count("pk"),
            done=Count("pk", filter=Q(status=Visit.Status.DONE)),
            cancelled=Count("pk", filter=Q(status=Visit.Status.CANCELLED)),
            open=Count("pk", filter=Q(status=Visit.Status.PLANNED)),
        )
        .order_by()
    )
    return {
        row["owner_id"]: PlanAdherence(
            planned=row["planned"], done=row["done"], cancelled=row["cancelled"], open=row["open"]
        )
        for row in rows
    }
