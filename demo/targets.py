"""Demo sales targets: month, quarter and year for every rep and team, last year and this, near what each rep wins."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from demo.opportunities import OpportunityPlanner
from demo.planner import HISTORY_DAYS
from pipeline.models import Opportunity, SalesTarget

SEASONALITY = [0.6, 0.7, 1.0, 1.0, 1.0, 1.1, 0.9, 0.9, 1.0, 1.1, 1.2, 1.5]


class TargetPlanner(OpportunityPlanner):
    """Adds sales targets, sized from the opportunities the reps won."""

    def plan_targets(self) -> None:
        """Month, quarter and year targets for every rep and team, last year and this, near what they win."""
        rng = self.rng
        won_by_rep: dict[str, Decimal] = defaultdict(Decimal)
        for opportunity in self.opportunities:
            if opportunity.status == Opportunity.Status.WON:
                won_by_rep[opportunity.owner.username] += opportunity.amount
        team_totals: dict[tuple[int, str, date], Decimal] = defaultdict(Decimal)
        for rep in self.reps:
            yearly_won = float(won_by_rep[rep.username]) / (HISTORY_DAYS / 365)
            ambition = rng.uniform(0.85, 1.35)
            for year in (self.today.year - 1, self.today.year):
                annual = max(500_000, yearly_won * ambition * (1.1 if year == self.today.year else 1.0))
                factors = [s * rng.uniform(0.9, 1.1) for s in SEASONALITY]
                months = [Decimal(round(annual * f / sum(factors) / 1000) * 1000) for f in factors]
                periods = [(SalesTarget.PeriodType.MONTH, date(year, m + 1, 1), months[m]) for m in range(12)]
                periods += [(SalesTarget.PeriodType.QUARTER, date(year, q * 3 + 1, 1), sum(months[q * 3 : q * 3 + 3]))
                            for q in range(4)]  # fmt: skip
                periods.append((SalesTarget.PeriodType.YEAR, date(year, 1, 1), sum(months)))
                for period_type, start, amount in periods:
                    self.targets.append(
                        SalesTarget(owner_user=rep, period_type=period_type, period_start=start, amount=amount)
                    )
                    team_totals[(self.rep_team[rep.username], period_type, start)] += amount
        for (team, period_type, start), amount in team_totals.items():
            self.targets.append(
                SalesTarget(owner_team=self.teams[team], period_type=period_type, period_start=start, amount=amount)
            )
