"""What the weekly digest shows (SPEC §8), per role, against hand counts; and its fixed number of queries."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from analytics.digests.content import weekly_digest
from analytics.digests.sending import render_weekly_digest
from analytics.models import AccountValue, MatrixRun, StaleFlag, UntouchedFlag
from pipeline.models import Opportunity, SalesTarget, Visit
from tests.analytics.conftest import at, done_visit, lost, won
from tests.factories import (
    AccountFactory,
    OpportunityFactory,
    SalesTargetFactory,
    StageChangeFactory,
    TeamFactory,
    UserFactory,
    VisitFactory,
    default_stage,
)

pytestmark = pytest.mark.django_db

WEEK = date(2026, 5, 18)  # the digest's Monday; last week is 11–17 May 2026


@pytest.fixture
def monday():
    """Monday 18 May 2026, 08:30 in Shanghai: the morning the digest goes out."""
    with time_machine.travel(datetime(2026, 5, 18, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


def opportunity(owner, code: str, name: str, amount: str = "100000", **fields) -> Opportunity:
    return OpportunityFactory(owner=owner, name=name, stage=default_stage(code), amount=Decimal(amount), **fields)


def target_account(owner, name: str):
    return AccountFactory(owner=owner, name=name, is_target=True, target_since=date(2025, 1, 1))


@pytest.fixture
def week(org, monday):
    """A week of a three-rep company, counted by hand in the tests below."""
    a1, a2, b1 = org.rep_a1, org.rep_a2, org.rep_b1
    # rep_a1: four target accounts; three untouched (priority 1 and 2, one without), one visited last week.
    run = MatrixRun.objects.create(year=2026)
    first, second, third = (target_account(a1, name) for name in ("二号客户", "一号客户", "三号客户"))
    visited = target_account(a1, "拜访过的客户")
    for account, priority in ((first, 2), (second, 1)):
        AccountValue.objects.create(
            run=run, account=account, year=2026, cv=0, pv=1, quadrant="develop", priority=priority
        )
    UntouchedFlag.objects.create(account=first, last_visit_at=at(2026, 1, 10))
    UntouchedFlag.objects.create(account=second, last_visit_at=None)
    UntouchedFlag.objects.create(account=third, last_visit_at=None)
    # Last week's plan: three planned, two done, one cancelled; and one visit logged without a plan.
    for day in (11, 12):
        VisitFactory(
            account=visited,
            status=Visit.Status.DONE,
            planned_at=at(2026, 5, day, 9),
            done_at=at(2026, 5, day, 11),
        )
    VisitFactory(account=visited, status=Visit.Status.CANCELLED, planned_at=at(2026, 5, 13, 9))
    done_visit(account=visited, done_at=at(2026, 5, 14, 15))
    # This week: two planned visits and a cancelled one.
    VisitFactory(account=first, planned_at=at(2026, 5, 19, 10), purpose="介绍新产品")
    VisitFactory(account=second, planned_at=at(2026, 5, 20, 14))
    VisitFactory(account=third, status=Visit.Status.CANCELLED, planned_at=at(2026, 5, 21, 9))
    # Open opportunities: prep 2, needs 2, develop 1, propose 1, commit 1.
    moved_on = opportunity(a1, "develop", "前进的商机")
    moved_back = opportunity(a1, "needs", "退回的商机")
    stale = opportunity(a1, "prep", "停滞的商机")
    opportunity(a1, "commit", "下周签约", "300000", expected_close_date=date(2026, 5, 25))
    opportunity(a1, "propose", "三十天内", expected_close_date=date(2026, 6, 17))
    opportunity(a1, "prep", "三十一天后", expected_close_date=date(2026, 6, 18))
    opportunity(a1, "needs", "已过期", expected_close_date=date(2026, 5, 10))
    StageChangeFactory(
        opportunity=moved_on,
        from_stage=default_stage("needs"),
        to_stage=default_stage("develop"),
        changed_at=at(2026, 5, 12),
    )
    StageChangeFactory(
        opportunity=moved_back,
        from_stage=default_stage("propose"),
        to_stage=default_stage("needs"),
        changed_at=at(2026, 5, 13),
    )
    StageChangeFactory(
        opportunity=moved_on,
        from_stage=default_stage("status"),
        to_stage=default_stage("needs"),
        changed_at=at(2026, 5, 3),
    )
    StaleFlag.objects.create(opportunity=stale, last_activity_at=at(2026, 4, 1))
    # Closed: last week a win, an untouched loss and a plain loss; earlier wins count toward month and quarter.
    won(owner=a1, name="上周赢单", amount="200000", closed_at=at(2026, 5, 12))
    lost(owner=a1, name="未接触丢单", closed_at=at(2026, 5, 13), untouched=True, cause="no_plan")
    lost(owner=a1, name="价格丢单", closed_at=at(2026, 5, 14))
    won(owner=a1, amount="100000", closed_at=at(2026, 5, 2))
    won(owner=a1, amount="50000", closed_at=at(2026, 4, 20))
    won(owner=a1, amount="50000", closed_at=at(2026, 3, 20))
    SalesTargetFactory(owner_user=a1, period_start=date(2026, 5, 1), amount=Decimal("1000000"))
    SalesTargetFactory(
        owner_user=a1,
        period_type=SalesTarget.PeriodType.QUARTER,
        period_start=date(2026, 4, 1),
        amount=Decimal("3500000"),
    )
    for month in (3, 4):
        SalesTargetFactory(owner_user=a1, period_start=date(2026, month, 1), amount=Decimal("100000"))
    SalesTargetFactory(owner_user=None, owner_team=org.team_a, period_start=date(2026, 5, 1), amount=Decimal("1000000"))

    # rep_a2: no visit last week; a new opportunity and a win.
    fresh = opportunity(a2, "needs", "新商机")
    StageChangeFactory(opportunity=fresh, from_stage=None, to_stage=default_stage("prep"), changed_at=at(2026, 5, 14))
    won(owner=a2, name="二号的赢单", amount="50000", closed_at=at(2026, 5, 15))

    # rep_b1 (team B): one visit, an untouched loss nobody explained yet, a forward move.
    done_visit(account=AccountFactory(owner=b1), done_at=at(2026, 5, 12))
    lost(owner=b1, name="B队未接触丢单", closed_at=at(2026, 5, 14), untouched=True)
    moving = opportunity(b1, "prep", "B队商机")
    StageChangeFactory(
        opportunity=moving,
        from_stage=default_stage("prep"),
        to_stage=default_stage("status"),
        changed_at=at(2026, 5, 15),
    )
    return org


def test_a_reps_digest_counts_their_own_last_week_and_this_week(week):
    digest = weekly_digest(user=week.rep_a1, week_start=WEEK)

    assert (digest.last_week_start, digest.last_week_end) == (date(2026, 5, 11), date(2026, 5, 17))
    rep = digest.rep
    assert (rep.adherence.planned, rep.adherence.done, rep.adherence.cancelled) == (3, 2, 1)
    assert rep.done_visits == 3
    assert (digest.movements.new, digest.movements.forward, digest.movements.backward) == (0, 1, 1)
    assert [c.opportunity.name for c in digest.stage_changes.items] == ["退回的商机", "前进的商机"]
    assert (digest.outcomes.won, digest.outcomes.lost, digest.outcomes.untouched_losses) == (1, 2, 1)
    assert [(o.name, o.is_untouched_loss) for o in digest.closed.items] == [
        ("价格丢单", False),
        ("未接触丢单", True),
        ("上周赢单", False),
    ]
    assert [v.account.name for v in rep.planned_visits.items] == ["二号客户", "一号客户"]
    assert [a.name for a in rep.untouched_accounts.items] == ["一号客户", "二号客户", "三号客户"]
    assert [a.priority for a in rep.untouched_accounts.items] == [1, 2, None]
    assert [(s.opportunity.name, s.days_idle) for s in rep.stale_opportunities.items] == [("停滞的商机", 47)]
    assert (rep.month.won_amount, rep.month.target, rep.month.percent) == (
        Decimal("300000.00"),
        Decimal("1000000.00"),
        30,
    )
    assert (rep.quarter.won_amount, rep.quarter.target, rep.quarter.percent) == (
        Decimal("350000.00"),
        Decimal("3500000.00"),
        10,
    )
    assert [o.name for o in rep.closes_ahead.items] == ["下周签约", "三十天内"]
    assert rep.closes_ahead_amount == Decimal("400000.00")
    assert digest.team is None


def test_a_managers_digest_has_a_line_per_rep_of_their_team_and_nothing_of_other_teams(week):
    digest = weekly_digest(user=week.manager_a, week_start=WEEK)

    assert digest.rep is None
    team = digest.team
    assert [block.team for block in team.teams] == [week.team_a]
    people = {p.user.username: p for p in team.people}
    assert list(people) == ["rep_a1", "rep_a2"]
    a1, a2 = people["rep_a1"], people["rep_a2"]
    assert [(f.stage.code, f.count) for f in a1.funnel if f.count] == [
        ("prep", 2),
        ("needs", 2),
        ("develop", 1),
        ("propose", 1),
        ("commit", 1),
    ]
    assert (a1.open_count, a1.open_amount) == (7, Decimal("900000.00"))
    assert (a2.open_count, a2.open_amount) == (1, Decimal("100000.00"))
    assert (a1.movements.forward, a1.movements.backward, a2.movements.new) == (1, 1, 1)
    assert (digest.movements.total, len(digest.stage_changes.items)) == (3, 3)
    assert (a1.outcomes.won, a1.outcomes.lost, a1.outcomes.untouched_losses) == (1, 2, 1)
    assert (a2.outcomes.won, a2.outcomes.lost) == (1, 0)
    assert (digest.outcomes.won, digest.outcomes.lost, digest.outcomes.untouched_losses) == (2, 2, 1)
    assert [o.name for o in team.untouched_losses.items] == ["未接触丢单"]
    assert (a1.coverage.targets, a1.coverage.covered, a1.coverage_percent) == (4, 1, 25)
    assert a2.coverage is None
    assert (a1.adherence.planned, a1.adherence.done, a1.adherence_percent) == (3, 2, 67)
    assert a2.adherence is None
    assert (a1.done_visits, a2.done_visits) == (3, 0)
    assert (a1.month.percent, a1.quarter.percent) == (30, 10)
    assert a2.month.target is None and a2.month.won_amount == Decimal("50000.00")
    assert (team.teams[0].month.won_amount, team.teams[0].month.percent) == (Decimal("350000.00"), 35)
    assert (a1.stability.months, a1.stability.cv, a1.stability.stable) == (2, 0.0, True)
    assert a2.stability is None
    assert [u.username for u in team.idle_reps.items] == ["rep_a2"]


def test_a_directors_digest_has_a_line_per_team_and_none_per_person(week):
    digest = weekly_digest(user=week.director, week_start=WEEK)

    assert (digest.rep, digest.team) == (None, None)
    company = digest.company
    a, b = company.teams
    assert (a.team, b.team) == (week.team_a, week.team_b)
    assert (a.open_count, a.open_amount, b.open_count, b.open_amount) == (
        8,
        Decimal("1000000.00"),
        1,
        Decimal("100000.00"),
    )
    assert [(f.stage.code, f.count) for f in a.funnel if f.count] == [
        ("prep", 2),
        ("needs", 3),
        ("develop", 1),
        ("propose", 1),
        ("commit", 1),
    ]
    assert (a.movements.new, a.movements.forward, a.movements.backward, b.movements.forward) == (1, 1, 1, 1)
    assert (a.outcomes.won, a.outcomes.lost, a.outcomes.untouched_losses) == (2, 2, 1)
    assert (b.outcomes.won, b.outcomes.lost, b.outcomes.untouched_losses) == (0, 1, 1)
    assert (a.activity.reps, a.activity.idle_reps, a.activity.done_visits) == (2, 1, 3)
    assert (b.activity.reps, b.activity.idle_reps, b.activity.done_visits) == (1, 0, 1)
    assert (a.coverage.targets, a.coverage.covered, a.coverage_percent, b.coverage) == (4, 1, 25, None)
    assert (a.month.target, a.month.won_amount, a.month.percent) == (Decimal("1000000.00"), Decimal("350000.00"), 35)
    assert (a.quarter.target, a.quarter.won_amount, a.quarter.percent) == (None, Decimal("400000.00"), None)
    assert b.month is None
    assert a.url == f"/team/?team={week.team_a.pk}"
    total = company.total
    assert (total.open_count, total.movements.total, total.activity.idle_reps, total.activity.reps) == (9, 4, 1, 3)
    assert (total.coverage.targets, total.coverage.covered) == (4, 1)
    assert (digest.movements.new, digest.movements.forward, digest.movements.backward) == (1, 2, 1)
    assert (digest.outcomes.won, digest.outcomes.lost, digest.outcomes.untouched_losses) == (2, 3, 2)
    assert [o.name for o in company.untouched_losses.items] == ["B队未接触丢单", "未接触丢单"]
    assert [u.username for u in company.idle_reps.items] == ["rep_a2"]


def test_a_directors_email_summarises_by_team_and_links_each_team_page(week):
    rendered = render_weekly_digest(user=week.director, week_start=WEEK)

    html = rendered.html
    assert html.count('<tr data-team="total"') == 3  # funnel, last week, targets
    assert f'href="{settings.SITE_URL}/team/?team={week.team_a.pk}"' in html
    assert '<tr data-person="rep_a1">' not in html  # no line per person
    assert "\n- A: " in rendered.text and "\n- B: " in rendered.text
    assert "- rep_a1: " not in rendered.text and "rep_a2 (A)" in rendered.text  # an idle rep, named with their team


def test_another_reps_digest_shows_none_of_rep_a1s_numbers(week):
    digest = weekly_digest(user=week.rep_b1, week_start=WEEK)

    assert [o.name for o in digest.closed.items] == ["B队未接触丢单"]
    assert [c.opportunity.name for c in digest.stage_changes.items] == ["B队商机"]
    assert digest.rep.untouched_accounts.items == []
    assert digest.rep.stale_opportunities.items == []
    assert digest.rep.month is None
    assert (digest.rep.adherence.planned, digest.rep.done_visits) == (0, 1)


def test_the_email_marks_untouched_losses_and_lists_targets_in_priority_order(week):
    rendered = render_weekly_digest(user=week.rep_a1, week_start=WEEK)

    untouched = Opportunity.objects.get(name="未接触丢单")
    assert f'<tr data-opportunity="{untouched.pk}" data-untouched="1">' in rendered.html
    assert rendered.html.count('data-untouched="1"') == 1
    text = rendered.text
    assert text.index("1. 一号客户") < text.index("2. 二号客户") < text.index("3. 三号客户")
    assert "¥400,000" in text  # closes expected in the next 30 days
    assert f'href="{settings.SITE_URL}{untouched.get_absolute_url()}"' in rendered.html  # links are absolute


def test_a_managers_email_names_idle_reps_and_unexplained_untouched_losses(week):
    rendered = render_weekly_digest(user=week.director, week_start=WEEK)

    assert '<span data-person="rep_a2">' in rendered.html
    assert "B队未接触丢单" in rendered.text


# Query count ------------------------------------------------------------------------------------------------------


def populate(org, scale: int) -> None:
    """`scale` times the same week for each of the three reps."""
    run, _ = MatrixRun.objects.get_or_create(year=2026)
    for rep in (org.rep_a1, org.rep_a2, org.rep_b1):
        SalesTargetFactory(owner_user=rep, period_start=date(2026, 5, 1))
        for i in range(scale):
            account = target_account(rep, f"{rep.username}-{i}")
            AccountValue.objects.create(run=run, account=account, year=2026, cv=0, pv=1, quadrant="core", priority=i)
            UntouchedFlag.objects.create(account=account)
            VisitFactory(account=account, status=Visit.Status.DONE, planned_at=at(2026, 5, 12), done_at=at(2026, 5, 12))
            VisitFactory(account=account, planned_at=at(2026, 5, 19))
            open_one = opportunity(rep, "needs", f"open {i}", expected_close_date=date(2026, 6, 1))
            StaleFlag.objects.create(opportunity=open_one, last_activity_at=at(2026, 4, 1))
            StageChangeFactory(
                opportunity=open_one,
                from_stage=default_stage("prep"),
                to_stage=default_stage("needs"),
                changed_at=at(2026, 5, 13),
            )
            won(owner=rep, closed_at=at(2026, 5, 12))
            lost(owner=rep, closed_at=at(2026, 5, 13), untouched=True)


QUERIES = {"rep_a1": 18, "manager_a": 24, "director": 15}  # a manager's: + last week's changes, their count, rows


@pytest.mark.parametrize("scale", [1, 10])
@pytest.mark.parametrize("username", ["rep_a1", "manager_a", "director"])
def test_the_digest_runs_the_same_queries_whatever_the_data(org, monday, django_assert_num_queries, scale, username):
    populate(org, scale)
    user = getattr(org, username)

    with django_assert_num_queries(QUERIES[username]):
        digest = weekly_digest(user=user, week_start=WEEK)
    with django_assert_num_queries(QUERIES[username]):
        render_weekly_digest(user=user, week_start=WEEK)

    assert digest.outcomes.won == (
        scale if username == "rep_a1" else 2 * scale if username == "manager_a" else 3 * scale
    )


def test_a_manager_who_sells_has_a_line_of_their_own_beside_their_reps(org, monday):
    opportunity(org.manager_a, "needs", "经理自己的商机")

    digest = weekly_digest(user=org.manager_a, week_start=WEEK)

    assert [(p.user.username, p.open_count) for p in digest.team.people] == [
        ("manager_a", 1),
        ("rep_a1", 0),
        ("rep_a2", 0),
    ]
    assert [u.username for u in digest.team.idle_reps.items] == ["rep_a1", "rep_a2"]


# Bounded lists ----------------------------------------------------------------------------------------------------


def test_every_list_of_a_reps_digest_stops_at_ten_and_links_to_the_page_with_the_rest(org, monday):
    rep = org.rep_a1
    for i in range(12):
        account = target_account(rep, f"客户{i:02d}")
        UntouchedFlag.objects.create(account=account)
        VisitFactory(account=account, planned_at=at(2026, 5, 19, 8 + i % 10))
        open_one = opportunity(rep, "needs", f"商机{i:02d}", expected_close_date=date(2026, 6, 1))
        StaleFlag.objects.create(opportunity=open_one, last_activity_at=at(2026, 4, 1))
        StageChangeFactory(
            opportunity=open_one, from_stage=None, to_stage=default_stage("prep"), changed_at=at(2026, 5, 12)
        )
        won(owner=rep, closed_at=at(2026, 5, 13))

    digest = weekly_digest(user=rep, week_start=WEEK)
    rendered = render_weekly_digest(user=rep, week_start=WEEK)

    r = digest.rep
    lists = {
        "closed": digest.closed,
        "stage-changes": digest.stage_changes,
        "planned-visits": r.planned_visits,
        "untouched-accounts": r.untouched_accounts,
        "stale-opportunities": r.stale_opportunities,
        "closes-ahead": r.closes_ahead,
    }
    assert {name: (len(x.items), x.total, x.more) for name, x in lists.items()} == dict.fromkeys(lists, (10, 12, 2))
    assert r.closes_ahead_amount == Decimal("1200000")  # all twelve, not the ten shown
    assert r.planned_visits.url == "/visits/plan/?week=2026-05-18"
    assert r.untouched_accounts.url == "/accounts/?is_target=1&sort=last_visit"
    assert r.closes_ahead.url == "/opportunities/?status=open&close_from=2026-05-18&close_to=2026-06-17&sort=close"
    for name, x in lists.items():
        link = f'data-more="{name}"><a href="{settings.SITE_URL}{x.url.replace("&", "&amp;")}"'
        assert link in rendered.html, name
        assert f"{settings.SITE_URL}{x.url}\n" in rendered.text, name
    assert rendered.html.count('<tr data-visit="') == 10


def test_a_managers_digest_lists_ten_people_and_links_the_team_page_for_the_rest(org, monday):
    for i in range(12):
        opportunity(UserFactory(username=f"rep_z{i:02d}", team=org.team_a), "needs", f"商机{i:02d}")

    digest = weekly_digest(user=org.manager_a, week_start=WEEK)
    rendered = render_weekly_digest(user=org.manager_a, week_start=WEEK)

    team = digest.team
    assert len(team.people) == 10
    assert (team.people_total, team.people_more, team.people_url) == (14, 4, "/team/")
    assert (len(team.idle_reps.items), team.idle_reps.total) == (10, 14)
    assert f'data-more="people"><a href="{settings.SITE_URL}/team/"' in rendered.html
    assert rendered.html.count('<tr data-person="') == 3 * 10  # funnel, last week, targets: ten lines each


def test_a_directors_digest_has_a_line_for_every_team_and_a_total(org, monday, django_assert_num_queries):
    for i in range(12):
        rep = UserFactory(username=f"rep_t{i:02d}", team=TeamFactory(name=f"T{i:02d}"))
        won(owner=rep, closed_at=at(2026, 5, 12))

    with django_assert_num_queries(QUERIES["director"]):
        digest = weekly_digest(user=org.director, week_start=WEEK)

    company = digest.company
    assert [line.team.name for line in company.teams] == ["A", "B", *(f"T{i:02d}" for i in range(12))]
    assert [line.outcomes.won for line in company.teams] == [0, 0, *[1] * 12]
    assert (company.total.outcomes.won, company.total.activity.reps, company.total.activity.idle_reps) == (12, 15, 15)
    assert (len(company.idle_reps.items), company.idle_reps.total, company.idle_reps.url) == (10, 15, "/team/")


def test_a_managers_digest_lists_what_changed_last_week_with_a_link_to_all(org, monday):
    mine = opportunity(org.rep_a1, "needs", "东方机械扩容")
    StageChangeFactory(
        opportunity=mine, from_stage=default_stage("prep"), to_stage=default_stage("needs"), changed_at=at(2026, 5, 14)
    )
    StageChangeFactory(  # this week: not last week's
        opportunity=mine, from_stage=default_stage("needs"), to_stage=default_stage("prep"), changed_at=at(2026, 5, 18)
    )
    other_team = opportunity(org.rep_b1, "needs", "别队的商机")
    StageChangeFactory(
        opportunity=other_team,
        from_stage=default_stage("prep"),
        to_stage=default_stage("needs"),
        changed_at=at(2026, 5, 14),
    )
    org.manager_a.language = "en"
    org.manager_a.save(update_fields=["language"])

    digest = weekly_digest(user=org.manager_a, week_start=WEEK)
    rendered = render_weekly_digest(user=org.manager_a, week_start=WEEK)
    text, html = rendered.text, rendered.html

    changes = digest.team.changes
    assert [(c["row"].name, c["row"].kind, c["old"], c["new"]) for c in changes.items] == [
        ("东方机械扩容", "advanced", default_stage("prep").name, default_stage("needs").name)
    ]
    assert (changes.total, changes.more, changes.url) == (1, 0, "/analytics/changes/?since=2026-05-11")
    assert "What changed last week" in text and "- 东方机械扩容 (rep_a1): Advanced " in text
    assert "别队的商机" not in text
    assert 'data-list="changes"' in html and "东方机械扩容" in html and "别队的商机" not in html
