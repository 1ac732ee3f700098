"""The manager's endpoints (forecast, changes, win/loss) are in the OpenAPI schema with their parameters and shapes."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(org):
    org.manager_a.language = "en"
    org.manager_a.save(update_fields=["language"])
    client = APIClient()
    client.force_login(org.manager_a)
    response = client.get("/api/schema/", {"format": "json"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.json()


def parameters(schema, path: str) -> set[str]:
    return {p["name"] for p in schema["paths"][path]["get"]["parameters"]}


def component(schema, name: str) -> dict:
    return schema["components"]["schemas"][name]


def test_the_forecast_endpoint_is_documented(schema):
    assert parameters(schema, "/api/v1/analytics/forecast/") == {
        "period_type",
        "year",
        "period",
        "team",
        "owner",
        "page",
        "page_size",
    }
    row = component(schema, "ForecastRow")["properties"]
    assert {"owner", "target", "won", "commit", "best_case", "pipeline", "gap"} <= set(row)
    assert "commit is not included" in row["best_case"]["description"]
    assert {"period_start", "period_end", "rows", "totals"} <= set(component(schema, "Forecast")["properties"])


def test_the_changes_endpoint_is_documented_with_from_and_to(schema):
    assert parameters(schema, "/api/v1/analytics/changes/") == {"since", "team", "owner", "page", "page_size"}
    row = component(schema, "ChangeRow")["properties"]
    assert {"opportunity", "name", "owner", "kind", "from", "to", "at"} <= set(row)
    assert "slipped or pulled_in" in row["kind"]["description"]


def test_the_winloss_endpoint_is_documented(schema):
    assert parameters(schema, "/api/v1/analytics/winloss/") == {"start", "end", "team", "owner", "dimension"}
    row = component(schema, "WinLossRow")["properties"]
    assert set(row) == {"key", "label", "won", "lost", "won_amount", "lost_amount", "win_rate"}
