"""The sales processes SalesFlow ships, as data (SPEC §3).

The default nine-stage pipeline is installed by migration; the other templates by
`manage.py load_pipeline_template NAME`. Guidance and main tasks follow the sales-training
decks (shared/seed/sales-process-decks.txt). Automatic criteria are checked by the function
of the same code in pipeline/criteria.py; manual ones are filled in on the opportunity.
"""

from __future__ import annotations

from typing import Any

AUTO, MANUAL = "automatic", "manual"
CHECKBOX, TEXT, DATE = "checkbox", "text", "date"


def forecast_category(probability: int | None) -> str:
    """A stage's default forecast category, from its win probability: 80% and up (or after the sale) commit, 50% and
    up best case, below that pipeline. No stage defaults to omitted: that is the owner's call."""
    if probability is None or probability >= 80:
        return "commit"
    return "best_case" if probability >= 50 else "pipeline"


def criterion(code: str, kind: str, label_zh: str, label_en: str, input_type: str = "") -> dict[str, str]:
    return {"code": code, "kind": kind, "input_type": input_type, "label_zh": label_zh, "label_en": label_en}


DEFAULT_PIPELINE: dict[str, Any] = {
    "code": "b2b",
    "name_zh": "B2B 九阶段销售流程",
    "name_en": "B2B nine-stage sales process",
    "is_default": True,
    "stages": [
        {
            "code": "prep",
            "name_zh": "事先准备",
            "name_en": "Preparation",
            "probability": 5,
            "forecast_category": "pipeline",
            "buying_stage_zh": "业务运营",
            "buying_stage_en": "Business as usual",
            "engaged": False,
            "is_closing": False,
            "is_after_sales": False,
            "guidance_zh": "学习相关知识、掌握商业规则和商业技巧，明确访问目的，做好拜访前的各项准备，"
            "使客户觉得商谈既有意义又有价值，从而赢得客户的信赖。",
            "guidance_en": "Learn the customer's business and the rules of the trade, set a clear purpose for the "
            "visit and prepare it well, so the customer finds the meeting meaningful and worth their time and "
            "begins to trust you.",
            "main_tasks_zh": "收集下次谈话的资料；构思谈话方式；了解客户行业动态及共同话题。",
            "main_tasks_en": "Gather material for the next conversation; plan how to run it; learn the customer's "
            "industry news and topics you share.",
            "criteria": [
                criterion(
                    "account_profile_complete",
                    AUTO,
                    "客户档案完整（行业、规模、区域）",
                    "Account profile complete (industry, size, region)",
                ),
                criterion("visit_purpose", MANUAL, "已写明拜访目的", "Visit purpose written", TEXT),
                criterion("visit_planned", AUTO, "已计划拜访", "A visit is planned"),
            ],
        },
        {
            "code": "status",
            "name_zh": "了解现状",
            "name_en": "Understand the situation",
            "probability": 10,
            "forecast_category": "pipeline",
            "buying_stage_zh": "认识变化",
            "buying_stage_en": "Recognise a change",
            "engaged": True,
            "is_closing": False,
            "is_after_sales": False,
            "guidance_zh": "在向客户提供有价值信息的同时，从客户处了解情况、收集信息，了解客户具体面临的问题；"
            "通过交流使客户产生兴趣、增加关心，并认为继续商谈极富价值。",
            "guidance_en": "While giving the customer valuable information, learn their situation, collect facts "
            "and understand the concrete problems they face, so they grow interested and see real value in "
            "continuing the conversation.",
            "main_tasks_zh": "以客户关注的问题为焦点；确认客户将采取的购买行动。",
            "main_tasks_en": "Focus on the issues the customer cares about; confirm the buying steps the customer "
            "will take.",
            "criteria": [
                criterion(
                    "visit_completed",
                    AUTO,
                    "商机创建后已完成至少一次拜访",
                    "At least one visit completed at the account since the opportunity was created",
                ),
                criterion("current_situation", MANUAL, "已写明客户现状", "Current situation written", TEXT),
                criterion("key_contact_named", AUTO, "已登记关键联系人", "A key contact is named"),
            ],
        },
        {
            "code": "opportunity",
            "name_zh": "识别机会",
            "name_en": "Identify the opportunity",
            "probability": 20,
            "forecast_category": "pipeline",
            "buying_stage_zh": "评估现状",
            "buying_stage_en": "Evaluate the current state",
            "engaged": True,
            "is_closing": False,
            "is_after_sales": False,
            "guidance_zh": "通过对现状的分析，阐明客户存在的问题、产生的背景及其原因，使客户对应该解决的问题产生认识上的共鸣。",
            "guidance_en": "Analyse the current situation to make the customer's problems, their background and "
            "causes explicit, until the customer agrees on what needs to be solved.",
            "main_tasks_zh": "以客户关注的问题为焦点；确认客户将采取的购买行动。",
            "main_tasks_en": "Focus on the issues the customer cares about; confirm the buying steps the customer "
            "will take.",
            "criteria": [
                criterion("problem_and_cause", MANUAL, "已写明问题及其原因", "Problem and its cause written", TEXT),
                criterion(
                    "problem_acknowledged", MANUAL, "客户已认可问题", "Customer acknowledged the problem", CHECKBOX
                ),
            ],
        },
        {
            "code": "needs",
            "name_zh": "明确需求",
            "name_en": "Clarify needs",
            "probability": 30,
            "forecast_category": "pipeline",
            "buying_stage_zh": "建立采购标准",
            "buying_stage_en": "Set buying criteria",
            "engaged": True,
            "is_closing": False,
            "is_after_sales": False,
            "guidance_zh": "阐明客户的需求，使客户对应该满足的需求产生共鸣，从而期望获得具体的解决方案和条件。",
            "guidance_en": "Make the customer's needs explicit so they agree on what must be met and start "
            "expecting a concrete solution and terms.",
            "main_tasks_zh": "就客户的需求和采购标准及其优先顺序与客户达成一致。",
            "main_tasks_en": "Agree with the customer on their needs, their buying criteria and their priorities.",
            "criteria": [
                criterion(
                    "buying_criteria",
                    MANUAL,
                    "已写明采购标准及优先顺序",
                    "Buying criteria with priorities written",
                    TEXT,
                ),
                criterion(
                    "decision_maker_contact", AUTO, "客户有决策者联系人", "A decision-maker contact on the account"
                ),
            ],
        },
        {
            "code": "develop",
            "name_zh": "发展需求",
            "name_en": "Develop the needs",
            "probability": 40,
            "forecast_category": "pipeline",
            "buying_stage_zh": "探索解决方案",
            "buying_stage_en": "Explore solutions",
            "engaged": True,
            "is_closing": False,
            "is_after_sales": False,
            "guidance_zh": "在需求明确的基础上发展需求，确认预算和时间，使客户期望获得具体的解决方案和提示条件。",
            "guidance_en": "Build on the agreed needs: confirm budget and timing so the customer expects a "
            "concrete solution and terms.",
            "main_tasks_zh": "就客户的需求和采购标准及其优先顺序与客户达成一致；确认预算和预计成交日期。",
            "main_tasks_en": "Agree on needs, buying criteria and priorities; confirm the budget and the expected "
            "close date.",
            "criteria": [
                criterion("budget_set", AUTO, "已确定预算（金额大于0）", "Budget set (amount above 0)"),
                criterion("close_date_set", AUTO, "已确定预计成交日期", "Expected close date set"),
            ],
        },
        {
            "code": "propose",
            "name_zh": "推荐解决方案",
            "name_en": "Propose a solution",
            "probability": 60,
            "forecast_category": "best_case",
            "buying_stage_zh": "探索解决方案",
            "buying_stage_en": "Explore solutions",
            "engaged": True,
            "is_closing": False,
            "is_after_sales": False,
            "guidance_zh": "以提出解决方案或进行产品演示的方法向客户证明：我们的方案不但能解决客户的问题，而且能满足客户的要求，"
            "使客户对方案完全认可、十分满意，从而提高购买的愿望。",
            "guidance_en": "Prove with a proposal or a product demo that our solution solves the customer's "
            "problem and meets their requirements, until they fully accept it and want to buy.",
            "main_tasks_zh": "推荐解决方案并就方案进行说明。",
            "main_tasks_en": "Recommend the solution and explain it.",
            "criteria": [
                criterion(
                    "demo_or_proposal_done", AUTO, "已完成一次演示或方案拜访", "A demo or proposal visit completed"
                ),
                criterion("proposal_accepted", MANUAL, "客户已接受方案", "Customer accepted the proposal", CHECKBOX),
            ],
        },
        {
            "code": "commit",
            "name_zh": "获得承诺",
            "name_en": "Gain commitment",
            "probability": 80,
            "forecast_category": "commit",
            "buying_stage_zh": "选定厂家",
            "buying_stage_en": "Select a vendor",
            "engaged": True,
            "is_closing": False,
            "is_after_sales": False,
            "guidance_zh": "明确妨碍签订合同的因素，提出双方都能满意的具体条件，打消客户对合同的担心和不满，清除所有障碍。",
            "guidance_en": "Find what stands in the way of a contract, offer terms both sides can accept, and "
            "clear the customer's concerns until no obstacle is left.",
            "main_tasks_zh": "与客户就采购条款达成一致意见。",
            "main_tasks_en": "Reach agreement with the customer on the purchase terms.",
            "criteria": [
                criterion("blocking_issues_resolved", MANUAL, "障碍问题已解决", "Blocking issues resolved", CHECKBOX),
                criterion("purchase_date_agreed", MANUAL, "已约定采购日期", "Purchase date agreed", DATE),
            ],
        },
        {
            "code": "close",
            "name_zh": "结案",
            "name_en": "Close",
            "probability": 100,
            "forecast_category": "commit",
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
                criterion("contract_signed", MANUAL, "合同已签订", "Contract signed", CHECKBOX),
            ],
        },
        {
            "code": "implement",
            "name_zh": "管理方案实施",
            "name_en": "Manage implementation",
            "probability": None,
            "forecast_category": "commit",
            "buying_stage_zh": "实施并评估",
            "buying_stage_en": "Implement and evaluate",
            "engaged": True,
            "is_closing": False,
            "is_after_sales": True,
            "guidance_zh": "信守对客户的承诺，顺利交货、安装；购买后提供迅速、周到的售后跟进，并不断提出改善建议，"
            "使客户对购买结果感到满意，认同我们为值得信赖的商业伙伴，维持并扩大长期合作。",
            "guidance_en": "Keep every promise: deliver and install smoothly, follow up quickly and thoroughly after "
            "the sale and keep suggesting improvements, so the customer is satisfied, sees us as a trusted "
            "partner and the relationship lasts and grows.",
            "main_tasks_zh": "交货、装机并进行售后跟踪，确保客户对合作满意。",
            "main_tasks_en": "Deliver, install and follow up after the sale to make sure the customer is satisfied.",
            "criteria": [
                criterion("delivered_installed", MANUAL, "已交货并安装", "Delivered and installed", CHECKBOX),
                criterion("follow_up_visits_done", AUTO, "回访已完成", "Follow-up visits done"),
                criterion("satisfaction_recorded", AUTO, "已记录客户满意度", "Satisfaction recorded"),
            ],
        },
    ],
}


