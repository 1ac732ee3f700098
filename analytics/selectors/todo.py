"""The home page's to-do: what is due or overdue (pipeline/selectors/todo.py) and, from the nightly flags, stale
opportunities and untouched target accounts, each with its exact count and its first rows; and whether the nightly
flags have been computed at all (no run yet is not the same as nothing flagged). Never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from django.utils import timezone

from accounts.models import Account, User
from accounts.visibility import VIEWER_SHAPE
from analytics.models import JobRun, StaleFlag, UntouchedFlag
from analytics.selectors.coverage import (
    Shortlist,
    StaleOpportunity,
    UntouchedAccount,
    stale_flags,
    stale_opportunity_of,
    untouched_account_of,
    untouched_flags,
)
from analytics.selectors.first_rows import (
    COLUMNS,
    VISIT_COLUMNS,
    FirstRows,
    first_rows_statement,
    loaded,
    opportunity_columns,
    opportunity_of,
    owner_columns,
    owner_of,
    read_first_rows,
    visit_of,
)
from core.calendar import user_day
from core.statements import bound_statement
from pipeline.models import Opportunity, Visit
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


_PAST_CLOSE = {**opportunity_columns(""), "item_id": "pk", "item_on": "expected_close_date"}
_STALE = {**opportunity_columns("opportunity__"), "item_id": "opportunity_id", "item_at": "last_activity_at"}
_UNTOUCHED = {
    "item_id": "account_id",
    "item_at": "last_visit_at",
    "account_label": "account__name",
    "item_priority": "priority",
    **owner_columns("account__owner"),
}
_RUN = {"item_name": "job", "item_at": "computed_at"}


def _stale(row: dict, day: date) -> StaleOpportunity:
    flag = loaded(StaleFlag, opportunity_id=row["item_id"], last_activity_at=row["item_at"])
    flag.opportunity = opportunity_of(row)
    return stale_opportunity_of(flag, day)


def _untouched(row: dict, day: date) -> UntouchedAccount:
    flag = loaded(UntouchedFlag, account_id=row["item_id"], last_visit_at=row["item_at"])
    flag.account = loaded(Account, id=row["item_id"], name=row["account_label"], owner_id=row["owner_ref"])
    flag.account.owner = owner_of(row)
    flag.priority = row["item_priority"]
    return untouched_account_of(flag, day)


def _todo_statement(*, viewer: User, now: datetime, day: date, day_end: datetime, year: int, limit: int) -> FirstRows:
    runs = JobRun.objects.filter(job__in=[JobRun.STALE, JobRun.UNTOUCHED]).order_by("job")
    return first_rows_statement(
        COLUMNS,
        [
            (overdue_visits_in_order(viewer=viewer, now=now), VISIT_COLUMNS, limit),
            (due_follow_ups_in_order(viewer=viewer, day_end=day_end), VISIT_COLUMNS, limit),
            (past_close_in_order(viewer=viewer, today=day), _PAST_CLOSE, limit),
            (stale_flags(viewer=viewer), _STALE, limit),
            (untouched_flags(viewer=viewer, year=year), _UNTOUCHED, limit),
            (runs, _RUN, 2),
        ],
    )


def todo_list(*, viewer: User, now: datetime | None = None, limit: int = TODO_LIST_LENGTH) -> TodoList:
    """The viewer's to-do at `now` (default: now) in their own time zone: each list's first `limit` rows (the viewer's
    own first) and its exact count, and when the nightly flags last ran; one query whatever the data (the lists and
    the runs side by side, each cut and counted in SQL)."""
    now = now or timezone.now()
    day, day_end = user_day(viewer, now)
    statement, params = bound_statement(
        ("todo", limit),
        partial(_todo_statement, limit=limit),
        keep={"viewer": VIEWER_SHAPE},
        prepare=not viewer.is_director,  # company-wide lists: plans made for the values run faster
        viewer=viewer,
        now=now,
        day=day,
        day_end=day_end,
        year=day.year,
    )
    overdue, follow_ups, past_close, stale, untouched, (run_rows, _runs) = read_first_rows(statement, params)
    computed_at = {row["item_name"]: row["item_at"] for row in run_rows}
    return TodoList(
        now=now,
        today=day,
        overdue=Capped(items=[visit_of(row) for row in overdue[0]], total=overdue[1]),
        follow_ups=Capped(items=[visit_of(row) for row in follow_ups[0]], total=follow_ups[1]),
        past_close=Capped(
            items=[opportunity_of(row, expected_close_date=row["item_on"]) for row in past_close[0]],
            total=past_close[1],
        ),
        stale=Shortlist(items=[_stale(row, day) for row in stale[0]], total=stale[1]),
        untouched=Shortlist(items=[_untouched(row, day) for row in untouched[0]], total=untouched[1]),
        stale_computed_at=computed_at.get(JobRun.STALE),
        untouched_computed_at=computed_at.get(JobRun.UNTOUCHED),
    )
