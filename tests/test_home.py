"""The home page: the viewer's visible open pipeline by stage, with a role-aware heading."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.selectors.funnel import FunnelStage, funnel_snapshot, funnel_total, without_empty_after_sales
from tests.factories import OpportunityFactory, UserFactory, default_stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline_data(org):
    """Open and closed opportunities across both teams."""
    prep, needs, propose = default_stage("prep"), default_stage("needs"), default_stage("propose")
    OpportunityFactory.create_batch(2, owner=org.rep_a1, stage=needs, amount=Decimal("100000"))
    OpportunityFactory(owner=org.rep_a1, stage=prep, amount=Decimal("50000.40"))
    OpportunityFactory(
        owner=org.rep_a1,
        stage=needs,
        amount=Decimal("999"),
        status="lost",
        loss_reason="price",
        closed_at=timezone.now(),
    )
    OpportunityFactory(
        owner=org.rep_a1, stage=default_stage("close"), amount=Decimal("777"), status="won", closed_at=timezone.now()
    )
    OpportunityFactory(owner=org.rep_a2, stage=propose, amount=Decimal("300000"))
    OpportunityFactory(owner=org.manager_a, stage=prep, amount=Decimal("20000"))
    OpportunityFactory(owner=org.rep_b1, stage=needs, amount=Decimal("1000000"))
    return org


# Visible open opportunities per viewer: {stage code: (count, amount)}; stages not listed are empty.
EXPECTED = {
    "rep_a1": {"prep": (1, "50000.40"), "needs": (2, "200000")},
    "manager_a": {"prep": (2, "70000.40"), "needs": (2, "200000"), "propose": (1, "300000")},
    "manager_b": {"needs": (1, "1000000")},
    "director": {"prep": (2, "70000.40"), "needs": (3, "1200000"), "propose": (1, "300000")},
}
HEADINGS = {
    "rep_a1": "我的销售漏斗",
    "manager_a": "团队销售漏斗",
    "manager_b": "团队销售漏斗",
    "director": "公司销售漏斗",
}


def _rendered_figures(html: str, stage_code: str) -> tuple[str, str]:
    match = re.search(
        rf'data-stage="{stage_code}">.*?funnel__count">([^<]*)<.*?funnel__amount">([^<]*)<', html, flags=re.DOTALL
    )
    assert match, f"no funnel row for {stage_code}"
    return match.group(1), match.group(2)


@pytest.mark.parametrize("viewer_name", list(EXPECTED))
def test_home_shows_exactly_the_open_opportunities_the_viewer_may_see(client, pipeline_data, viewer_name):
    viewer = getattr(pipeline_data, viewer_name)
    client.force_login(viewer)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    expected = EXPECTED[viewer_name]
    rows = response.context["funnel_rows"]
    assert [r.stage.code for r in rows] == [
        "prep",
        "status",
        "opportunity",
        "needs",
        "develop",
        "propose",
        "commit",
        "close",
    ]
    for row in rows:
        count, amount = expected.get(row.stage.code, (0, "0"))
        assert (row.count, row.amount) == (count, Decimal(amount))
    html = response.content.decode()
    for code, (count, amount) in expected.items():
        assert _rendered_figures(html, code) == (str(count), f"¥{Decimal(amount):,.0f}")
    assert _rendered_figures(html, "status") == ("0", "¥0")
    total_count = sum(c for c, _ in expected.values())
    total_amount = sum(Decimal(a) for _, a in expected.values())
    assert (response.context["funnel_total"].count, response.context["funnel_total"].amount) == (
        total_count,
        total_amount,
    )
    assert _rendered_figures(html, "total") == (str(total_count), f"¥{total_amount:,.0f}")
    assert f"<h1>{HEADINGS[viewer_name]}</h1>" in html


def test_home_weighted_amount_uses_each_opportunitys_probability(client, org):
    OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"), amount=Decimal("100000"), probability=30)
    OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"), amount=Decimal("50000"), probability=55)
    client.force_login(org.rep_a1)

    response = client.get(reverse("home"))

    needs = next(r for r in response.context["funnel_rows"] if r.stage.code == "needs")
    assert needs.weighted_amount == Decimal("57500.00")
    assert 'data-total="weighted">¥57,500<' in response.content.decode()


def test_home_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


@pytest.mark.parametrize("opportunity_count", [5, 50])
def test_home_runs_the_same_number_of_queries_whatever_the_data_size(
    client, org, django_assert_num_queries, opportunity_count
):
    stages = [default_stage(code) for code in ("prep", "status", "needs", "commit")]
    for index in range(opportunity_count):
        OpportunityFactory(owner=org.rep_a1 if index % 2 else org.rep_a2, stage=stages[index % len(stages)])
    client.force_login(org.manager_a)

    # session, user, default pipeline, the funnel; the week's visits (its list and counts in one query) and plan; the
    # to-do (its five lists and when the flags ran, in one query); this month's and this quarter's attainment (the
    # targets of both, the wins)
    with django_assert_num_queries(9):
        response = client.get(reverse("home"))

    assert response.context["funnel_total"].count == opportunity_count


def test_selector_counts_open_visible_opportunities_per_stage_in_one_query(
    org, default_pipeline, django_assert_num_queries
):
    needs = default_stage("needs")
    OpportunityFactory.create_batch(2, owner=org.rep_a1, stage=needs, amount=Decimal("100"))
    OpportunityFactory(
        owner=org.rep_a1, stage=needs, amount=Decimal("5"), status="lost", loss_reason="price", closed_at=timezone.now()
    )
    OpportunityFactory(owner=org.rep_b1, stage=needs, amount=Decimal("1000"))

    with django_assert_num_queries(1):
        rows = funnel_snapshot(viewer=org.rep_a1, pipeline=default_pipeline)

    assert [(r.stage.code, r.count, r.amount) for r in rows if r.count] == [("needs", 2, Decimal("200"))]
    assert [r.stage.code for r in rows][-1] == "implement"  # every stage, the after-sales one included
    with django_assert_num_queries(0):
        shown = without_empty_after_sales(rows)
    assert len(shown) == 8  # the after-sales stage only shows when it holds open opportunities


def test_home_shows_an_after_sales_stage_that_holds_open_opportunities(client, org):
    OpportunityFactory(owner=org.rep_a1, stage=default_stage("implement"), amount=Decimal("10"))
    client.force_login(org.rep_a1)

    response = client.get(reverse("home"))

    rows = response.context["funnel_rows"]
    assert (len(rows), rows[-1].stage.code, rows[-1].count, rows[-1].amount) == (9, "implement", 1, Decimal("10"))
    assert _rendered_figures(response.content.decode(), "implement") == ("1", "¥10")


def test_selector_shows_nothing_to_an_inactive_user(org, default_pipeline):
    OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))
    former = UserFactory(username="former", role="director", is_active=False)

    rows = funnel_snapshot(viewer=former, pipeline=default_pipeline)

    assert sum(r.count for r in rows) == 0


def test_funnel_total_sums_rows_and_finds_the_largest_figures(stage):
    rows = [
        FunnelStage(stage=stage("prep"), count=3, amount=Decimal("10"), weighted_amount=Decimal("0.50")),
        FunnelStage(stage=stage("needs"), count=1, amount=Decimal("40"), weighted_amount=Decimal("12")),
    ]

    total = funnel_total(rows)

    assert (total.count, total.amount, total.weighted_amount, total.max_count, total.max_amount) == (
        4,
        Decimal("50"),
        Decimal("12.50"),
        3,
        Decimal("40"),
    )


def test_pages_load_htmx_from_our_static_files_and_send_the_csrf_token_with_htmx_requests(client, org):
    client.force_login(org.rep_a1)

    response = client.get(reverse("home"))

    html = response.content.decode()
    token = response.context["csrf_token"]
    assert f"""<body hx-headers='{{"X-CSRFToken": "{token}"}}'>""" in html
    assert '<script src="/static/vendor/htmx/htmx.min.js" defer></script>' in html
    assert "//cdn" not in html and "https://" not in html


def test_every_page_links_to_the_weekly_digest_preview(client, org):
    client.force_login(org.rep_a1)

    response = client.get("/")

    assert 'href="/digest/preview/"' in response.content.decode()
