from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import NotVisible, ValidationFailed
from pipeline.models import Visit
from pipeline.services.visits import cancel_visit, complete_visit, log_visit, plan_visit
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, VisitFactory, default_stage

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 4, 30, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def account(org):
    return AccountFactory(owner=org.rep_a1)


# --- log_visit -------------------------------------------------------------------------------------------------------


def test_logs_a_done_visit_with_the_opportunitys_stage_and_plans_the_next_one(org, account):
    opportunity = OpportunityFactory(owner=org.rep_a1, account=account, stage=default_stage("needs"))
    contact = ContactFactory(account=account)

    visit = log_visit(
        logged_by=org.rep_a1,
        account=account,
        done_at=NOW - timedelta(hours=2),
        kind="demo",
        summary=" 演示了新机型 ",
        next_step="报价",
        contact=contact,
        opportunity=opportunity,
        satisfaction=8,
        next_visit_at=NOW + timedelta(days=3),
        next_visit_purpose="递交报价",
    )

    assert (visit.status, visit.kind, visit.done_at, visit.summary, visit.satisfaction) == (
        "done",
        "demo",
        NOW - timedelta(hours=2),
        "演示了新机型",
        8,
    )
    assert (visit.owner, visit.stage_when_done.code, visit.opportunity, visit.contact) == (
        org.rep_a1,
        "needs",
        opportunity,
        contact,
    )
    planned = visit.next_visit
    assert (planned.status, planned.planned_at, planned.purpose, planned.owner) == (
        "planned",
        NOW + timedelta(days=3),
        "递交报价",
        org.rep_a1,
    )
    assert (planned.account, planned.contact, planned.opportunity) == (account, contact, opportunity)
    assert Visit.objects.count() == 2


@pytest.mark.parametrize(("days_back", "allowed"), [(30, True), (31, False)])
def test_a_rep_logs_a_visit_at_most_thirty_days_back(org, account, days_back, allowed):
    done_at = datetime(2025, 4, 30, 8, 0, tzinfo=SHANGHAI) - timedelta(days=days_back)
    if allowed:
        assert log_visit(logged_by=org.rep_a1, account=account, done_at=done_at).done_at == done_at
        return
    with pytest.raises(ValidationFailed) as refused:
        log_visit(logged_by=org.rep_a1, account=account, done_at=done_at)
    assert refused.value.field == "done_at"
    assert not Visit.objects.exists()


def test_thirty_days_back_counts_calendar_days_even_earlier_in_the_day(org, account):
    done_at = datetime(2025, 3, 31, 0, 5, tzinfo=SHANGHAI)  # 30 days back, earlier than now's 09:00
    assert log_visit(logged_by=org.rep_a1, account=account, done_at=done_at).status == "done"


def test_the_backdate_window_comes_from_the_setting(org, account, settings):
    settings.SALESFLOW_VISIT_BACKDATE_DAYS = 7
    with pytest.raises(ValidationFailed):
        log_visit(logged_by=org.rep_a1, account=account, done_at=NOW - timedelta(days=8))
    assert not Visit.objects.exists()


def test_a_director_may_log_history_further_back(org, account):
    visit = log_visit(logged_by=org.director, account=account, done_at=NOW - timedelta(days=400))
    assert visit.done_at == NOW - timedelta(days=400)


def test_a_visit_cannot_be_done_in_the_future(org, account):
    with pytest.raises(ValidationFailed) as refused:
        log_visit(logged_by=org.director, account=account, done_at=NOW + timedelta(minutes=1))
    assert refused.value.field == "done_at"
    assert not Visit.objects.exists()


@pytest.mark.parametrize("user", ["rep_a2", "manager_b"])
def test_a_visit_at_an_account_the_user_cannot_see_is_refused_and_nothing_is_written(org, account, user):
    with pytest.raises(NotVisible) as refused:
        log_visit(
            logged_by=getattr(org, user),
            account=account,
            done_at=NOW - timedelta(hours=1),
            next_visit_at=NOW + timedelta(days=1),
        )
    assert (refused.value.status, refused.value.field) == (404, "account")
    assert not Visit.objects.exists()


@pytest.mark.parametrize(("satisfaction", "allowed"), [(0, True), (10, True), (11, False), (-1, False), ("9", False)])
def test_satisfaction_is_a_whole_number_from_0_to_10(org, account, satisfaction, allowed):
    def log():
        return log_visit(logged_by=org.rep_a1, account=account, done_at=NOW, satisfaction=satisfaction)

    if allowed:
        assert log().satisfaction == satisfaction
        return
    with pytest.raises(ValidationFailed) as refused:
        log()
    assert refused.value.field == "satisfaction"
    assert not Visit.objects.exists()


def test_the_opportunity_must_be_at_the_visits_account(org, account):
    elsewhere = OpportunityFactory(owner=org.rep_a1)
    with pytest.raises(ValidationFailed) as refused:
        log_visit(logged_by=org.rep_a1, account=account, done_at=NOW, opportunity=elsewhere)
    assert refused.value.field == "opportunity"
    assert not Visit.objects.exists()


def test_the_contact_must_work_at_the_visits_account(org, account):
    with pytest.raises(ValidationFailed) as refused:
        log_visit(logged_by=org.rep_a1, account=account, done_at=NOW, contact=ContactFactory())
    assert refused.value.field == "contact"
    assert not Visit.objects.exists()


