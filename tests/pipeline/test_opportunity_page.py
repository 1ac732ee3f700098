"""The opportunity page and its endpoints: visibility, stage path, checklist in place, move, win, lose, reopen."""

import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Contact
from pipeline.models import Opportunity, Reassignment, StageChange, Visit
from pipeline.services.moves import lose_opportunity, win_opportunity
from pipeline.services.opportunities import create_opportunity
from pipeline.services.visits import log_visit
from tests.factories import (
    AccountFactory,
    CompetitorFactory,
    ContactFactory,
    OpportunityFactory,
    StageChangeFactory,
    VisitFactory,
    default_stage,
)

HTMX = {"HTTP_HX_REQUEST": "true"}
ROLES_WHO_SEE_REP_A1 = [
    ("rep_a1", True),
    ("rep_a2", False),
    ("manager_a", True),
    ("manager_b", False),
    ("director", True),
]


def page(opportunity: Opportunity) -> str:
    return reverse("pipeline:opportunity", args=[opportunity.pk])


def endpoint(name: str, opportunity: Opportunity, *args) -> str:
    return reverse(f"pipeline:opportunity_{name}", args=[opportunity.pk, *args])


def speak_english(*users) -> None:
    for user in users:
        user.language = "en"
        user.save(update_fields=["language"])


def snapshot(opportunity: Opportunity) -> tuple:
    """What a refused request must leave untouched."""
    opportunity.refresh_from_db()
    return (
        opportunity.status,
        opportunity.stage_id,
        opportunity.version,
        opportunity.criteria_values,
        StageChange.objects.filter(opportunity=opportunity).count(),
        Visit.objects.filter(opportunity=opportunity).count(),
    )


# --- visibility ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("viewer", "sees_it"), ROLES_WHO_SEE_REP_A1)
def test_the_opportunity_page_answers_404_to_those_who_may_not_see_it(client, org, viewer, sees_it):
    opportunity = OpportunityFactory(owner=org.rep_a1, name="可见性商机")
    client.force_login(getattr(org, viewer))

    response = client.get(page(opportunity))

    assert response.status_code == (200 if sees_it else 404)
    assert ("可见性商机" in response.content.decode()) is sees_it


CLOSING_ACTIONS = [
    ("move", {"stage": "status", "version": 1}),
    ("criterion", {"value": "写一点", "version": 1}),
    ("win", {"version": 1}),
    ("lose", {"reason": "price", "version": 1}),
    ("reopen", {"version": 1}),
    ("probability", {"probability": 55, "version": 1}),
    ("edit", {"name": "改名", "amount": "1", "version": 1}),
]


@pytest.mark.parametrize("viewer", ["rep_a2", "manager_b"])
@pytest.mark.parametrize(("action", "data"), CLOSING_ACTIONS)
def test_every_endpoint_answers_404_for_an_invisible_opportunity_and_writes_nothing(client, org, viewer, action, data):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("close"))
    if action == "reopen":
        Opportunity.objects.filter(pk=opportunity.pk).update(
            status="lost", loss_reason="price", closed_at=timezone.now()
        )
    url = endpoint(action, opportunity, "contract_signed") if action == "criterion" else endpoint(action, opportunity)
    if action == "criterion":
        data = {"value": "on", "version": 1}
    before = snapshot(opportunity)
    client.force_login(getattr(org, viewer))

    response = client.post(url, data, **HTMX)

    assert response.status_code == 404
    assert snapshot(opportunity) == before


@pytest.mark.parametrize("viewer", ["rep_a1", "manager_a", "director"])
def test_those_who_see_an_opportunity_can_tick_its_criteria(client, org, viewer):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("close"))
    client.force_login(getattr(org, viewer))

    response = client.post(endpoint("criterion", opportunity, "contract_signed"), {"value": "on", "version": 1}, **HTMX)

    assert response.status_code == 200
    opportunity.refresh_from_db()
    assert opportunity.criteria_values == {"contract_signed": True}


# --- what the page shows ------------------------------------------------------------------------------------------


