"""Installs the default nine-stage B2B pipeline.

The stages and criteria are a frozen copy of what pipeline/process_templates.py's DEFAULT_PIPELINE held when this
migration was written, so editing the template later never changes what this migration does
(tests/pipeline/test_default_pipeline_migration.py checks the copy against today's template).
"""

from django.db import migrations

PIPELINE = {
    "code": "b2b",
    "name_zh": "B2B 九阶段销售流程",
    "name_en": "B2B nine-stage sales process",
    "is_default": True,
}

STAGES = [
    {
        "order": 1,
        "code": "prep",
        "name_zh": "事先准备",
        "name_en": "Preparation",
        "probability": 5,
        "buying_stage_zh": "业务运营",
        "buying_stage_en": "Business as usual",
        "engaged": False,
        "is_closing": False,
        "is_after_sales": False,
        "guidance_zh": (
            "学习相关知识、掌握商业规则和商业技巧，明确访问目的，做好拜访前的各项准备，"
            "使客户觉得商谈既有意义又有价值，从而赢得客户的信赖。"
        ),
        "guidance_en": (
            "Learn the customer's business and the rules of the trade, set a clear purpose for the "
            "visit and prepare it well, so the customer finds the meeting meaningful and worth their "
            "time and begins to trust you."
        ),
        "main_tasks_zh": "收集下次谈话的资料；构思谈话方式；了解客户行业动态及共同话题。",
        "main_tasks_en": (
            "Gather material for the next conversation; plan how to run it; learn the customer's "
            "industry news and topics you share."
        ),
        "criteria": [
            {
                "order": 1,
                "code": "account_profile_complete",
                "kind": "automatic",
                "input_type": "",
                "label_zh": "客户档案完整（行业、规模、区域）",
                "label_en": "Account profile complete (industry, size, region)",
            },
            {
                "order": 2,
                "code": "visit_purpose",
                "kind": "manual",
                "input_type": "text",
                "label_zh": "已写明拜访目的",
                "label_en": "Visit purpose written",
            },
            {
                "order": 3,
                "code": "visit_planned",
                "kind": "automatic",
                "input_type": "",
                "label_zh": "已计划拜访",
                "label_en": "A visit is planned",
            },
        ],
    },
    {
        "order": 2,
        "code": "status",
        "name_zh": "了解现状",
        "name_en": "Understand the situation",
        "probability": 10,
        "buying_stage_zh": "认识变化",
        "buying_stage_en": "Recognise a change",
        "engaged": True,
        "is_closing": False,
        "is_after_sales": False,
        "guidance_zh": (
            "在向客户提供有价值信息的同时，从客户处了解情况、收集信息，了解客户具体面临的问题；"
            "通过交流使客户产生兴趣、增加关心，并认为继续商谈极富价值。"
        ),
        "guidance_en": (
            "While giving the customer valuable information, learn their situation, collect facts and "
            "understand the concrete problems they face, so they grow interested and see real value "
            "in continuing the conversation."
        ),
        "main_tasks_zh": "以客户关注的问题为焦点；确认客户将采取的购买行动。",
        "main_tasks_en": (
            "Focus on the issues the customer cares about; confirm the buying steps the customer will take."
        ),
        "criteria": [
            {
                "order": 1,
                "code": "visit_completed",
                "kind": "automatic",
                "input_type": "",
                "label_zh": "商机创建后已完成至少一次拜访",
                "label_en": "At least one visit completed at the account since the opportunity was created",
            },
            {
                "order": 2,
                "code": "current_situation",
                "kind": "manual",
                "input_type": "text",
                "label_zh": "已写明客户现状",
                "label_en": "Current situation written",
            },
            {
                "order": 3,
                "code": "key_contact_named",
                "kind": "automatic",
                "input_type": "",
                "label_zh": "已登记关键联系人",
                "label_en": "A key contact is named",
            },
        ],
    },
    {
        "order": 3,
        "code": "opportunity",
        "name_zh": "识别机会",
        "name_en": "Identify the opportunity",
        "probability": 20,
        "buying_stage_zh": "评估现状",
        "buying_stage_en": "Evaluate the current state",
        "engaged": True,
        "is_closing": False,
        "is_after_sales": False,
        "guidance_zh": (
            "通过对现状的分析，阐明客户存在的问题、产生的背景及其原因，使客户对应该解决的问题产生认识上的共鸣。"
        ),
        "guidance_en": (
            "Analyse the current situation to make the customer's problems, their background and "
            "causes explicit, until the customer agrees on what needs to be solved."
        ),
        "main_tasks_zh": "以客户关注的问题为焦点；确认客户将采取的购买行动。",
        "main_tasks_en": (
            "Focus on the issues the customer cares about; confirm the buying steps the customer will take."
        ),
        "criteria": [
            {
                "order": 1,
                "code": "problem_and_cause",
                "kind": "manual",
                "input_type": "text",
                "label_zh": "已写明问题及其原因",
                "label_en": "Problem and its cause written",
            },
            {
                "order": 2,
                "code": "problem_acknowledged",
                "kind": "manual",
                "input_type": "checkbox",
                "label_zh": "客户已认可问题",
                "label_en": "Customer acknowledged the problem",
            },
        ],
    },
    {
        "order": 4,
        "code": "needs",
        "name_zh": "明确需求",
        "name_en": "Clarify needs",
        "probability": 30,
        "buying_stage_zh": "建立采购标准",
        "buying_stage_en": "Set buying criteria",
        "engaged": True,
        "is_closing": False,
        "is_after_sales": False,
        "guidance_zh": "阐明客户的需求，使客户对应该满足的需求产生共鸣，从而期望获得具体的解决方案和条件。",
        "guidance_en": (
            "Make the customer's needs explicit so they agree on what must be met and start expecting "
            "a concrete solution and terms."
        ),
        "main_tasks_zh": "就客户的需求和采购标准及其优先顺序与客户达成一致。",
        "main_tasks_en": "Agree with the customer on their needs, their buying criteria and their priorities.",
        "criteria": [
            {
                "order": 1,
                "code": "buying_criteria",
                "kind": "manual",
                "input_type": "text",
                "label_zh": "已写明采购标准及优先顺序",
                "label_en": "Buying criteria with priorities written",
            },
            {
                "order": 2,
                "code": "decision_maker_contact",
                "kind": "automatic",
                "input_type": "",
                "label_zh": "客户有决策者联系人",
                "label_en": "A decision-maker contact on the account",
            },
        ],
    },
    {
        "order": 5,
        "code": "develop",
        "name_zh": "发展需求",
        "name_en": "Develop the needs",
        "probability": 40,
        "buying_stage_zh": "探索解决方案",
        "buying_stage_en": "Explore solutions",
        "engaged": True,
        "is_closing": False,
        "is_after_sales": False,
        "guidance_zh": "在需求明确的基础上发展需求，确认预算和时间，使客户期望获得具体的解决方案和提示条件。",
        "guidance_en": (
            "Build on the agreed needs: confirm budget and timing so the customer expects a concrete "
            "solution and terms."
        ),
        "main_tasks_zh": "就客户的需求和采购标准及其优先顺序与客户达成一致；确认预算和预计成交日期。",
        "main_tasks_en": (
            "Agree on needs, buying criteria and priorities; confirm the budget and the expected close date."
        ),
        "criteria": [
            {
                "order": 1,
                "code": "budget_set",
                "kind": "automatic",
                "input_type": "",
                "label_zh": "已确定预算（金额大于0）",
                "label_en": "Budget set (amount above 0)",
            },
            {
                "order": 2,
                "code": "close_date_set",
                "kind": "automatic",
                "input_type": "",
                "label_zh": "已确定预计成交日期",
                "label_en": "Expected close date set",
            },
        ],
    },
    {
        "order": 6,
        "code": "propose",
        "name_zh": "推荐解决方案",
        "name_en": "Propose a solution",
        "probability": 60,
        "buying_stage_zh": "探索解决方案",
        "buying_stage_en": "Explore solutions",
        "engaged": True,
        "is_closing": False,
        "is_after_sales": False,
        "guidance_zh": (
            "以提出解决方案或进行产品演示的方法向客户证明：我们的方案不但能解决客户的问题，"
            "而且能满足客户的要求，使客户对方案完全认可、十分满意，从而提高购买的愿望。"
        ),
        "guidance_en": (
            "Prove with a proposal or a product demo that our solution solves the customer's problem "
            "and meets their requirements, until they fully accept it and want to buy."
        ),
        "main_tasks_zh": "推荐解决方案并就方案进行说明。",
        "main_tasks_en": "Recommend the solution and explain it.",
        "criteria": [
            {
                "order": 1,
                "code": "demo_or_proposal_done",
                "kind": "automatic",
                "input_type": "",
                "label_zh": "已完成一次演示或方案拜访",
                "label_en": "A demo or proposal visit completed",
            },
            {
                "order": 2,
                "code": "proposal_accepted",
                "kind": "manual",
                "input_type": "checkbox",
                "label_zh": "客户已接受方案",
                "label_en": "Customer accepted the proposal",
            },
        ],
    },
    {
        "order": 7,
        "code": "commit",
        "name_zh": "获得承诺",
        "name_en": "Gain commitment",
        "probability": 80,
        "buying_stage_zh": "选定厂家",
        "buying_stage_en": "Select a vendor",
        "engaged": True,
        "is_closing": False,
        "is_after_sales": False,
        "guidance_zh": (
            "明确妨碍签订合同的因素，提出双方都能满意的具体条件，打消客户对合同的担心和不满，清除所有障碍。"
        ),
        "guidance_en": (
            "Find what stands in the way of a contract, offer terms both sides can accept, and clear "
            "the customer's concerns until no obstacle is left."
        ),
        "main_tasks_zh": "与客户就采购条款达成一致意见。",
        "main_tasks_en": "Reach agreement with the customer on the purchase terms.",
        "criteria": [
            {
                "order": 1,
                "code": "blocking_issues_resolved",
                "kind": "manual",
                "input_type": "checkbox",
                "label_zh": "障碍问题已解决",
                "label_en": "Blocking issues resolved",
            },
            {
                "order": 2,
                "code": "purchase_date_agreed",
                "kind": "manual",
                "input_type": "date",
                "label_zh": "已约定采购日期",
                "label_en": "Purchase date agreed",
            },
        ],
    },
    {
        "order": 8,
        "code": "close",
        "name_zh": "结案",
        "name_en": "Close",
        "probability": 100,
        "buying_stage_zh": "下订单",
        "buying_stage_en": "Place the order",
        "engaged": True,
        "is_closing": True,
        "is_after_sales": False,
        "guidance_zh": "使客户作出决定，确定产品购买时间，双方达成一致，签订合同。",
        "guidance_en": "Have the customer decide, fix the purchase date, reach agreement and sign the contract.",
        "main_tasks_zh": "与客户达成对采购条款的一致意见，得到正式订单。",
        "main_tasks_en": "Agree the purchase terms with the customer and get the formal order.",
        "criteria": [
            {
                "order": 1,
                "code": "contract_signed",
                "kind": "manual",
                "input_type": "checkbox",
                "label_zh": "合同已签订",
                "label_en": "Contract signed",
            },
        ],
    },
    {
        "order": 9,
        "code": "implement",
        "name_zh": "管理方案实施",
        "name_en": "Manage implementation",
        "probability": None,
        "buying_stage_zh": "实施并评估",
        "buying_stage_en": "Implement and evaluate",
        "engaged": True,
        "is_closing": False,
        "is_after_sales": True,
        "guidance_zh": (
            "信守对客户的承诺，顺利交货、安装；购买后提供迅速、周到的售后跟进，并不断提出改善建议，"
            "使客户对购买结果感到满意，认同我们为值得信赖的商业伙伴，维持并扩大长期合作。"
        ),
        "guidance_en": (
            "Keep every promise: deliver and install smoothly, follow up quickly and thoroughly after "
            "the sale and keep suggesting improvements, so the customer is satisfied, sees us as a "
            "trusted partner and the relationship lasts and grows."
        ),
        "main_tasks_zh": "交货、装机并进行售后跟踪，确保客户对合作满意。",
        "main_tasks_en": "Deliver, install and follow up after the sale to make sure the customer is satisfied.",
        "criteria": [
            {
                "order": 1,
                "code": "delivered_installed",
                "kind": "manual",
                "input_type": "checkbox",
                "label_zh": "已交货并安装",
                "label_en": "Delivered and installed",
            },
            {
                "order": 2,
                "code": "follow_up_visits_done",
                "kind": "automatic",
                "input_type": "",
                "label_zh": "回访已完成",
                "label_en": "Follow-up visits done",
            },
            {
                "order": 3,
                "code": "satisfaction_recorded",
                "kind": "automatic",
                "input_type": "",
                "label_zh": "已记录客户满意度",
                "label_en": "Satisfaction recorded",
            },
        ],
    },
]


def create_default_pipeline(apps, schema_editor):
    """Creates or updates the pipeline, its stages and their criteria by code; safe to run twice."""
    pipeline_model = apps.get_model("pipeline", "Pipeline")
    stage_model = apps.get_model("pipeline", "Stage")
    criterion_model = apps.get_model("pipeline", "StageCriterion")
    pipeline, _ = pipeline_model.objects.update_or_create(
        code=PIPELINE["code"], defaults={k: v for k, v in PIPELINE.items() if k != "code"}
    )
    for stage_data in STAGES:
        fields = {k: v for k, v in stage_data.items() if k not in ("code", "criteria")}
        stage, _ = stage_model.objects.update_or_create(pipeline=pipeline, code=stage_data["code"], defaults=fields)
        for criterion in stage_data["criteria"]:
            criterion_model.objects.update_or_create(stage=stage, code=criterion["code"], defaults=criterion)


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0001_initial")]

    operations = [migrations.RunPython(create_default_pipeline, migrations.RunPython.noop)]
