"""Every StageChange is written knowing when the stay it ends began (the opportunity's change before it, or its
creation) and the opportunity's created_at and pipeline, whichever service writes it (issue 10): the funnel's median
days read these columns instead of re-deriving the stays."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pipeline.models import StageChange
from pipeline.services.moves import move_opportunity, reopen_opportunity, win_opportunity
from pipeline.services.opportunities import create_opportunity, record_closed_opportunity
from tests.factories import AccountFactory, default_stage, satisfy_exit_criteria

pytestmark = pytest.mark.django_db

CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def stays(opportunity) -> list[tuple[str | None, str, datetime, datetime]]:
    rows = StageChange.objects.filter(opportunity=opportunity).order_by("changed_at", "pk")
    for row in rows:
        assert (row.opportunity_created_at, row.pipeline_id) == (opportunity.created_at, opportunity.pipeline_id)
    return [(r.from_stage and r.from_stage.code, r.to_stage.code, r.entered_at, r.changed_at) for r in rows]


def test_create_move_win_and_reopen_each_begin_the_stay_at_the_change_before(org, time_machine):
    time_machine.move_to(CREATED, tick=False)
    account = AccountFactory(owner=org.rep_a1)
    opportunity = create_opportunity(created_by=org.rep_a1, account=account, name="复印机", stage_code="commit")
    moved_at, won_at, reopened_at = (CREATED + timedelta(days=d) for d in (3, 10, 12))

    time_machine.move_to(moved_at, tick=False)
    opportunity = move_opportunity(opportunity=opportunity, to_stage_code="propose", moved_by=org.rep_a1)
    time_machine.move_to(won_at, tick=False)
    opportunity = satisfy_exit_criteria(opportunity, "propose", "commit", "close")
    opportunity = move_opportunity(
        opportunity=opportunity, to_stage_code="close", moved_by=org.manager_a, override_reason="客户已签字"
    )
    opportunity = win_opportunity(opportunity=opportunity, won_by=org.rep_a1)
    time_machine.move_to(reopened_at, tick=False)
    reopen_opportunity(opportunity=opportunity, reopened_by=org.manager_a)

    assert stays(opportunity) == [
        (None, "commit", CREATED, CREATED),
        ("commit", "propose", CREATED, moved_at),
        ("propose", "close", moved_at, won_at),
        ("close", "implement", won_at, won_at),
        ("implement", "close", won_at, reopened_at),
    ]


def test_recorded_history_begins_at_creation_and_walks_its_path_at_closing(org):
    account = AccountFactory(owner=org.rep_a1)
    closed_at = CREATED + timedelta(days=20)

    opportunity = record_closed_opportunity(
        created_by=org.director,
        account=account,
        name="历史订单",
        status="lost",
        stage_code="status",
        loss_reason="price",
        created_at=CREATED,
        closed_at=closed_at,
    )

    assert stays(opportunity) == [
        (None, "prep", CREATED, CREATED),
        ("prep", "status", CREATED, closed_at),
    ]
    assert default_stage("prep").pipeline_id == opportunity.pipeline_id