def test_the_stage_path_marks_stages_done_current_and_ahead_with_the_current_stages_guidance(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))
    speak_english(org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.get(page(opportunity))

    assert [(step.stage.code, step.state) for step in response.context["path"]] == [
        ("prep", "done"),
        ("status", "done"),
        ("opportunity", "done"),
        ("needs", "current"),
        ("develop", "ahead"),
        ("propose", "ahead"),
        ("commit", "ahead"),
        ("close", "ahead"),
        ("implement", "ahead"),
    ]
    html = response.content.decode()
    assert 'class="stage-path__step stage-path__step--current stage-4" aria-current="step"' in html
    assert "Make the customer&#x27;s needs explicit" in html  # guidance
    assert "Agree with the customer on their needs" in html  # main tasks
    assert "Set buying criteria" in html  # the customer's buying stage


def test_the_checklist_shows_automatic_results_with_reasons_and_editable_manual_criteria(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))
    speak_english(org.rep_a1)
    client.force_login(org.rep_a1)

    html = client.get(page(opportunity)).content.decode()

    checklist = html.split('id="checklist"', 1)[1].split("</section>", 1)[0]
    assert "A decision-maker contact on the account" in checklist
    assert "The account has no contact whose buying role is decision maker." in checklist
    assert "Buying criteria with priorities written" in checklist
    assert f'action="{endpoint("criterion", opportunity, "buying_criteria")}"' in checklist
    assert '<textarea id="value-buying_criteria" name="value"' in checklist


def test_the_page_lists_stage_history_with_override_reasons_and_backfill_marks_reassignments_visits_and_competitors(
    client, org
):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("status"))
    StageChangeFactory(opportunity=opportunity, to_stage=default_stage("prep"), is_backfill=True)
    StageChangeFactory(
        opportunity=opportunity,
        from_stage=default_stage("prep"),
        to_stage=default_stage("status"),
        changed_by=org.manager_a,
        override_reason="总监特批",
    )
    Reassignment.objects.create(
        opportunity=opportunity, from_owner=org.rep_a2, to_owner=org.rep_a1, reassigned_by=org.manager_a
    )
    VisitFactory(account=opportunity.account, opportunity=opportunity, purpose="首次拜访计划")
    competitor = CompetitorFactory(name="理光")
    opportunity.competitors.add(competitor)
    speak_english(org.rep_a1)
    client.force_login(org.rep_a1)

    html = client.get(page(opportunity)).content.decode()

    assert "总监特批" in html
    assert "back-filled" in html
    assert "Preparation → Understand the situation" in html
    assert "rep_a2 → rep_a1" in html
    assert "首次拜访计划" in html
    assert '<span class="badge">理光</span>' in html


