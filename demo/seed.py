"""A believable demo company for `manage.py seed_demo`: people, territory, customers and two years of history.

Everything is planned in memory from one `random.Random(seed)` and dates relative to one `today`, then written with
`bulk_create` in foreign-key order inside one transaction. The same seed and the same `today` give the same rows.
History follows the product's rules: every opportunity has a StageChange path from prep, a done visit on the
account shortly before each stage change, a demo or proposal before leaving `propose`, follow-ups after wins, and
`is_untouched_loss` is computed from the generated visits exactly as SPEC §4 defines it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, AccountYear, Competitor, Contact, Industry, InstalledBase, Region, Team, User
from accounts.names import with_pinyin
from analytics.models import AccountValue, JobRun, MatrixRun, StaleFlag, UntouchedFlag
from demo.planner import DEMO_PASSWORD, DemoLogin
from demo.targets import TargetPlanner
from pipeline.models import Opportunity, Reassignment, SalesTarget, StageChange, Visit, VisitWeekComment

DEMO_USERNAME_REGEX = r"^(director|manager[0-9]+|rep[0-9]+)$"
BATCH_SIZE = 1000


class DemoDataExists(Exception):
    """The database already holds accounts or demo users; seeding would mix demo rows with them."""


@dataclass(frozen=True)
class DemoSummary:
    counts: dict[str, int]
    logins: list[DemoLogin]
    password: str = DEMO_PASSWORD


def has_demo_data() -> bool:
    """True when the database holds accounts or users with demo usernames; seeding would collide with them."""
    return Account.objects.exists() or User.objects.filter(username__regex=DEMO_USERNAME_REGEX).exists()


@transaction.atomic
def flush_demo_data() -> None:
    """Deletes customers, history, targets, teams and every user except superusers with non-demo usernames."""
    # Snapshots computed from the old rows would describe a company that no longer exists.
    for snapshot in (MatrixRun, JobRun, UntouchedFlag, StaleFlag):
        snapshot.objects.all().delete()
    VisitWeekComment.objects.all().delete()
    Reassignment.objects.all().delete()
    Visit.objects.all().delete()
    StageChange.objects.all().delete()
    Opportunity.competitors.through.objects.all().delete()
    Opportunity.objects.all().delete()
    SalesTarget.objects.all().delete()
    InstalledBase.objects.all().delete()
    AccountYear.objects.all().delete()
    Contact.objects.all().delete()
    Account.objects.update(parent=None)
    Account.objects.all().delete()
    Competitor.objects.all().delete()
    Industry.objects.all().delete()
    for level in (3, 2, 1):
        Region.objects.filter(level=level).delete()
    Team.objects.update(manager=None)  # a team's manager is protected from a delete that would detach them
    User.objects.filter(~Q(is_superuser=True) | Q(username__regex=DEMO_USERNAME_REGEX)).delete()
    Team.objects.all().delete()


def seed_demo(*, scale: float = 1.0, seed: int = 1, today: date | None = None, flush: bool = False) -> DemoSummary:
    """Writes a demo company of `scale` times the base size; raises DemoDataExists (writing nothing) if the database
    already has accounts or demo users and `flush` is false. Same seed and today give the same rows. Ends with
    VACUUM ANALYZE on PostgreSQL, so the first queries on the new data are planned with its statistics, not empty
    ones, and read its covering indexes alone (as after autovacuum)."""
    summary = _write_demo_company(scale=scale, seed=seed, today=today, flush=flush)
    analyze_demo_tables()
    return summary


@transaction.atomic
def _write_demo_company(*, scale: float, seed: int, today: date | None, flush: bool) -> DemoSummary:
    if scale <= 0:
        raise ValueError("scale must be positive")
    if flush:
        flush_demo_data()
    elif has_demo_data():
        raise DemoDataExists()
    builder = DemoBuilder(scale=scale, seed=seed, today=today or timezone.localdate())
    builder.plan()
    builder.write()
    return builder.summary()


# Every table seed_demo writes, and the snapshots a flush empties.
SEEDED_MODELS = [
    Team, User, Region, Industry, Competitor, Account, Contact, InstalledBase, AccountYear, Opportunity,
    Opportunity.competitors.through, StageChange, Visit, SalesTarget, MatrixRun, AccountValue, JobRun, UntouchedFlag,
    StaleFlag,
]  # fmt: skip


def analyze_demo_tables() -> None:
    """Refreshes PostgreSQL's planner statistics of the tables seed_demo writes; nothing elsewhere. Outside a
    transaction it also VACUUMs them, marking their pages all-visible as autovacuum would, so index-only scans are
    planned as the cheap reads they are from the first request (VACUUM cannot run inside a transaction)."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in SEEDED_MODELS)
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {tables}")


