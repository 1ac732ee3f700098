"""The board for a rep's day (issue 12): weighted totals, the team filter, toasts, the refusal once, quick add."""

import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Contact
from pipeline.models import Opportunity, Pipeline, Stage, StageChange, StageCriterion, Visit
from pipeline.process_templates import TEMPLATES, install_pipeline
from pipeline.selectors.opportunities import OpportunityFilters, board_columns
from tests.factories import AccountFactory, OpportunityFactory, VisitFactory, default_stage

BOARD = reverse("pipeline:board")
CREATE = reverse("pipeline:opportunity_create")
CONTACT = reverse("accounts:contact_quick_create")
PLAN = reverse("pipeline:visit_plan_create")
HTMX = {"HTTP_HX_REQUEST": "true"}


def move_url(opportunity: Opportunity) -> str:
    return reverse("pipeline:board_move", args=[opportunity.pk])


def ready_to_leave_prep(opportunity: Opportunity) -> None:
    Opportunity.objects.filter(pk=opportunity.pk).update(criteria_values={"visit_purpose": "了解现有设备"})
    VisitFactory(account=opportunity.account)


def speak_english(user) -> None:
    user.language = "en"
    user.save(update_fields=["language"])


# --- column totals ------------------------------------------------------------------------------------------------


def test_a_column_shows_its_weighted_total_amount_times_probability_from_the_same_grouped_query(
    org, default_pipeline, django_assert_num_queries
):
    needs = default_stage("needs")
    OpportunityFactory(owner=org.rep_a1, stage=needs, amount=Decimal("100000"), probability=30)
    OpportunityFactory(owner=org.rep_a1, stage=needs, amount=Decimal("50000"), probability=55)
    OpportunityFactory(owner=org.rep_a1, stage=default_stage("prep"), amount=Decimal("999"), probability=0)

    with django_assert_num_queries(3):
        columns = {
            c.stage.code: c
            for c in board_columns(viewer=org.rep_a1, pipeline=default_pipeline, filters=OpportunityFilters())
        }

    assert (columns["needs"].count, columns["needs"].amount, columns["needs"].weighted) == (
        2,
        Decimal("150000"),
        Decimal("57500.00"),
    )
    assert (columns["prep"].amount, columns["prep"].weighted) == (Decimal("999"), Decimal("0.00"))
    assert columns["status"].weighted == Decimal("0")


def test_the_column_header_shows_count_total_and_weighted_total(client, org):
    needs = default_stage("needs")
    OpportunityFactory(owner=org.rep_a1, stage=needs, amount=Decimal("200000"), probability=25)
    speak_english(org.rep_a1)
    client.force_login(org.rep_a1)

    html = client.get(BOARD).content.decode()

    header = html.split(f'id="column-{needs.pk}"', 1)[1].split("</header>", 1)[0]
    assert '<span class="board-column__amount" title="Total amount">¥200,000</span>' in header
    assert "Weighted" in header
    assert ">¥50,000</span>" in header
    assert 'class="board-column__header"' in html


def test_the_board_page_is_full_width_with_a_scroll_box_for_its_columns(client, org):
    client.force_login(org.rep_a1)

    html = client.get(BOARD).content.decode()

    assert '<main id="main" class="container container--wide">' in html
    assert 'class="board__scroller" tabindex="0"' in html


# --- team and owner filter ----------------------------------------------------------------------------------------


def test_a_director_narrows_the_board_to_one_team(client, org):
    OpportunityFactory(owner=org.rep_a1, name="甲队商机")
    OpportunityFactory(owner=org.rep_b1, name="乙队商机")
    client.force_login(org.director)

    response = client.get(BOARD, {"team": org.team_b.pk})

    html = response.content.decode()
    assert ("甲队商机" in html, "乙队商机" in html) == (False, True)
    assert set(response.context["form"].fields["team"].queryset) == {org.team_a, org.team_b}
    card_move = f'data-move-url="{move_url(Opportunity.objects.get(name="乙队商机"))}?pipeline='
    assert card_move in html
    assert f"&amp;team={org.team_b.pk}" in html  # the filter travels with every move


