from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from core.errors import ExitCriteriaNotMet
from pipeline.criteria import IMPLEMENTED_CHECKS
from pipeline.models import Opportunity, Pipeline, Stage, StageChange, StageCriterion, Visit
from pipeline.process_templates import TEMPLATES
from pipeline.services.moves import move_opportunity, win_opportunity
from tests.factories import OpportunityFactory, VisitFactory

pytestmark = pytest.mark.django_db

EXPECTED_STAGES = {
    "dealership": ["售前准备", "店内接待", "需求分析", "商品说明", "试乘试驾", "报价签约", "交车", "售后跟踪"],
    "seven_step": ["计划与活动", "主顾开拓", "接触前准备", "接触", "说明", "促成", "售后服务"],
    "handbook": ["客户开发", "需求分析", "解决方案", "提出报价", "谈判", "签订合同", "售后服务"],
}


def counts() -> tuple[int, int, int]:
    return Pipeline.objects.count(), Stage.objects.count(), StageCriterion.objects.count()


def load(name: str) -> str:
    out = StringIO()
    call_command("load_pipeline_template", name, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(EXPECTED_STAGES))
def test_a_template_loads_its_stages_in_order_and_loading_it_again_changes_nothing(name):
    before = counts()

    load(name)
    once = counts()
    load(name)

    assert counts() == once
    pipeline = Pipeline.objects.get(code=name)
    stages = list(pipeline.stages.order_by("order"))
    assert [s.name_zh for s in stages] == EXPECTED_STAGES[name]
    assert [s.order for s in stages] == list(range(1, len(stages) + 1))
    criteria = StageCriterion.objects.filter(stage__pipeline=pipeline).count()
    assert once == (before[0] + 1, before[1] + len(stages), before[2] + criteria)
    assert pipeline.is_default is False


def test_loading_the_templates_keeps_the_default_pipeline_as_it_was():
    default = Pipeline.objects.get(is_default=True)
    before = list(default.stages.values_list("order", "code", "probability", "engaged", "is_closing"))
    for name in EXPECTED_STAGES:
        load(name)
    assert Pipeline.objects.get(is_default=True) == default
    assert list(default.stages.values_list("order", "code", "probability", "engaged", "is_closing")) == before
    assert [code for _, code, *_ in before] == [
        "prep",
        "status",
        "opportunity",
        "needs",
        "develop",
        "propose",
        "commit",
        "close",
        "implement",
    ]


def test_the_command_reports_what_it_loaded_in_the_active_language():
    with translation.override("zh-hans"):
        assert load("handbook").strip() == "已加载 handbook：7 个阶段，14 项退出标准。"
    with translation.override("en"):
        assert load("handbook").strip() == "Loaded handbook: 7 stages, 14 exit criteria."


def test_an_unknown_template_name_lists_the_valid_ones():
    with pytest.raises(CommandError) as refused:
        load("waterfall")
    assert "b2b, dealership, handbook, seven_step" in str(refused.value)
    assert not Pipeline.objects.filter(code="waterfall").exists()


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_is_complete_in_both_languages_and_uses_only_implemented_checks(name):
    template = TEMPLATES[name]
    assert template["name_zh"] and template["name_en"]
    stages = template["stages"]
    closing = [i for i, s in enumerate(stages) if s["is_closing"]]
    after_sales = [i for i, s in enumerate(stages) if s["is_after_sales"]]
    assert len(closing) == 1 and after_sales and min(after_sales) == closing[0] + 1
    assert all(s["probability"] is None for s in stages[closing[0] + 1 :])
    probabilities = [s["probability"] for s in stages[: closing[0] + 1]]
    assert probabilities == sorted(probabilities) and all(0 < p <= 100 for p in probabilities)
    assert not stages[0]["engaged"] and all(s["engaged"] for s in stages[closing[0] :])
    for stage in stages:
        for key in ("name", "guidance", "main_tasks", "buying_stage"):
            assert stage[f"{key}_zh"] and stage[f"{key}_en"], (stage["code"], key)
        assert stage["criteria"], stage["code"]
        for criterion in stage["criteria"]:
            assert criterion["label_zh"] and criterion["label_en"]
            if criterion["kind"] == "automatic":
                assert criterion["code"] in IMPLEMENTED_CHECKS
                assert criterion["input_type"] == ""
            else:
                assert criterion["input_type"] in ("checkbox", "text", "date")
    assert stages[closing[0]]["criteria"][-1]["code"] == "contract_signed"


def test_a_dealership_win_goes_to_delivery_and_after_sales_stages_follow_their_criteria(org):
    load("dealership")
    pipeline = Pipeline.objects.get(code="dealership")
    signing = pipeline.stages.get(code="quote_contract")
    opportunity = OpportunityFactory(
        owner=org.rep_a1,
        stage=signing,
        criteria_values={"quote_explained": True, "contract_signed": True},
        expected_close_date="2025-12-31",
    )

    won = win_opportunity(opportunity=opportunity, won_by=org.rep_a1)
    assert (won.status, won.stage.code) == ("won", "delivery")
    assert Visit.objects.filter(opportunity=opportunity, kind="follow_up").count() == 2

    with pytest.raises(ExitCriteriaNotMet) as refused:
        move_opportunity(opportunity=won, to_stage_code="follow_up", moved_by=org.rep_a1)
    assert [u.code for u in refused.value.unmet] == ["delivery_done", "usage_explained"]

    VisitFactory(account=won.account, opportunity=won, kind="delivery", status="done", done_at=won.closed_at)
    Opportunity.objects.filter(pk=won.pk).update(criteria_values={**won.criteria_values, "usage_explained": True})
    won.refresh_from_db()
    moved = move_opportunity(opportunity=won, to_stage_code="follow_up", moved_by=org.rep_a1)
    assert (moved.status, moved.stage.code) == ("won", "follow_up")
    assert list(StageChange.objects.filter(opportunity=opportunity).values_list("to_stage__code", flat=True)) == [
        "delivery",
        "follow_up",
    ]
