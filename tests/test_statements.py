"""Statements built once per process (core/statements.py): a hot page query is composed by the ORM once per shape and
re-bound to each viewer's values, refused when a parameter is computed from a value, and on PostgreSQL prepared once
per connection and run with one generic plan."""

from datetime import datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.visibility import VIEWER_SHAPE
from analytics.selectors import pages as agenda_module
from analytics.selectors import todo as todo_module
from analytics.selectors.pages import visit_agenda
from analytics.selectors.todo import todo_list
from core import statements
from core.statements import bound_statement, fetch_all, query_statement, read_rows
from pipeline.models import Visit
from tests.e2e.helpers import install_default_pipeline
from tests.factories import AccountFactory, OpportunityFactory, VisitFactory

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")


def _built_every_time(module, monkeypatch):
    """Makes `module` build its statement on every call, as it did before statements were reused."""

    def build_it(key, build, keep=None, prepare=True, **values):
        return _plain(build(**values))

    monkeypatch.setattr(module, "bound_statement", build_it)


def _plain(statement):
    return statement, list(statement.params)


@pytest.fixture
def visits(org):
    """Overdue, today's and this week's planned visits of two reps and a manager, and an opportunity past close."""
    now = timezone.now()
    for owner, hours in [(org.rep_a1, -30), (org.rep_a1, -2), (org.rep_a1, 3), (org.rep_a2, -50), (org.rep_a2, 5)]:
        VisitFactory(account=AccountFactory(owner=owner), planned_at=now + timedelta(hours=hours))
    VisitFactory(account=AccountFactory(owner=org.manager_a), planned_at=now - timedelta(hours=26))
    OpportunityFactory(owner=org.rep_a2, expected_close_date=timezone.localdate() - timedelta(days=3))
    return org


def _todo_signature(todo):
    return [
        (part.total, [item.pk for item in part.items])
        for part in (todo.overdue, todo.follow_ups, todo.past_close, todo.stale, todo.untouched)
    ]


def _agenda_signature(agenda):
    return (agenda.today_count, agenda.later_count, agenda.overdue_count, [v.pk for v in agenda.upcoming])


def _signatures(viewer, now):
    agenda = visit_agenda(viewer=viewer, on=timezone.localdate(now))
    return _todo_signature(todo_list(viewer=viewer, now=now)), _agenda_signature(agenda)


@pytest.fixture
def default_pipeline(transactional_db):
    return install_default_pipeline()  # an earlier transactional test empties every table after it


@pytest.fixture(autouse=True)
def fresh_templates(monkeypatch):
    """Each test starts with no statement built (as a new process does)."""
    monkeypatch.setattr(statements, "_templates", {})
    monkeypatch.setattr(statements, "refused", {})


def test_reused_statement_answers_each_viewer_as_a_fresh_build(visits, monkeypatch):
    now = timezone.now()
    viewers = [visits.rep_a1, visits.rep_a2, visits.rep_b1, visits.manager_a, visits.manager_b, visits.director]
    reused = [_signatures(viewer, now) for viewer in viewers]
    _built_every_time(todo_module, monkeypatch)
    _built_every_time(agenda_module, monkeypatch)
    fresh = [_signatures(viewer, now) for viewer in viewers]
    assert reused == fresh
    # the numbers themselves: rep_a1's two visits earlier than now are overdue; manager_a sees those, rep_a2's and
    # their own (4); rep_b1 has nothing; rep_a2's opportunity is past its close date
    assert reused[0][0][0][0] == 2
    assert reused[3][0][0][0] == 4 and reused[2][0][0] == (0, [])
    assert reused[1][0][2] == (1, [visits.rep_a2.opportunities.get().pk])


@postgresql_only
def test_the_statement_is_built_once_per_shape_then_only_rebound(visits):
    todo_list(viewer=visits.rep_a1)
    todo_list(viewer=visits.rep_a2)
    todo_list(viewer=visits.manager_a)
    keys = sorted(statements._templates, key=str)
    assert [key[1] for key in keys] == [(("viewer", ("manager", True)),), (("viewer", ("rep", True)),)]
    assert all(template is not None for template in statements._templates.values())
    assert statements.refused == {}


def test_a_parameter_computed_from_a_value_is_refused_and_built_every_time(visits):
    def build(*, viewer, day):
        since = datetime.combine(day - timedelta(days=7), datetime.min.time(), tzinfo=timezone.get_current_timezone())
        return query_statement(Visit.objects.filter(owner=viewer.pk, planned_at__gte=since).values("pk"))

    day = timezone.localdate()
    for viewer in (visits.rep_a1, visits.rep_a2):
        statement, params = bound_statement("a week back", build, keep={"viewer": VIEWER_SHAPE}, viewer=viewer, day=day)
        assert sorted(row["pk"] for row in read_rows(statement, params)) == sorted(
            Visit.objects.filter(owner=viewer).values_list("pk", flat=True)
        )
    assert "a week back" in statements.refused
    assert list(statements._templates.values()) == [None]