def stage(
    code: str,
    names: tuple[str, str],
    probability: int | None,
    buying_stage: tuple[str, str],
    guidance: tuple[str, str],
    main_tasks: tuple[str, str],
    criteria: list[dict[str, str]],
    *,
    engaged: bool = True,
    is_closing: bool = False,
    is_after_sales: bool = False,
) -> dict[str, Any]:
    """A stage of a template; each pair is (Chinese, English)."""
    return {
        "code": code,
        "name_zh": names[0],
        "name_en": names[1],
        "probability": probability,
        "forecast_category": forecast_category(probability),
        "buying_stage_zh": buying_stage[0],
        "buying_stage_en": buying_stage[1],
        "engaged": engaged,
        "is_closing": is_closing,
        "is_after_sales": is_after_sales,
        "guidance_zh": guidance[0],
        "guidance_en": guidance[1],
        "main_tasks_zh": main_tasks[0],
        "main_tasks_en": main_tasks[1],
        "criteria": criteria,
    }


CONTRACT_SIGNED = criterion("contract_signed", MANUAL, "合同已签订", "Contract signed", CHECKBOX)
FOLLOW_UP_DONE = criterion("follow_up_visits_done", AUTO, "回访已完成", "Follow-up visits done")
SATISFACTION_RECORDED = criterion("satisfaction_recorded", AUTO, "已记录客户满意度", "Satisfaction recorded")