def test_a_manager_cannot_pick_another_team_and_such_a_filter_filters_nothing(client, org):
    OpportunityFactory(owner=org.rep_a1, name="本队商机")
    OpportunityFactory(owner=org.rep_b1, name="别队商机")
    client.force_login(org.manager_a)

    response = client.get(BOARD, {"team": org.team_b.pk})

    html = response.content.decode()
    assert list(response.context["form"].fields["team"].queryset) == [org.team_a]
    assert "team" in response.context["form"].errors  # not a choice for them: ignored
    assert ("本队商机" in html, "别队商机" in html) == (True, False)


def test_a_rep_gets_no_team_filter(client, org):
    client.force_login(org.rep_a1)

    form = client.get(BOARD, {"team": org.team_a.pk}).context["form"]

    assert "team" not in form.fields


def test_the_filtered_board_runs_as_many_queries_with_ten_times_the_opportunities(
    client, org, django_assert_num_queries
):
    def grow(per_rep: int) -> None:
        for rep in (org.rep_a1, org.rep_a2, org.rep_b1):
            OpportunityFactory.create_batch(per_rep, owner=rep, stage=default_stage("needs"))

    grow(1)
    client.force_login(org.director)
    filters = {"team": org.team_a.pk, "owner": org.rep_a2.pk}
    with CaptureQueriesContext(connection) as small:
        client.get(BOARD, filters)
    grow(9)

    with django_assert_num_queries(len(small)):
        response = client.get(BOARD, filters)

    assert len(small) <= 12
    assert sum(c.count for c in response.context["columns"]) == 10


# --- moves --------------------------------------------------------------------------------------------------------


