"""The pipeline board page: visibility, column totals, bounded cards, moves by drag or stage menu, filters."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pipeline.models import Opportunity, Pipeline, Stage, StageChange, StageCriterion
from pipeline.process_templates import TEMPLATES, install_pipeline
from pipeline.selectors.opportunities import OpportunityFilters, board_columns
from tests.factories import AccountFactory, OpportunityFactory, StageChangeFactory, VisitFactory, default_stage

BOARD = reverse("pipeline:board")
HTMX = {"HTTP_HX_REQUEST": "true"}


def move_url(opportunity: Opportunity, query: str = "") -> str:
    return reverse("pipeline:board_move", args=[opportunity.pk]) + (f"?{query}" if query else "")


def card_count(html: str) -> int:
    return html.count('id="card-')


def column_of_card(html: str, opportunity: Opportunity) -> str:
    """The stage code of the board column whose card list holds the opportunity's card ("" if not drawn)."""
    for segment in html.split('<ol class="board-column__cards" data-stage="')[1:]:
        code, cards = segment.split('"', 1)
        if f'id="card-{opportunity.pk}"' in cards.split("</ol>", 1)[0]:
            return code
    return ""


def ready_to_leave_prep(opportunity: Opportunity) -> None:
    """Meets the exit criteria of 事先准备: profile complete (factory), purpose written, a visit planned."""
    Opportunity.objects.filter(pk=opportunity.pk).update(criteria_values={"visit_purpose": "了解现有设备"})
    VisitFactory(account=opportunity.account)


# --- visibility ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "sees_it"),
    [("rep_a1", True), ("rep_a2", False), ("manager_a", True), ("manager_b", False), ("director", True)],
)
def test_the_board_shows_an_opportunity_only_to_those_who_may_see_it(client, org, viewer, sees_it):
    OpportunityFactory(owner=org.rep_a1, name="华东医院采购项目")
    client.force_login(getattr(org, viewer))

    response = client.get(BOARD)

    assert response.status_code == 200
    assert ("华东医院采购项目" in response.content.decode()) is sees_it


def test_the_board_requires_signing_in(client, db):
    response = client.get(BOARD)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("viewer", ["rep_a2", "manager_b"])
def test_moving_an_opportunity_the_user_cannot_see_answers_404_and_writes_nothing(client, org, viewer, stage):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    ready_to_leave_prep(opportunity)
    client.force_login(getattr(org, viewer))

    response = client.post(move_url(opportunity), {"stage": "status", "version": 1}, **HTMX)

    assert response.status_code == 404
    opportunity.refresh_from_db()
    assert (opportunity.stage.code, opportunity.version) == ("prep", 1)
    assert not StageChange.objects.exists()


@pytest.mark.parametrize("viewer", ["rep_a1", "manager_a", "director"])
def test_those_who_see_an_opportunity_can_move_it_on_the_board(client, org, viewer):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    ready_to_leave_prep(opportunity)
    client.force_login(getattr(org, viewer))

    response = client.post(move_url(opportunity), {"stage": "status", "version": 1}, **HTMX)

    assert response.status_code == 200
    opportunity.refresh_from_db()
    assert opportunity.stage.code == "status"


# --- columns and cards --------------------------------------------------------------------------------------------


def test_a_column_header_counts_and_sums_every_matching_opportunity_but_draws_only_the_first_cards(
    client, org, settings
):
    settings.SALESFLOW_BOARD_CARDS_PER_COLUMN = 2
    needs = default_stage("needs")
    for amount in (100, 200, 300, 400, 500):
        OpportunityFactory(owner=org.rep_a1, stage=needs, amount=Decimal(amount), name=f"商机-{amount}")
    org.rep_a1.language = "en"
    org.rep_a1.save()
    client.force_login(org.rep_a1)

    response = client.get(BOARD)

    html = response.content.decode()
    column = next(c for c in response.context["columns"] if c.stage == needs)
    assert (column.count, column.amount, column.hidden_count) == (5, Decimal(1500), 3)
    assert [card.name for card in column.cards] == ["商机-500", "商机-400"]
    section = html.split(f'aria-labelledby="column-{needs.pk}"', 1)[1].split("</section>", 1)[0]
    assert re.search(r'class="board-column__count"[^>]*>5</span>', section)
    assert '<span class="board-column__amount" title="Total amount">¥1,500</span>' in section
    assert card_count(html) == 2
    assert "商机-300" not in html
    assert "3 more…" in section
    link = re.search(r'class="board-column__more" href="([^"]+)"', section).group(1).replace("&amp;", "&")
    assert link.startswith(reverse("pipeline:opportunity_list") + "?")
    assert set(link.split("?", 1)[1].split("&")) == {
        "status=open",
        "sort=-amount",
        f"pipeline={needs.pipeline_id}",
        f"stage={needs.pk}",
    }


