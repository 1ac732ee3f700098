"""Factories that build minimal valid rows. State with rules (stage moves, wins) goes through services."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Account, AccountYear, Competitor, Contact, Industry, InstalledBase, Region, Team, User
from pipeline.models import Opportunity, Pipeline, SalesTarget, Stage, StageChange, Visit
from pipeline.services.stage_changes import Step, record_stage_changes


def default_stage(code: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, code=code)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    role = User.Role.REP
    password = factory.django.Password("pw")
    language = "zh-hans"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"R{n:03d}")
    name = factory.Sequence(lambda n: f"区域{n}")
    level = 1
    parent = None


class IndustryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Industry
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ind{n}")
    name = factory.Sequence(lambda n: f"行业{n}")
    spend_per_employee = Decimal("500")


class CompetitorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Competitor
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"竞争对手{n}")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"客户{n}有限公司")
    owner = factory.SubFactory(UserFactory)
    industry = factory.SubFactory(IndustryFactory)
    region = factory.SubFactory(RegionFactory)
    employee_count = 120


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
    buying_role = Contact.BuyingRole.INFLUENCER


class InstalledBaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InstalledBase

    account = factory.SubFactory(AccountFactory)
    is_ours = True
    competitor = None
    product = "MFP"
    units = 1


class AccountYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountYear

    account = factory.SubFactory(AccountFactory)
    year = factory.LazyFunction(lambda: timezone.localdate().year)


class OpportunityFactory(factory.django.DjangoModelFactory):
    """An open opportunity at a stage of the default pipeline (prep unless `stage` is given)."""

    class Meta:
        model = Opportunity

    account = factory.SubFactory(AccountFactory, owner=factory.SelfAttribute("..owner"))
    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"商机{n}")
    stage = factory.LazyFunction(lambda: default_stage("prep"))
    pipeline = factory.SelfAttribute("stage.pipeline")
    furthest_stage = factory.SelfAttribute("stage")
    probability = factory.LazyAttribute(lambda o: o.stage.probability or 0)
    amount = Decimal("100000")


class StageChangeFactory(factory.django.DjangoModelFactory):
    """A stage change appended to its opportunity's history through record_stage_changes (now unless `changed_at`),
    so it knows when its stay began as the services' rows do."""

    class Meta:
        model = StageChange

    opportunity = factory.SubFactory(OpportunityFactory)
    from_stage = None
    to_stage = factory.SelfAttribute("opportunity.stage")
    changed_by = factory.SelfAttribute("opportunity.owner")

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> StageChange:
        opportunity = kwargs.pop("opportunity")
        if "opportunity_id" in kwargs:  # named by id: that one, not the one the sub-factory made
            opportunity = Opportunity.objects.get(pk=kwargs.pop("opportunity_id"))
        step = Step(
            from_stage=kwargs.pop("from_stage"),
            to_stage=kwargs.pop("to_stage"),
            changed_at=kwargs.pop("changed_at", None) or timezone.now(),
            override_reason=kwargs.pop("override_reason", ""),
        )
        (change,) = record_stage_changes(opportunity=opportunity, steps=[step], **kwargs)
        return change


class VisitFactory(factory.django.DjangoModelFactory):
    """A planned visit tomorrow; pass status="done" with done_at for a completed one."""

    class Meta:
        model = Visit

    account = factory.SubFactory(AccountFactory)
    owner = factory.SelfAttribute("account.owner")
    kind = Visit.Kind.VISIT
    status = Visit.Status.PLANNED
    planned_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))


class SalesTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesTarget

    owner_user = factory.SubFactory(UserFactory)
    period_type = SalesTarget.PeriodType.MONTH
    period_start = factory.LazyFunction(lambda: timezone.localdate().replace(day=1))
    amount = Decimal("1000000")


__all__ = [
    "AccountFactory",
    "AccountYearFactory",
    "CompetitorFactory",
    "ContactFactory",
    "IndustryFactory",
    "InstalledBaseFactory",
    "OpportunityFactory",
    "Pipeline",
    "RegionFactory",
    "SalesTargetFactory",
    "StageChangeFactory",
    "TeamFactory",
    "UserFactory",
    "VisitFactory",
    "default_stage",
]


def satisfy_exit_criteria(opportunity: Opportunity, *stage_codes: str) -> Opportunity:
    """Creates the rows and stores the manual values that meet every exit criterion of the given stages of the
    default pipeline (prep … implement), without changing the opportunity's version; returns it refreshed."""
    from accounts.models import Contact

    account, values, fields = opportunity.account, dict(opportunity.criteria_values or {}), {}
    done = {"status": Visit.Status.DONE, "done_at": timezone.now(), "planned_at": None}
    for code in stage_codes:
        if code == "prep":
            VisitFactory(account=account)
            values["visit_purpose"] = "介绍新一代产品"
        elif code == "status":
            VisitFactory(account=account, opportunity=opportunity, **done)
            ContactFactory(account=account, buying_role=Contact.BuyingRole.INFLUENCER)
            values["current_situation"] = "现有设备老化，维修费用高"
        elif code == "opportunity":
            values.update(problem_and_cause="打印成本失控：设备分散", problem_acknowledged=True)
        elif code == "needs":
            ContactFactory(account=account, buying_role=Contact.BuyingRole.DECISION_MAKER)
            values["buying_criteria"] = "1. 总成本 2. 服务响应"
        elif code == "develop":
            fields.update(amount=Decimal("250000"), expected_close_date=timezone.localdate() + timedelta(days=30))
        elif code == "propose":
            VisitFactory(account=account, opportunity=opportunity, kind=Visit.Kind.DEMO, **done)
            values["proposal_accepted"] = True
        elif code == "commit":
            values.update(blocking_issues_resolved=True, purchase_date_agreed=timezone.localdate().isoformat())
        elif code == "close":
            values["contract_signed"] = True
        elif code == "implement":
            values["delivered_installed"] = True
            VisitFactory(account=account, opportunity=opportunity, kind=Visit.Kind.FOLLOW_UP, satisfaction=9, **done)
        else:
            raise ValueError(f"unknown default stage {code!r}")
    Opportunity.objects.filter(pk=opportunity.pk).update(criteria_values=values, **fields)
    opportunity.refresh_from_db()
    return opportunity


__all__.append("satisfy_exit_criteria")
