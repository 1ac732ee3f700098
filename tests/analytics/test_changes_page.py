"""/analytics/changes/: the events of the changes selector as a page, per role, with filters and a constant query
count (the week of tests/analytics/test_changes.py: ten events in team A, one in team B)."""

import re

import pytest
from django.urls import reverse

from pipeline.services.opportunities import create_opportunity
from tests.analytics.conftest import at
from tests.analytics.test_changes import week  # noqa: F401  (the fixture)
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
URL = "/analytics/changes/"


def rows(html: str) -> list[tuple[str, str]]:
    """(opportunity name, change kind) per row, in order."""
    found = re.findall(r'<tr data-change="(\w+)" data-opportunity="\d+">.*?data-col="name"><a [^>]*>([^<]*)</a>', html,
                       re.DOTALL)  # fmt: skip
    return [(name, kind) for kind, name in found]


def test_the_url_is_the_one_named():
    assert reverse("analytics:changes") == URL


def test_a_manager_sees_the_events_of_their_team_since_monday_with_links_and_labels(client, org, week):  # noqa: F811
    client.force_login(org.manager_a)
    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert rows(html) == [
        ("D", "reopened"),
        ("A", "moved_back"),
        ("D", "lost"),
        ("C", "won"),
        ("B", "pulled_in"),
        ("B", "amount_down"),
        ("A", "amount_up"),
        ("A", "slipped"),
        ("A", "advanced"),
        ("B", "new"),
    ]
    assert f'href="/opportunities/{week["A"].pk}/"' in html
    assert 'value="2026-05-11"' in html  # since defaults to this week's Monday
    assert "F" not in [name for name, _kind in rows(html)]  # team B's opportunity


def test_kinds_and_amounts_are_shown_as_labels(client, org, week):  # noqa: F811
    org.manager_a.language = "en"
    org.manager_a.save()
    client.force_login(org.manager_a)
    html = client.get(URL).content.decode()

    assert "Close date slipped" in html and "Amount down" in html and "Moved back" in html
    assert "¥200,000" in html and "¥120,000" in html


def test_kinds_are_translated_to_chinese(client, org, week):  # noqa: F811
    client.force_login(org.manager_a)  # the user's language: Chinese
    html = client.get(URL).content.decode()

    assert "金额下降" in html and "赢单" in html


def test_since_and_owner_filters(client, org, week):  # noqa: F811
    client.force_login(org.manager_a)
    html = client.get(URL, {"since": "2026-05-14", "owner": org.rep_a2.pk}).content.decode()

    assert rows(html) == [("C", "won")]


def test_a_team_filter_narrows_to_that_team(client, org, week):  # noqa: F811
    client.force_login(org.director)
    assert rows(client.get(URL, {"team": org.team_b.pk}).content.decode()) == [("F", "new")]
    assert len(rows(client.get(URL).content.decode())) == 11  # the director: both teams


def test_a_rep_sees_only_their_own_events(client, org, week):  # noqa: F811
    client.force_login(org.rep_a2)
    assert rows(client.get(URL).content.decode()) == [("C", "won")]


@pytest.mark.parametrize("who,query", [("manager_a", "team_b"), ("manager_a", "rep_b1"), ("rep_a1", "rep_a2")])
def test_an_unseen_team_or_owner_answers_404(client, org, week, who, query):  # noqa: F811
    client.force_login(getattr(org, who))
    target = getattr(org, query)
    key = "team" if query.startswith("team") else "owner"

    assert client.get(URL, {key: target.pk}).status_code == 404


def test_a_malformed_query_answers_400_with_the_errors(client, org):
    client.force_login(org.manager_a)
    response = client.get(URL, {"since": "yesterday", "team": "x"})

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


def test_signed_out_users_are_sent_to_sign_in(client):
    assert client.get(URL).status_code == 302


@pytest.mark.parametrize("extra", [0, 100])
def test_the_page_runs_the_same_queries_whatever_the_number_of_events(
    client,
    org,
    week,  # noqa: F811
    django_assert_num_queries,
    time_machine,
    extra,
):
    time_machine.move_to(at(2026, 5, 11, 8), tick=False)  # before the week's events: page 1 mixes both sources
    for i in range(extra):
        create_opportunity(created_by=org.rep_a1, account=AccountFactory(owner=org.rep_a1), name=f"N{i}")
    time_machine.move_to(at(2026, 5, 15, 10), tick=False)
    client.force_login(org.manager_a)
    with django_assert_num_queries(8):  # session, user, teams, people, count, page, stage rows, history rows
        response = client.get(URL)
    assert response.status_code == 200
