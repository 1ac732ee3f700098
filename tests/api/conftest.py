import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    # Throttling counts requests in the cache; each test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    """api(user) -> an APIClient signed in as `user` (None: anonymous)."""

    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture
def owned(org, default_pipeline):
    """One row of every owned kind belonging to rep_a1: an account with a contact, installed base and a year's
    figures, an open opportunity at prep, a planned visit about it, and rep_a1's monthly target."""
    from tests.factories import (
        AccountFactory,
        AccountYearFactory,
        CompetitorFactory,
        ContactFactory,
        InstalledBaseFactory,
        OpportunityFactory,
        SalesTargetFactory,
        VisitFactory,
    )

    class Owned:
        owner = org.rep_a1
        account = AccountFactory(owner=org.rep_a1)
        contact = ContactFactory(account=account)
        installed_base = InstalledBaseFactory(account=account)
        account_year = AccountYearFactory(account=account)
        competitor = CompetitorFactory()
        opportunity = OpportunityFactory(owner=org.rep_a1, account=account)
        visit = VisitFactory(account=account, opportunity=opportunity)
        target = SalesTargetFactory(owner_user=org.rep_a1)

    return Owned