def test_a_next_visit_in_the_past_refuses_the_whole_log(org, account):
    with pytest.raises(ValidationFailed) as refused:
        log_visit(logged_by=org.rep_a1, account=account, done_at=NOW, next_visit_at=NOW - timedelta(hours=1))
    assert refused.value.field == "next_visit_at"
    assert not Visit.objects.exists()


def test_an_unknown_kind_is_refused(org, account):
    with pytest.raises(ValidationFailed) as refused:
        log_visit(logged_by=org.rep_a1, account=account, done_at=NOW, kind="party")
    assert refused.value.field == "kind"
    assert not Visit.objects.exists()


# --- plan_visit ------------------------------------------------------------------------------------------------------


def test_plans_a_visit_for_oneself(org, account):
    visit = plan_visit(planned_by=org.rep_a1, account=account, planned_at=NOW + timedelta(days=1), purpose="初访")
    assert (visit.status, visit.owner, visit.planned_at, visit.done_at, visit.purpose) == (
        "planned",
        org.rep_a1,
        NOW + timedelta(days=1),
        None,
        "初访",
    )


def test_a_manager_plans_a_visit_for_a_rep_of_their_team(org, account):
    visit = plan_visit(planned_by=org.manager_a, account=account, planned_at=NOW, owner=org.rep_a1)
    assert visit.owner == org.rep_a1


@pytest.mark.parametrize(("planner", "owner"), [("rep_a1", "rep_a2"), ("manager_a", "rep_b1")])
def test_nobody_plans_for_a_user_they_cannot_see(org, account, planner, owner):
    with pytest.raises(ValidationFailed) as refused:
        plan_visit(planned_by=getattr(org, planner), account=account, planned_at=NOW, owner=getattr(org, owner))
    assert refused.value.field == "owner"
    assert not Visit.objects.exists()


def test_a_plan_for_yesterday_is_refused(org, account):
    with pytest.raises(ValidationFailed) as refused:
        plan_visit(planned_by=org.rep_a1, account=account, planned_at=NOW - timedelta(days=1))
    assert refused.value.field == "planned_at"
    assert not Visit.objects.exists()


def test_planning_at_an_invisible_account_is_refused(org, account):
    with pytest.raises(NotVisible):
        plan_visit(planned_by=org.rep_b1, account=account, planned_at=NOW)
    assert not Visit.objects.exists()


# --- complete_visit and cancel_visit ---------------------------------------------------------------------------------


def test_completing_stores_the_outcome_and_the_opportunitys_current_stage(org, account):
    opportunity = OpportunityFactory(owner=org.rep_a1, account=account, stage=default_stage("status"))
    planned = VisitFactory(account=account, opportunity=opportunity, planned_at=NOW - timedelta(hours=1))
    opportunity.stage = opportunity.furthest_stage = default_stage("needs")
    opportunity.save()

    done = complete_visit(
        visit=planned,
        completed_by=org.rep_a1,
        summary="客户确认了采购标准",
        satisfaction=7,
        next_visit_at=NOW + timedelta(days=7),
        next_visit_purpose="演示",
    )

    assert (done.status, done.done_at, done.summary, done.satisfaction, done.stage_when_done.code) == (
        "done",
        NOW,
        "客户确认了采购标准",
        7,
        "needs",
    )
    assert (done.next_visit.status, done.next_visit.planned_at, done.next_visit.opportunity) == (
        "planned",
        NOW + timedelta(days=7),
        opportunity,
    )


def test_completing_needs_a_summary(org, account):
    planned = VisitFactory(account=account)
    with pytest.raises(ValidationFailed) as refused:
        complete_visit(visit=planned, completed_by=org.rep_a1, summary="  ")
    assert refused.value.field == "summary"
    assert Visit.objects.get(pk=planned.pk).status == "planned"


def test_completing_with_a_done_at_beyond_the_window_is_refused(org, account):
    planned = VisitFactory(account=account, planned_at=NOW)
    with pytest.raises(ValidationFailed) as refused:
        complete_visit(visit=planned, completed_by=org.rep_a1, summary="x", done_at=NOW - timedelta(days=31))
    assert refused.value.field == "done_at"
    assert Visit.objects.get(pk=planned.pk).status == "planned"


def test_a_visit_is_completed_only_once(org, account):
    planned = VisitFactory(account=account)
    complete_visit(visit=planned, completed_by=org.rep_a1, summary="第一次")
    with pytest.raises(ValidationFailed) as refused:
        complete_visit(visit=planned, completed_by=org.rep_a1, summary="第二次")
    assert refused.value.field == "status"
    assert Visit.objects.get(pk=planned.pk).summary == "第一次"


def test_an_invisible_visit_cannot_be_completed_or_cancelled(org, account):
    planned = VisitFactory(account=account)
    with pytest.raises(NotVisible):
        complete_visit(visit=planned, completed_by=org.rep_a2, summary="x")
    with pytest.raises(NotVisible):
        cancel_visit(visit=planned, cancelled_by=org.manager_b)
    assert Visit.objects.get(pk=planned.pk).status == "planned"


def test_cancelling_a_planned_visit(org, account):
    planned = VisitFactory(account=account)
    cancelled = cancel_visit(visit=planned, cancelled_by=org.manager_a)
    assert (cancelled.status, cancelled.done_at) == ("cancelled", None)
    with pytest.raises(ValidationFailed):
        cancel_visit(visit=planned, cancelled_by=org.rep_a1)
