"""The targets grid (issue 13): the targets page's owners × periods of a year as cells to type in, with each cell's
attainment beside it, one page of owners at a time.

Unlike the pivot, the grid lists every owner the viewer could give a target, not only those who have one: each
visible team (not archived) before its members, then every visible active rep and manager, and anyone else who has a
target in the year. A row is editable when the viewer may set that owner's targets (the rule of
`pipeline.services.targets`); the others are shown read-only. The cost of a page follows the page: the owners are
paginated in SQL and their targets and wins are grouped by owner and period for that page only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When

from accounts.models import Team, User
from analytics.selectors.targets import (
    PIVOT_PERIOD_TYPES,
    PivotCell,
    _cell,
    _text,
    _year_cell,
    page_targets_and_won,
    year_periods,
)
from pipeline.models import SalesTarget
from pipeline.services.target_grid import cell_key
from pipeline.services.targets import settable_target_owners


@dataclass(frozen=True)
class GridCell:
    key: str  # the cell's name in the grid's form (see pipeline.services.target_grid.TargetCell)
    shown: PivotCell  # the target, the amount won and the attainment, as the pivot shows them
    was: str  # the target as the input first shows it ("" for none); posted back to tell the user's changes apart
    value: str  # what the input holds: `was`, or what was posted
    error: str = ""


@dataclass(frozen=True)
class GridRow:
    owner_type: str  # "team" or "user"
    owner_id: int
    owner_name: str
    group: str | None
    editable: bool  # whether the viewer may set this owner's targets
    cells: list[GridCell]
    year: PivotCell


@dataclass(frozen=True)
class TargetGrid:
    period_type: str
    year: int
    periods: list[date]
    page: Page  # of GridRow, teams listed before their members


def input_value(amount: Decimal | None) -> str:
    """A target as its input shows it: whole yuan without decimals (300000), cents only when it has some."""
    if amount is None:
        return ""
    return f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount:.2f}"


def _flag(condition: Q) -> Case | Value:
    """1 where `condition` holds, else 0: a column both sides of a UNION type alike (an empty Q holds everywhere)."""
    if not condition:
        return Value(1, output_field=IntegerField())
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def grid_owners(*, viewer: User, period_type: str, year: int) -> QuerySet:
    """The grid's owners the viewer sees, each as a row (kind, owner_id, no_group, group, sort_key, family, given,
    editable), teams before their members; unevaluated, so a paginator counts and cuts it in SQL."""
    targets = SalesTarget.objects.visible_to(viewer).filter(period_type=period_type, period_start__year=year)
    settable_users, settable_teams = settable_target_owners(actor=viewer)
    people = Q(is_active=True, role__in=[User.Role.REP, User.Role.MANAGER])
    users = (
        User.objects.visible_to(viewer)
        .filter(people | Q(pk__in=targets.values("owner_user_id")))
        .annotate(
            kind=_text("user"),
            owner_id=F("pk"),
            no_group=Case(When(team__isnull=True, then=1), default=0, output_field=IntegerField()),
            group=F("team__name"),
            sort_key=F("username"),
            family=F("last_name"),
            given=F("first_name"),
            editable=_flag(settable_users),
        )
        .values_list("kind", "owner_id", "no_group", "group", "sort_key", "family", "given", "editable")
        .order_by()
    )
    teams = (
        Team.objects.visible_to(viewer)
        .filter(Q(archived_at__isnull=True) | Exists(targets.filter(owner_team=OuterRef("pk"))))
        .annotate(
            kind=_text("team"),
            owner_id=F("pk"),
            no_group=Value(0, output_field=IntegerField()),
            group=F("name"),
            sort_key=_text(""),
            family=_text(""),
            given=_text(""),
            editable=_flag(settable_teams),
        )
        .values_list("kind", "owner_id", "no_group", "group", "sort_key", "family", "given", "editable")
        .order_by()
    )
    return teams.union(users, all=True).order_by("no_group", "group", "kind", "sort_key", "owner_id")


def target_grid(
    *, viewer: User, period_type: str, year: int, page: int | str | None = 1, per_page: int = 25
) -> TargetGrid:
    """One page of the grid of owners × periods of `year` (month, quarter or year) the viewer sees, each cell with
    its target, the amount won and the attainment; 5 queries (count, owners, targets, wins per user and per team),
    fewer when the page holds no user or no team."""
    if period_type not in PIVOT_PERIOD_TYPES:
        raise ValueError(f"the grid has no columns for {period_type!r} periods")
    periods = year_periods(period_type, year)
    owners = Paginator(grid_owners(viewer=viewer, period_type=period_type, year=year), per_page).get_page(page)
    keys = list(owners.object_list)
    user_ids = [owner_id for kind, owner_id, *_rest in keys if kind == "user"]
    team_ids = [owner_id for kind, owner_id, *_rest in keys if kind == "team"]
    targets, won = page_targets_and_won(
        viewer=viewer, period_type=period_type, periods=periods, user_ids=user_ids, team_ids=team_ids
    )
    rows = []
    for kind, owner_id, _no_group, group, username, family, given, editable in keys:
        shown = [
            _cell(start, targets.get((kind, owner_id, start)), won[kind].get((owner_id, start), Decimal(0)))
            for start in periods
        ]
        rows.append(
            GridRow(
                owner_type=kind,
                owner_id=owner_id,
                owner_name=group if kind == "team" else (f"{family}{given}".strip() or username),
                group=group,
                editable=bool(editable),
                cells=[
                    GridCell(
                        key=cell_key(kind, owner_id, c.period_start),
                        shown=c,
                        was=input_value(c.target),
                        value=input_value(c.target),
                    )
                    for c in shown
                ],
                year=_year_cell(shown, periods[0]),
            )
        )
    owners.object_list = rows
    return TargetGrid(period_type=period_type, year=year, periods=periods, page=owners)