# The dealership process of the decks (标准销售流程 / 体验式销售流程): the customer comes to the showroom.
DEALERSHIP_PIPELINE: dict[str, Any] = {
    "code": "dealership",
    "name_zh": "展厅销售流程",
    "name_en": "Dealership sales process",
    "stages": [
        stage(
            "prep",
            ("售前准备", "Pre-sale preparation"),
            5,
            ("产生购买意向", "Considering a purchase"),
            (
                "收集潜在客户信息并与潜在目标客户联系，邀约意向客户来店体验产品和服务；仪表着装、证照和资料准备到位，"
                "让顾客一进店就感到受重视。",
                "Collect information on prospects and contact them, invite interested customers to come and "
                "experience the product and service; have your appearance, credentials and material ready so the "
                "customer feels valued from the moment they walk in.",
            ),
            (
                "设立销售目标，制定集客计划；建立客户联系档案（A-C卡）；邀约意向客户来店；检查仪表着装和展厅资料。",
                "Set sales goals and a plan to attract customers; keep a contact file (A–C cards) for each "
                "customer; invite interested customers to the showroom; check your appearance and the showroom "
                "material.",
            ),
            [
                criterion("contact_named", AUTO, "已登记客户联系人", "A contact is recorded"),
                criterion("visit_planned", AUTO, "已预约来店或拜访", "A showroom visit or call is planned"),
            ],
            engaged=False,
        ),
        stage(
            "reception",
            ("店内接待", "In-store reception"),
            10,
            ("到店了解", "Visiting the showroom"),
            (
                "把握真实一刻（关键时刻）：让顾客感到舒适，消除顾客疑虑，建立顾客信心；让顾客进店时感到受重视，"
                "并建立以尊重顾客个人需要为基础的友好关系。",
                "Own the moment of truth: make the customer comfortable, remove their doubts and build their "
                "confidence; make them feel valued when they arrive and build a friendly relationship founded on "
                "respect for their personal needs.",
            ),
            (
                "热情接待来店、来电顾客；判断顾客类型（主导型、分析型、社交型）并相应应对；留下顾客联系方式。",
                "Welcome visitors and callers warmly; recognise the customer's type (dominant, analytical, social) "
                "and respond to it; get the customer's contact details.",
            ),
            [
                criterion("visit_completed", AUTO, "已完成接待（拜访已完成）", "Reception done (a visit completed)"),
                criterion(
                    "contact_style_known",
                    AUTO,
                    "已判断顾客类型（沟通风格）",
                    "Customer type (communication style) recorded",
                ),
            ],
        ),
        stage(
            "needs_analysis",
            ("需求分析", "Needs analysis"),
            20,
            ("明确需求", "Clarify needs"),
            (
                "销售的目的是双赢：通过商品和服务满足顾客的需要。通过提问和积极倾听，识别并探求顾客的显性需求和"
                "隐性需求，才能做有针对性的介绍。",
                "Selling aims at a win for both sides: meeting the customer's needs with products and service. Ask "
                "and listen actively to find both the needs the customer states and those below the surface, so "
                "the presentation hits the mark.",
            ),
            (
                "运用澄清、展开、重复、复述、记录、总结等方法收集顾客信息；确认用途、预算和购买时间。",
                "Collect the customer's information by clarifying, expanding, repeating, restating, noting and "
                "summarising; confirm use, budget and timing.",
            ),
            [
                criterion(
                    "customer_needs",
                    MANUAL,
                    "已记录顾客需求（用途、偏好、购买时间）",
                    "Customer needs written (use, preferences, timing)",
                    TEXT,
                ),
                criterion("budget_set", AUTO, "已确认预算（金额大于0）", "Budget confirmed (amount above 0)"),
            ],
        ),
        stage(
            "presentation",
            ("商品说明", "Product presentation"),
            35,
            ("比较选择", "Compare the options"),
            (
                "做好商品说明的准备，针对顾客需求有重点地介绍商品；遇有疑难问题时如实解答，客观评价竞争对手，"
                "突出我们的优势。",
                "Prepare the presentation and show the product against the customer's needs; answer hard questions "
                "honestly, assess competitors fairly and bring out our strengths.",
            ),
            (
                "环车介绍；结合需求说明商品特点和利益；与竞品比较；处理顾客疑问。",
                "Walk around the product; explain features and benefits in terms of the customer's needs; compare "
                "with competing products; handle the customer's questions.",
            ),
            [
                criterion(
                    "product_presented",
                    MANUAL,
                    "已完成商品说明（环车介绍）",
                    "Product presented (walk-around done)",
                    CHECKBOX,
                ),
                criterion(
                    "competitor_comparison",
                    MANUAL,
                    "已记录与竞品的比较及顾客反应",
                    "Comparison with competing products and the customer's reaction written",
                    TEXT,
                ),
            ],
        ),
        stage(
            "test_drive",
            ("试乘试驾", "Test drive"),
            50,
            ("亲身体验", "Experience the product"),
            (
                "让顾客亲身体验产品，加深对产品的印象，增强购买信心；试乘试驾后及时询问感受，针对顾虑进行说明。",
                "Let the customer experience the product first hand to deepen their impression and their "
                "confidence; ask how it felt right afterwards and address any concern.",
            ),
            (
                "邀请并安排试乘试驾；确认驾照和路线，保证安全；试驾后听取顾客感受。",
                "Invite to and arrange the test drive; check the licence and the route and keep it safe; hear the "
                "customer's impressions afterwards.",
            ),
            [
                criterion("demo_done", AUTO, "已完成试乘试驾（演示拜访）", "Test drive done (a demo visit completed)"),
                criterion(
                    "test_drive_feedback",
                    MANUAL,
                    "已记录顾客试驾感受",
                    "The customer's impressions of the test drive written",
                    TEXT,
                ),
            ],
        ),
        stage(
            "quote_contract",
            ("报价签约", "Quotation and contract"),
            80,
            ("决定购买", "Decide to buy"),
            (
                "报价说明要明确清楚，使顾客感到轻松；处理价格异议，强调产品价值；敏锐捕捉购买信号促成交易，签订合同。",
                "Explain the price clearly so the customer feels at ease; handle price objections by stressing the "
                "product's value; catch the buying signals, close the deal and sign the contract.",
            ),
            (
                "说明报价和付款方式；处理抗拒和价格异议；签约成交并提醒注意事项。",
                "Explain the quotation and the payment terms; handle resistance and price objections; sign and "
                "point out what the customer should keep in mind.",
            ),
            [
                criterion(
                    "quote_explained", MANUAL, "已向顾客说明报价", "Quotation explained to the customer", CHECKBOX
                ),
                criterion("close_date_set", AUTO, "已确定预计成交日期", "Expected close date set"),
                CONTRACT_SIGNED,
            ],
            is_closing=True,
        ),
        stage(
            "delivery",
            ("交车", "Delivery"),
            None,
            ("提车", "Take delivery"),
            (
                "在承诺的时间内，以最佳的车况、最好的服务向顾客交付（热情交车），让顾客对购买结果感到满意。",
                "Deliver at the promised time, in the best condition and with the best service, so the customer is "
                "pleased with what they bought.",
            ),
            (
                "交车前检查；讲解使用、保养和保修；介绍售后服务人员。",
                "Inspect before handing over; explain use, maintenance and warranty; introduce the after-sales staff.",
            ),
            [
                criterion(
                    "delivery_done", AUTO, "交车已完成（交付拜访已完成）", "Delivered (a delivery visit completed)"
                ),
                criterion(
                    "usage_explained",
                    MANUAL,
                    "已说明使用、保养和保修",
                    "Use, maintenance and warranty explained",
                    CHECKBOX,
                ),
            ],
            is_after_sales=True,
        ),
        stage(
            "follow_up",
            ("售后跟踪", "After-sales follow-up"),
            None,
            ("使用与评价", "Use and evaluate"),
            (
                "在交车后的一个合理时间内打电话询问顾客是否完全满意；对出现的问题或顾客关注的事项做出迅速反应，"
                "创造忠诚的客户。",
                "Call within a reasonable time after delivery to ask whether the customer is fully satisfied; "
                "respond quickly to any problem or concern, and turn the customer into a loyal one.",
            ),
            (
                "按计划回访；记录满意度；及时处理问题；请求转介绍。",
                "Make the planned follow-up calls; record satisfaction; deal with problems promptly; ask for "
                "referrals.",
            ),
            [FOLLOW_UP_DONE, SATISFACTION_RECORDED],
            is_after_sales=True,
        ),
    ],
}


