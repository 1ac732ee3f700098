"""What changed in the viewer's pipeline since a day (issue 13): one row per event, newest first, from the stage
changes (new, advanced, moved_back) and the change history (slipped, pulled_in, amount_up, amount_down, won, lost,
reopened).

Which rows are events is decided in SQL, so a page of events is a page of rows: a stage change is `new` when it has
no from-stage, else `advanced` or `moved_back` by the stages' order; the steps a win takes to the closing and
after-sales stages (rows at the same moment as a move into after-sales), moves after the sale and a reopening at the
same stage are not moves of the pipeline (the status change reports them). Back-filled history is not news. An
expected close date set or cleared is neither slipped nor pulled in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Exists, F, IntegerField, JSONField, OuterRef, Q, QuerySet, Value
from django.utils.translation import gettext_lazy

from accounts.models import Team, User
from analytics.selectors._common import _scope
from core.calendar import day_start
from pipeline.models import Opportunity, OpportunityChange, StageChange

KINDS = (
    "new",
    "advanced",
    "moved_back",
    "slipped",
    "pulled_in",
    "amount_up",
    "amount_down",
    "won",
    "lost",
    "reopened",
)
STAGE, HISTORY = 1, 2  # where an event's row lives
REPORTED_FIELDS = ("status", "amount", "expected_close_date")


@dataclass(frozen=True)
class ChangeRow:
    opportunity_id: int
    name: str
    owner_id: int
    owner_name: str
    kind: str
    old: str | None  # a stage's name, a status code, an amount or an ISO date; None for nothing
    new: str | None
    at: datetime
    owner_is_active: bool = True  # an inactive owner has no cockpit to link to


def _stage_events(scope: Q, since: datetime) -> QuerySet[StageChange]:
    # A win's steps share their moment with its step into after-sales; `changed_at__gte` repeats what that implies so
    # the planner reads only the recent rows for this check too (else it hashes the whole table).
    win_step = StageChange.objects.filter(
        opportunity=OuterRef("opportunity"),
        changed_at=OuterRef("changed_at"),
        changed_at__gte=since,
        to_stage__is_after_sales=True,
    )
    return (
        StageChange.objects.filter(scope, changed_at__gte=since, is_backfill=False)
        .exclude(to_stage__is_after_sales=True)
        .exclude(from_stage__is_after_sales=True)
        .exclude(from_stage=F("to_stage"))
        .exclude(Exists(win_step))
    )


def _history_events(scope: Q, since: datetime) -> QuerySet[OpportunityChange]:
    set_or_cleared = Q(field="expected_close_date") & (
        Q(old__isnull=True) | Q(new__isnull=True) | Q(old=Value(None, JSONField())) | Q(new=Value(None, JSONField()))
    )
    return OpportunityChange.objects.filter(scope, at__gte=since, field__in=REPORTED_FIELDS).exclude(set_or_cleared)


def change_events(
    *,
    viewer: User,
    since: date,
    owner: User | None = None,
    team: Team | None = None,
    until: date | None = None,
) -> QuerySet[tuple[int, int, datetime]]:
    """The events since `since` (00:00 company time; before `until` when given) on the opportunities the viewer
    sees, as (source, id, at) rows, newest first; unevaluated, so a paginator counts and cuts it in SQL (one query
    each)."""
    moment = day_start(since)
    scope = _scope(viewer, "opportunity__owner", owner=owner, team=team)
    stage_rows = _stage_events(scope, moment).annotate(source=Value(STAGE, IntegerField()), when=F("changed_at"))
    history_rows = _history_events(scope, moment).annotate(source=Value(HISTORY, IntegerField()), when=F("at"))
    if until is not None:
        stage_rows = stage_rows.filter(changed_at__lt=day_start(until))
        history_rows = history_rows.filter(at__lt=day_start(until))
    return (
        stage_rows.values_list("source", "pk", "when")
        .order_by()
        .union(history_rows.values_list("source", "pk", "when").order_by(), all=True)
        .order_by("-when", "-source", "-pk")
    )


def _stage_row(change: StageChange) -> ChangeRow:
    if change.from_stage is None:
        kind = "new"
    else:
        kind = "advanced" if change.to_stage.order > change.from_stage.order else "moved_back"
    old = change.from_stage.name if change.from_stage is not None else None
    return _row(change.opportunity, kind, old, change.to_stage.name, change.changed_at)


def _history_kind(change: OpportunityChange) -> str:
    if change.field == "status":
        return change.new if change.new in ("won", "lost") else "reopened"
    if change.field == "amount":
        return "amount_up" if Decimal(change.new or 0) > Decimal(change.old or 0) else "amount_down"
    return "slipped" if str(change.new) > str(change.old) else "pulled_in"  # ISO dates sort as dates


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _row(opportunity, kind: str, old: Any, new: Any, at: datetime) -> ChangeRow:
    return ChangeRow(
        opportunity_id=opportunity.pk,
        name=opportunity.name,
        owner_id=opportunity.owner_id,
        owner_name=opportunity.owner.display_name,
        kind=kind,
        old=_text(old),
        new=_text(new),
        at=at,
        owner_is_active=opportunity.owner.is_active,
    )


def change_rows(page: list[tuple[int, int, datetime]]) -> list[ChangeRow]:
    """The rows of a page of `change_events`, in its order; two queries (stage changes, history rows)."""
    stage_ids = [pk for source, pk, _at in page if source == STAGE]
    history_ids = [pk for source, pk, _at in page if source == HISTORY]
    related = ("opportunity", "opportunity__owner")
    stages = StageChange.objects.select_related(*related, "from_stage", "to_stage").in_bulk(stage_ids)
    history = OpportunityChange.objects.select_related(*related).in_bulk(history_ids)
    rows = []
    for source, pk, _at in page:
        if source == STAGE:
            rows.append(_stage_row(stages[pk]))
        else:
            change = history[pk]
            rows.append(_row(change.opportunity, _history_kind(change), change.old, change.new, change.at))
    return rows


KIND_LABELS = {
    "new": gettext_lazy("New"),
    "advanced": gettext_lazy("Advanced"),
    "moved_back": gettext_lazy("Moved back"),
    "slipped": gettext_lazy("Close date slipped"),
    "pulled_in": gettext_lazy("Close date pulled in"),
    "amount_up": gettext_lazy("Amount up"),
    "amount_down": gettext_lazy("Amount down"),
    "won": gettext_lazy("Won"),
    "lost": gettext_lazy("Lost"),
    "reopened": gettext_lazy("Reopened"),
}
AMOUNT_KINDS = frozenset({"amount_up", "amount_down"})
STATUS_KINDS = frozenset({"won", "lost", "reopened"})


def _shown_value(kind: str, value: str | None) -> str | None:
    if value is not None and kind in STATUS_KINDS:
        return str(Opportunity.Status(value).label) if value in Opportunity.Status.values else value
    return value


def shown_change(row: ChangeRow) -> dict:
    """A change as a page or an email shows it: the kind's label, statuses by their label, amounts flagged."""
    return {
        "row": row,
        "kind_label": KIND_LABELS.get(row.kind, row.kind),
        "is_amount": row.kind in AMOUNT_KINDS,
        "old": _shown_value(row.kind, row.old),
        "new": _shown_value(row.kind, row.new),
    }
