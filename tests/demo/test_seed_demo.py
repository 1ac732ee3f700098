"""manage.py seed_demo: a consistent, reproducible demo company that scales and never overwrites real data."""

import itertools
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Max, Min, Q
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, AccountYear, Contact, Industry, InstalledBase, Region, Team, User
from demo.seed import flush_demo_data
from pipeline.models import Opportunity, SalesTarget, StageChange, Visit
from tests.factories import AccountFactory

TODAY = date(2025, 6, 18)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as tests/conftest.py sets for each test

pytestmark = pytest.mark.django_db


def seed(*args: str, scale: str = "0.1", seed: str = "7") -> str:
    out = StringIO()
    call_command("seed_demo", "--scale", scale, "--seed", seed, "--today", TODAY.isoformat(), *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_company(django_db_setup, django_db_blocker) -> str:
    """One demo company at scale 0.1, seed 7, shared by the tests that only read it; tests that write flush it
    inside their own transaction, which rolls back."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        output = seed()
    yield output
    with django_db_blocker.unblock():
        flush_demo_data()


def start_of_today() -> datetime:
    return datetime.combine(TODAY, time(0, 0), tzinfo=timezone.get_default_timezone())


def fingerprint() -> tuple:
    opportunities = sorted(
        Opportunity.objects.values_list(
            "name", "amount", "stage__code", "status", "created_at", "closed_at", "account__name", "owner__username"
        )
    )
    visits = sorted(
        (name, kind, status, str(planned_at), str(done_at))
        for name, kind, status, planned_at, done_at in Visit.objects.values_list(
            "account__name", "kind", "status", "planned_at", "done_at"
        )
    )
    users = sorted(User.objects.values_list("username", "last_name", "first_name", "role", "team__name"))
    changes = sorted(StageChange.objects.values_list("opportunity__name", "to_stage__code", "changed_at"))
    return opportunities, visits, users, changes, Contact.objects.count(), InstalledBase.objects.count()


def test_every_won_opportunity_passed_through_every_stage_of_its_pipeline_in_order(demo_company, default_pipeline):
    codes = list(default_pipeline.stages.order_by("order").values_list("code", flat=True))
    expected = [(None, codes[0]), *itertools.pairwise(codes)]
    paths = defaultdict(list)
    rows = StageChange.objects.filter(opportunity__status="won").order_by("opportunity", "changed_at", "pk")
    for opportunity_id, from_code, to_code in rows.values_list("opportunity", "from_stage__code", "to_stage__code"):
        paths[opportunity_id].append((from_code, to_code))
    won = Opportunity.objects.won()
    assert won.count() > 10
    assert sorted(paths) == sorted(won.values_list("pk", flat=True))
    assert {tuple(path) for path in paths.values()} == {tuple(expected)}
    assert set(won.values_list("stage__code", "furthest_stage__code", "probability")) == {
        ("implement", "implement", 100)
    }


def test_stage_history_agrees_with_each_opportunity(demo_company, stage):
    opportunities = Opportunity.objects.annotate(
        first_change=Min("stage_changes__changed_at"),
        last_change=Max("stage_changes__changed_at"),
        stage_change_count=Count("stage_changes"),
        furthest_order=Max("stage_changes__to_stage__order"),
    ).select_related("stage", "furthest_stage")
    first_rows = {
        row.opportunity_id: row
        for row in StageChange.objects.filter(from_stage__isnull=True).select_related("to_stage")
    }
    for o in opportunities:
        assert o.created_at == o.first_change == first_rows[o.pk].changed_at
        assert first_rows[o.pk].to_stage.code == "prep"
        assert o.stage_entered_at == o.last_change
        assert o.version == o.stage_change_count + (o.status == "lost")  # one write per move, and one for a loss
        assert o.furthest_stage.order == o.furthest_order
        expected_probability = {"open": o.stage.probability, "won": 100, "lost": 0}[o.status]
        assert o.probability == expected_probability
        if o.status == "open":
            assert o.closed_at is None and o.loss_reason == ""
        else:
            assert o.last_change <= o.closed_at < start_of_today()
        if o.status == "lost":
            assert o.loss_reason != ""
        else:
            assert o.loss_reason == "" and o.lost_to_id is None
    open_stages = set(Opportunity.objects.open().values_list("stage__code", flat=True))
    assert open_stages <= {"prep", "status", "opportunity", "needs", "develop", "propose", "commit", "close"}
    assert len(open_stages) >= 5
    lost_stages = set(Opportunity.objects.lost().values_list("stage__code", flat=True))
    assert {"prep", "status", "propose"} <= lost_stages


def test_a_done_visit_on_the_account_comes_before_every_stage_change_past_prep(demo_company):
    done = defaultdict(list)
    for account_id, done_at, kind in Visit.objects.done().values_list("account", "done_at", "kind"):
        done[account_id].append((done_at, kind))
    changes = StageChange.objects.order_by("opportunity", "changed_at", "pk").values_list(
        "opportunity", "opportunity__account", "from_stage__code", "to_stage__order", "from_stage__order", "changed_at"
    )
    previous_at = {}
    checked = 0
    for opportunity_id, account_id, from_code, to_order, from_order, changed_at in changes:
        if from_code is not None:
            since = previous_at[opportunity_id]
            assert any(since < at < changed_at for at, _ in done[account_id]), (opportunity_id, from_code)
            if from_code == "propose" and to_order > from_order:
                assert any(since < at < changed_at and kind in ("demo", "proposal") for at, kind in done[account_id])
            checked += 1
        previous_at[opportunity_id] = changed_at
    assert checked > 500


def test_every_win_gets_follow_up_visits_and_done_ones_record_satisfaction(demo_company):
    won = Opportunity.objects.won()
    follow_ups = Visit.objects.filter(opportunity__status="won", kind="follow_up")
    assert set(follow_ups.values_list("opportunity", flat=True)) == set(won.values_list("pk", flat=True))
    assert not follow_ups.filter(status="done", satisfaction__isnull=True).exists()
    assert follow_ups.filter(status="done").count() > 10
    for o in won:
        assert all(v.planned_at > o.closed_at for v in o.visits.filter(kind__in=["follow_up", "delivery"]))


def test_visits_carry_times_that_fit_their_status_and_their_history(demo_company):
    visits = Visit.objects.all()
    assert Counter(visits.values_list("status", flat=True)).keys() == {"planned", "done", "cancelled"}
    assert not visits.filter(status="planned").filter(planned_at__isnull=True).exists()
    assert not visits.exclude(status="done").filter(done_at__isnull=False).exists()
    assert not visits.filter(status="done", done_at__gte=start_of_today()).exists()
    assert visits.filter(status="planned", planned_at__gte=start_of_today()).exists()
    assert visits.filter(status="planned", planned_at__lt=start_of_today()).exists()  # overdue
    assert visits.filter(status="done", done_at__lt=start_of_today() - timedelta(days=600)).exists()
    assert not visits.filter(created_at__gte=start_of_today() + timedelta(days=1)).exists()
    assert not visits.filter(created_at__lt=F("opportunity__created_at")).exists()
    assert not visits.filter(created_at__lt=F("account__created_at")).exists()
    assert not visits.filter(contact__created_at__gt=F("created_at")).exists()


def test_untouched_loss_flags_agree_with_a_recomputation_from_the_data(demo_company, settings):
    lookback = timedelta(days=settings.SALESFLOW_UNTOUCHED_LOOKBACK_DAYS)
    done = defaultdict(list)
    for account_id, done_at in Visit.objects.done().values_list("account", "done_at"):
        done[account_id].append(done_at)
    flagged_by_reason = Counter()
    for o in Opportunity.objects.lost().select_related("furthest_stage"):
        visited = any(o.closed_at - lookback <= at <= o.closed_at for at in done[o.account_id])
        expected = o.lost_to_id is not None and (not o.furthest_stage.engaged or not visited)
        assert o.is_untouched_loss is expected, o.pk
        assert (o.untouched_cause != "") is expected
        flagged_by_reason[(expected, o.furthest_stage.engaged)] += 1
    assert flagged_by_reason[(True, False)] > 3  # lost to a competitor we never met: still in prep
    assert flagged_by_reason[(False, True)] > 3
    assert not Opportunity.objects.exclude(status="lost").filter(is_untouched_loss=True).exists()


def test_counts_scale_with_the_scale_option(demo_company):
    small_counts = (Account.objects.count(), Opportunity.objects.count(), Visit.objects.count())

    larger = seed("--flush", scale="0.2")

    large_counts = (Account.objects.count(), Opportunity.objects.count(), Visit.objects.count())
    assert small_counts[:2] == (60, 250)
    assert large_counts[:2] == (120, 500)
    assert 1.8 <= large_counts[2] / small_counts[2] <= 2.2
    assert "accounts                120" in larger


def test_the_same_seed_reproduces_the_same_data_and_another_seed_does_not(demo_company):
    first = fingerprint()

    seed("--flush", seed="7")
    again = fingerprint()
    seed("--flush", seed="8")
    other = fingerprint()

    assert again == first
    assert other[0] != first[0]
    assert other[1] != first[1]


def test_prints_a_demo_login_for_every_role_and_they_can_log_in(demo_company):
    for username in ("director", "manager1", "rep1", "rep4"):
        assert f"  {username} " in demo_company
    assert "salesflow" in demo_company
    assert set(User.objects.values_list("role", flat=True)) == {"director", "manager", "rep"}
    for user in User.objects.all():
        assert user.check_password("salesflow")
        assert user.last_name and user.first_name and user.email
    assert User.objects.get(username="director").is_superuser
    assert Team.objects.get().manager == User.objects.get(username="manager1")
    assert set(User.objects.filter(role="rep").values_list("team__name", flat=True)) == {Team.objects.get().name}
    assert User.objects.filter(language="en").count() in (1, 2)


def test_refuses_to_seed_a_database_that_already_has_accounts(demo_company):
    flush_demo_data()  # rolled back after the test, like everything it writes
    AccountFactory(name="真实客户有限公司")
    before = (User.objects.count(), Region.objects.count(), Industry.objects.count(), Team.objects.count())

    with pytest.raises(CommandError, match="--flush"):
        seed()

    assert list(Account.objects.values_list("name", flat=True)) == ["真实客户有限公司"]
    assert (User.objects.count(), Region.objects.count(), Industry.objects.count(), Team.objects.count()) == before
    assert Opportunity.objects.count() == Visit.objects.count() == SalesTarget.objects.count() == 0


def test_flush_replaces_existing_data_with_the_demo_company(demo_company):
    flush_demo_data()
    AccountFactory(name="真实客户有限公司")

    seed("--flush")

    assert not Account.objects.filter(name="真实客户有限公司").exists()
    assert Account.objects.count() == 60


def test_every_rep_and_team_has_month_quarter_and_year_targets_for_this_year_and_last(demo_company):
    owners = list(User.objects.filter(role="rep")) + list(Team.objects.all())
    for year in (TODAY.year - 1, TODAY.year):
        for owner in owners:
            field = "owner_user" if isinstance(owner, User) else "owner_team"
            targets = {
                (t.period_type, t.period_start): t.amount
                for t in SalesTarget.objects.filter(**{field: owner}, period_start__year=year)
            }
            months = [targets[("month", date(year, m, 1))] for m in range(1, 13)]
            quarters = [targets[("quarter", date(year, m, 1))] for m in (1, 4, 7, 10)]
            assert len(targets) == 17
            assert quarters == [sum(months[q * 3 : q * 3 + 3]) for q in range(4)]
            assert targets[("year", date(year, 1, 1))] == sum(quarters) > 0


def test_builds_a_territory_and_customers_like_a_real_company(demo_company):
    assert Counter(Region.objects.values_list("level", flat=True)) == {1: 5, 2: 12, 3: 31}
    for region in Region.objects.filter(level__gt=1).select_related("parent"):
        assert region.code.startswith(region.parent.code + "-") and region.name_en
    # The company's region order is the seed's (地域-1 → 地域-2 → ...), not the codes' alphabet (CC would be first).
    assert list(Region.objects.filter(level=1).values_list("code", flat=True)) == ["EC", "NC", "SC", "CC", "SW"]
    assert len(set(Region.objects.values_list("sort_order", flat=True))) == 48
    assert Industry.objects.filter(spend_per_employee__gt=0).count() == 10
    accounts = Account.objects.annotate(
        contacts_count=Count("contacts", distinct=True),
        ours=Count("installed_base", filter=Q(installed_base__is_ours=True), distinct=True),
        theirs=Count("installed_base", filter=Q(installed_base__is_ours=False), distinct=True),
    )
    types = Counter((a.ours > 0, a.theirs > 0) for a in accounts)
    assert set(types) == {(True, False), (False, True), (True, True), (False, False)}
    assert {a.contacts_count for a in accounts} == {2, 3}
    assert not accounts.filter(region__level__lt=3).exists()
    targets = accounts.filter(is_target=True)
    assert 0.15 <= targets.count() / accounts.count() <= 0.45
    assert targets.filter(target_since__year=TODAY.year).exists()
    assert Account.objects.filter(branches__isnull=False).distinct().filter(is_headquarters=True).exists()
    assert set(AccountYear.objects.values_list("year", flat=True)) == {TODAY.year - 1, TODAY.year}
    assert AccountYear.objects.filter(potential_value__isnull=False).exists()
    assert Opportunity.objects.filter(owner=F("account__owner")).count() > 0.8 * Opportunity.objects.count()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ANALYZE fills PostgreSQL's planner statistics")
def test_ends_with_analyze_so_the_first_plans_know_the_new_rows(demo_company):
    with CaptureQueriesContext(connection) as queries:
        output = seed("--flush", scale="0.05")

    last = queries.captured_queries[-1]["sql"]
    assert last.startswith("ANALYZE ")
    for model in (Opportunity, StageChange, Visit, Account, SalesTarget, User):
        assert connection.ops.quote_name(model._meta.db_table) in last
    assert output.startswith("Created:") or output.startswith("已创建")  # the output stays as it was


def test_every_stage_change_knows_when_its_stay_began_and_its_opportunitys_facts(demo_company):
    rows = StageChange.objects.order_by("opportunity", "changed_at", "pk").values_list(
        "opportunity_id",
        "changed_at",
        "entered_at",
        "opportunity__created_at",
        "opportunity_created_at",
        "opportunity__pipeline_id",
        "pipeline_id",
    )
    previous: dict[int, object] = {}
    for opportunity, changed_at, entered_at, created_at, stored_created_at, pipeline, stored_pipeline in rows:
        assert entered_at == previous.get(opportunity, created_at)
        assert (stored_created_at, stored_pipeline) == (created_at, pipeline)
        previous[opportunity] = changed_at
