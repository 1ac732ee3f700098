"""The opportunity list (search, filters, sorting, pagination) and the create form."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pipeline.models import Opportunity, Pipeline, Stage, StageChange, StageCriterion
from pipeline.process_templates import TEMPLATES, install_pipeline
from tests.factories import AccountFactory, OpportunityFactory, default_stage

LIST = reverse("pipeline:opportunity_list")
CREATE = reverse("pipeline:opportunity_create")


def names(response) -> list[str]:
    return [opportunity.name for opportunity in response.context["opportunities"]]


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("rep_a1", ["甲的"]),
        ("rep_a2", []),
        ("manager_a", ["甲的"]),
        ("manager_b", ["乙队的"]),
        ("director", ["乙队的", "甲的"]),
    ],
)
def test_the_list_shows_each_role_only_what_it_may_see(client, org, viewer, expected):
    OpportunityFactory(owner=org.rep_a1, name="甲的")
    OpportunityFactory(owner=org.rep_b1, name="乙队的")
    client.force_login(getattr(org, viewer))

    response = client.get(LIST, {"sort": "name"})

    assert sorted(names(response)) == sorted(expected)


def test_search_matches_the_opportunity_name_or_the_account_name(client, org):
    OpportunityFactory(owner=org.rep_a1, name="打印机更新", account=AccountFactory(owner=org.rep_a1, name="某银行"))
    OpportunityFactory(owner=org.rep_a1, name="服务合同", account=AccountFactory(owner=org.rep_a1, name="华东医院"))
    OpportunityFactory(owner=org.rep_a1, name="其他", account=AccountFactory(owner=org.rep_a1, name="某学校"))
    client.force_login(org.rep_a1)

    by_name = client.get(LIST, {"q": "打印"})
    by_account = client.get(LIST, {"q": "医院"})

    assert names(by_name) == ["打印机更新"]
    assert names(by_account) == ["服务合同"]


def test_filters_by_stage_status_owner_and_pipeline(client, org):
    needs = default_stage("needs")
    OpportunityFactory(owner=org.rep_a1, name="需求中", stage=needs)
    OpportunityFactory(owner=org.rep_a1, name="准备中")
    OpportunityFactory(owner=org.rep_a2, name="同事需求中", stage=needs)
    OpportunityFactory(owner=org.rep_a1, name="已丢", stage=needs, status="lost", loss_reason="price",
                       closed_at=timezone.now())  # fmt: skip
    dealership = install_pipeline(
        TEMPLATES["dealership"], pipeline_model=Pipeline, stage_model=Stage, criterion_model=StageCriterion
    )
    OpportunityFactory(owner=org.rep_a1, name="展厅", stage=dealership.stages.order_by("order").first())
    client.force_login(org.manager_a)

    assert sorted(names(client.get(LIST, {"stage": needs.pk}))) == ["同事需求中", "已丢", "需求中"]
    assert sorted(names(client.get(LIST, {"stage": needs.pk, "status": "open"}))) == ["同事需求中", "需求中"]
    assert names(client.get(LIST, {"stage": needs.pk, "status": "open", "owner": org.rep_a2.pk})) == ["同事需求中"]
    assert names(client.get(LIST, {"pipeline": dealership.pk})) == ["展厅"]


def test_a_rep_who_filters_by_another_owner_sees_nothing_of_theirs(client, org):
    OpportunityFactory(owner=org.rep_a1, name="我的")
    OpportunityFactory(owner=org.rep_a2, name="同事的")
    client.force_login(org.rep_a1)

    response = client.get(LIST, {"owner": org.rep_a2.pk})

    assert "同事的" not in response.content.decode()
    assert names(response) == ["我的"]


def test_sorting_by_amount_and_by_expected_close(client, org):
    today = timezone.localdate()
    OpportunityFactory(owner=org.rep_a1, name="中", amount=Decimal(200), expected_close_date=today)
    OpportunityFactory(owner=org.rep_a1, name="大", amount=Decimal(900), expected_close_date=today + timedelta(days=9))
    OpportunityFactory(owner=org.rep_a1, name="小", amount=Decimal(100), expected_close_date=today - timedelta(days=9))
    client.force_login(org.rep_a1)

    assert names(client.get(LIST, {"sort": "-amount"})) == ["大", "中", "小"]
    assert names(client.get(LIST, {"sort": "amount"})) == ["小", "中", "大"]
    assert names(client.get(LIST, {"sort": "close"})) == ["小", "中", "大"]


def test_the_list_is_paginated_and_keeps_its_filters_in_the_page_links(client, org):
    OpportunityFactory.create_batch(30, owner=org.rep_a1, stage=default_stage("needs"))
    client.force_login(org.rep_a1)

    first = client.get(LIST, {"status": "open", "sort": "name"})
    second = client.get(LIST, {"status": "open", "sort": "name", "page": 2})

    assert (len(first.context["opportunities"]), len(second.context["opportunities"])) == (25, 5)
    assert "?status=open&amp;sort=name&amp;page=2" in first.content.decode()


def test_the_list_runs_as_many_queries_with_ten_times_the_opportunities(client, org, django_assert_num_queries):
    def grow(count: int) -> None:
        for i in range(count):
            OpportunityFactory(owner=[org.rep_a1, org.rep_a2][i % 2], stage=default_stage(["prep", "needs"][i % 2]))

    grow(3)
    client.force_login(org.manager_a)
    with CaptureQueriesContext(connection) as small:
        assert client.get(LIST, {"sort": "stage"}).status_code == 200
    grow(27)

    with django_assert_num_queries(len(small)):
        response = client.get(LIST, {"sort": "stage"})

    assert response.context["page_obj"].paginator.count == 30
    assert len(small) <= 8


def test_an_htmx_search_answers_with_the_results_region_only(client, org):
    OpportunityFactory(owner=org.rep_a1, name="局部")
    client.force_login(org.rep_a1)

    html = client.get(LIST, {"q": "局"}, HTTP_HX_REQUEST="true").content.decode()

    assert html.lstrip().startswith('<section id="results"')
    assert "局部" in html


# --- create ---------------------------------------------------------------------------------------------------------


def test_the_create_form_offers_only_visible_accounts_and_no_pipeline_choice_to_a_rep(client, org):
    mine = AccountFactory(owner=org.rep_a1)
    AccountFactory(owner=org.rep_a2)
    client.force_login(org.rep_a1)

    form = client.get(CREATE).context["form"]

    assert list(form.fields["account"].queryset) == [mine]
    assert "pipeline" not in form.fields


def test_creating_an_opportunity_goes_through_the_service_and_opens_its_page(client, org):
    account = AccountFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.post(
        CREATE,
        {
            "account": account.pk,
            "name": "新商机",
            "amount": "120000",
            "expected_close_date": "2027-01-15",
            "source": "referral",
        },
    )

    opportunity = Opportunity.objects.get()
    assert response["Location"] == reverse("pipeline:opportunity", args=[opportunity.pk])
    assert (opportunity.owner, opportunity.stage.code, opportunity.amount, opportunity.source) == (
        org.rep_a1,
        "prep",
        Decimal("120000"),
        "referral",
    )
    assert StageChange.objects.filter(opportunity=opportunity).count() == 1


def test_creating_at_an_account_the_rep_cannot_see_is_refused_and_writes_nothing(client, org):
    other = AccountFactory(owner=org.rep_a2)
    client.force_login(org.rep_a1)

    response = client.post(CREATE, {"account": other.pk, "name": "越权"})

    assert response.status_code == 200
    assert response.context["form"].errors["account"]
    assert not Opportunity.objects.exists()


def test_a_director_chooses_the_pipeline_of_a_new_opportunity(client, org):
    dealership = install_pipeline(
        TEMPLATES["dealership"], pipeline_model=Pipeline, stage_model=Stage, criterion_model=StageCriterion
    )
    account = AccountFactory(owner=org.rep_a1)
    client.force_login(org.director)

    client.post(CREATE, {"account": account.pk, "name": "展厅商机", "pipeline": dealership.pk})

    opportunity = Opportunity.objects.get()
    assert (opportunity.pipeline, opportunity.stage) == (dealership, dealership.stages.order_by("order").first())
