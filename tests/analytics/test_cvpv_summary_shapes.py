"""The matrix summary's two ways of counting (analytics/selectors/cvpv.py): from the company's two years, for a
director's whole company, and from the viewer's accounts looking their years up, for a team or a person. Both give
the same quadrant counts and transitions for every viewer and scope: accounts in both years, new this year, gone
this year, archived, and other people's."""

from collections import Counter

import pytest
from django.utils import timezone

from analytics.models import AccountValue, MatrixRun
from analytics.selectors.cvpv import _pairs_of_accounts, _pairs_of_year, matrix_summary
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
QUADRANTS = ["core", "develop", "maintain", "observe"]


@pytest.fixture
def matrix(org):
    runs = {year: MatrixRun.objects.create(year=year) for year in (2025, 2026)}
    owners = [org.rep_a1, org.rep_a2, org.rep_b1, org.manager_a]
    for i in range(24):
        account = AccountFactory(owner=owners[i % 4], name=f"客户 {i}")
        if i % 6 == 5:
            account.archived_at = timezone.now()
            account.save(update_fields=["archived_at"])
        years = {0: (2025, 2026), 1: (2026,), 2: (2025,), 3: (2025, 2026), 4: (2026,), 5: (2025, 2026)}[i % 6]
        for year in years:
            AccountValue.objects.create(
                run=runs[year], account=account, year=year, cv=1, pv=2, quadrant=QUADRANTS[(i + year) % 4]
            )


@pytest.mark.parametrize(
    ("viewer", "scope"),
    [
        ("director", {}),
        ("director", {"team": "team_a"}),
        ("director", {"owner": "rep_b1"}),
        ("manager_a", {}),
        ("manager_a", {"owner": "rep_a2"}),
        ("manager_b", {}),
        ("rep_a1", {}),
    ],
)
def test_both_ways_count_the_same(org, matrix, viewer, scope):
    user = getattr(org, viewer)
    chosen = {key: getattr(org, name) for key, name in scope.items()}
    arguments = {"viewer": user, "year": 2026, "owner": chosen.get("owner"), "team": chosen.get("team")}

    from_year, from_accounts = Counter(_pairs_of_year(**arguments)), Counter(_pairs_of_accounts(**arguments))

    assert from_year == from_accounts
    assert sum(n for _last, _this, n in from_year.elements()) > 0
    summary = matrix_summary(**arguments)
    assert summary.total == sum(n for (_last, _this, n) in from_year)