# The seven-step process of the decks (销售的七步流程).
SEVEN_STEP_PIPELINE: dict[str, Any] = {
    "code": "seven_step",
    "name_zh": "七步销售流程",
    "name_en": "Seven-step sales process",
    "stages": [
        stage(
            "plan",
            ("计划与活动", "Plan and activity"),
            5,
            ("业务运营", "Business as usual"),
            (
                "设定近期目标和远期目标，养成做工作日记的习惯；通过“计划100”积累主顾，并与工作日记配合，"
                "让每天的活动有计划、有检查。",
                "Set near-term and long-term goals and keep a work diary; build up prospects with a "
                "“plan 100” list used together with the diary, so every day's activity is planned and checked.",
            ),
            (
                "设定目标；写工作日记；列出“计划100”名单。",
                "Set goals; keep the work diary; draw up the “plan 100” list.",
            ),
            [
                criterion(
                    "activity_plan",
                    MANUAL,
                    "已写明与该客户相关的目标和活动计划",
                    "Goal and activity plan for this customer written",
                    TEXT,
                ),
            ],
            engaged=False,
        ),
        stage(
            "prospect",
            ("主顾开拓", "Prospecting"),
            10,
            ("业务运营", "Business as usual"),
            (
                "用缘故法、介绍法、陌生拜访法、目标市场法和职团开拓等方法持续寻找准主顾，并记录每位主顾的来源。",
                "Keep finding prospects through warm contacts, referrals, cold visits, target markets and groups, "
                "and record where each prospect came from.",
            ),
            (
                "寻找准主顾；记录来源；建立联系人档案。",
                "Find prospects; record the source; keep a contact file.",
            ),
            [
                criterion(
                    "source_set",
                    AUTO,
                    "已记录主顾来源（缘故、介绍、陌生拜访、目标市场、职团等）",
                    "Source recorded (warm, referral, cold visit, target market, group…)",
                ),
                criterion("contact_named", AUTO, "已登记联系人", "A contact is recorded"),
            ],
            engaged=False,
        ),
        stage(
            "pre_approach",
            ("接触前准备", "Pre-approach"),
            15,
            ("业务运营", "Business as usual"),
            (
                "了解准主顾的资料，明确拜访目的；准备电话访问稿并先演练。约访的目的不是推销产品，而是为有效面谈奠定基础。",
                "Study the prospect and set the purpose of the visit; write a call script and rehearse it. An "
                "appointment call does not sell the product, it lays the ground for a useful meeting.",
            ),
            (
                "完善客户资料；准备电话或信函约访；约定面谈时间。",
                "Complete the account profile; prepare the call or letter asking for a meeting; agree a time.",
            ),
            [
                criterion(
                    "account_profile_complete",
                    AUTO,
                    "客户档案完整（行业、规模、区域）",
                    "Account profile complete (industry, size, region)",
                ),
                criterion("visit_purpose", MANUAL, "已写明拜访目的", "Visit purpose written", TEXT),
                criterion("visit_planned", AUTO, "已计划拜访", "A visit is planned"),
            ],
            engaged=False,
        ),
        stage(
            "approach",
            ("接触", "Approach"),
            25,
            ("认识变化", "Recognise a change"),
            (
                "通过寒暄和赞美建立信任（认同+赞美+陈述+反问），寻找购买点并切入主题；避免话太多、心太急、太直接。",
                "Build trust through small talk and sincere praise (agree + praise + state + ask back), find the "
                "buying point and move to the subject; avoid talking too much, rushing or being too blunt.",
            ),
            (
                "选择接触方法（开门见山、讨教、看望、介绍、主动帮助、休闲活动、调查问卷）；寒暄、寻找购买点、切入主题。",
                "Pick an approach (direct, asking advice, a courtesy call, an introduction, offering help, a leisure "
                "activity, a survey); small talk, find the buying point, move to the subject.",
            ),
            [
                criterion("visit_completed", AUTO, "已完成至少一次拜访", "At least one visit completed"),
                criterion("buying_point", MANUAL, "已写明客户的购买点", "The customer's buying point written", TEXT),
            ],
        ),
        stage(
            "presentation",
            ("说明", "Presentation"),
            50,
            ("探索解决方案", "Explore solutions"),
            (
                "围绕客户的购买点说明产品或方案能带来的利益，用资料、示例和证明消除疑虑，让客户认可方案。",
                "Present what the product or solution brings for the customer's buying point, and remove doubts "
                "with material, examples and proof until the customer accepts it.",
            ),
            (
                "说明方案或演示产品；处理客户异议。",
                "Present the solution or demonstrate the product; handle objections.",
            ),
            [
                criterion(
                    "demo_or_proposal_done", AUTO, "已完成一次演示或方案拜访", "A demo or proposal visit completed"
                ),
                criterion("objections_handled", MANUAL, "客户异议已处理", "Customer objections handled", CHECKBOX),
                criterion("budget_set", AUTO, "已确定预算（金额大于0）", "Budget set (amount above 0)"),
            ],
        ),
        stage(
            "close",
            ("促成", "Close"),
            80,
            ("下订单", "Place the order"),
            (
                "敏锐捕捉购买信号，积极诱导、主动促成交易；帮助客户权衡利弊，提示重点并留有余地；被拒绝时认同并反问，"
                "拒绝是成功的开始。",
                "Catch the buying signals and take the initiative to close; help the customer weigh pros and cons, "
                "stress the key points and leave room to move; when refused, agree and ask back: a refusal is where "
                "success begins.",
            ),
            (
                "运用请求成交、假定成交、选择成交等方法促成；处理拒绝；签订合同。",
                "Close by asking, by assuming or by offering a choice; handle refusals; sign the contract.",
            ),
            [
                criterion(
                    "decision_maker_contact", AUTO, "客户有决策者联系人", "A decision-maker contact on the account"
                ),
                CONTRACT_SIGNED,
            ],
            is_closing=True,
        ),
        stage(
            "after_sales",
            ("售后服务", "After-sales service"),
            None,
            ("实施并评估", "Implement and evaluate"),
            (
                "履行承诺，做好售后服务和定期回访，让客户满意，并寻求介绍，开拓新的主顾。",
                "Keep your promises, serve and follow up regularly so the customer is satisfied, and ask for "
                "referrals to new prospects.",
            ),
            (
                "按计划回访；记录满意度；请求转介绍。",
                "Make the planned follow-up visits; record satisfaction; ask for referrals.",
            ),
            [
                FOLLOW_UP_DONE,
                SATISFACTION_RECORDED,
                criterion(
                    "referral_asked",
                    MANUAL,
                    "已请求客户转介绍并记录结果",
                    "Asked for referrals and wrote down the result",
                    TEXT,
                ),
            ],
            is_after_sales=True,
        ),
    ],
}


