"""The home page's to-do: what is due or overdue (pipeline/selectors/todo.py) and, from the nightly flags, stale
opportunities and untouched target accounts, each with its exact count and its first rows; and whether the nightly
flags have been computed at all (no run yet is not the same as nothing flagged). Never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import (
    BigIntegerField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    IntegerField,
    Model,
)
from django.utils import timezone

from accounts.models import Account, Contact, User
from analytics.models import JobRun, StaleFlag, UntouchedFlag
from analytics.selectors._common import first_rows_of_each
from analytics.selectors.coverage import (
    Shortlist,
    StaleOpportunity,
    UntouchedAccount,
    stale_flags,
    stale_opportunity_of,
    untouched_account_of,
    untouched_flags,
)
from core.calendar import user_day
from pipeline.models import Opportunity, Stage, Visit
from pipeline.selectors.todo import Capped, due_follow_ups_in_order, overdue_visits_in_order, past_close_in_order

TODO_LIST_LENGTH = 5


@dataclass(frozen=True)
class TodoList:
    now: datetime
    today: date  # the viewer's own date
    overdue: Capped[Visit]
    follow_ups: Capped[Visit]
    past_close: Capped[Opportunity]
    stale: Shortlist[StaleOpportunity]
    untouched: Shortlist[UntouchedAccount]
    stale_computed_at: datetime | None  # None: the stale flags have never been computed
    untouched_computed_at: datetime | None

    @property
    def due_total(self) -> int:
        """Due or overdue: overdue visits, due follow-ups, opportunities past their expected close date."""
        return self.overdue.total + self.follow_ups.total + self.past_close.total

    @property
    def yesterday(self) -> date:
        return self.today - timedelta(days=1)


# The columns every list of the to-do is read into (one UNION ALL); a list picks those it has, the rest are NULL.
_COLUMNS = {
    "item_id": BigIntegerField(),
    "item_at": DateTimeField(),
    "item_on": DateField(),
    "item_name": CharField(),
    "item_kind": CharField(),
    "account_ref": BigIntegerField(),
    "account_label": CharField(),
    "contact_ref": BigIntegerField(),
    "contact_label": CharField(),
    "stage_ref": BigIntegerField(),
    "stage_zh": CharField(),
    "stage_en": CharField(),
    "item_amount": DecimalField(max_digits=14, decimal_places=2),
    "owner_ref": BigIntegerField(),
    "owner_username": CharField(),
    "owner_first": CharField(),
    "owner_last": CharField(),
    "item_priority": IntegerField(),
}


def _owner_columns(owner: str) -> dict[str, str]:
    return {
        "owner_ref": f"{owner}_id",
        "owner_username": f"{owner}__username",
        "owner_first": f"{owner}__first_name",
        "owner_last": f"{owner}__last_name",
    }


_VISIT = {
    "item_id": "pk",
    "item_at": "planned_at",
    "item_name": "purpose",
    "item_kind": "kind",
    "account_ref": "account_id",
    "account_label": "account__name",
    "contact_ref": "contact_id",
    "contact_label": "contact__name",
    **_owner_columns("owner"),
}


def _opportunity_columns(path: str) -> dict[str, str]:
    return {
        "item_name": f"{path}name",
        "account_ref": f"{path}account_id",
        "account_label": f"{path}account__name",
        "stage_ref": f"{path}stage_id",
        "stage_zh": f"{path}stage__name_zh",
        "stage_en": f"{path}stage__name_en",
        "item_amount": f"{path}amount",
        **_owner_columns(f"{path}owner"),
    }


_PAST_CLOSE = {**_opportunity_columns(""), "item_id": "pk", "item_on": "expected_close_date"}
_STALE = {**_opportunity_columns("opportunity__"), "item_id": "opportunity_id", "item_at": "last_activity_at"}
_UNTOUCHED = {
    "item_id": "account_id",
    "item_at": "last_visit_at",
    "account_label": "account__name",
    "item_priority": "priority",
    **_owner_columns("account__owner"),
}
_RUN = {"item_name": "job", "item_at": "computed_at"}


def _loaded(model: type[Model], **values: Any) -> Any:
    """A `model` instance with only `values` loaded: reading any other field would run a query (which the query-count
    tests catch) instead of answering a made-up default."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(DEFAULT_DB_ALIAS, names, [values[name] for name in names])