class DemoBuilder(TargetPlanner):
    """Plans the whole company in memory, topic by topic, then writes it in foreign-key order."""

    def plan(self) -> None:
        self.plan_territory()
        self.plan_market()
        self.plan_people()
        self.plan_accounts()
        self.plan_opportunities()
        self.plan_account_visits()
        self.plan_installed_base_and_years()
        self.flag_untouched_losses()
        self.plan_targets()

    def write(self) -> None:
        def create(model, objs) -> None:
            model.objects.bulk_create([o for o in objs if o.pk is None], batch_size=BATCH_SIZE)

        create(Team, self.teams)
        create(User, self.users)
        for team, manager in zip(self.teams, self.team_manager, strict=True):
            team.manager = manager
        Team.objects.bulk_update(self.teams, ["manager"], batch_size=BATCH_SIZE)
        for level in (1, 2, 3):
            create(Region, [r for r in self.regions if r.level == level])
        create(Industry, self.industries)
        create(Competitor, self.competitors)
        # bulk_create skips save(): the names' pinyin is set here (search by pinyin)
        create(Account, with_pinyin(p.obj for p in self.accounts if p.obj.parent is None))
        create(Account, with_pinyin(p.obj for p in self.accounts if p.obj.parent is not None))
        create(Contact, with_pinyin(c for p in self.accounts for c in p.contacts))
        create(InstalledBase, self.installed_base)
        create(AccountYear, self.account_years)
        create(Opportunity, self.opportunities)
        through = Opportunity.competitors.through
        create(through, [through(opportunity=o, competitor=c) for o, c in self.opportunity_competitors])
        create(StageChange, self.stage_changes)
        create(Visit, self.visits)
        create(SalesTarget, self.targets)

    def summary(self) -> DemoSummary:
        def count(items, **where) -> int:
            return sum(all(getattr(i, k) == v for k, v in where.items()) for i in items)

        counts = {
            "users": len(self.users),
            "teams": len(self.teams),
            "regions": len(self.regions),
            "industries": len(self.industries),
            "competitors": len(self.competitors),
            "accounts": len(self.accounts),
            "target_accounts": sum(p.obj.is_target for p in self.accounts),
            "contacts": sum(len(p.contacts) for p in self.accounts),
            "installed_base": len(self.installed_base),
            "account_years": len(self.account_years),
            "opportunities": len(self.opportunities),
            "open": count(self.opportunities, status=Opportunity.Status.OPEN),
            "won": count(self.opportunities, status=Opportunity.Status.WON),
            "lost": count(self.opportunities, status=Opportunity.Status.LOST),
            "untouched_losses": count(self.opportunities, is_untouched_loss=True),
            "stage_changes": len(self.stage_changes),
            "visits": len(self.visits),
            "visits_done": count(self.visits, status=Visit.Status.DONE),
            "visits_planned": count(self.visits, status=Visit.Status.PLANNED),
            "visits_cancelled": count(self.visits, status=Visit.Status.CANCELLED),
            "targets": len(self.targets),
        }
        return DemoSummary(counts=counts, logins=self.logins)