def test_a_move_by_drag_answers_with_the_board_and_asks_for_a_success_toast(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, name="可推进")
    ready_to_leave_prep(opportunity)
    speak_english(org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.post(move_url(opportunity), {"stage": "status", "version": 1}, **HTMX)

    toast = json.loads(response["HX-Trigger"])["sf-toast"]
    assert toast["level"] == "success"
    assert toast["message"] == "“可推进” moved to Understand the situation."
    assert response.content.decode().lstrip().startswith('<div id="board"')
    assert StageChange.objects.count() == 1


def test_a_refused_drag_shows_the_reason_once_with_the_unmet_criteria_linking_to_the_checklist(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.post(move_url(opportunity), {"stage": "status", "version": 1}, **HTMX)

    html = response.content.decode()
    assert "HX-Trigger" not in response
    assert html.count('role="alert"') == 1
    assert html.count("已写明拜访目的") == 1
    page = reverse("pipeline:opportunity", args=[opportunity.pk])
    assert f'href="{page}#criterion-visit_purpose">已写明拜访目的</a>' in html
    assert f'href="{page}#criterion-visit_planned">已计划拜访</a>' in html
    assert not StageChange.objects.exists()


def test_a_successful_move_without_javascript_ends_on_the_board_with_a_message(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, name="无脚本")
    ready_to_leave_prep(opportunity)
    speak_english(org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.post(move_url(opportunity), {"stage": "status", "version": 1}, follow=True)

    assert response.redirect_chain == [(f"{BOARD}?", 302)]
    assert "“无脚本” moved to Understand the situation." in response.content.decode()


# --- win only when it can be won ----------------------------------------------------------------------------------


def test_mark_as_won_is_disabled_with_what_is_missing_until_the_contract_is_signed(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("close"))
    speak_english(org.rep_a1)
    client.force_login(org.rep_a1)
    page = reverse("pipeline:opportunity", args=[opportunity.pk])

    before = client.get(page).content.decode()
    Opportunity.objects.filter(pk=opportunity.pk).update(criteria_values={"contract_signed": True})
    after = client.get(page).content.decode()

    assert '<button type="submit" class="btn btn--primary" disabled aria-describedby="win-blockers">' in before
    assert '<a href="#criterion-contract_signed">Contract signed</a>' in before
    assert "win-blockers" not in after
    assert "Mark this opportunity as won" in after


def test_ticking_the_last_criterion_in_place_enables_mark_as_won_out_of_band(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("close"))
    client.force_login(org.rep_a1)

    response = client.post(
        reverse("pipeline:opportunity_criterion", args=[opportunity.pk, "contract_signed"]),
        {"value": "on", "version": 1},
        **HTMX,
    )

    html = response.content.decode()
    assert 'id="checklist"' in html
    assert 'id="win-panel" hx-swap-oob="true"' in html
    assert "win-blockers" not in html


# --- quick add ----------------------------------------------------------------------------------------------------


def test_the_header_offers_quick_add_of_an_opportunity_a_contact_and_a_visit(client, org):
    client.force_login(org.rep_a1)

    html = client.get(reverse("home")).content.decode()

    menu = html.split("data-quick-add-menu", 1)[1].split("</details>", 1)[0]
    assert f'hx-get="{CREATE}?dialog=1"' in menu
    assert f'hx-get="{CONTACT}?dialog=1"' in menu
    assert f'hx-get="{PLAN}?dialog=1"' in menu
    assert f'href="{reverse("pipeline:visit_log")}"' in menu
    assert '<dialog id="quick-add"' in html


def test_the_quick_add_dialog_gets_the_opportunity_form_alone(client, org):
    AccountFactory(owner=org.rep_a1, name="我的客户")
    AccountFactory(owner=org.rep_b1, name="别人的客户")
    client.force_login(org.rep_a1)

    response = client.get(CREATE, {"dialog": "1"}, **HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="quick-add-title"' in html
    assert f'hx-post="{CREATE}?dialog=1"' in html
    # The account is a search-as-you-type picker: no list of the user's accounts, let alone others'.
    assert 'name="account_search"' in html and '<select name="account"' not in html
    assert "我的客户" not in html and "别人的客户" not in html


def test_a_quick_add_with_errors_answers_with_the_form_and_its_errors_inside_the_dialog(client, org):
    client.force_login(org.rep_a1)
    speak_english(org.rep_a1)

    response = client.post(f"{CREATE}?dialog=1", {"name": ""}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.count('class="field__error"') == 2  # account and name
    assert not Opportunity.objects.exists()


def test_a_quick_added_opportunity_is_created_and_announced_without_a_swap(client, org):
    account = AccountFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.post(f"{CREATE}?dialog=1", {"account": account.pk, "name": "快速商机", "amount": "1000"}, **HTMX)

    opportunity = Opportunity.objects.get()
    assert (opportunity.name, opportunity.owner, opportunity.stage.code) == ("快速商机", org.rep_a1, "prep")
    assert response["HX-Reswap"] == "none"
    triggers = json.loads(response["HX-Trigger"])
    assert triggers["sf-added"] == {"kind": "opportunity", "pk": opportunity.pk, "url": opportunity.get_absolute_url()}
    assert "快速商机" in triggers["sf-toast"]["message"]


def test_quick_add_without_javascript_is_the_full_page_and_redirects(client, org):
    account = AccountFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)

    page = client.get(CREATE).content.decode()
    response = client.post(CREATE, {"account": account.pk, "name": "整页商机"})

    assert "<html" in page
    assert response.status_code == 302
    assert response["Location"] == Opportunity.objects.get().get_absolute_url()


def test_a_contact_is_quick_added_to_an_account_the_user_may_change(client, org):
    account = AccountFactory(owner=org.rep_a1, name="华联")
    client.force_login(org.rep_a1)

    form = client.get(CONTACT, {"dialog": "1"}, **HTMX).content.decode()
    response = client.post(f"{CONTACT}?dialog=1", {"account": account.pk, "name": "王经理"}, **HTMX)

    assert 'id="quick-add-title"' in form
    contact = Contact.objects.get()
    assert (contact.account, contact.name) == (account, "王经理")
    triggers = json.loads(response["HX-Trigger"])
    assert triggers["sf-added"]["kind"] == "contact"
    assert "王经理" in triggers["sf-toast"]["message"]


@pytest.mark.parametrize("owner", ["rep_a2", "rep_b1"])
def test_a_contact_cannot_be_quick_added_to_an_account_the_user_may_not_change(client, org, owner):
    account = AccountFactory(owner=getattr(org, owner))
    client.force_login(org.rep_a1)

    response = client.post(f"{CONTACT}?dialog=1", {"account": account.pk, "name": "越权"}, **HTMX)

    assert response.status_code == 200
    assert 'class="field__error"' in response.content.decode()
    assert not Contact.objects.exists()


def test_a_contact_quick_add_without_javascript_redirects_to_the_account(client, org):
    account = AccountFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.post(CONTACT, {"account": account.pk, "name": "李工"})

    assert response.status_code == 302
    assert response["Location"] == account.get_absolute_url()


def test_a_visit_is_quick_planned_at_an_account_chosen_in_the_dialog(client, org):
    account = AccountFactory(owner=org.rep_a1, name="苏州新区店")
    AccountFactory(owner=org.rep_b1, name="别队客户")
    client.force_login(org.rep_a1)

    form = client.get(PLAN, {"dialog": "1"}, **HTMX).content.decode()
    response = client.post(
        f"{PLAN}?dialog=1", {"account": account.pk, "planned_at": "2031-03-04T10:00", "kind": "visit"}, **HTMX
    )

    assert 'name="account_search"' in form and '<select name="account"' not in form  # a picker, not a list
    assert "苏州新区店" not in form and "别队客户" not in form
    assert 'name="contact"' not in form
    visit = Visit.objects.get()
    assert (visit.account, visit.owner, visit.status) == (account, org.rep_a1, "planned")
    triggers = json.loads(response["HX-Trigger"])
    assert triggers["sf-added"] == {"kind": "visit", "pk": visit.pk, "url": visit.get_absolute_url()}


def test_a_quick_planned_visit_at_an_account_the_user_may_not_see_answers_404(client, org):
    account = AccountFactory(owner=org.rep_b1)
    client.force_login(org.rep_a1)

    response = client.post(
        f"{PLAN}?dialog=1", {"account": account.pk, "planned_at": "2031-03-04T10:00", "kind": "visit"}, **HTMX
    )

    assert response.status_code == 404
    assert not Visit.objects.exists()


def test_the_add_link_sits_in_the_first_column_of_a_board_new_opportunities_can_reach(client, org):
    template = TEMPLATES["dealership"]
    dealership = install_pipeline(template, pipeline_model=Pipeline, stage_model=Stage, criterion_model=StageCriterion)
    client.force_login(org.rep_a1)

    default_board = client.get(BOARD).content.decode()
    other_board = client.get(BOARD, {"pipeline": dealership.pk}).content.decode()
    client.force_login(org.director)
    directors_other_board = client.get(BOARD, {"pipeline": dealership.pk}).content.decode()

    assert default_board.count('class="board-column__add"') == 1
    assert 'class="board-column__add"' not in other_board  # a rep's new opportunity goes to the default pipeline
    assert f"?dialog=1&amp;pipeline={dealership.pk}" in directors_other_board


@pytest.mark.parametrize(
    ("viewer", "in_view"), [("rep_a1", ["pipeline"]), ("manager_a", ["pipeline", "team", "owner"])]
)
def test_whose_board_it_is_stays_in_view_and_the_rarer_filters_fold_away(client, org, viewer, in_view):
    client.force_login(getattr(org, viewer))

    html = client.get(BOARD).content.decode()

    bar = html.split('<div class="board-view__bar">', 1)[1].split('<details class="board-filters"', 1)[0]
    folded = html.split('<details class="board-filters"', 1)[1].split("</details>", 1)[0]
    assert re.findall(r'<select name="(\w+)"', bar) == in_view
    assert 'name="amount_min"' in folded
    assert 'name="team"' not in folded