def test_the_page_runs_as_many_queries_when_its_history_grows_tenfold(client, org, django_assert_num_queries):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("status"))
    ContactFactory(account=opportunity.account)

    def grow(times: int) -> None:
        for _ in range(times):
            StageChangeFactory(opportunity=opportunity)
            VisitFactory(account=opportunity.account, opportunity=opportunity, contact=ContactFactory())
            Reassignment.objects.create(
                opportunity=opportunity, from_owner=org.rep_a2, to_owner=org.rep_a1, reassigned_by=org.manager_a
            )
            opportunity.competitors.add(CompetitorFactory())

    grow(2)
    client.force_login(org.rep_a1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(page(opportunity)).status_code == 200
    grow(18)

    with django_assert_num_queries(len(small)):
        response = client.get(page(opportunity))

    assert len(response.context["history"].visits) == 20
    assert len(small) <= 16


# --- the checklist in place -----------------------------------------------------------------------------------------


def test_ticking_a_checkbox_criterion_saves_it_and_answers_with_the_checklist_and_the_new_version(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("opportunity"))
    client.force_login(org.rep_a1)

    response = client.post(
        endpoint("criterion", opportunity, "problem_acknowledged"), {"value": "on", "version": 1}, **HTMX
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card opp-checklist" id="checklist"')
    assert re.search(r'name="value" value="on"\s+checked', html)
    assert json.loads(response["HX-Trigger"]) == {"opportunity-version": {"value": 2}}
    opportunity.refresh_from_db()
    assert (opportunity.criteria_values, opportunity.version) == ({"problem_acknowledged": True}, 2)


def test_clearing_a_checkbox_criterion_stores_false(client, org):
    opportunity = OpportunityFactory(
        owner=org.rep_a1, stage=default_stage("opportunity"), criteria_values={"problem_acknowledged": True}
    )
    client.force_login(org.rep_a1)

    client.post(endpoint("criterion", opportunity, "problem_acknowledged"), {"version": 1}, **HTMX)

    opportunity.refresh_from_db()
    assert opportunity.criteria_values == {"problem_acknowledged": False}


def test_text_and_date_criteria_are_saved_in_place(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("commit"))
    client.force_login(org.rep_a1)

    client.post(
        endpoint("criterion", opportunity, "purchase_date_agreed"), {"value": "2026-12-20", "version": 1}, **HTMX
    )
    client.post(endpoint("criterion", opportunity, "blocking_issues_resolved"), {"value": "on", "version": 2}, **HTMX)

    opportunity.refresh_from_db()
    assert opportunity.criteria_values == {"purchase_date_agreed": "2026-12-20", "blocking_issues_resolved": True}


def test_a_criterion_saved_without_javascript_returns_to_the_checklist(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("prep"))
    client.force_login(org.rep_a1)

    response = client.post(endpoint("criterion", opportunity, "visit_purpose"), {"value": "介绍新品", "version": 1})

    assert response.status_code == 302
    assert response["Location"] == f"{page(opportunity)}#checklist"
    opportunity.refresh_from_db()
    assert opportunity.criteria_values == {"visit_purpose": "介绍新品"}


def test_a_criterion_saved_from_a_stale_page_asks_to_reload_and_writes_nothing(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("prep"), version=4)
    speak_english(org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.post(endpoint("criterion", opportunity, "visit_purpose"), {"value": "x", "version": 3}, **HTMX)

    assert "Someone else changed this record in the meantime. Reload it and try again." in response.content.decode()
    opportunity.refresh_from_db()
    assert (opportunity.criteria_values, opportunity.version) == ({}, 4)


def test_an_unknown_criterion_answers_404_and_writes_nothing(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.post(endpoint("criterion", opportunity, "no_such_code"), {"value": "x", "version": 1}, **HTMX)

    assert response.status_code == 404
    opportunity.refresh_from_db()
    assert opportunity.criteria_values == {}


# --- moving, winning, losing, reopening ----------------------------------------------------------------------------


def test_a_refused_move_on_the_page_redirects_to_a_get_url_and_lists_the_unmet_criteria_as_links_once(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    speak_english(org.rep_a1)
    client.force_login(org.rep_a1)
    before = snapshot(opportunity)

    response = client.post(endpoint("move", opportunity), {"stage": "status", "version": 1}, follow=True)

    html = response.content.decode()
    assert response.redirect_chain == [(f"{page(opportunity)}?panel=move&stage=status#actions", 302)]
    assert response.request["REQUEST_METHOD"] == "GET"
    messages = html.split('<ul class="messages">', 1)[1].split("</ul>\n", 1)[0]
    assert f'<a href="{page(opportunity)}#criterion-visit_purpose">Visit purpose written</a>' in messages
    assert f'<a href="{page(opportunity)}#criterion-visit_planned">A visit is planned</a>' in messages
    assert html.count(f'href="{page(opportunity)}#criterion-visit_purpose"') == 1  # once, in the message
    assert "Unmet exit criteria:" not in html  # not a second time above the move form
    assert response.context["open_panel"] == "move"
    assert snapshot(opportunity) == before


def test_only_managers_and_directors_get_the_override_reason_field(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)

    client.force_login(org.rep_a1)
    rep_html = client.get(page(opportunity)).content.decode()
    client.force_login(org.manager_a)
    manager_html = client.get(page(opportunity)).content.decode()

    assert 'name="override_reason"' not in rep_html
    assert 'name="override_reason"' in manager_html


def test_a_manager_moves_past_unmet_criteria_from_the_page_with_a_reason(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    client.force_login(org.manager_a)

    response = client.post(
        endpoint("move", opportunity), {"stage": "status", "version": 1, "override_reason": "客户急需"}
    )

    assert response.status_code == 302
    change = StageChange.objects.get(opportunity=opportunity)
    assert (change.to_stage.code, change.override_reason, change.changed_by) == ("status", "客户急需", org.manager_a)


def test_winning_before_the_contract_is_signed_lists_the_unmet_criterion_and_writes_nothing(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("close"))
    speak_english(org.rep_a1)
    client.force_login(org.rep_a1)
    before = snapshot(opportunity)

    response = client.post(endpoint("win", opportunity), {"version": 1}, follow=True)

    html = response.content.decode()
    assert response.redirect_chain == [(f"{page(opportunity)}?panel=win#actions", 302)]
    assert f'<a href="{page(opportunity)}#criterion-contract_signed">Contract signed</a>' in html
    assert snapshot(opportunity) == before


def test_losing_an_untouched_opportunity_asks_for_the_untouched_cause_and_then_records_it(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)  # still in 事先准备: never engaged
    competitor = CompetitorFactory()
    speak_english(org.rep_a1)
    client.force_login(org.rep_a1)
    before = snapshot(opportunity)
    data = {"reason": "relationship", "lost_to": competitor.pk, "note": "对手关系好", "version": 1}

    first = client.post(endpoint("lose", opportunity), data, follow=True)

    html = first.content.decode()
    assert first.redirect_chain[0][0].startswith(f"{page(opportunity)}?panel=lose&cause=1&reason=relationship&")
    assert first.context["lose_form"].initial["note"] == "对手关系好"  # what was typed comes back
    assert 'name="untouched_cause"' in html
    assert "This is an untouched loss" in html
    assert snapshot(opportunity) == before

    second = client.post(endpoint("lose", opportunity), {**data, "untouched_cause": "no_plan"})

    assert second.status_code == 302
    opportunity.refresh_from_db()
    assert (opportunity.status, opportunity.is_untouched_loss, opportunity.untouched_cause, opportunity.lost_to) == (
        "lost",
        True,
        "no_plan",
        competitor,
    )


def test_the_lose_form_does_not_ask_for_an_untouched_cause_up_front(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)

    html = client.get(page(opportunity)).content.decode()

    assert 'name="reason"' in html
    assert 'name="untouched_cause"' not in html


def test_a_rep_cannot_reopen_but_a_manager_can(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))
    lose_opportunity(opportunity=opportunity, lost_by=org.rep_a1, reason="budget")
    opportunity.refresh_from_db()
    client.force_login(org.rep_a1)
    rep_page = client.get(page(opportunity)).content.decode()
    before = snapshot(opportunity)

    refused = client.post(endpoint("reopen", opportunity), {"version": opportunity.version})

    assert f'action="{endpoint("reopen", opportunity)}"' not in rep_page
    assert refused.status_code == 302
    assert snapshot(opportunity) == before

    client.force_login(org.manager_a)
    assert f'action="{endpoint("reopen", opportunity)}"' in client.get(page(opportunity)).content.decode()
    reopened = client.post(endpoint("reopen", opportunity), {"version": opportunity.version})

    assert reopened.status_code == 302
    opportunity.refresh_from_db()
    assert (opportunity.status, opportunity.stage.code) == ("open", "needs")


def test_the_probability_can_be_overridden_for_the_current_stage(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))
    client.force_login(org.rep_a1)

    client.post(endpoint("probability", opportunity), {"probability": 45, "version": 1})

    opportunity.refresh_from_db()
    assert (opportunity.probability, opportunity.version) == (45, 2)


def test_the_edit_form_saves_plain_fields_and_competitors(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    competitor = CompetitorFactory()
    client.force_login(org.rep_a1)

    response = client.post(
        endpoint("edit", opportunity),
        {
            "name": "新名字",
            "amount": "250000",
            "expected_close_date": "2027-03-31",
            "source": "referral",
            "competitors": [competitor.pk],
            "version": 1,
        },
    )

    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert (opportunity.name, opportunity.amount, opportunity.expected_close_date, opportunity.source) == (
        "新名字",
        Decimal("250000"),
        date(2027, 3, 31),
        "referral",
    )
    assert list(opportunity.competitors.all()) == [competitor]


def test_an_edit_from_a_stale_page_shows_a_clear_message_and_writes_nothing(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, name="原名")
    Opportunity.objects.filter(pk=opportunity.pk).update(version=2)  # someone saved meanwhile
    speak_english(org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.post(
        endpoint("edit", opportunity), {"name": "我的改动", "amount": "1", "version": 1}, follow=True
    )

    assert "Someone else changed this record in the meantime. Reload it and try again." in response.content.decode()
    assert response.context["edit_form"].initial["name"] == "我的改动"  # the typed value survives the redirect
    opportunity.refresh_from_db()
    assert (opportunity.name, opportunity.version) == ("原名", 2)


# --- end to end -----------------------------------------------------------------------------------------------------


def test_a_rep_walks_an_opportunity_from_preparation_to_close_on_the_pages_and_wins_it(client, org):
    """On the demo data a rep can drag an opportunity from 事先准备 to 结案 and win it, ticking criteria on the way."""
    rep = org.rep_a1
    account = AccountFactory(owner=rep)
    opportunity = create_opportunity(created_by=rep, account=account, name="全流程商机", amount=Decimal("0"))
    client.force_login(rep)

    def tick(code: str, value: str = "on") -> None:
        opportunity.refresh_from_db()
        response = client.post(
            endpoint("criterion", opportunity, code), {"value": value, "version": opportunity.version}, **HTMX
        )
        assert response.status_code == 200
        assert "form-errors" not in response.content.decode()

    def drag_to(code: str) -> None:
        opportunity.refresh_from_db()
        response = client.post(
            reverse("pipeline:board_move", args=[opportunity.pk]),
            {"stage": code, "version": opportunity.version},
            **HTMX,
        )
        assert "board-card__error" not in response.content.decode(), code
        opportunity.refresh_from_db()
        assert opportunity.stage.code == code

    # 事先准备: the profile is complete (factory); write the purpose and plan a visit.
    tick("visit_purpose", "了解现有打印设备与痛点")
    VisitFactory(account=account, owner=rep, opportunity=opportunity, purpose="首次拜访")
    drag_to("status")
    # 了解现状: a completed visit, the situation written, a key contact named.
    log_visit(logged_by=rep, account=account, opportunity=opportunity, done_at=timezone.now(), summary="见到IT主管")
    tick("current_situation", "现有设备老化，维修成本高")
    ContactFactory(account=account, buying_role=Contact.BuyingRole.INFLUENCER)
    drag_to("opportunity")
    tick("problem_and_cause", "打印成本失控：设备分散无管理")
    tick("problem_acknowledged")
    drag_to("needs")
    tick("buying_criteria", "1. 总成本 2. 服务响应 3. 安全")
    ContactFactory(account=account, buying_role=Contact.BuyingRole.DECISION_MAKER)
    drag_to("develop")
    opportunity.refresh_from_db()
    client.post(
        endpoint("edit", opportunity),
        {
            "name": "全流程商机",
            "amount": "380000",
            "expected_close_date": (timezone.localdate() + timedelta(days=45)).isoformat(),
            "version": opportunity.version,
        },
    )
    drag_to("propose")
    log_visit(
        logged_by=rep, account=account, opportunity=opportunity, done_at=timezone.now(), kind="demo", summary="演示"
    )
    tick("proposal_accepted")
    drag_to("commit")
    tick("blocking_issues_resolved")
    tick("purchase_date_agreed", (timezone.localdate() + timedelta(days=30)).isoformat())
    drag_to("close")
    tick("contract_signed")
    opportunity.refresh_from_db()

    response = client.post(endpoint("win", opportunity), {"version": opportunity.version})

    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert (opportunity.status, opportunity.stage.code, opportunity.amount) == ("won", "implement", Decimal("380000"))
    assert StageChange.objects.filter(opportunity=opportunity).count() == 9
    assert not StageChange.objects.filter(opportunity=opportunity).exclude(override_reason="").exists()


def test_a_won_opportunity_page_shows_the_after_sales_checklist_and_no_move_form(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, stage=default_stage("close"))
    Opportunity.objects.filter(pk=opportunity.pk).update(criteria_values={"contract_signed": True})
    opportunity.refresh_from_db()
    win_opportunity(opportunity=opportunity, won_by=org.rep_a1)
    speak_english(org.rep_a1)
    client.force_login(org.rep_a1)

    html = client.get(page(opportunity)).content.decode()

    assert "Delivered and installed" in html
    assert f'action="{endpoint("move", opportunity)}"' not in html
    assert "Won on" in html


def test_the_move_menu_preselects_the_next_stage_and_never_a_backward_one_by_default(client, org):
    needs = OpportunityFactory(owner=org.rep_a1, stage=default_stage("needs"))
    close = OpportunityFactory(owner=org.rep_a1, stage=default_stage("close"))
    client.force_login(org.rep_a1)

    needs_form = client.get(page(needs)).context["move_form"]
    close_form = client.get(page(close)).context["move_form"]

    assert needs_form["stage"].value() == "develop"
    assert close_form["stage"].value() == "close"
    assert [code for code, _ in close_form.fields["stage"].choices] == [
        "prep",
        "status",
        "opportunity",
        "needs",
        "develop",
        "propose",
        "commit",
        "close",
    ]