def test_a_missing_key_is_a_shape_of_its_own(org):
    def build(*, viewer):
        return query_statement(Visit.objects.filter(owner__team=viewer.team_id).values("pk"))

    rep_visit = VisitFactory(account=AccountFactory(owner=org.rep_a1))
    teamless_visit = VisitFactory(account=AccountFactory(owner=org.director))  # the director has no team
    teamless = bound_statement("team's visits", build, viewer=org.director)
    in_team = bound_statement("team's visits", build, viewer=org.rep_a1)
    assert read_rows(*teamless) == [{"pk": teamless_visit.pk}]  # owner__team=None is IS NULL, as the ORM has it
    assert read_rows(*in_team) == [{"pk": rep_visit.pk}]
    assert len(statements._templates) == 2


def test_a_field_not_kept_is_never_read_from_the_viewer_the_statement_is_refused_instead(org):
    def build(*, viewer):  # reads the viewer's username, which is not part of the shape
        return query_statement(Visit.objects.filter(purpose=viewer.username).values("pk"))

    visit = VisitFactory(account=AccountFactory(owner=org.rep_a1), purpose="rep_a1")
    assert read_rows(*bound_statement("by username", build, viewer=org.rep_a1)) == [{"pk": visit.pk}]
    assert read_rows(*bound_statement("by username", build, viewer=org.rep_a2)) == []
    assert "asked for more than its keys" in statements.refused["by username"]


@postgresql_only
def test_prepared_once_per_connection_and_run_with_a_generic_plan(visits):
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_generic_plan"
    todo_list(viewer=visits.rep_a1)
    with CaptureQueriesContext(connection) as queries:
        todo = todo_list(viewer=visits.rep_a2)
    assert len(queries) == 1 and queries[0]["sql"].startswith("EXECUTE salesflow_")
    assert todo.overdue.total == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, generic_plans >= 1 FROM pg_prepared_statements WHERE name LIKE 'salesflow_%%'")
        prepared = cursor.fetchall()
    assert (queries[0]["sql"].split()[1], True) in prepared
    # where one generic plan was measured to misjudge the values, the reused statement runs as plain SQL
    todo_list(viewer=visits.director)
    with CaptureQueriesContext(connection) as queries:
        todo_list(viewer=visits.director)
        visit_agenda(viewer=visits.manager_a)
        visit_agenda(viewer=visits.manager_a)
        visit_agenda(viewer=visits.rep_a1)
    assert [query["sql"].split()[0] for query in queries] == ["SELECT"] * 3 + ["EXECUTE"]
    assert len(statements._templates) == 4  # the to-do of a rep and of a director, the agenda of a manager and a rep


@postgresql_only
def test_a_statement_postgresql_cannot_prepare_runs_plainly_and_leaves_the_transaction_usable(org, monkeypatch):
    sql = "SHOW plan_cache_mode"  # not a statement PREPARE takes
    monkeypatch.setattr(statements, "_to_prepare", {sql})
    with transaction.atomic():
        assert fetch_all(connection, sql, []) == [("force_generic_plan",)]
        assert sql in statements._unpreparable
        assert fetch_all(connection, "SELECT COUNT(*) FROM accounts_user", []) == [(6,)]


def test_statements_of_the_home_page_are_not_refused(visits, client):
    client.force_login(visits.manager_a)
    assert client.get("/").status_code == 200
    if connection.vendor == "postgresql":
        assert statements.refused == {}
        names = {key[0][0] if isinstance(key[0], tuple) else key[0] for key in statements._templates}
        assert names == {"todo", "visit agenda", "current targets", "current wins", "plan adherence by owner"}


def test_the_unfiltered_board_reuses_its_statements_and_a_filtered_one_composes_them(org, client):
    from pipeline.models import Pipeline

    pipeline = Pipeline.objects.get(is_default=True)
    big = OpportunityFactory(owner=org.rep_a1, amount=900)
    small = OpportunityFactory(owner=org.rep_a2, amount=500, stage=big.stage)
    for viewer, expected in [(org.rep_a1, [big.pk]), (org.manager_a, [big.pk, small.pk]), (org.rep_b1, [])]:
        client.force_login(viewer)
        response = client.get("/pipeline/board/")
        assert [card.pk for column in response.context["columns"] for card in column.cards] == expected
    client.force_login(org.manager_a)
    filtered = client.get(f"/pipeline/board/?owner={org.rep_a2.pk}&pipeline={pipeline.pk}")
    assert [card.pk for column in filtered.context["columns"] for card in column.cards] == [small.pk]
    if connection.vendor == "postgresql":
        assert sorted(key[0][0] for key in statements._templates) == ["board cards"] * 2 + ["board totals"] * 2
        assert statements.refused == {}


