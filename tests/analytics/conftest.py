"""Helpers for analytics tests: a pinned clock and closed opportunities and done visits at given moments.

Analytics only reads, so closed opportunities and done visits are built as the importer stores history (status and
closing time set directly) rather than walked through the stage rules, which the pipeline tests cover.
"""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from pipeline.models import Opportunity, Visit
from tests.factories import CompetitorFactory, OpportunityFactory, VisitFactory, default_stage

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 15, 10, 0, tzinfo=SHANGHAI)


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    """A moment in the company's time zone."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture
def now():
    """Pins the clock to Friday 15 May 2026, 10:00 in Shanghai (Q2; Q1 ended on 31 March)."""
    with time_machine.travel(NOW, tick=False):
        yield NOW


def won(*, account=None, owner=None, amount="100000", closed_at: datetime, **fields) -> Opportunity:
    """A won opportunity closed at `closed_at`, in the after-sales stage."""
    extra = {"account": account} if account is not None else {}
    owner = owner or (account.owner if account is not None else None)
    if owner is not None:
        extra["owner"] = owner
    return OpportunityFactory(
        **extra,
        stage=default_stage("implement"),
        furthest_stage=default_stage("implement"),
        status=Opportunity.Status.WON,
        amount=Decimal(amount),
        closed_at=closed_at,
        **fields,
    )


def lost(*, account=None, owner=None, closed_at: datetime, untouched: bool = False, cause: str = "", **fields):
    """A lost opportunity closed at `closed_at`; `untouched` marks it an untouched loss to a competitor."""
    extra = {"account": account} if account is not None else {}
    owner = owner or (account.owner if account is not None else None)
    if owner is not None:
        extra["owner"] = owner
    return OpportunityFactory(
        **extra,
        status=Opportunity.Status.LOST,
        loss_reason=Opportunity.LossReason.PRICE,
        closed_at=closed_at,
        lost_to=CompetitorFactory() if untouched else None,
        is_untouched_loss=untouched,
        untouched_cause=cause,
        **fields,
    )


def done_visit(*, account, done_at: datetime, **fields) -> Visit:
    return VisitFactory(account=account, status=Visit.Status.DONE, planned_at=None, done_at=done_at, **fields)