# The handbook process of the decks (销售流程手册: 客户开发 → … → 售后服务).
HANDBOOK_PIPELINE: dict[str, Any] = {
    "code": "handbook",
    "name_zh": "销售流程手册",
    "name_en": "Sales handbook process",
    "stages": [
        stage(
            "develop",
            ("客户开发", "Customer development"),
            10,
            ("业务运营", "Business as usual"),
            (
                "积极主动地发现、拜访并开发潜在客户，通过多种渠道建立联系并开展初步沟通。",
                "Actively find, visit and develop prospects; make contact through several channels and open the "
                "first conversations.",
            ),
            (
                "确定目标客户并分类；完善客户档案；拜访潜在客户。",
                "Choose and classify target customers; complete the account profile; visit the prospect.",
            ),
            [
                criterion(
                    "account_profile_complete",
                    AUTO,
                    "客户档案完整（行业、规模、区域）",
                    "Account profile complete (industry, size, region)",
                ),
                criterion("visit_completed", AUTO, "已完成至少一次拜访", "At least one visit completed"),
            ],
            engaged=False,
        ),
        stage(
            "needs_analysis",
            ("需求分析", "Needs analysis"),
            20,
            ("建立采购标准", "Set buying criteria"),
            (
                "仔细了解客户需求，确保提供切实可行的解决方案。",
                "Understand the customer's needs thoroughly so the solution offered is practical and workable.",
            ),
            (
                "了解客户需求、采购标准及优先顺序；找到关键联系人。",
                "Learn the customer's needs, buying criteria and priorities; find the key contacts.",
            ),
            [
                criterion("customer_needs", MANUAL, "已记录客户需求", "Customer needs written", TEXT),
                criterion("key_contact_named", AUTO, "已登记关键联系人", "A key contact is named"),
            ],
        ),
        stage(
            "solution",
            ("解决方案", "Solution"),
            40,
            ("探索解决方案", "Explore solutions"),
            (
                "根据客户需求，提供合适的产品或服务解决方案；方案着眼于客户整体和长期的利益，与业务改善紧密联系。",
                "Offer the product or service solution that fits the customer's needs, aimed at the customer's "
                "whole business and long-term interest and tied to improving it.",
            ),
            (
                "制定解决方案；向客户演示或讲解方案。",
                "Draw up the solution; demonstrate or present it to the customer.",
            ),
            [
                criterion("solution_summary", MANUAL, "已写明建议的解决方案", "Proposed solution written", TEXT),
                criterion(
                    "demo_or_proposal_done", AUTO, "已完成一次演示或方案拜访", "A demo or proposal visit completed"
                ),
            ],
        ),
        stage(
            "quote",
            ("提出报价", "Quotation"),
            60,
            ("评估方案", "Evaluate proposals"),
            (
                "根据客户需求和解决方案，提供明确的报价；制定有竞争力的价格策略，同时保持一定的灵活性。",
                "Give a clear quotation based on the customer's needs and the solution; price competitively while "
                "keeping some room to adjust.",
            ),
            (
                "确定报价金额；向客户提交报价。",
                "Fix the quoted amount; submit the quotation to the customer.",
            ),
            [
                criterion("budget_set", AUTO, "已确定报价金额（金额大于0）", "Quoted amount set (above 0)"),
                criterion("quote_submitted", MANUAL, "报价已提交客户", "Quotation submitted to the customer", CHECKBOX),
            ],
        ),
        stage(
            "negotiate",
            ("谈判", "Negotiation"),
            80,
            ("选定厂家", "Select a vendor"),
            (
                "与客户协商，就价格、交付期等细节进行谈判；强调产品价值，灵活运用定价策略，达成双方都满意的条件。",
                "Negotiate price, delivery time and other details with the customer; stress the product's value "
                "and use pricing flexibly to reach terms both sides accept.",
            ),
            (
                "就价格、交付期等条款达成一致；与决策者确认；约定签约日期。",
                "Agree on price, delivery and the other terms; confirm with the decision maker; set the signing date.",
            ),
            [
                criterion(
                    "terms_agreed", MANUAL, "价格、交付期等条款已谈妥", "Price, delivery and terms agreed", CHECKBOX
                ),
                criterion(
                    "decision_maker_contact", AUTO, "客户有决策者联系人", "A decision-maker contact on the account"
                ),
                criterion("close_date_set", AUTO, "已确定预计成交日期", "Expected close date set"),
            ],
        ),
        stage(
            "contract",
            ("签订合同", "Contract"),
            90,
            ("下订单", "Place the order"),
            (
                "达成协议后，正式签订合同，以确保服务的提供和交付。",
                "Once agreed, sign the contract formally so that delivery and service are assured.",
            ),
            (
                "准备并签订合同；得到正式订单。",
                "Prepare and sign the contract; get the formal order.",
            ),
            [CONTRACT_SIGNED],
            is_closing=True,
        ),
        stage(
            "after_sales",
            ("售后服务", "After-sales service"),
            None,
            ("实施并评估", "Implement and evaluate"),
            (
                "提供高质量的售后服务，解决客户问题并维护客户关系；定期沟通，了解客户需求和意见，提升客户满意度和忠诚度。",
                "Give high-quality after-sales service, solve the customer's problems and keep the relationship; "
                "stay in regular touch to hear their needs and views, and raise satisfaction and loyalty.",
            ),
            (
                "按计划回访；记录满意度；处理客户问题。",
                "Make the planned follow-up visits; record satisfaction; solve the customer's problems.",
            ),
            [FOLLOW_UP_DONE, SATISFACTION_RECORDED],
            is_after_sales=True,
        ),
    ],
}

