"""Demo opportunities: each one's fate, its stage history from prep, its exit-criteria values, and which losses were
untouched (SPEC §4)."""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left, bisect_right
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from accounts.models import Contact
from demo.accounts import COMPETITORS, ROLE_TITLES
from demo.planner import HISTORY_DAYS, AccountPlan, Move
from demo.visits import VisitPlanner
from pipeline.models import Opportunity, StageCriterion
from pipeline.services.stage_changes import Step, stage_change_rows

OPPORTUNITIES_PER_SCALE = 2500  # at scale 1; --scale multiplies it

AMOUNT_RANGES = [(50_000, 300_000), (80_000, 600_000), (120_000, 1_200_000), (200_000, 2_000_000),
                 (400_000, 3_000_000)]  # fmt: skip

OPPORTUNITY_TOPICS = ["复合机集中采购", "打印管理服务（MPS）", "彩色复合机更新", "生产型印刷设备采购",
                      "文印中心外包", "分支机构设备统一采购", "文档管理系统", "年度维保合同", "扫描归档项目",
                      "宽幅打印机采购"]  # fmt: skip
_S, _L = Opportunity.Source, Opportunity.LossReason
SOURCES = [(_S.EXISTING_CUSTOMER, 24), (_S.TARGET_MARKET, 16), (_S.REFERRAL, 14), (_S.COLD_VISIT, 12),
           (_S.INBOUND, 10), (_S.WARM, 8), (_S.EVENT, 8), (_S.GROUP, 4), (_S.OTHER, 4)]  # fmt: skip
LOSS_REASONS = [(_L.PRICE, 30), (_L.RELATIONSHIP, 15), (_L.PRODUCT_FIT, 12), (_L.TIMING, 12), (_L.BUDGET, 12),
                (_L.NO_DECISION, 12), (_L.OTHER, 7)]  # fmt: skip
LOSS_NOTES = {
    "price": "对手报价低约15%，客户最终选择低价方案。",
    "relationship": "对手与客户高层关系更好。",
    "product_fit": "客户需要的装订功能我方机型不支持。",
    "timing": "客户采购计划推迟到明年。",
    "budget": "预算被削减，项目暂停。",
    "no_decision": "客户内部意见不统一，项目无限期搁置。",
    "other": "客户集团统一招标，本地无决定权。",
}
UNTOUCHED_CAUSES_NOT_ENGAGED = ["no_plan", "thought_unneeded", "noticed_late", "competitor_relationship",
                                "wrong_department", "missed_timing"]  # fmt: skip
UNTOUCHED_CAUSES_ENGAGED = ["visited_before", "rejected_not_revisited", "plan_not_executed", "no_motivation",
                            "noticed_late", "competitor_relationship"]  # fmt: skip

# Days an opportunity typically spends in each stage of the default pipeline (min, max).
DWELL_DAYS = {"prep": (2, 14), "status": (5, 25), "opportunity": (5, 25), "needs": (5, 30), "develop": (7, 30),
              "propose": (7, 40), "commit": (5, 25), "close": (2, 14)}  # fmt: skip
# How far lost opportunities got, by stage order (prep .. close).
LOST_AT_WEIGHTS = [10, 20, 18, 15, 12, 13, 8, 4]

CRITERION_TEXTS = {
    "visit_purpose": ["了解客户文印现状及设备使用情况", "介绍我司解决方案，约见行政负责人"],
    "current_situation": ["现有复合机多台，使用超过5年，故障率高", "各部门分散采购打印机，耗材费用无人统计",
                          "租赁合同年底到期，正在评估供应商"],
    "problem_and_cause": ["打印成本高：设备分散、缺少统一管理", "设备老化导致故障频繁，影响办公效率",
                          "文件安全风险：打印件无人领取"],
    "buying_criteria": ["1. 总拥有成本 2. 售后响应速度 3. 安全打印功能", "1. 设备稳定性 2. 价格 3. 服务网点覆盖",
                        "1. 彩色输出质量 2. 扫描归档 3. 租赁灵活性"],
}  # fmt: skip
OVERRIDE_REASONS = [
    "客户总经理已口头确认，书面材料补充中",
    "老客户续约，经理批准跳过演示",
    "年底集中采购，时间紧，经理批准推进",
]


