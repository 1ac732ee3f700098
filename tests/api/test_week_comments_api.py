"""The week-comments endpoint: a manager comments on a rep's week of visits, the rep reads it."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pipeline.models import VisitWeekComment

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)


def rows() -> list[tuple]:
    return list(
        VisitWeekComment.objects.order_by("pk").values_list("rep__username", "week_start", "author__username", "text")
    )


def test_the_reps_manager_comments_and_the_rep_reads_it(api, org):
    response = api(org.manager_a).post(
        "/api/v1/week-comments/", {"rep": org.rep_a1.pk, "week_start": MONDAY.isoformat(), "text": "Visit more targets"}
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["author"], response.json()["rep"]) == (org.manager_a.pk, org.rep_a1.pk)
    listed = api(org.rep_a1).get("/api/v1/week-comments/", {"week_start": MONDAY.isoformat()}).json()["results"]
    assert [(c["text"], c["author"]) for c in listed] == [("Visit more targets", org.manager_a.pk)]
    assert api(org.rep_a2).get("/api/v1/week-comments/").json()["results"] == []
    assert api(org.manager_b).get("/api/v1/week-comments/").json()["results"] == []
    assert len(api(org.director).get("/api/v1/week-comments/").json()["results"]) == 1


@pytest.mark.parametrize(
    ("author", "body", "status", "field"),
    [
        ("rep_a1", {"rep": "rep_a1"}, 403, None),  # a rep cannot comment on their own week
        ("rep_a2", {"rep": "rep_a1"}, 400, "rep"),  # nor see another rep
        ("manager_b", {"rep": "rep_a1"}, 400, "rep"),  # another team's rep does not exist for them
        ("manager_a", {"rep": "rep_a1", "week_start": "2026-11-24"}, 400, "week_start"),  # a Tuesday
        ("manager_a", {"rep": "rep_a1", "text": "   "}, 400, "text"),
    ],
)
def test_refused_comments_name_the_reason_and_write_nothing(api, org, author, body, status, field):
    payload = {"week_start": MONDAY.isoformat(), "text": "Good week", **body}
    payload["rep"] = getattr(org, payload["rep"]).pk

    response = api(getattr(org, author)).post("/api/v1/week-comments/", payload)

    assert response.status_code == status, response.json()
    if field:
        assert field in response.json()
    assert rows() == []


def test_comments_cannot_be_edited(api, org):
    comment = VisitWeekComment.objects.create(rep=org.rep_a1, week_start=MONDAY, author=org.manager_a, text="x")

    response = api(org.manager_a).patch(f"/api/v1/week-comments/{comment.pk}/", {"text": "y"})

    assert response.status_code == 405
    assert rows() == [("rep_a1", MONDAY, "manager_a", "x")]


def test_listing_comments_runs_the_same_queries_with_ten_times_the_rows(api, org):
    client = api(org.manager_a)

    def count(n: int) -> int:
        VisitWeekComment.objects.all().delete()
        VisitWeekComment.objects.bulk_create(
            VisitWeekComment(rep=org.rep_a1, week_start=MONDAY, author=org.manager_a, text=str(i)) for i in range(n)
        )
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/week-comments/").status_code == 200
        return len(queries)

    assert count(3) == count(30)
