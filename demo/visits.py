"""Demo visits: the done visit before each stage change, delivery and follow-ups after a win, the next step of an
open opportunity, and relationship visits that fill up the total."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from django.conf import settings

from accounts.models import Contact, User
from demo.accounts import AccountPlanner
from demo.planner import HISTORY_DAYS, AccountPlan, Move
from pipeline.models import Opportunity, Stage, Visit

VISITS_PER_SCALE = 15000  # at scale 1; --scale multiplies it

PURPOSES = {
    "prep": ["初次拜访，了解客户文印现状", "介绍公司及产品，约见行政负责人"],
    "status": ["了解现有设备数量、使用年限和月打印量", "收集客户组织架构和采购流程信息"],
    "opportunity": ["与客户一起分析文印成本和管理问题", "确认设备故障对业务的影响"],
    "needs": ["拜访决策者，确认采购标准及优先顺序", "确认各部门的文印需求"],
    "develop": ["确认预算和采购时间表", "沟通方案范围和配置"],
    "propose": ["产品演示", "提交解决方案及报价"],
    "commit": ["商务谈判，解决合同条款问题", "确认采购日期和付款方式"],
    "close": ["签订合同", "确认订单及交付细节"],
    "implement": ["设备交付安装", "售后回访，了解使用满意度"],
}
GENERIC_PURPOSES = ["例行拜访，维护客户关系", "节日问候", "耗材使用情况回访", "介绍新机型", "了解设备租赁到期计划",
                    "了解客户新办公室搬迁计划"]  # fmt: skip
SUMMARIES = ["客户对方案总体认可，需要内部讨论", "见到了行政经理，了解了现有设备数量", "客户反馈打印成本偏高",
             "完成演示，客户对扫描归档功能很感兴趣", "客户提出价格偏高，需要调整配置", "决策者出差，改约下周",
             "客户确认了需求清单", "与IT经理讨论了安全打印方案", "客户对服务响应速度满意"]  # fmt: skip
NEXT_STEPS = ["下周提交方案", "约决策者见面", "发送报价单", "安排产品演示", "跟进合同审批", "两周后回访",
              "提供同行业案例"]  # fmt: skip
SATISFACTION_SCORES = [(10, 20), (9, 30), (8, 25), (7, 12), (6, 6), (5, 4), (4, 3)]


class VisitPlanner(AccountPlanner):
    """Adds visits, each on an account the accounts planner made; opportunities call it for their history."""

    def add_visit(
        self,
        plan: AccountPlan,
        *,
        owner: User,
        kind: str,
        status: str,
        planned_at: datetime,
        done_at: datetime | None = None,
        created_at: datetime | None = None,
        opportunity: Opportunity | None = None,
        stage: Stage | None = None,
        contact: Contact | None = None,
        purpose: str = "",
        satisfaction: int | None = None,
    ) -> Visit:
        rng = self.rng
        done = status == Visit.Status.DONE
        created_at = created_at or min(planned_at, self.now) - timedelta(days=rng.randint(1, 7))
        if opportunity is not None:
            created_at = max(created_at, opportunity.created_at)
        visit = Visit(
            account=plan.obj,
            contact=contact or self.pick_contact(plan),
            opportunity=opportunity,
            owner=owner,
            kind=kind,
            status=status,
            planned_at=planned_at,
            done_at=done_at if done else None,
            purpose=purpose or rng.choice(GENERIC_PURPOSES),
            summary=rng.choice(SUMMARIES) if done else "",
            next_step=rng.choice(NEXT_STEPS) if done and rng.random() < 0.7 else "",
            satisfaction=satisfaction if done else None,
            stage_when_done=stage if done else None,
            created_at=created_at,
        )
        self.visits.append(visit)
        if done:
            plan.done_at.append(done_at)
        return visit

    def plan_visit_before_move(
        self,
        plan: AccountPlan,
        opportunity: Opportunity,
        owner: User,
        from_index: int,
        move: Move,
        previous_day: int,
        previous_at: datetime,
    ) -> None:
        """A done visit after the previous change and before this one (same day: an earlier hour)."""
        rng = self.rng
        day = move.day - rng.randint(0, min(3, move.day - previous_day - 1))
        if day == move.day:
            done_at = self.at(day, rng.randint(9, move.at.hour - 1), rng.choice((0, 15, 30, 45)))
        else:
            done_at = self.work_time(day)
        from_code = self.stages[from_index].code
        if from_code == "propose" and move.to_index > from_index:
            kind = rng.choice((Visit.Kind.DEMO, Visit.Kind.PROPOSAL))
        elif move.to_index < from_index:
            kind = Visit.Kind.PHONE
        elif from_index == 0:
            kind = Visit.Kind.VISIT
        else:
            kind = self.weighted([(Visit.Kind.VISIT, 78), (Visit.Kind.PHONE, 22)])
        created_at = max(previous_at + timedelta(minutes=5), done_at - timedelta(days=rng.randint(1, 7)))
        self.add_visit(
            plan,
            owner=owner,
            kind=kind,
            status=Visit.Status.DONE,
            planned_at=done_at.replace(minute=0),
            done_at=done_at,
            created_at=min(created_at, done_at),
            opportunity=opportunity,
            stage=self.stages[from_index],
            contact=self.pick_contact(plan, decision_maker=from_index >= self.stage_index.get("propose", 5)),
            purpose=rng.choice(PURPOSES.get(from_code, GENERIC_PURPOSES)),
        )

    def plan_after_sales_visits(self, plan: AccountPlan, opportunity: Opportunity, owner: User, won_day: int) -> None:
        """Delivery a few days after the win, then follow-ups at SALESFLOW_FOLLOW_UP_DAYS; past ones mostly done."""
        rng = self.rng
        implement = self.stages[self.after_sales_index]
        visits = [(Visit.Kind.DELIVERY, won_day + rng.randint(2, 6), PURPOSES["implement"][0])]
        visits += [
            (Visit.Kind.FOLLOW_UP, won_day + d, PURPOSES["implement"][1]) for d in settings.SALESFLOW_FOLLOW_UP_DAYS
        ]
        delivered = False
        for kind, day, purpose in visits:
            when = self.work_time(day)
            if day >= 0:
                status = Visit.Status.PLANNED
            elif kind == Visit.Kind.DELIVERY or rng.random() < 0.9:
                status = Visit.Status.DONE
            else:
                status = Visit.Status.PLANNED if day >= -14 else Visit.Status.CANCELLED
            satisfaction = self.weighted(SATISFACTION_SCORES) if kind == Visit.Kind.FOLLOW_UP else None
            self.add_visit(
                plan,
                owner=owner,
                kind=kind,
                status=status,
                planned_at=when,
                done_at=when,
                created_at=opportunity.closed_at,
                opportunity=opportunity,
                stage=implement,
                purpose=purpose,
                satisfaction=satisfaction,
            )
            delivered |= kind == Visit.Kind.DELIVERY and status == Visit.Status.DONE
        if delivered:
            opportunity.criteria_values["delivered_installed"] = True

    def plan_next_visit(
        self, plan: AccountPlan, opportunity: Opportunity, owner: User, last_day: int, *, stalled: bool
    ) -> None:
        """The next step of an open opportunity: usually planned ahead, sometimes overdue; stalled ones get none."""
        rng = self.rng
        code = opportunity.stage.code
        if stalled:
            if last_day < -2 and rng.random() < 0.4:
                day = rng.randint(last_day + 1, -1)
                self.add_visit(plan, owner=owner, kind=Visit.Kind.VISIT, status=Visit.Status.CANCELLED,
                               planned_at=self.work_time(day), opportunity=opportunity,
                               purpose=rng.choice(PURPOSES.get(code, GENERIC_PURPOSES)))  # fmt: skip
            return
        if rng.random() > 0.85:
            return
        overdue = rng.random() < 0.2 and last_day < -2
        day = rng.randint(max(last_day + 1, -10), -1) if overdue else rng.randint(0, 14)
        when = self.work_time(day)
        kind = Visit.Kind.DEMO if code == "propose" and rng.random() < 0.5 else Visit.Kind.VISIT
        self.add_visit(plan, owner=owner, kind=kind, status=Visit.Status.PLANNED, planned_at=when,
                       created_at=min(when, self.now) - timedelta(days=rng.randint(0, 5), hours=1),
                       opportunity=opportunity, purpose=rng.choice(PURPOSES.get(code, GENERIC_PURPOSES)))  # fmt: skip

    def plan_account_visits(self) -> None:
        """Visits not tied to an opportunity (relationship, consumables, greetings) to reach the visit total."""
        rng = self.rng
        target_total = round(VISITS_PER_SCALE * self.scale)
        n_visits = max(target_total - len(self.visits), round(len(self.accounts) * 1.5))
        weights = [self.account_weight(p) * (1.7 if p.obj.is_target else 1) for p in self.accounts]
        cum = list(itertools.accumulate(weights))
        kinds = [(Visit.Kind.VISIT, 55), (Visit.Kind.PHONE, 25), (Visit.Kind.EMAIL, 8), (Visit.Kind.FOLLOW_UP, 5),
                 (Visit.Kind.DEMO, 3), (Visit.Kind.PROPOSAL, 2), (Visit.Kind.OTHER, 2)]  # fmt: skip
        for _ in range(n_visits):
            plan = rng.choices(self.accounts, cum_weights=cum)[0]
            day = rng.randint(-HISTORY_DAYS, 21)
            if plan.neglected and -130 <= day <= 0:
                day = rng.randint(-HISTORY_DAYS, -131)
            team = self.account_team_index(plan)
            owner = self.team_manager[team] if rng.random() < 0.08 else plan.obj.owner
            when = self.work_time(day)
            if day >= 0:
                status = Visit.Status.PLANNED
            elif day >= -14 and rng.random() < 0.15:
                status = Visit.Status.PLANNED  # overdue
            elif rng.random() < 0.08:
                status = Visit.Status.CANCELLED
            else:
                status = Visit.Status.DONE
            kind = self.weighted(kinds)
            satisfaction = self.weighted(SATISFACTION_SCORES) if kind == Visit.Kind.FOLLOW_UP else None
            self.add_visit(plan, owner=owner, kind=kind, status=status, planned_at=when, done_at=when,
                           satisfaction=satisfaction)  # fmt: skip

    def account_team_index(self, plan: AccountPlan) -> int:
        return self.rep_team.get(plan.obj.owner.username, 0)
