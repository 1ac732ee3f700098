"""Reads for the board and the opportunity pages: filters, board columns, stage path and history; never writes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
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
from django.utils.translation import ngettext

from accounts.visibility import VIEWER_SHAPE
from core.paths import path_for_pk
from core.statements import QueryStatement, bound_statement, query_statement, read_rows
from core.templatetags.salesflow import cny
from pipeline.models import Opportunity, Pipeline, Reassignment, Stage, StageChange, Visit
from pipeline.querysets import OpportunityQuerySet
from pipeline.selectors.history import ChangePage, change_page

if TYPE_CHECKING:
    from accounts.models import Team, User


@dataclass(frozen=True)
class OpportunityFilters:
    """What a board or an opportunity list is narrowed to; empty values filter nothing."""

    pipeline: Pipeline | None = None
    stage: Stage | None = None
    status: str = ""
    owner: User | None = None
    team: Team | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    close_from: date | None = None
    close_to: date | None = None
    search: str = ""


@dataclass(frozen=True)
class BoardCard:
    """What a board card shows of one opportunity: plain values and its texts ready to print, so that drawing a card
    resolves no model field and formats nothing (a per-card plural tag or filter cost more than the rest of the card).
    """

    pk: int
    name: str
    account_name: str
    owner_name: str
    amount: Decimal
    amount_label: str  # as the cny filter writes it
    version: int
    url: str  # the opportunity's page
    move_url: str  # where its stage menu posts (without the board's filters)
    days_in_stage: int
    days_label: str  # "3 days in stage", in the active language
    is_stale: bool
    move_action: str = ""  # move_url with the board's filters, added by the board view
    html: str = ""  # the card as the board draws it, added by the board view (not for a refused card)


@dataclass(frozen=True)
class BoardColumn:
    """One stage of the board: totals over every matching opportunity, and the first cards of them."""

    stage: Stage
    count: int
    amount: Decimal
    cards: list[BoardCard]
    weighted: Decimal = Decimal(0)  # the sum of amount × win probability
    move_menu: str = ""  # its cards' stage menu options, drawn once per column by the board view
    html: str = ""  # the whole column, drawn by the board view unless it holds a refused card

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
    changes: ChangePage


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
    if filters.team is not None:
        rows = rows.filter(owner__team=filters.team)
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


def stale_cutoff(as_of: datetime) -> datetime:
    """The moment since which an opportunity without activity is stale at `as_of`."""
    return as_of - timedelta(days=settings.SALESFLOW_STALE_DAYS)


def is_stale_expression(*, cutoff: datetime) -> ExpressionWrapper:
    """An annotation: open, and neither a stage change nor a completed visit on it since `cutoff`
    (`stale_cutoff(as_of)`: SALESFLOW_STALE_DAYS days before).

    Entering the current stage (stage_entered_at, also set at creation) counts as a stage change.
    """
    recent_change = StageChange.objects.filter(opportunity=OuterRef("pk"), changed_at__gte=cutoff)
    recent_visit = Visit.objects.filter(opportunity=OuterRef("pk"), status=Visit.Status.DONE, done_at__gte=cutoff)
    return ExpressionWrapper(
        Q(status=Opportunity.Status.OPEN, stage_entered_at__lt=cutoff) & ~Exists(recent_change) & ~Exists(recent_visit),
        output_field=BooleanField(),
    )


def days_between(start: datetime, end: datetime) -> int:
    """Whole calendar days from one moment to another in the active time zone; runs no query."""
    return (timezone.localdate(end) - timezone.localdate(start)).days


def _plain(statement: QueryStatement) -> tuple[QueryStatement, list]:
    return statement, statement.params


def _board_totals(*, viewer: User, filters: OpportunityFilters) -> QueryStatement:
    """Count, amount and weighted amount (amount × win probability) per stage over every matching opportunity."""
    return query_statement(
        filtered_opportunities(viewer=viewer, filters=filters)
        .order_by()
        .values("stage_id")
        .annotate(
            # weighted first: after it, "amount" names the sum
            weighted=Sum(ExpressionWrapper(F("amount") * F("probability") / 100, output_field=DecimalField())),
            count=Count("pk"),
            amount=Sum("amount"),
        )
    )


def _board_cards(
    *, viewer: User, filters: OpportunityFilters, stages: list[Stage], cutoff: datetime, per_column: int
) -> QueryStatement:
    """The `per_column` largest matching opportunities of each stage, with their names and whether they are stale.

    The cards are picked first, by id: on PostgreSQL each stage's from its own LIMIT (opp_open_stage_amount_idx
    gives an open stage's opportunities largest first, so a director's column reads its cards, not the stage), the
    stages' ids joined by UNION ALL; a database that cannot limit the parts of a UNION ranks them with a row number per
    stage. Only the picked cards meet their account, owner and the stale rule's two lookups.
    """
    matching = filtered_opportunities(viewer=viewer, filters=filters)
    if connections[matching.db].features.supports_slicing_ordering_in_compound:
        first, *others = (
            matching.filter(stage=stage).order_by("-amount", "-pk").values("pk")[:per_column] for stage in stages
        )
        picked = first.union(*others, all=True)
    else:
        picked = (
            matching.annotate(
                board_rank=Window(
                    RowNumber(), partition_by=[F("stage_id")], order_by=[F("amount").desc(), F("pk").desc()]
                )
            )
            .filter(board_rank__lte=per_column)
            .values("pk")
        )
    return query_statement(
        Opportunity.objects.filter(pk__in=picked)
        .annotate(board_is_stale=is_stale_expression(cutoff=cutoff))
        .order_by("stage_id", "-amount", "-pk")
        .values(**{name: F(path) for name, path in _CARD_COLUMNS.items()}, card_is_stale=F("board_is_stale"))
    )


_CARD_COLUMNS = {
    "card_pk": "pk",
    "card_stage": "stage_id",
    "card_name": "name",
    "card_account": "account__name",
    "card_last_name": "owner__last_name",
    "card_first_name": "owner__first_name",
    "card_username": "owner__username",
    "card_amount": "amount",
    "card_version": "version",
    "card_entered": "stage_entered_at",
}


def _open_in(pipeline: Pipeline) -> OpportunityFilters:
    return OpportunityFilters(pipeline=pipeline, status=Opportunity.Status.OPEN)


def _board_totals_default(*, viewer: User, pipeline: Pipeline) -> QueryStatement:
    return _board_totals(viewer=viewer, filters=_open_in(pipeline))


def _board_cards_default(
    *, viewer: User, pipeline: Pipeline, cutoff: datetime, per_column: int, **stages: Stage
) -> QueryStatement:
    return _board_cards(
        viewer=viewer, filters=_open_in(pipeline), stages=list(stages.values()), cutoff=cutoff, per_column=per_column
    )


def board_columns(
    *, viewer: User, pipeline: Pipeline, filters: OpportunityFilters, as_of: datetime | None = None
) -> list[BoardColumn]:
    """Returns one column per stage of the pipeline, in order, with the open matching opportunities, in 3 queries.

    Count, amount and weighted amount (amount × win probability) come from one GROUP BY over every matching
    opportunity (a director's from the open funnel's covering index); cards are the SALESFLOW_BOARD_CARDS_PER_COLUMN
    largest by amount of each stage (`_board_cards`). After-sales stages appear only when they hold cards. The
    unfiltered board's two statements are composed once per process and viewer role (core.statements).
    """
    as_of = as_of or timezone.now()
    per_column = settings.SALESFLOW_BOARD_CARDS_PER_COLUMN
    filters = replace(filters, pipeline=pipeline, stage=None, status=Opportunity.Status.OPEN)
    stages = list(pipeline.stages.order_by("order"))
    if not stages:
        return []
    cutoff = stale_cutoff(as_of)
    if filters == _open_in(pipeline):  # the board as it opens: statements composed once (core.statements)
        common = {"keep": {"viewer": VIEWER_SHAPE}, "viewer": viewer, "pipeline": pipeline}
        # company-wide totals: a plan made for the values runs faster
        totals_statement = bound_statement(
            ("board totals",), _board_totals_default, prepare=not viewer.is_director, **common
        )
        cards_statement = bound_statement(
            ("board cards", per_column, len(stages)),
            partial(_board_cards_default, per_column=per_column),
            cutoff=cutoff,
            **{f"stage_{index}": stage for index, stage in enumerate(stages)},
            **common,
        )
    else:
        totals_statement = _plain(_board_totals(viewer=viewer, filters=filters))
        cards_statement = _plain(
            _board_cards(viewer=viewer, filters=filters, stages=stages, cutoff=cutoff, per_column=per_column)
        )
    totals = {row["stage_id"]: row for row in read_rows(*totals_statement)}
    ranked = [row.values() for row in read_rows(*cards_statement)]
    page_url, move_url = path_for_pk("pipeline:opportunity"), path_for_pk("pipeline:board_move")
    cards: dict[int, list[BoardCard]] = {stage.pk: [] for stage in stages}
    for pk, stage_id, name, account_name, last_name, first_name, username, amount, version, entered, stale in ranked:
        days = days_between(entered, as_of)
        cards[stage_id].append(
            BoardCard(
                pk=pk,
                name=name,
                account_name=account_name,
                owner_name=f"{last_name}{first_name}".strip() or username,  # as User.display_name
                amount=amount,
                amount_label=cny(amount),
                version=version,
                url=page_url(pk),
                move_url=move_url(pk),
                days_in_stage=days,
                days_label=ngettext("%(days)s day in stage", "%(days)s days in stage", days) % {"days": days},
                is_stale=stale,
            )
        )
    return [
        BoardColumn(
            stage=stage,
            count=totals.get(stage.pk, {}).get("count", 0),
            amount=Decimal(totals.get(stage.pk, {}).get("amount") or 0),
            cards=cards[stage.pk],
            weighted=Decimal(totals.get(stage.pk, {}).get("weighted") or 0).quantize(Decimal("1.00")),
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


def opportunity_history(*, opportunity: Opportunity, changes_page: Any = 1) -> OpportunityHistory:
    """Returns the opportunity's stage changes (oldest first), reassignments and visits (newest first) and page
    `changes_page` of its field changes (newest first), in 4 queries.

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
        changes=change_page(changes=opportunity.changes.all(), model=Opportunity, page=changes_page),
    )
