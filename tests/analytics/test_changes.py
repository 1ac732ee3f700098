"""GET /api/v1/analytics/changes/: every kind of event, made through the services, against hand-written rows."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from analytics.selectors.changes import change_events, change_rows
from pipeline.services.moves import lose_opportunity, move_opportunity, reopen_opportunity, win_opportunity
from pipeline.services.opportunities import create_opportunity, edit_opportunity
from tests.analytics.conftest import SHANGHAI, at
from tests.factories import AccountFactory, OpportunityFactory, default_stage

pytestmark = pytest.mark.django_db
URL = "/api/v1/analytics/changes/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def name(code: str) -> str:
    return default_stage(code).name_zh  # the org's users read Chinese


@pytest.fixture
def week(org, time_machine):
    """Opportunities made before Monday 11 May 2026, then one event of each kind during the week; the clock ends on
    Friday 15 May, 10:00 in Shanghai."""

    def clock(*args) -> None:
        time_machine.move_to(at(*args), tick=False)

    clock(2026, 5, 8)
    a = OpportunityFactory(owner=org.rep_a1, name="A", amount=Decimal(100000), expected_close_date=date(2026, 6, 1))
    ready = {"blocking_issues_resolved": True, "purchase_date_agreed": "2026-05-01", "contract_signed": True}
    c = OpportunityFactory(owner=org.rep_a2, name="C", stage=default_stage("commit"), criteria_values=ready)
    d = OpportunityFactory(owner=org.rep_a1, name="D", stage=default_stage("needs"))
    e = OpportunityFactory(owner=org.rep_a1, name="E", expected_close_date=None)

    clock(2026, 5, 11, 9)
    b = create_opportunity(
        created_by=org.rep_a1,
        account=AccountFactory(owner=org.rep_a1),
        name="B",
        amount=Decimal(200000),
        expected_close_date=date(2026, 7, 1),
    )
    clock(2026, 5, 12, 10)
    a = move_opportunity(opportunity=a, to_stage_code="status", moved_by=org.manager_a, override_reason="Met.")
    f = create_opportunity(created_by=org.rep_b1, account=AccountFactory(owner=org.rep_b1), name="F")
    clock(2026, 5, 12, 11)
    a = edit_opportunity(opportunity=a, changed_by=org.rep_a1, expected_close_date=date(2026, 6, 30))
    clock(2026, 5, 13, 10)
    a = edit_opportunity(opportunity=a, changed_by=org.rep_a1, amount=Decimal(150000))
    clock(2026, 5, 13, 11)
    b = edit_opportunity(opportunity=b, changed_by=org.rep_a1, amount=Decimal(120000))
    clock(2026, 5, 13, 12)
    b = edit_opportunity(opportunity=b, changed_by=org.rep_a1, expected_close_date=date(2026, 6, 15))
    clock(2026, 5, 14, 10)
    win_opportunity(opportunity=c, won_by=org.rep_a2)  # commit → close → implement: reported once, as won
    clock(2026, 5, 14, 11)
    d = lose_opportunity(opportunity=d, lost_by=org.rep_a1, reason="price")
    clock(2026, 5, 14, 12)
    a = move_opportunity(opportunity=a, to_stage_code="prep", moved_by=org.rep_a1)
    clock(2026, 5, 14, 13)
    edit_opportunity(opportunity=e, changed_by=org.rep_a1, expected_close_date=date(2026, 8, 1))  # set: no news
    clock(2026, 5, 15, 9)
    reopen_opportunity(opportunity=d, reopened_by=org.manager_a)
    clock(2026, 5, 15, 10)
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f}


def event(opportunity, kind: str, old, new, moment: datetime) -> dict:
    return {
        "opportunity": opportunity.pk,
        "name": opportunity.name,
        "owner": opportunity.owner_id,
        "owner_name": opportunity.owner.display_name,
        "kind": kind,
        "from": old,
        "to": new,
        "at": moment.astimezone(SHANGHAI).isoformat(),
    }


def test_a_manager_sees_every_kind_of_event_of_the_team_since_monday_newest_first(org, week):
    a, b, c, d = week["A"], week["B"], week["C"], week["D"]

    body = client_for(org.manager_a).get(URL).json()

    assert body["since"] == "2026-05-11"
    assert body["rows"] == [
        event(d, "reopened", "lost", "open", at(2026, 5, 15, 9)),
        event(a, "moved_back", name("status"), name("prep"), at(2026, 5, 14, 12)),
        event(d, "lost", "open", "lost", at(2026, 5, 14, 11)),
        event(c, "won", "open", "won", at(2026, 5, 14, 10)),
        event(b, "pulled_in", "2026-07-01", "2026-06-15", at(2026, 5, 13, 12)),
        event(b, "amount_down", "200000.00", "120000.00", at(2026, 5, 13, 11)),
        event(a, "amount_up", "100000.00", "150000.00", at(2026, 5, 13, 10)),
        event(a, "slipped", "2026-06-01", "2026-06-30", at(2026, 5, 12, 11)),
        event(a, "advanced", name("prep"), name("status"), at(2026, 5, 12, 10)),
        event(b, "new", None, name("prep"), at(2026, 5, 11, 9)),
    ]
    assert body["count"] == 10


def test_since_a_later_day_and_for_one_owner(org, week):
    body = client_for(org.manager_a).get(URL, {"since": "2026-05-14", "owner": org.rep_a2.pk}).json()

    assert body["since"] == "2026-05-14"
    assert [(r["name"], r["kind"]) for r in body["rows"]] == [("C", "won")]


def test_a_rep_sees_only_events_of_their_own_opportunities(org, week):
    body = client_for(org.rep_b1).get(URL).json()

    assert [(r["name"], r["kind"]) for r in body["rows"]] == [("F", "new")]


def test_a_director_sees_every_team(org, week):
    body = client_for(org.director).get(URL, {"team": org.team_b.pk}).json()
    everyone = client_for(org.director).get(URL).json()

    assert [(r["name"], r["kind"]) for r in body["rows"]] == [("F", "new")]
    assert everyone["count"] == 11


@pytest.mark.parametrize(
    ("viewer", "params"),
    [("rep_a1", {"owner": "rep_b1"}), ("manager_a", {"team": "team_b"}), ("rep_a1", {"team": "team_b"})],
)
def test_a_rep_or_team_the_viewer_cannot_see_answers_404(org, week, viewer, params):
    ids = {key: getattr(org, value).pk for key, value in params.items()}

    assert client_for(getattr(org, viewer)).get(URL, ids).status_code == 404


@pytest.mark.parametrize(("params", "field"), [({"since": "last monday"}, "since"), ({"owner": 0}, "owner")])
def test_bad_parameters_answer_400_naming_the_field(org, week, params, field):
    response = client_for(org.manager_a).get(URL, params)

    assert response.status_code == 400
    assert field in response.json()


def test_pages_are_bounded_and_the_query_count_does_not_grow(org, week, django_assert_num_queries, time_machine):
    with django_assert_num_queries(3):  # the events of the page, then its stage changes and its history rows
        rows = change_rows(list(change_events(viewer=org.manager_a, since=date(2026, 5, 11))[:4]))
    assert [r.kind for r in rows] == ["reopened", "moved_back", "lost", "won"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client_for(org.manager_a).get(URL, {"page_size": 5})
        assert response.status_code == 200
        return len(captured)

    once = queries()
    for i in range(10):
        opportunity = OpportunityFactory(owner=org.rep_a2, amount=Decimal(10))
        time_machine.move_to(at(2026, 5, 15, 10, i, 1), tick=False)
        edit_opportunity(opportunity=opportunity, changed_by=org.rep_a2, amount=Decimal(20 + i))
        time_machine.move_to(at(2026, 5, 15, 10, i, 2), tick=False)
        move_opportunity(opportunity=opportunity, to_stage_code="status", moved_by=org.manager_a, override_reason="x")
    body = client_for(org.manager_a).get(URL, {"page_size": 5, "page": 2}).json()

    assert queries() == once
    assert (body["count"], len(body["rows"])) == (30, 5)
    assert [r["kind"] for r in body["rows"]] == ["amount_up", "advanced", "amount_up", "advanced", "amount_up"]
