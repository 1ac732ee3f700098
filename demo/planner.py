"""What every part of the demo plan shares: the records planners pass around, the rows planned so far, the clock.

The planners build on each other in one line, each adding one topic and calling only what is above it:
Planner → PeoplePlanner (people.py) → AccountPlanner (accounts.py) → VisitPlanner (visits.py) →
OpportunityPlanner (opportunities.py) → TargetPlanner (targets.py) → DemoBuilder (seed.py), which plans and writes.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import Account, AccountYear, Competitor, Contact, Industry, InstalledBase, Region, Team, User
from pipeline.models import Opportunity, Pipeline, SalesTarget, Stage, StageChange, StageCriterion, Visit

DEMO_PASSWORD = "salesflow"
HISTORY_DAYS = 730  # two years of opportunities and visits


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    name: str
    team: str
    language: str


@dataclass
class Leaf:
    region: Region
    area_index: int
    city: str  # the city a company name starts with
    address_prefix: str


@dataclass
class AccountPlan:
    obj: Account
    short_name: str
    domain: str
    band: int
    contacts: list[Contact] = field(default_factory=list)
    neglected: bool = False
    won: int = 0
    lost_to: list[Competitor] = field(default_factory=list)
    done_at: list[datetime] = field(default_factory=list)


@dataclass
class Move:
    to_index: int
    day: int
    at: datetime | None = None


class Planner:
    """One random source, one clock and every row planned so far; the rows stay in memory until DemoBuilder.write."""

    def __init__(self, *, scale: float, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.scale = scale
        self.today = today
        self.tz = timezone.get_default_timezone()
        self.now = datetime.combine(today, time(8, 0), tzinfo=self.tz)  # history ends yesterday; plans start today
        self.pipeline = Pipeline.objects.get(is_default=True)
        self.stages: list[Stage] = list(self.pipeline.stages.order_by("order"))
        self.stage_index = {s.code: i for i, s in enumerate(self.stages)}
        self.closing_index = next(i for i, s in enumerate(self.stages) if s.is_closing)
        self.after_sales_index = next((i for i, s in enumerate(self.stages) if s.is_after_sales), self.closing_index)
        self.manual_criteria: dict[int, list[StageCriterion]] = defaultdict(list)
        for crit in StageCriterion.objects.filter(stage__pipeline=self.pipeline, kind=StageCriterion.Kind.MANUAL):
            self.manual_criteria[crit.stage_id].append(crit)
        self.password_hash = make_password(DEMO_PASSWORD)
        self.used_names: set[str] = set()
        self.used_company_names: set[str] = set()
        self.used_emails: set[str] = set()
        self.teams: list[Team] = []
        self.team_areas: list[list[int]] = []
        self.team_reps: dict[int, list[User]] = defaultdict(list)  # by team position
        self.team_manager: list[User] = []
        self.users: list[User] = []
        self.reps: list[User] = []
        self.rep_team: dict[str, int] = {}
        self.rep_weights: list[float] = []
        self.logins: list[DemoLogin] = []
        self.regions: list[Region] = []
        self.leaves: list[Leaf] = []
        self.industries: list[Industry] = []
        self.industry_words: list[list[str]] = []
        self.competitors: list[Competitor] = []
        self.accounts: list[AccountPlan] = []
        self.opportunities: list[Opportunity] = []
        self.opportunity_competitors: list[tuple[Opportunity, Competitor]] = []
        self.opportunity_account: dict[int, AccountPlan] = {}
        self.stage_changes: list[StageChange] = []
        self.visits: list[Visit] = []
        self.installed_base: list[InstalledBase] = []
        self.account_years: list[AccountYear] = []
        self.targets: list[SalesTarget] = []

    # --- helpers -------------------------------------------------------------------------------------------------

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        """A local time `day` days from today."""
        return datetime.combine(self.today + timedelta(days=day), time(hour, minute), tzinfo=self.tz)

    def work_time(self, day: int) -> datetime:
        return self.at(day, self.rng.randint(9, 17), self.rng.choice((0, 15, 30, 45)))

    def weighted(self, pairs):
        return self.rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]