def test_column_totals_run_in_one_aggregate_query_and_cards_in_one_windowed_query(
    org, default_pipeline, django_assert_num_queries, settings
):
    settings.SALESFLOW_BOARD_CARDS_PER_COLUMN = 3
    for code in ("prep", "status", "needs"):
        OpportunityFactory.create_batch(5, owner=org.rep_a1, stage=default_stage(code))

    with django_assert_num_queries(3):
        columns = board_columns(viewer=org.rep_a1, pipeline=default_pipeline, filters=OpportunityFilters())

    assert [(c.stage.code, c.count, len(c.cards)) for c in columns][:4] == [
        ("prep", 5, 3),
        ("status", 5, 3),
        ("opportunity", 0, 0),
        ("needs", 5, 3),
    ]


def test_the_board_leaves_out_closed_opportunities(client, org):
    close = default_stage("close")
    OpportunityFactory(owner=org.rep_a1, stage=close, name="已签约", status="won", closed_at=timezone.now())
    OpportunityFactory(owner=org.rep_a1, stage=close, name="进行中")
    client.force_login(org.rep_a1)

    html = client.get(BOARD).content.decode()

    assert "进行中" in html
    assert "已签约" not in html


def test_the_board_runs_as_many_queries_with_ten_times_the_opportunities(client, org, django_assert_num_queries):
    stages = list(Stage.objects.filter(pipeline__is_default=True, order__lte=8))

    def grow(per_stage: int) -> None:
        for stage in stages:
            for opportunity in OpportunityFactory.create_batch(per_stage, owner=org.rep_a1, stage=stage):
                StageChangeFactory(opportunity=opportunity)
                VisitFactory(account=opportunity.account, opportunity=opportunity)

    grow(1)
    client.force_login(org.manager_a)
    with CaptureQueriesContext(connection) as small:
        assert client.get(BOARD).status_code == 200
    grow(9)

    with django_assert_num_queries(len(small)):
        response = client.get(BOARD)

    assert sum(c.count for c in response.context["columns"]) == 80
    assert len(small) <= 10


def test_a_card_shows_account_name_amount_and_days_in_stage(client, org):
    account = AccountFactory(owner=org.rep_a1, name="上海华联")
    opportunity = OpportunityFactory(owner=org.rep_a1, account=account, name="复印机更新", amount=Decimal("123456"))
    Opportunity.objects.filter(pk=opportunity.pk).update(stage_entered_at=timezone.now() - timedelta(days=4))
    org.rep_a1.language = "en"
    org.rep_a1.save()
    client.force_login(org.rep_a1)

    html = client.get(BOARD).content.decode()

    assert "上海华联" in html
    assert "复印机更新" in html
    assert "¥123,456" in html
    assert "4 days in stage" in html


def test_a_card_is_marked_stale_after_the_stale_days_without_a_stage_change_or_a_completed_visit(client, org, settings):
    settings.SALESFLOW_STALE_DAYS = 21
    long_ago = timezone.now() - timedelta(days=30)
    old = OpportunityFactory(owner=org.rep_a1, name="旧商机", created_at=long_ago, stage_entered_at=long_ago)
    visited = OpportunityFactory(owner=org.rep_a1, name="有拜访", created_at=long_ago, stage_entered_at=long_ago)
    VisitFactory(
        account=visited.account,
        opportunity=visited,
        status="done",
        planned_at=None,
        done_at=timezone.now() - timedelta(days=3),
    )
    OpportunityFactory(owner=org.rep_a1, name="新商机")
    client.force_login(org.rep_a1)

    response = client.get(BOARD)

    prep = response.context["columns"][0]
    assert {card.name: card.is_stale for card in prep.cards} == {
        "旧商机": True,
        "有拜访": False,
        "新商机": False,
    }
    html = response.content.decode()
    assert html.count("board-card--stale") == 1
    assert re.search(rf'class="board-card board-card--stale"\s+id="card-{old.pk}"', html)