def test_a_bound_queryset_hands_out_model_instances_for_each_viewer(org):
    from pipeline.selectors.accounts import account_page

    account = AccountFactory(owner=org.rep_a1)
    other = AccountFactory(owner=org.rep_b1)
    opportunity = OpportunityFactory(owner=org.rep_a1, account=account)
    for viewer, editable in [(org.rep_a1, True), (org.manager_a, True), (org.director, True)]:
        page = account_page(viewer=viewer, pk=account.pk)
        assert page.account.pk == account.pk and page.account.owner == org.rep_a1
        assert page.account.is_editable is editable  # a boolean, also where the rule is the constant TRUE
        assert [o.pk for o in page.opportunities] == [opportunity.pk]
        assert page.opportunities[0].stage.name and page.opportunities[0].owner.username == "rep_a1"
    assert account_page(viewer=org.rep_a1, pk=other.pk) is None
    assert account_page(viewer=org.manager_b, pk=account.pk) is None
    if connection.vendor == "postgresql":
        assert {key[0] for key in statements._templates} >= {"account page", "account page opportunities"}
        assert statements.refused == {}


@postgresql_only
def test_a_bound_queryset_is_only_iterated(org):
    from core.statements import bound_queryset

    def build(*, viewer):
        return Visit.objects.visible_to(viewer)

    bound_queryset("visits", build, keep={"viewer": VIEWER_SHAPE}, viewer=org.rep_a1)
    rows = bound_queryset("visits", build, keep={"viewer": VIEWER_SHAPE}, viewer=org.rep_a2)
    assert list(rows) == []
    with pytest.raises(TypeError, match="only iterated"):
        rows.filter(pk=1)


def test_a_related_managers_queryset_is_not_reused(org):
    from core.statements import bound_queryset

    account = AccountFactory(owner=org.rep_a1)
    visit = VisitFactory(account=account)

    def build(*, account):
        return account.visits.all()

    assert list(bound_queryset("an account's visits", build, account=account)) == [visit]
    assert "an account's visits" in statements.refused


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_lost_prepared_statement_is_run_plainly_then_prepared_again(default_pipeline, visits):
    before = _todo_signature(todo_list(viewer=visits.rep_a1))
    account = AccountFactory(owner=visits.rep_a1)
    from pipeline.selectors.accounts import account_page

    assert account_page(viewer=visits.rep_a1, pk=account.pk).account == account
    with connection.connection.cursor() as cursor:  # what a pooler's DISCARD ALL does to the session
        cursor.execute("DEALLOCATE ALL")
    assert _todo_signature(todo_list(viewer=visits.rep_a1)) == before
    with connection.connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert account_page(viewer=visits.rep_a1, pk=account.pk).account == account
    with CaptureQueriesContext(connection) as queries:
        todo_list(viewer=visits.rep_a1)
    assert queries[0]["sql"].startswith("EXECUTE")  # prepared again


def test_prepared_statements_can_be_turned_off(visits, settings):
    settings.SALESFLOW_PREPARED_STATEMENTS = False
    todo_list(viewer=visits.rep_a1)
    with CaptureQueriesContext(connection) as queries:
        todo = todo_list(viewer=visits.rep_a2)
    assert [query["sql"].split()[0] for query in queries] == ["SELECT"]
    assert todo.overdue.total == 1


def test_a_text_value_is_rebound_and_a_text_computed_from_it_is_refused(org):
    first = VisitFactory(account=AccountFactory(owner=org.rep_a1), purpose="报价")
    second = VisitFactory(account=AccountFactory(owner=org.rep_a1), purpose="演示")

    def exact(*, purpose):
        return query_statement(Visit.objects.filter(purpose=purpose).values("pk"))

    def containing(*, purpose):  # the parameter is %purpose%: computed from the value
        return query_statement(Visit.objects.filter(purpose__contains=purpose).values("pk"))

    for purpose, visit in (("报价", first), ("演示", second)):
        assert read_rows(*bound_statement("by purpose", exact, purpose=purpose)) == [{"pk": visit.pk}]
        assert read_rows(*bound_statement("purpose contains", containing, purpose=purpose[:1])) == [{"pk": visit.pk}]
    assert read_rows(*bound_statement("by purpose", exact, purpose="报")) == []
    if connection.vendor == "postgresql":
        assert "by purpose" not in statements.refused
        assert "computed from the values" in statements.refused["purpose contains"]


def test_an_api_token_is_looked_up_by_a_statement_composed_once(org):
    from accounts.tokens import issue_token, usable_token

    keys = [issue_token(user=user).key for user in (org.rep_a1, org.manager_a)]
    assert [usable_token(key).user for key in keys] == [org.rep_a1, org.manager_a]
    assert usable_token(keys[0][:-1] + "0" if keys[0][-1] != "0" else keys[0][:-1] + "1") is None
    if connection.vendor == "postgresql":
        assert "api token" not in statements.refused
        assert any(key[0] == "api token" for key in statements._templates)
