"""Property-based run of schemathesis against /api/schema/, in-process through the WSGI app, signed in as a director.

Every operation of the schema gets a bounded, deterministic set of generated requests (valid and invalid); none
may answer 5xx, and every response must match the status codes, content type and body schema the schema documents.
"""

import json

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings

from accounts.tokens import issue_token
from salesflow.wsgi import application
from tests.factories import (
    AccountYearFactory,
    CompetitorFactory,
    ContactFactory,
    InstalledBaseFactory,
    OpportunityFactory,
    SalesTargetFactory,
    VisitFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Phases: the schema's own examples, its boundary values (coverage), then 15 generated cases per operation, valid
# and invalid, the same ones on every run. About 1.5 minutes on two cores.
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"max-examples": 15, "deterministic": True},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
    }
)
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]


@pytest.fixture
def in_test_transaction():
    """Keeps the test's database connection across requests, as Django's test client does: the WSGI handler would
    otherwise close it when a request finishes (PostgreSQL), rolling the test's transaction away."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def director_token(org, default_pipeline, in_test_transaction):
    """A small company with a row of every kind, and the director's token."""
    competitor = CompetitorFactory()
    for owner in (org.rep_a1, org.rep_b1, org.manager_a):
        opportunity = OpportunityFactory(owner=owner)
        opportunity.competitors.add(competitor)
        ContactFactory(account=opportunity.account)
        InstalledBaseFactory(account=opportunity.account)
        AccountYearFactory(account=opportunity.account)
        VisitFactory(account=opportunity.account, opportunity=opportunity)
        VisitFactory(account=opportunity.account, status="done", planned_at=None, done_at=timezone.now())
        SalesTargetFactory(owner_user=owner)
    return issue_token(user=org.director).key


# Requests say they came over HTTPS through the proxy, as production's do, so the app's HTTPS redirect lets them
# through. The schema is generated while collecting, as /api/schema/ serves it to a signed-in user (the endpoint
# itself needs a sign-in, and there is no user before the test database exists); cases run against the WSGI app.
HTTPS = {"X-Forwarded-Proto": "https"}


@pytest.fixture(autouse=True)
def _behind_one_proxy(settings):
    """The header counts only behind a proxy (NUM_PROXIES > 0), as in production."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def _served_schema() -> dict:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


schema = schemathesis.openapi.from_dict(_served_schema(), config=CONFIG)
schema.app = application
schema.location = "/api/schema/"


@schema.parametrize()
@settings(max_examples=15, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_a_server_error_or_breaks_its_schema(case, director_token):
    case.call_and_validate(headers={**HTTPS, "Authorization": f"Token {director_token}"}, checks=CHECKS)