def _owner(row: dict) -> User:
    return _loaded(
        User,
        id=row["owner_ref"],
        username=row["owner_username"],
        first_name=row["owner_first"],
        last_name=row["owner_last"],
    )


def _visit(row: dict) -> Visit:
    visit = _loaded(
        Visit,
        id=row["item_id"],
        account_id=row["account_ref"],
        contact_id=row["contact_ref"],
        owner_id=row["owner_ref"],
        kind=row["item_kind"],
        planned_at=row["item_at"],
        purpose=row["item_name"],
    )
    visit.account = _loaded(Account, id=row["account_ref"], name=row["account_label"])
    if row["contact_ref"] is not None:
        visit.contact = _loaded(Contact, id=row["contact_ref"], name=row["contact_label"])
    visit.owner = _owner(row)
    return visit


def _opportunity(row: dict, **more: Any) -> Opportunity:
    opportunity = _loaded(
        Opportunity,
        id=row["item_id"],
        account_id=row["account_ref"],
        stage_id=row["stage_ref"],
        owner_id=row["owner_ref"],
        name=row["item_name"],
        amount=row["item_amount"],
        **more,
    )
    opportunity.account = _loaded(Account, id=row["account_ref"], name=row["account_label"])
    opportunity.stage = _loaded(Stage, id=row["stage_ref"], name_zh=row["stage_zh"], name_en=row["stage_en"])
    opportunity.owner = _owner(row)
    return opportunity


def _stale(row: dict, day: date) -> StaleOpportunity:
    flag = _loaded(StaleFlag, opportunity_id=row["item_id"], last_activity_at=row["item_at"])
    flag.opportunity = _opportunity(row)
    return stale_opportunity_of(flag, day)


def _untouched(row: dict, day: date) -> UntouchedAccount:
    flag = _loaded(UntouchedFlag, account_id=row["item_id"], last_visit_at=row["item_at"])
    flag.account = _loaded(Account, id=row["item_id"], name=row["account_label"], owner_id=row["owner_ref"])
    flag.account.owner = _owner(row)
    flag.priority = row["item_priority"]
    return untouched_account_of(flag, day)


def todo_list(*, viewer: User, now: datetime | None = None, limit: int = TODO_LIST_LENGTH) -> TodoList:
    """The viewer's to-do at `now` (default: now) in their own time zone: each list's first `limit` rows (the viewer's
    own first) and its exact count, and when the nightly flags last ran; one query whatever the data (the lists and
    the runs side by side, each cut and counted in SQL)."""
    now = now or timezone.now()
    day, day_end = user_day(viewer, now)
    runs = JobRun.objects.filter(job__in=[JobRun.STALE, JobRun.UNTOUCHED]).order_by("job")
    overdue, follow_ups, past_close, stale, untouched, (run_rows, _runs) = first_rows_of_each(
        _COLUMNS,
        [
            (overdue_visits_in_order(viewer=viewer, now=now), _VISIT, limit),
            (due_follow_ups_in_order(viewer=viewer, day_end=day_end), _VISIT, limit),
            (past_close_in_order(viewer=viewer, today=day), _PAST_CLOSE, limit),
            (stale_flags(viewer=viewer), _STALE, limit),
            (untouched_flags(viewer=viewer, on=day), _UNTOUCHED, limit),
            (runs, _RUN, 2),
        ],
    )
    computed_at = {row["item_name"]: row["item_at"] for row in run_rows}
    return TodoList(
        now=now,
        today=day,
        overdue=Capped(items=[_visit(row) for row in overdue[0]], total=overdue[1]),
        follow_ups=Capped(items=[_visit(row) for row in follow_ups[0]], total=follow_ups[1]),
        past_close=Capped(
            items=[_opportunity(row, expected_close_date=row["item_on"]) for row in past_close[0]], total=past_close[1]
        ),
        stale=Shortlist(items=[_stale(row, day) for row in stale[0]], total=stale[1]),
        untouched=Shortlist(items=[_untouched(row, day) for row in untouched[0]], total=untouched[1]),
        stale_computed_at=computed_at.get(JobRun.STALE),
        untouched_computed_at=computed_at.get(JobRun.UNTOUCHED),
    )
