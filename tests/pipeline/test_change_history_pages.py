"""The "Change history" sections of the opportunity and account pages: latest first, a page at a time, in a fixed
number of queries; and the edit form's rule for a closed opportunity's amount."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountChange
from pipeline.models import Opportunity, OpportunityChange
from pipeline.selectors.history import CHANGES_PER_PAGE
from pipeline.services.accounts import edit_account
from pipeline.services.opportunities import update_opportunity
from tests.factories import AccountFactory, OpportunityFactory, default_stage

pytestmark = pytest.mark.django_db


def opportunity_page(opportunity) -> str:
    return reverse("pipeline:opportunity", args=[opportunity.pk])


def rename(opportunity, user, times: int, *, start: int = 0) -> Opportunity:
    for n in range(start, start + times):
        opportunity = update_opportunity(opportunity=opportunity, changed_by=user, name=f"第{n}版")
    return opportunity


def won(owner) -> Opportunity:
    return OpportunityFactory(
        owner=owner, stage=default_stage("implement"), status="won", closed_at=timezone.now(), amount=Decimal("5000")
    )


def test_the_opportunity_page_shows_its_latest_changes_first_with_who_made_them(client, org):
    opportunity = OpportunityFactory(owner=org.rep_a1, name="第一版", amount=Decimal("100000"))
    update_opportunity(opportunity=opportunity, changed_by=org.rep_a1, amount=Decimal("80000"), source="referral")
    update_opportunity(opportunity=opportunity, changed_by=org.manager_a, name="第二版")
    client.force_login(org.rep_a1)

    response = client.get(opportunity_page(opportunity))

    lines = response.context["history"].changes.lines
    assert [(line.field, line.old, line.new, line.by) for line in lines] == [
        ("name", "第一版", "第二版", org.manager_a),
        ("source", "—", str(Opportunity.Source.REFERRAL.label), org.rep_a1),  # written with the amount, after it
        ("amount", "100000.00", "80000.00", org.rep_a1),
    ]
    html = response.content.decode()
    assert 'id="changes"' in html
    assert html.index("第二版</span>") < html.index("80000.00</span>")


def test_the_change_history_is_shown_a_page_at_a_time(client, org):
    opportunity = rename(OpportunityFactory(owner=org.rep_a1), org.rep_a1, CHANGES_PER_PAGE + 3)
    client.force_login(org.rep_a1)

    first = client.get(opportunity_page(opportunity))
    second = client.get(opportunity_page(opportunity), {"changes": 2})

    first_page, second_page = first.context["history"].changes, second.context["history"].changes
    assert ([line.new for line in first_page.lines][:2], first_page.has_next) == (["第12版", "第11版"], True)
    assert ([line.new for line in second_page.lines], second_page.has_next) == (["第2版", "第1版", "第0版"], False)
    assert "?changes=2#changes" in first.content.decode()
    assert "?changes=1#changes" in second.content.decode()


@pytest.mark.parametrize("changes", ["0", "-3", "x", "999999999999"])
def test_a_page_number_out_of_range_shows_the_first_or_an_empty_page(client, org, changes):
    opportunity = rename(OpportunityFactory(owner=org.rep_a1), org.rep_a1, 2)
    client.force_login(org.rep_a1)

    response = client.get(opportunity_page(opportunity), {"changes": changes})

    assert response.status_code == 200
    assert len(response.context["history"].changes.lines) == (0 if changes == "999999999999" else 2)


def test_the_opportunity_page_runs_as_many_queries_with_no_changes_as_with_many(client, org, django_assert_num_queries):
    opportunity = OpportunityFactory(owner=org.rep_a1)
    client.force_login(org.manager_a)
    with CaptureQueriesContext(connection) as none:
        client.get(opportunity_page(opportunity))

    rename(opportunity, org.rep_a1, 3 * CHANGES_PER_PAGE)

    with django_assert_num_queries(len(none)):
        response = client.get(opportunity_page(opportunity))
    assert len(response.context["history"].changes.lines) == CHANGES_PER_PAGE


def test_the_account_page_shows_its_changes_owner_included(client, org, django_assert_num_queries):
    account = AccountFactory(owner=org.rep_a1, notes="")
    client.force_login(org.manager_a)
    url = reverse("accounts:detail", args=[account.pk])
    with CaptureQueriesContext(connection) as none:
        client.get(url)

    account = edit_account(account=account, changed_by=org.manager_a, notes="关键客户", owner=org.rep_a2)
    for n in range(2 * CHANGES_PER_PAGE):
        account = edit_account(account=account, changed_by=org.manager_a, notes=f"备注{n}")

    with django_assert_num_queries(len(none)):
        response = client.get(url, {"changes": 3})
    lines = response.context["page"].changes.lines
    assert [(line.field, line.label, line.old, line.new) for line in lines] == [
        ("owner", "负责人", org.rep_a1.display_name, org.rep_a2.display_name),
        ("notes", "备注", "—", "关键客户"),
    ]
    assert AccountChange.objects.filter(account=account).count() == 2 * CHANGES_PER_PAGE + 2


# --- a closed opportunity's amount on the edit form -----------------------------------------------------------------


def test_a_manager_editing_a_won_opportunitys_amount_on_the_page_gets_a_form_error_and_nothing_is_written(client, org):
    opportunity = won(org.rep_a1)
    org.manager_a.language = "en"
    org.manager_a.save(update_fields=["language"])
    client.force_login(org.manager_a)

    response = client.post(
        reverse("pipeline:opportunity_edit", args=[opportunity.pk]),
        {"name": opportunity.name, "amount": "1.00", "version": 1},
        follow=True,
    )

    assert response.redirect_chain[0][1] == 302  # back to the page (POST-redirect-GET), the refusal as a message
    assert [str(m).strip() for m in response.context["messages"]] == [
        "Amount (CNY): Only a sales director may change the amount of a won or lost opportunity."
    ]
    assert response.context["edit_form"].initial["amount"] == "1.00"  # what was typed comes back
    assert Opportunity.objects.values_list("amount", "version").get(pk=opportunity.pk) == (Decimal("5000.00"), 1)
    assert OpportunityChange.objects.count() == 0


def test_a_director_changes_a_won_opportunitys_amount_on_the_page_with_a_reason(client, org):
    opportunity = won(org.rep_a1)
    client.force_login(org.director)
    url = reverse("pipeline:opportunity_edit", args=[opportunity.pk])

    missing = client.post(url, {"name": opportunity.name, "amount": "4000", "version": 1}, follow=True)
    assert OpportunityChange.objects.count() == 0
    saved = client.post(url, {"name": opportunity.name, "amount": "4000", "version": 1, "change_reason": "折扣"})

    assert [str(m).strip() for m in missing.context["messages"]] == [
        "修改金额的原因: 请说明修改赢单或输单商机金额的原因；原因会记入其历史。"  # the director's language
    ]
    assert saved.status_code == 302
    change = OpportunityChange.objects.get()
    assert (change.field, change.old, change.new, change.by, change.reason) == (
        "amount",
        "5000.00",
        "4000.00",
        org.director,
        "折扣",
    )
    assert "折扣" in client.get(opportunity_page(opportunity)).content.decode()
