"""The read-only analytics endpoints under /api/v1/analytics/: shapes, parameters, visibility per role."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from analytics.api.views import AttainmentRowSerializer
from analytics.selectors.attainment import AttainmentRow
from analytics.services import compute_matrix, flag_untouched
from tests.analytics.conftest import NOW, at, done_visit, lost, won
from tests.factories import (
    AccountFactory,
    AccountYearFactory,
    OpportunityFactory,
    RegionFactory,
    SalesTargetFactory,
    default_stage,
)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/analytics/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def data(org, now):
    """One account, target and opportunity set per rep, so each role sees a different share."""
    for rep, amount in [(org.rep_a1, "1000"), (org.rep_a2, "2000"), (org.rep_b1, "3000")]:
        account = AccountFactory(owner=rep, name=f"{rep.username} Co", is_target=True, target_since=date(2026, 1, 2))
        AccountYearFactory(account=account, year=2026, potential_value=Decimal(amount))
        AccountYearFactory(account=account, year=2025, potential_value=Decimal(amount))
        won(account=account, amount=amount, closed_at=at(2026, 2, 10), created_at=at(2026, 1, 5))
        lost(account=account, closed_at=at(2026, 3, 10), created_at=at(2026, 1, 6), untouched=True)
        OpportunityFactory(account=account, owner=rep, stage=default_stage("needs"), amount=Decimal(amount))
        SalesTargetFactory(owner_user=rep, period_type="month", period_start=date(2026, 2, 1), amount=Decimal(amount))
    done_visit(account=org.rep_a1.accounts.get(), done_at=NOW - timedelta(days=1))
    compute_matrix(year=2025)
    compute_matrix(year=2026)
    flag_untouched()


def test_funnel_answers_the_documented_shape(org, data):
    body = client_for(org.director).get(f"{BASE}funnel/", {"start": "2026-01-01", "end": "2026-05-15"}).json()

    assert set(body) >= {"stages", "won", "lost", "untouched_losses", "win_rate"}
    assert set(body["stages"][0]) >= {
        "stage",
        "count",
        "amount",
        "weighted_amount",
        "reached",
        "conversion",
        "median_days",
    }
    needs = next(s for s in body["stages"] if s["stage"] == "needs")
    assert (needs["count"], needs["amount"], needs["weighted_amount"]) == (3, "6000.00", "1800.00")
    assert (body["won"], body["lost"], body["untouched_losses"], body["win_rate"]) == (3, 3, 3, 0.5)
    assert (body["created"], body["stages"][0]["reached"]) == (9, 9)


def test_funnel_defaults_to_this_year_and_the_default_pipeline(org, data):
    body = client_for(org.rep_a1).get(f"{BASE}funnel/").json()

    assert (body["pipeline"], body["start"], body["end"]) == ("b2b", "2026-01-01", "2026-05-15")
    assert (body["won"], body["lost"], body["win_rate"]) == (1, 1, 0.5)


@pytest.mark.parametrize(
    ("viewer", "count", "won"),
    [("rep_a1", 1, 1), ("manager_a", 2, 2), ("manager_b", 1, 1), ("director", 3, 3)],
)
def test_funnel_shows_what_each_role_may_see(org, data, viewer, count, won):
    body = client_for(getattr(org, viewer)).get(f"{BASE}funnel/").json()

    assert next(s["count"] for s in body["stages"] if s["stage"] == "needs") == count
    assert body["won"] == won


def test_funnel_narrows_to_a_visible_owner_or_team(org, data):
    client = client_for(org.manager_a)

    by_owner = client.get(f"{BASE}funnel/", {"owner": org.rep_a2.pk}).json()
    by_team = client.get(f"{BASE}funnel/", {"team": org.team_a.pk}).json()

    assert next(s["amount"] for s in by_owner["stages"] if s["stage"] == "needs") == "2000.00"
    assert next(s["amount"] for s in by_team["stages"] if s["stage"] == "needs") == "3000.00"


@pytest.mark.parametrize(
    ("viewer", "params"),
    [
        ("rep_a1", {"owner": "rep_a2"}),
        ("rep_a1", {"team": "team_b"}),
        ("manager_a", {"owner": "rep_b1"}),
        ("manager_a", {"team": "team_b"}),
        ("manager_a", {"owner": 999999}),
    ],
)
@pytest.mark.parametrize("endpoint", ["funnel/", "cvpv/", "untouched/", "attainment/"])
def test_an_owner_or_team_the_viewer_cannot_see_answers_404(org, data, viewer, params, endpoint):
    query = {key: value if isinstance(value, int) else getattr(org, value).pk for key, value in params.items()}

    response = client_for(getattr(org, viewer)).get(f"{BASE}{endpoint}", query)

    assert response.status_code == 404
    assert "6000" not in response.content.decode()


@pytest.mark.parametrize(
    ("endpoint", "params", "field"),
    [
        ("funnel/", {"start": "yesterday"}, "start"),
        ("funnel/", {"start": "2026-05-01", "end": "2026-04-01"}, "end"),
        ("funnel/", {"pipeline": "no-such-pipeline"}, "pipeline"),
        ("funnel/", {"owner": "rep1"}, "owner"),
        ("funnel/", {"team": "-3"}, "team"),
        ("cvpv/", {"year": "twenty"}, "year"),
        ("cvpv/", {"year": "99999"}, "year"),
        ("attainment/", {"period_type": "decade"}, "period_type"),
        ("attainment/", {"year": "2026.5"}, "year"),
        ("territory/", {}, "dimension"),
        ("territory/", {"dimension": "planet"}, "dimension"),
    ],
)
def test_bad_query_parameters_answer_400_naming_the_field(org, data, endpoint, params, field):
    response = client_for(org.director).get(f"{BASE}{endpoint}", params)

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("endpoint", ["funnel/", "cvpv/", "untouched/", "attainment/", "territory/?dimension=org"])
def test_anonymous_callers_get_nothing(data, endpoint):
    response = APIClient().get(f"{BASE}{endpoint}")

    assert response.status_code in (401, 403)
    assert "accounts" not in response.json()


def test_cvpv_answers_the_documented_shape_with_company_thresholds(org, data):
    body = client_for(org.manager_a).get(f"{BASE}cvpv/", {"year": 2026}).json()

    assert set(body) >= {"year", "computed_at", "thresholds", "accounts", "transitions"}
    assert body["thresholds"] == {"cv": "2000.00", "pv": "2000.00", "fixed": False}
    assert [
        (a["name"], a["customer_type"], a["cv"], a["pv"], a["share"], a["quadrant"], a["previous_quadrant"])
        for a in body["accounts"]
    ] == [  # in visit-priority order: both are targets without installed base, core before observe
        ("rep_a2 Co", "none", "2000.00", "2000.00", 1.0, "core", "core"),
        ("rep_a1 Co", "none", "1000.00", "1000.00", 1.0, "observe", "maintain"),  # 2025: CV 0 ≥ median 0
    ]
    assert set(body["accounts"][0]) >= {"account", "name", "customer_type", "cv", "pv", "share", "quadrant"}
    assert {"previous_quadrant", "priority"} <= set(body["accounts"][0])
    assert body["transitions"]["maintain"] == {"core": 0, "develop": 0, "maintain": 0, "observe": 1}
    assert body["transitions"]["core"]["core"] == 1
    assert body["computed_at"].startswith("2026-05-15T10:00:00")


@pytest.mark.parametrize(
    ("viewer", "names"), [("rep_b1", ["rep_b1 Co"]), ("director", ["rep_a1 Co", "rep_a2 Co", "rep_b1 Co"])]
)
def test_cvpv_rows_follow_visibility_and_the_year_defaults_to_this_year(org, data, viewer, names):
    body = client_for(getattr(org, viewer)).get(f"{BASE}cvpv/").json()

    assert body["year"] == 2026
    assert sorted(a["name"] for a in body["accounts"]) == names
    assert body["thresholds"]["cv"] == "2000.00"


def test_cvpv_of_a_year_never_computed(org, data):
    body = client_for(org.director).get(f"{BASE}cvpv/", {"year": 2019}).json()

    assert (body["computed_at"], body["thresholds"]["cv"], body["accounts"]) == (None, None, [])
    assert (body["count"], body["next"], body["previous"]) == (0, None, None)


def test_cvpv_pages_its_accounts_and_keeps_the_whole_matrix_in_the_other_keys(org, data):
    client = client_for(org.director)

    first = client.get(f"{BASE}cvpv/", {"year": 2026, "page_size": 2}).json()
    second = client.get(f"{BASE}cvpv/", {"year": 2026, "page_size": 2, "page": 2}).json()

    assert list(first) == ["year", "computed_at", "thresholds", "count", "next", "previous", "accounts", "transitions"]
    assert (first["count"], len(first["accounts"]), first["previous"]) == (3, 2, None)
    assert first["next"] == "http://testserver/api/v1/analytics/cvpv/?page=2&page_size=2&year=2026"
    assert (second["count"], len(second["accounts"]), second["next"]) == (3, 1, None)
    assert second["previous"] == "http://testserver/api/v1/analytics/cvpv/?page_size=2&year=2026"
    names = [a["name"] for a in first["accounts"] + second["accounts"]]
    assert sorted(names) == ["rep_a1 Co", "rep_a2 Co", "rep_b1 Co"]
    assert first["transitions"] == second["transitions"]  # every account, whichever page
    assert sum(sum(row.values()) for row in first["transitions"].values()) == 3
    assert first["thresholds"] == second["thresholds"]


def test_cvpv_pages_at_the_default_size_and_refuses_a_page_past_the_end(org, data):
    client = client_for(org.manager_a)

    body = client.get(f"{BASE}cvpv/", {"year": 2026}).json()
    past = client.get(f"{BASE}cvpv/", {"year": 2026, "page": 9})

    assert (body["count"], len(body["accounts"]), body["next"], body["previous"]) == (2, 2, None, None)
    assert past.status_code == 404


def test_untouched_answers_the_documented_shape(org, data):
    body = client_for(org.manager_a).get(f"{BASE}untouched/").json()

    assert set(body) >= {"computed_at", "days", "coverage", "new_target_coverage", "accounts"}
    assert (body["days"], body["coverage"], body["new_target_coverage"]) == (90, 0.5, 0.0)
    assert [(a["name"], a["owner"], a["last_visit_at"], a["days_since"]) for a in body["accounts"]] == [
        ("rep_a2 Co", org.rep_a2.pk, None, None)
    ]
    assert set(body["accounts"][0]) >= {"account", "name", "owner", "last_visit_at", "days_since"}


@pytest.mark.parametrize(
    ("viewer", "names"), [("rep_a1", []), ("rep_b1", ["rep_b1 Co"]), ("director", ["rep_a2 Co", "rep_b1 Co"])]
)
def test_untouched_accounts_follow_visibility(org, data, viewer, names):
    body = client_for(getattr(org, viewer)).get(f"{BASE}untouched/").json()

    assert sorted(a["name"] for a in body["accounts"]) == names


def test_attainment_answers_the_documented_shape(org, data):
    body = client_for(org.manager_b).get(f"{BASE}attainment/", {"period_type": "month", "year": 2026}).json()

    assert set(body) >= {"rows", "stability"}
    assert body["rows"] == [
        {
            "owner": org.rep_b1.pk,
            "owner_type": "user",
            "owner_name": "rep_b1",
            "period_start": "2026-02-01",
            "target": "3000.00",
            "won_amount": "3000.00",
            "attainment": 1.0,
        }
    ]
    assert body["stability"] == [
        {"owner": org.rep_b1.pk, "owner_name": "rep_b1", "months": 1, "cv": None, "stable": None}
    ]


@pytest.mark.parametrize(
    "row",
    [
        AttainmentRow("user", 7, "张三", "month", date(2026, 2, 1), Decimal("3000.00"), Decimal("1234.50"), 0.4115),
        AttainmentRow("team", 2, "East", "quarter", date(2026, 4, 1), None, Decimal("0.00"), None),
        AttainmentRow("user", 9, "rep", "week", date(2026, 3, 30), Decimal("0.00"), Decimal("99999999.99"), None),
    ],
)
def test_an_attainment_row_is_written_as_its_fields_would_write_it(row):
    """The row serializer writes a row without DRF's field-by-field lookups (a director's page holds ~600 rows): the
    same keys, in the same order, with the same values as the declared fields give."""
    serializer = AttainmentRowSerializer()

    fast = serializer.to_representation(row)

    by_fields = serializers.Serializer.to_representation(serializer, row)
    assert list(fast.items()) == list(by_fields.items())


@pytest.mark.parametrize(("viewer", "owners"), [("rep_a1", {"rep_a1"}), ("director", {"rep_a1", "rep_a2", "rep_b1"})])
def test_attainment_follows_visibility(org, data, viewer, owners):
    body = client_for(getattr(org, viewer)).get(f"{BASE}attainment/").json()

    assert {r["owner_name"] for r in body["rows"]} == owners
    assert {s["owner_name"] for s in body["stability"]} == owners


@pytest.mark.parametrize("dimension", ["region", "industry_size", "org", "competitor", "revenue"])
def test_territory_answers_the_documented_shape_in_every_dimension(org, data, dimension):
    body = client_for(org.director).get(f"{BASE}territory/", {"dimension": dimension}).json()

    assert body["dimension"] == dimension
    assert set(body["rows"][0]) >= {
        "key",
        "accounts",
        "targets",
        "our_units",
        "competitor_units",
        "our_share",
        "cv",
        "pv",
        "open_pipeline",
        "coverage",
    }
    assert sum(r["accounts"] for r in body["rows"] if r.get("level") in (None, 1)) == 3


@pytest.mark.parametrize(("viewer", "accounts"), [("rep_a1", 1), ("manager_a", 2), ("director", 3)])
def test_territory_follows_visibility(org, data, viewer, accounts):
    body = client_for(getattr(org, viewer)).get(f"{BASE}territory/", {"dimension": "org"}).json()

    standalone = next(r for r in body["rows"] if r["key"] == "standalone")
    assert standalone["accounts"] == accounts
    assert standalone["open_pipeline"] == {1: "1000.00", 2: "3000.00", 3: "6000.00"}[accounts]


@pytest.mark.parametrize(("language", "label"), [("en", "East"), ("zh-hans", "华东")])
def test_labels_follow_the_callers_language_also_with_a_token(org, data, language, label):
    org.director.language = language
    org.director.save()
    AccountFactory(owner=org.rep_a1, region=RegionFactory(code="EAST", name="华东", name_en="East"))

    body = client_for(org.director).get(f"{BASE}territory/", {"dimension": "region"}).json()

    assert next(r["label"] for r in body["rows"] if r["key"] == "EAST") == label


def test_untouched_pages_its_accounts_with_count_and_links(org, data):
    client = client_for(org.director)

    first = client.get(f"{BASE}untouched/", {"page_size": 1}).json()
    second = client.get(first["next"]).json()

    assert (first["count"], first["previous"], second["next"]) == (2, None, None)
    assert [a["name"] for a in first["accounts"] + second["accounts"]] == ["rep_a2 Co", "rep_b1 Co"]
    assert second["previous"] is not None
    assert second["coverage"] == first["coverage"]  # the coverage is of every target, whichever page


def test_attainment_pages_by_owner_and_keeps_each_owners_rows_and_stability_together(org, data):
    client = client_for(org.director)

    pages = [client.get(f"{BASE}attainment/", {"period_type": "month", "year": 2026, "page_size": 2}).json()]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"]).json())
    whole = client.get(f"{BASE}attainment/", {"period_type": "month", "year": 2026, "page_size": 200}).json()

    assert [len({r["owner_name"] for r in page["rows"]}) for page in pages] == [2, 1]
    assert pages[0]["count"] == whole["count"] == 3
    paged_rows = [row for page in pages for row in page["rows"]]
    assert sorted(paged_rows, key=lambda r: (r["owner_name"], r["period_start"])) == sorted(
        whole["rows"], key=lambda r: (r["owner_name"], r["period_start"])
    )
    assert [s for page in pages for s in page["stability"]] == whole["stability"]
    assert {r["owner_name"] for r in pages[0]["rows"]} == {s["owner_name"] for s in pages[0]["stability"]}


def test_attainment_page_past_the_end_is_404(org, data):
    response = client_for(org.director).get(f"{BASE}attainment/", {"page": 9})

    assert response.status_code == 404