class OpportunityPlanner(VisitPlanner):
    """Adds opportunities with their stage changes, the visits behind each change, and the untouched-loss flags."""

    def dwell(self, index: int) -> int:
        low, high = DWELL_DAYS.get(self.stages[index].code, (3, 20))
        return self.rng.randint(low, high)

    def plan_opportunities(self) -> None:
        rng = self.rng
        n_opportunities = max(4, round(OPPORTUNITIES_PER_SCALE * self.scale))
        prospects = {id(p): rng.random() < 0.25 for p in self.accounts}  # never buy much: few opportunities
        weights = [self.account_weight(p) * (0.1 if prospects[id(p)] else 1) for p in self.accounts]
        all_cum = list(itertools.accumulate(weights))
        recent_cum = list(
            itertools.accumulate(0 if p.neglected else w for p, w in zip(self.accounts, weights, strict=True))
        )
        for _ in range(n_opportunities):
            created_day = -rng.randint(1, HISTORY_DAYS)
            cum = recent_cum if created_day > -200 else all_cum
            plan = rng.choices(self.accounts, cum_weights=cum)[0]
            self.plan_opportunity(plan, created_day)

    def plan_opportunity(self, plan: AccountPlan, created_day: int) -> None:
        rng = self.rng
        team = self.rep_team.get(plan.obj.owner.username, 0)
        owner = plan.obj.owner if rng.random() < 0.95 else rng.choice(self.team_reps[team])
        manager = self.team_manager[team]
        roll = rng.random()
        fate = "direct_loss" if roll < 0.07 else "stalled" if roll < 0.13 else "won" if roll < 0.52 else "lost"
        moves: list[Move] = []
        end_day: int | None = None
        rotted = False
        if fate == "direct_loss":
            end_day = created_day + rng.randint(1, 20)
        else:
            if fate == "won":
                furthest = self.closing_index
            else:
                furthest = rng.choices(range(len(LOST_AT_WEIGHTS)), weights=LOST_AT_WEIGHTS)[0]
                furthest = min(furthest, self.closing_index if fate == "lost" else self.closing_index - 1)
            back_at = rng.randint(2, furthest) if fate != "won" and furthest >= 3 and rng.random() < 0.08 else None
            day = created_day
            for index in range(1, furthest + 1):
                day += self.dwell(index - 1)
                moves.append(Move(index, day))
                if index == back_at:
                    day += self.dwell(index)
                    moves.append(Move(index - 1, day))
                    day += self.dwell(index - 1)
                    moves.append(Move(index, day))
            if fate == "won":
                end_day = day + self.dwell(self.closing_index)
                moves.append(Move(self.after_sales_index, end_day))
            elif fate == "lost":
                rotted = self.stages[furthest].engaged and rng.random() < 0.2
                end_day = day + (rng.randint(95, 200) if rotted else rng.randint(1, self.dwell(furthest)))
        planned_close_day = end_day if end_day is not None else (moves[-1].day if moves else created_day) + 30
        moves = [m for m in moves if m.day <= -1]
        closed = end_day is not None and end_day <= -1
        status = Opportunity.Status.OPEN
        if closed:
            status = Opportunity.Status.WON if fate == "won" else Opportunity.Status.LOST

        created_at = self.work_time(created_day)
        previous_day, previous_at = created_day, created_at
        for move in moves:
            move.at = self.at(move.day, rng.randint(10, 17), rng.randint(0, 59))
        current = moves[-1].to_index if moves else 0
        furthest_index = max([0] + [m.to_index for m in moves])
        stage = self.stages[current]
        amount = self.amount(plan.band)
        if furthest_index > self.stage_index.get("needs", 3) and not any(
            c.buying_role == Contact.BuyingRole.DECISION_MAKER for c in plan.contacts
        ):
            # Passing "needs" requires a decision maker: the first contact turns out to be one.
            plan.contacts[0].buying_role = Contact.BuyingRole.DECISION_MAKER
            plan.contacts[0].title, plan.contacts[0].department = rng.choice(
                ROLE_TITLES[Contact.BuyingRole.DECISION_MAKER]
            )
        closed_at = None
        if closed:
            closed_at = moves[-1].at if status == Opportunity.Status.WON else self.work_time(end_day)
            if moves and closed_at <= moves[-1].at:
                closed_at = moves[-1].at + timedelta(hours=1)
        expected_close = self.today + timedelta(days=planned_close_day)
        if closed_at:
            expected_close = timezone.localtime(closed_at, self.tz).date()
        elif current == 0 and rng.random() < 0.5:
            expected_close = None
        # As the services leave them: a stage's default while open, 100 once won, 0 once lost.
        probability = stage.probability if stage.probability is not None else 100
        if status == Opportunity.Status.LOST:
            probability = 0
        topic = rng.choice(OPPORTUNITY_TOPICS)
        opportunity = Opportunity(
            pipeline=self.pipeline,
            stage=stage,
            account=plan.obj,
            owner=owner,
            name=f"{plan.short_name}{topic}",
            status=status,
            amount=amount,
            expected_close_date=expected_close,
            probability=probability,
            forecast_category=stage.forecast_category if status == Opportunity.Status.OPEN else "pipeline",
            source=self.weighted(SOURCES),
            created_at=created_at,
            stage_entered_at=moves[-1].at if moves else created_at,
            closed_at=closed_at,
            furthest_stage=self.stages[furthest_index],
            version=1 + len(moves) + (status == Opportunity.Status.LOST),  # each move and the loss is one write
        )
        self.opportunities.append(opportunity)
        self.opportunity_account[id(opportunity)] = plan
        rivals = rng.sample(self.competitors, k=rng.choice((0, 0, 1, 1, 2)))
        if status == Opportunity.Status.LOST:
            opportunity.loss_reason = self.weighted(LOSS_REASONS)
            opportunity.loss_note = LOSS_NOTES[opportunity.loss_reason]
            if fate == "direct_loss" or rng.random() < 0.65:
                rival = self.weighted(list(zip(self.competitors, (c[3] for c in COMPETITORS), strict=True)))
                opportunity.lost_to = rival
                plan.lost_to.append(rival)
                if rival not in rivals:
                    rivals.append(rival)
        elif status == Opportunity.Status.WON:
            plan.won += 1
        self.opportunity_competitors += [(opportunity, c) for c in rivals]

        # History: creation, then every move with a done visit on the account shortly before it.
        self.stage_changes += stage_change_rows(
            opportunity=opportunity, steps=[Step(None, self.stages[0], created_at)], changed_by=owner
        )
        from_index = 0
        for move in moves:
            forward = move.to_index > from_index
            overridden = forward and rng.random() < 0.03
            step = Step(
                from_stage=self.stages[from_index],
                to_stage=self.stages[move.to_index],
                changed_at=move.at,
                override_reason=rng.choice(OVERRIDE_REASONS) if overridden else "",
            )
            self.stage_changes += stage_change_rows(
                opportunity=opportunity,
                steps=[step],
                changed_by=manager if overridden else owner,
                previous_at=self.stage_changes[-1].changed_at,
            )
            self.plan_visit_before_move(plan, opportunity, owner, from_index, move, previous_day, previous_at)
            previous_day, previous_at = move.day, move.at
            from_index = move.to_index
        self.fill_criteria(opportunity, furthest_index, current, status)
        if status == Opportunity.Status.WON:
            self.plan_after_sales_visits(plan, opportunity, owner, end_day)
        elif status == Opportunity.Status.OPEN:
            self.plan_next_visit(plan, opportunity, owner, previous_day, stalled=fate == "stalled")

    def amount(self, band: int) -> Decimal:
        low, high = AMOUNT_RANGES[band]
        value = math.exp(self.rng.uniform(math.log(low), math.log(high)))
        return Decimal(round(value / 1000) * 1000)

    def fill_criteria(self, opportunity: Opportunity, furthest: int, current: int, status: str) -> None:
        rng = self.rng
        values: dict[str, object] = {}
        for index, stage in enumerate(self.stages):
            passed = index < furthest
            if not passed and not (index == current and status == Opportunity.Status.OPEN):
                continue
            for crit in self.manual_criteria[stage.id]:
                if not passed and rng.random() < 0.6:
                    continue  # the stage the opportunity is in is partly filled in
                if crit.input_type == StageCriterion.InputType.CHECKBOX:
                    values[crit.code] = True
                elif crit.input_type == StageCriterion.InputType.DATE:
                    values[crit.code] = (opportunity.expected_close_date or self.today).isoformat()
                else:
                    values[crit.code] = rng.choice(CRITERION_TEXTS.get(crit.code, ["已与客户确认"]))
        opportunity.criteria_values = values

    def flag_untouched_losses(self) -> None:
        """SPEC §4 from the planned rows: lost to a competitor, and never engaged or no done visit in the lookback."""
        lookback = timedelta(days=settings.SALESFLOW_UNTOUCHED_LOOKBACK_DAYS)
        for plan in self.accounts:
            plan.done_at.sort()
        for opportunity in self.opportunities:
            if opportunity.status != Opportunity.Status.LOST or opportunity.lost_to is None:
                continue
            done = self.opportunity_account[id(opportunity)].done_at
            closed = opportunity.closed_at
            visited = bisect_right(done, closed) > bisect_left(done, closed - lookback)
            if not opportunity.furthest_stage.engaged or not visited:
                opportunity.is_untouched_loss = True
                causes = (
                    UNTOUCHED_CAUSES_ENGAGED if opportunity.furthest_stage.engaged else UNTOUCHED_CAUSES_NOT_ENGAGED
                )
                opportunity.untouched_cause = self.rng.choice(causes)
