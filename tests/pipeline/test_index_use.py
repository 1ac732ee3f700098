"""Every list's default order and filter is served by an index, and the visibility rule filters by the visible owners
first (issue 10): read from PostgreSQL's plans over a company of realistic size, after ANALYZE.

The lists are read the way their pages and endpoints build them (selectors; viewsets' querysets, filters and default
ordering). Reference lists (users, teams, regions, industries, competitors, stages) are small tables read whole.

The company is committed (transactional tests) and vacuumed before the plans are read, as autovacuum leaves a
production table: in a rolled-back transaction over a heap that earlier tests had filled with dead rows, the planner
now and then chose other plans than production would (a flaky full run).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, models
from django.db.models import F
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts.api.views import AccountYearViewSet, ContactViewSet, InstalledBaseViewSet
from accounts.models import Account, AccountYear, Contact, InstalledBase, Team, User
from analytics.models import AccountValue, MatrixRun, StaleFlag
from pipeline.api.accounts import AccountViewSet
from pipeline.api.opportunities import OpportunityViewSet
from pipeline.api.planning import SalesTargetViewSet, WeekCommentViewSet
from pipeline.api.visits import VisitViewSet
from pipeline.models import Opportunity, SalesTarget, Visit, VisitWeekComment
from pipeline.selectors.accounts import accounts_for_list
from pipeline.selectors.opportunities import OPPORTUNITY_SORTS, OpportunityFilters, filtered_opportunities
from pipeline.selectors.visits import visits_for_list
from tests.e2e.helpers import install_default_pipeline

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's query plans"),
]

TEAMS, REPS_PER_TEAM, ACCOUNTS_PER_REP = 20, 5, 30
BIG_TABLES = ("pipeline_visit", "pipeline_opportunity", "accounts_account", "accounts_contact")


def _double(model, *, earlier: tuple[str, ...]) -> None:
    """Copies every row of `model`'s table once more, moving each `earlier` column back by the span it covers, so the
    copies extend the timeline instead of repeating it. Every column is copied, whatever it is."""
    table, quote = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]

    def value(field) -> str:
        column = quote(field.column)
        if field.column not in earlier:
            return column
        step = "interval '1 day'" if isinstance(field, models.DateTimeField) else "7"
        return f"{column} - (SELECT max({column}) - min({column}) + {step} FROM {table})"

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "
            f"SELECT {', '.join(value(f) for f in fields)} FROM {table}"
        )


def _people() -> tuple[User, list[User], list[User]]:
    director = User.objects.create(username="director", role=User.Role.DIRECTOR)
    teams = Team.objects.bulk_create([Team(name=f"Team {t}") for t in range(TEAMS)])
    managers = User.objects.bulk_create(
        [User(username=f"manager{t}", role=User.Role.MANAGER, team=team) for t, team in enumerate(teams)]
    )
    for team, manager in zip(teams, managers, strict=True):
        team.manager = manager
    Team.objects.bulk_update(teams, ["manager"])
    reps = User.objects.bulk_create(
        [
            User(username=f"rep{t}_{r}", role=User.Role.REP, team=team)
            for t, team in enumerate(teams)
            for r in range(REPS_PER_TEAM)
        ]
    )
    return director, managers, reps


def _build_company() -> tuple[User, User, User]:
    """A company the size of `seed_demo` at scale 3 to 4: 100 reps in 20 teams, 3,000 accounts with 6,000 contacts,
    8,000 opportunities, 48,000 visits, 3,600 targets, 5,200 week comments; one opportunity or visit in 25 is at a
    colleague's account. Returns a director, a manager and a rep."""
    director, managers, reps = _people()
    now = timezone.now()
    accounts = Account.objects.bulk_create(
        [
            Account(name=f"客户 {i:05d}", owner=reps[i % len(reps)], created_at=now - timedelta(days=i % 700))
            for i in range(len(reps) * ACCOUNTS_PER_REP)
        ]
    )
    Contact.objects.bulk_create([Contact(account=a, name=f"联系人 {a.pk}") for a in accounts])
    _double(Contact, earlier=("created_at",))
    InstalledBase.objects.bulk_create(
        [InstalledBase(account=a, is_ours=True, product="MFP", units=1) for a in accounts]
    )
    AccountYear.objects.bulk_create([AccountYear(account=a, year=2025) for a in accounts])
    pipeline = install_default_pipeline()  # safe to repeat; an earlier transactional test may have emptied it
    stage = pipeline.stages.order_by("order").first()

    def account_of(rep_index: int, i: int) -> Account:
        colleague = 1 if i % 25 == 0 else 0  # now and then at a colleague's account
        return accounts[(rep_index + colleague) % len(reps) + len(reps) * (i % ACCOUNTS_PER_REP)]

    opportunities = Opportunity.objects.bulk_create(
        [
            Opportunity(
                pipeline=pipeline,
                stage=stage,
                furthest_stage=stage,
                account=account_of(r, i),
                owner=rep,
                name=f"商机 {r}-{i}",
                amount=Decimal(1000 + i),
                created_at=now - timedelta(hours=r * 10 + i),
            )
            for r, rep in enumerate(reps)
            for i in range(10)
        ]
    )
    Visit.objects.bulk_create(
        [
            Visit(
                account=account_of(r, i),
                owner=rep,
                opportunity=opportunities[r * 10 + i % 10] if i % 2 else None,
                status=Visit.Status.DONE,
                done_at=now - timedelta(minutes=7 * (r * 30 + i)),
                created_at=now - timedelta(minutes=7 * (r * 30 + i)),
            )
            for r, rep in enumerate(reps)
            for i in range(30)
        ]
    )
    for _ in range(3):
        _double(Opportunity, earlier=("created_at", "stage_entered_at"))
    for _ in range(4):
        _double(Visit, earlier=("created_at", "done_at"))
    SalesTarget.objects.bulk_create(
        [
            SalesTarget(
                owner_user=rep,
                period_type=SalesTarget.PeriodType.MONTH,
                period_start=date(2024 + m // 12, m % 12 + 1, 1),
                amount=Decimal(100000),
            )
            for rep in reps
            for m in range(36)
        ]
    )
    monday = date(2025, 1, 6)
    VisitWeekComment.objects.bulk_create(
        [
            VisitWeekComment(
                rep=rep, week_start=monday + timedelta(weeks=w), author=managers[r // REPS_PER_TEAM], text="好"
            )
            for r, rep in enumerate(reps)
            for w in range(26)
        ]
    )
    _double(VisitWeekComment, earlier=("week_start", "created_at"))
    for year in (2024, 2025):
        run = MatrixRun.objects.create(year=year)
        AccountValue.objects.bulk_create(
            [
                AccountValue(
                    run=run, account=a, year=year, cv=1, pv=2, quadrant="core", priority=i + 1 if i % 3 else None
                )
                for i, a in enumerate(accounts)
            ]
        )
    StaleFlag.objects.bulk_create(
        [
            StaleFlag(opportunity_id=pk, last_activity_at=now - timedelta(hours=pk % 1000) if pk % 7 else None)
            for pk in Opportunity.objects.values_list("pk", flat=True)[::3]
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return director, managers[0], reps[1]


@pytest.fixture
def company():
    return _build_company()


def _plan(queryset) -> str:
    return queryset.explain()


def _api_list(viewset_class, user: User):
    """The queryset a list endpoint pages through: the viewset's queryset, default filters and default ordering."""
    request = Request(APIRequestFactory().get("/"))
    request.user = user
    view = viewset_class(request=request, action="list", format_kwarg=None, args=(), kwargs={})
    return view.filter_queryset(view.get_queryset())


def _index_serving(plan: str) -> str | None:
    """The index the plan's first scan reads, in plan order."""
    match = re.search(r"Index (?:Only )?Scan(?: Backward)? using (\w+)", plan)
    return match.group(1) if match else None


def test_every_lists_default_order_is_read_from_its_index(company):
    director, *_ = company
    page = 25
    lists = {
        "visit list page (-when)": visits_for_list(viewer=director)[:page],
        "visits API": _api_list(VisitViewSet, director)[:page],
        "opportunity list page (-created)": filtered_opportunities(
            viewer=director, filters=OpportunityFilters()
        ).order_by(*OPPORTUNITY_SORTS["-created"])[:page],
        "opportunities API": _api_list(OpportunityViewSet, director)[:page],
        "account list page (name)": accounts_for_list(viewer=director)[:page],
        "accounts API": _api_list(AccountViewSet, director)[:page],
        "contacts API": _api_list(ContactViewSet, director)[:page],
        "installed-base API": _api_list(InstalledBaseViewSet, director)[:page],
        "account-years API": _api_list(AccountYearViewSet, director)[:page],
        "targets API": _api_list(SalesTargetViewSet, director)[:page],
        "week-comments API": _api_list(WeekCommentViewSet, director)[:page],
        # analytics/selectors: the matrix's accounts and the stale list, in their orders
        "matrix accounts (visit priority)": AccountValue.objects.filter(year=2025)
        .order_by(F("priority").asc(nulls_last=True), "account__name", "account_id")
        .values_list("account_id", "account__name", "priority")[:page],
        "stale list": StaleFlag.objects.order_by(F("last_activity_at").asc(nulls_first=True), "opportunity_id")[:10],
    }

    served_by = {name: _index_serving(_plan(queryset)) for name, queryset in lists.items()}

    assert served_by == {
        "visit list page (-when)": "visit_when_idx",
        "visits API": "visit_created_idx",
        "opportunity list page (-created)": "opp_created_idx",
        "opportunities API": "opp_created_idx",
        "account list page (name)": "account_name_idx",
        "accounts API": "account_name_idx",
        "contacts API": "account_name_idx",
        "installed-base API": "account_name_idx",
        "account-years API": "account_name_idx",
        "targets API": "target_start_idx",
        "week-comments API": "weekcomment_week_idx",
        "matrix accounts (visit priority)": "acctvalue_year_priority_idx",
        "stale list": "staleflag_activity_idx",
    }


def _seq_scans_of_big_tables(plan: str) -> tuple[str, ...]:
    return tuple(table for table in BIG_TABLES if f"Seq Scan on {table}" in plan)


@pytest.mark.parametrize("role", ["manager", "rep"])
def test_the_visibility_rule_reads_the_visible_owners_rows_from_the_owner_indexes(company, role):
    _director, manager, rep = company
    user = manager if role == "manager" else rep
    owner_condition = "owner_id = ANY" if role == "manager" else f"owner_id = {rep.pk}"
    rules = {
        "visits": Visit.objects.visible_to(user).order_by(),
        "opportunities": Opportunity.objects.visible_to(user).order_by(),
        "accounts": Account.objects.visible_to(user).order_by(),
        "contacts": Contact.objects.visible_to(user).order_by(),
        "visit list page": visits_for_list(viewer=user)[:25],
        "account list page": accounts_for_list(viewer=user)[:25],
    }

    plans = {name: _plan(queryset) for name, queryset in rules.items()}

    assert {name: _seq_scans_of_big_tables(plan) for name, plan in plans.items()} == dict.fromkeys(rules, ())
    for name in ("visits", "opportunities", "accounts"):
        assert re.search(rf"Index Cond: \({re.escape(owner_condition)}", plans[name]), (name, plans[name])


def _add_plans_and_close_dates(reps: list[User]) -> None:
    """Planned visits, one in twenty overdue and one in four a follow-up, and expected close dates on every
    opportunity, one in twenty past, as in a company that keeps its plan mostly current."""
    now = timezone.now()
    accounts = list(Account.objects.order_by("pk").values_list("pk", "owner_id")[:2000])
    Visit.objects.bulk_create(
        [
            Visit(
                account_id=account_id,
                owner_id=owner_id,
                status=Visit.Status.PLANNED,
                kind=Visit.Kind.FOLLOW_UP if i % 4 == 0 else Visit.Kind.VISIT,
                planned_at=now + timedelta(hours=(i % 20 - 1) * 24 + i % 7),
            )
            for i, (account_id, owner_id) in enumerate(accounts * 2)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pipeline_opportunity SET expected_close_date = CURRENT_DATE + (id % 200 - 10)::integer")
        cursor.execute("VACUUM ANALYZE")


def _index_reading(plan: str) -> str | None:
    """The index the plan's first index scan (plain, index-only or bitmap) reads."""
    match = re.search(r"Index (?:Only )?Scan(?: Backward)? (?:using|on) (\w+)", plan)
    return match.group(1) if match else None


def test_the_to_do_lists_are_read_from_their_partial_indexes(company):
    from pipeline.selectors.todo import due_follow_ups_query, overdue_visits_query, past_close_query

    director, manager, rep = company
    _add_plans_and_close_dates(list(User.objects.filter(role=User.Role.REP)))
    now, today = timezone.now(), timezone.localdate()
    day_end = now + timedelta(hours=12)
    lists = {
        "overdue visits (rep)": overdue_visits_query(viewer=rep, now=now).order_by("-planned_at", "-pk")[:5],
        "follow-ups (rep)": due_follow_ups_query(viewer=rep, day_end=day_end).order_by("planned_at", "pk")[:5],
        "past close (rep)": past_close_query(viewer=rep, today=today).order_by("expected_close_date", "pk")[:5],
        "overdue visits (director)": overdue_visits_query(viewer=director, now=now).order_by("-planned_at")[:5],
        "past close (director)": past_close_query(viewer=director, today=today).order_by("expected_close_date")[:5],
    }

    plans = {name: _plan(queryset) for name, queryset in lists.items()}

    assert {name: _seq_scans_of_big_tables(plan) for name, plan in plans.items()} == dict.fromkeys(lists, ())
    # A few rows per rep: the planner may read them as a bitmap and sort them; what matters is which index finds them.
    assert {name: _index_reading(plan) for name, plan in plans.items()} == {
        "overdue visits (rep)": "visit_planned_owner_at_idx",
        "follow-ups (rep)": "visit_planned_owner_at_idx",
        "past close (rep)": "opp_open_owner_close_idx",
        "overdue visits (director)": "visit_planned_at_idx",
        "past close (director)": "opp_open_close_idx",
    }
    # A manager's lists (own first) read the visible owners' planned rows from the owner indexes, never the table.
    manager_plan = _plan(overdue_visits_query(viewer=manager, now=now))
    assert _seq_scans_of_big_tables(manager_plan) == (), manager_plan


def test_a_directors_board_reads_each_columns_cards_not_its_stage(company):
    """8,000 open opportunities in the first stage: the column's cards come from its LIMIT on the stage index; only
    they meet their names and the stale rule."""
    from pipeline.models import Pipeline
    from pipeline.selectors.opportunities import _board_cards, _open_in, stale_cutoff

    director, *_ = company
    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(pipeline.stages.order_by("order"))
    statement = _board_cards(
        viewer=director,
        filters=_open_in(pipeline),
        stages=stages,
        cutoff=stale_cutoff(timezone.now()),
        per_column=20,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ANALYZE {statement.sql}", statement.params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    first_column = re.search(r"Index Scan Backward using opp_open_stage_amount_idx .*rows=(\d+) loops=1\)", plan)
    assert first_column is not None and int(first_column.group(1)) == 20, plan
    opportunity_reads = re.findall(r"Scan.* on pipeline_opportunity .*actual time=\S+ rows=(\d+) loops=(\d+)\)", plan)
    assert len(opportunity_reads) >= len(stages), plan
    assert max(int(rows) * int(loops) for rows, loops in opportunity_reads) == 20, plan  # never the stage's 8,000
    assert _seq_scans_of_big_tables(plan) == (), plan