def test_a_recent_stage_change_keeps_a_card_fresh(org, default_pipeline):
    long_ago = timezone.now() - timedelta(days=60)
    opportunity = OpportunityFactory(owner=org.rep_a1, created_at=long_ago, stage_entered_at=long_ago)
    StageChangeFactory(opportunity=opportunity, changed_at=timezone.now() - timedelta(days=2))

    columns = board_columns(viewer=org.rep_a1, pipeline=default_pipeline, filters=OpportunityFilters())

    assert columns[0].cards[0].is_stale is False


# --- moving cards -------------------------------------------------------------------------------------------------


def test_a_refused_move_shows_the_unmet_criteria_on_the_card_and_writes_nothing(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, name="待准备")
    client.force_login(org.rep_a1)

    response = client.post(move_url(opportunity), {"stage": "status", "version": 1}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # the board region only, swapped in place
    assert "已写明拜访目的" in html  # Visit purpose written
    assert "已计划拜访" in html  # A visit is planned
    assert "客户档案完整" not in html  # met: the factory's account has industry, size and region
    assert 'name="override_reason"' not in html  # a rep cannot override
    assert column_of_card(html, opportunity) == "prep"  # the card is back in its column
    opportunity.refresh_from_db()
    assert (opportunity.stage.code, opportunity.version) == ("prep", 1)
    assert not StageChange.objects.exists()


def test_a_manager_sees_an_override_reason_field_on_a_refused_card(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    client.force_login(org.manager_a)

    html = client.post(move_url(opportunity), {"stage": "status", "version": 1}, **HTMX).content.decode()

    assert 'name="override_reason"' in html
    assert not StageChange.objects.exists()


def test_a_manager_can_move_past_unmet_criteria_with_a_reason_that_is_kept(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    client.force_login(org.manager_a)

    client.post(move_url(opportunity), {"stage": "status", "version": 1, "override_reason": "客户已口头确认"}, **HTMX)

    change = StageChange.objects.get()
    assert (change.from_stage.code, change.to_stage.code, change.override_reason) == (
        "prep",
        "status",
        "客户已口头确认",
    )


def test_a_successful_move_writes_one_stage_change_and_redraws_the_card_in_its_new_column(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, name="可推进")
    ready_to_leave_prep(opportunity)
    client.force_login(org.rep_a1)

    response = client.post(move_url(opportunity), {"stage": "status", "version": 1}, **HTMX)

    change = StageChange.objects.get()
    assert (change.opportunity, change.from_stage.code, change.to_stage.code, change.changed_by) == (
        opportunity,
        "prep",
        "status",
        org.rep_a1,
    )
    html = response.content.decode()
    assert column_of_card(html, opportunity) == "status"
    assert 'data-version="2"' in html


def test_the_stage_menu_works_without_javascript_and_returns_to_the_filtered_board(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    ready_to_leave_prep(opportunity)
    client.force_login(org.rep_a1)
    query = f"pipeline={opportunity.pipeline_id}&amount_min=10"

    response = client.post(move_url(opportunity, query), {"stage": "status", "version": 1})

    assert response.status_code == 302
    assert response["Location"] == f"{BOARD}?{query}"
    assert StageChange.objects.count() == 1


def test_a_refused_move_without_javascript_redirects_to_the_board_with_the_reasons_as_a_message(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    query = f"pipeline={opportunity.pipeline_id}"

    response = client.post(move_url(opportunity, query), {"stage": "status", "version": 1}, follow=True)

    html = response.content.decode()
    assert response.redirect_chain == [(f"{BOARD}?{query}", 302)]  # a refresh does not post again
    assert "<html" in html
    checklist = reverse("pipeline:opportunity", args=[opportunity.pk])
    assert (
        html.count(f'<a class="board-card__unmet-label" href="{checklist}#criterion-visit_purpose">已写明拜访目的</a>')
        == 1
    )
    assert 'class="board-card__error"' not in html  # not a second time on the card
    assert not StageChange.objects.exists()


def test_a_move_from_a_stale_card_asks_to_reload_and_writes_nothing(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, version=3)
    ready_to_leave_prep(opportunity)
    org.rep_a1.language = "en"
    org.rep_a1.save()
    client.force_login(org.rep_a1)

    html = client.post(move_url(opportunity), {"stage": "status", "version": 2}, **HTMX).content.decode()

    assert "Someone else changed this record in the meantime. Reload it and try again." in html
    assert "Reload the board" in html
    assert not StageChange.objects.exists()


def test_every_card_carries_a_stage_menu_that_posts_to_move_opportunity(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)

    html = client.get(BOARD).content.decode()

    assert f'action="{move_url(opportunity)}?pipeline={opportunity.pipeline_id}"' in html
    assert html.count('<option value="') >= 8  # the stages, at least, in the card's menu
    assert "vendor/sortablejs/Sortable.min.js" in html


# --- filters and pipelines ----------------------------------------------------------------------------------------


def test_a_rep_who_filters_by_another_owner_sees_nothing_of_theirs(client, org):
    OpportunityFactory(owner=org.rep_a1, name="我的商机")
    OpportunityFactory(owner=org.rep_a2, name="同事的商机")
    client.force_login(org.rep_a1)

    html = client.get(BOARD, {"owner": org.rep_a2.pk}).content.decode()

    assert "同事的商机" not in html
    assert "我的商机" in html


def test_a_manager_can_filter_the_board_to_one_rep_of_the_team_but_not_to_another_team(client, org):
    OpportunityFactory(owner=org.rep_a1, name="甲的商机")
    OpportunityFactory(owner=org.rep_a2, name="乙的商机")
    OpportunityFactory(owner=org.rep_b1, name="别队的商机")
    client.force_login(org.manager_a)

    one_rep = client.get(BOARD, {"owner": org.rep_a2.pk}).content.decode()
    other_team = client.get(BOARD, {"owner": org.rep_b1.pk}).content.decode()

    assert ("甲的商机" in one_rep, "乙的商机" in one_rep) == (False, True)
    assert "别队的商机" not in other_team


def test_the_owner_filter_offers_only_users_the_viewer_may_see(client, org):
    for viewer, expected in (
        (org.rep_a1, {org.rep_a1}),
        (org.manager_a, {org.manager_a, org.rep_a1, org.rep_a2}),
        (org.director, {org.director, org.manager_a, org.manager_b, org.rep_a1, org.rep_a2, org.rep_b1}),
    ):
        client.force_login(viewer)
        form = client.get(BOARD).context["form"]
        assert set(form.fields["owner"].queryset) == expected


def test_amount_and_expected_close_filters_narrow_the_columns(client, org):
    today = timezone.localdate()
    OpportunityFactory(owner=org.rep_a1, name="小单", amount=Decimal(1000), expected_close_date=today)
    OpportunityFactory(owner=org.rep_a1, name="大单近", amount=Decimal(90000), expected_close_date=today)
    OpportunityFactory(
        owner=org.rep_a1, name="大单远", amount=Decimal(90000), expected_close_date=today + timedelta(days=90)
    )
    client.force_login(org.rep_a1)

    response = client.get(
        BOARD,
        {"amount_min": "5000", "amount_max": "100000", "close_from": today, "close_to": today + timedelta(days=30)},
    )

    prep = response.context["columns"][0]
    assert [card.name for card in prep.cards] == ["大单近"]
    assert (prep.count, prep.amount) == (1, Decimal(90000))


def test_the_board_switches_to_another_pipeline(client, org):
    template = TEMPLATES["dealership"]
    dealership = install_pipeline(template, pipeline_model=Pipeline, stage_model=Stage, criterion_model=StageCriterion)
    first = dealership.stages.order_by("order").first()
    OpportunityFactory(owner=org.rep_a1, stage=first, name="展厅客户")
    OpportunityFactory(owner=org.rep_a1, name="B2B客户")
    client.force_login(org.rep_a1)

    response = client.get(BOARD, {"pipeline": dealership.pk})

    html = response.content.decode()
    assert response.context["pipeline"] == dealership
    assert [c.stage.code for c in response.context["columns"]] == list(
        dealership.stages.filter(is_after_sales=False).order_by("order").values_list("code", flat=True)
    )
    assert "展厅客户" in html
    assert "B2B客户" not in html
    assert f'<option value="{dealership.pk}" selected>' in html


def test_an_htmx_filter_change_answers_with_the_board_region_only(client, org):
    OpportunityFactory(owner=org.rep_a1, name="区域刷新")
    client.force_login(org.rep_a1)

    html = client.get(BOARD, {"amount_min": "1"}, **HTMX).content.decode()

    assert html.lstrip().startswith('<div id="board"')
    assert "区域刷新" in html
