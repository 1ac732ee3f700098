"""The home page's to-do: what is due or overdue (pipeline/selectors/todo.py) and, from the nightly flags, stale
opportunities and untouched target accounts, each with its exact count and its first rows; and whether the nightly
flags have been computed at all (no run yet is not the same as nothing flagged). Never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from accounts.models import User
from analytics.models import JobRun
from analytics.selectors.coverage import (
    Shortlist,
    StaleOpportunity,
    UntouchedAccount,
    stale_opportunities_shortlist,
    untouched_accounts_shortlist,
)
from core.calendar import user_day
from pipeline.models import Opportunity, Visit
from pipeline.selectors.todo import Capped, due_follow_ups, overdue_visits, past_close_opportunities

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


def todo_list(*, viewer: User, now: datetime | None = None, limit: int = TODO_LIST_LENGTH) -> TodoList:
    """The viewer's to-do at `now` (default: now) in their own time zone: each list's first `limit` rows (the viewer's
    own first) and its exact count, and when the nightly flags last ran; 6 queries whatever the data."""
    now = now or timezone.now()
    day, day_end = user_day(viewer, now)
    runs = dict(JobRun.objects.filter(job__in=[JobRun.STALE, JobRun.UNTOUCHED]).values_list("job", "computed_at"))
    return TodoList(
        now=now,
        today=day,
        overdue=overdue_visits(viewer=viewer, now=now, limit=limit),
        follow_ups=due_follow_ups(viewer=viewer, day_end=day_end, limit=limit),
        past_close=past_close_opportunities(viewer=viewer, today=day, limit=limit),
        stale=stale_opportunities_shortlist(viewer=viewer, limit=limit, on=day),
        untouched=untouched_accounts_shortlist(viewer=viewer, limit=limit, on=day),
        stale_computed_at=runs.get(JobRun.STALE),
        untouched_computed_at=runs.get(JobRun.UNTOUCHED),
    )