TEMPLATES: dict[str, dict[str, Any]] = {
    "b2b": DEFAULT_PIPELINE,
    "dealership": DEALERSHIP_PIPELINE,
    "seven_step": SEVEN_STEP_PIPELINE,
    "handbook": HANDBOOK_PIPELINE,
}


def install_pipeline(template: dict[str, Any], *, pipeline_model, stage_model, criterion_model):
    """Creates or updates a pipeline, its stages and their criteria from a template; safe to run twice.

    Takes the model classes so the data migration can pass its historical models.
    """
    pipeline, _ = pipeline_model.objects.update_or_create(
        code=template["code"],
        defaults={
            "name_zh": template["name_zh"],
            "name_en": template["name_en"],
            "is_default": template.get("is_default", False),
        },
    )
    for order, stage_data in enumerate(template["stages"], start=1):
        fields = {k: v for k, v in stage_data.items() if k not in ("code", "criteria")}
        stage, _ = stage_model.objects.update_or_create(
            pipeline=pipeline, code=stage_data["code"], defaults={**fields, "order": order}
        )
        for position, crit in enumerate(stage_data["criteria"], start=1):
            criterion_model.objects.update_or_create(
                stage=stage, code=crit["code"], defaults={**crit, "order": position}
            )
    return pipeline
