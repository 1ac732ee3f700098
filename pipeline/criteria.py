"""Exit criteria: which criteria of a stage an opportunity meets, and why not (SPEC §3).

`evaluate_stage_criteria` is the one answer the board, the opportunity page, the API and the services share.
Automatic criteria are checks registered below under their criterion code; each declares the facts it reads, and
all facts for any number of opportunities come from one query. Manual criteria read
`Opportunity.criteria_values[code]`: a checkbox is met by `true`, a text by a non-blank string, a date by an ISO
date string. Labels and reasons are in the active language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext

from accounts.models import Contact
from pipeline.models import Opportunity, Stage, StageCriterion, Visit


@dataclass
class CriterionResult:
    """One exit criterion of a stage, evaluated for one opportunity."""

    criterion: StageCriterion
    code: str
    label: str
    kind: str
    met: bool
    reason: str  # why it is not met, in the active language; empty when met
    input_type: str = ""
    value: Any = None  # the stored value of a manual criterion
    stage_code: str = field(default="")


@dataclass
class UnmetCriterion:
    """An exit criterion that stands in the way of a move."""

    stage_code: str
    code: str
    label: str
    reason: str


# --- facts: one SQL expression each, annotated on Opportunity rows ------------------------------------------------

_OWN_OR_NO_OPPORTUNITY = Q(opportunity__isnull=True) | Q(opportunity=OuterRef("pk"))
_KEY_ROLES = (Contact.BuyingRole.DECISION_MAKER, Contact.BuyingRole.INFLUENCER)

FACTS: dict[str, Callable[[], Any]] = {
    "account_industry": lambda: F("account__industry_id"),
    "account_employee_count": lambda: F("account__employee_count"),
    "account_region": lambda: F("account__region_id"),
    "has_planned_visit": lambda: Exists(Visit.objects.planned().filter(account=OuterRef("account"))),
    # A visit about this opportunity counts whenever it was done; any other visit at the account once it exists.
    "has_done_visit_since_created": lambda: Exists(
        Visit.objects.done().filter(
            Q(opportunity=OuterRef("pk")) | Q(done_at__gte=OuterRef("created_at")), account=OuterRef("account")
        )
    ),
    "has_contact": lambda: Exists(Contact.objects.filter(account=OuterRef("account"))),
    "has_key_contact": lambda: Exists(Contact.objects.filter(account=OuterRef("account"), buying_role__in=_KEY_ROLES)),
    "has_decision_maker": lambda: Exists(
        Contact.objects.filter(account=OuterRef("account"), buying_role=Contact.BuyingRole.DECISION_MAKER)
    ),
    "has_contact_style": lambda: Exists(
        Contact.objects.filter(account=OuterRef("account")).exclude(communication_style="")
    ),
    "has_demo_or_proposal_done": lambda: Exists(
        Visit.objects.done().filter(
            _OWN_OR_NO_OPPORTUNITY,
            account=OuterRef("account"),
            kind__in=(Visit.Kind.DEMO, Visit.Kind.PROPOSAL),
        )
    ),
    "has_demo_done": lambda: Exists(
        Visit.objects.done().filter(_OWN_OR_NO_OPPORTUNITY, account=OuterRef("account"), kind=Visit.Kind.DEMO)
    ),
    "has_delivery_done": lambda: Exists(
        Visit.objects.done().filter(_OWN_OR_NO_OPPORTUNITY, account=OuterRef("account"), kind=Visit.Kind.DELIVERY)
    ),
    "has_follow_up_done": lambda: Exists(
        Visit.objects.done().filter(opportunity=OuterRef("pk"), kind=Visit.Kind.FOLLOW_UP)
    ),
    "has_follow_up_planned": lambda: Exists(
        Visit.objects.planned().filter(opportunity=OuterRef("pk"), kind=Visit.Kind.FOLLOW_UP)
    ),
    "has_satisfaction": lambda: Exists(
        Visit.objects.done().filter(opportunity=OuterRef("pk"), satisfaction__isnull=False)
    ),
}


# --- checks: one per automatic criterion code; each returns "" when met, else the reason --------------------------


@dataclass(frozen=True)
class Check:
    facts: tuple[str, ...]
    test: Callable[[Opportunity, dict[str, Any]], str]


CHECKS: dict[str, Check] = {}


def check(code: str, *facts: str) -> Callable:
    """Registers the check of the automatic criterion `code`, reading `facts` (names in FACTS)."""

    def register(test: Callable[[Opportunity, dict[str, Any]], str]) -> Callable:
        CHECKS[code] = Check(facts=facts, test=test)
        return test

    return register


@check("account_profile_complete", "account_industry", "account_employee_count", "account_region")
def _account_profile_complete(opportunity: Opportunity, facts: dict[str, Any]) -> str:
    missing = [
        name
        for key, name in (
            ("account_industry", gettext("industry")),
            ("account_employee_count", gettext("size (employee count)")),
            ("account_region", gettext("region")),
        )
        if facts[key] is None
    ]
    if not missing:
        return ""
    return gettext("The account's profile lacks: %(fields)s.") % {"fields": ", ".join(missing)}


@check("visit_planned", "has_planned_visit")
def _visit_planned(opportunity: Opportunity, facts: dict[str, Any]) -> str:
    return "" if facts["has_planned_visit"] else gettext("No visit is planned at this account.")


@check("visit_completed", "has_done_visit_since_created")
def _visit_completed(opportunity: Opportunity, facts: dict[str, Any]) -> str:
    if facts["has_done_visit_since_created"]:
        return ""
    return gettext("No visit has been completed at this account since the opportunity was created.")


@check("contact_named", "has_contact")
def _contact_named(opportunity: Opportunity, facts: dict[str, Any]) -> str:
    return "" if facts["has_contact"] else gettext("The account has no contact yet.")


@check("key_contact_named", "has_key_contact")
def _key_contact_named(opportunity: Opportunity, facts: dict[str, Any]) -> str:
    if facts["has_key_contact"]:
        return ""
    return gettext("The account has no contact whose buying role is decision maker or influencer.")


@check("decision_maker_contact", "has_decision_maker")
def _decision_maker_contact(opportunity: Opportunity, facts: dict[str, Any]) -> str:
    if facts["has_decision_maker"]:
        return ""
    return gettext("The account has no contact whose buying role is decision maker.")


@check("contact_style_known", "has_contact_style")
def _contact_style_known(opportunity: Opportunity, facts: dict[str, Any]) -> str:
    if facts["has_contact_style"]:
        return ""
    return gettext("No contact at the account has a communication style recorded.")


@check("budget_set")
def _budget_set(opportunity: Opportunity, facts: dict[str, Any]) -> str:
    return "" if opportunity.amount and opportunity.amount > 0 else gettext("The amount is not above 0.")


@check("close_date_set")
def _close_date_set(opportunity: Opportunity, facts: dict[str, Any]) -> str:
    return "" if opportunity.expected_close_date else gettext("The expected close date is not set.")


@check("source_set")
def _source_set(opportunity: Opportunity, facts: dict[str, Any]) -> str:
    return "" if opportunity.source else gettext("The source of the opportunity is not recorded.")


@check("demo_or_proposal_done", "has_demo_or_proposal_done")
def _demo_or_proposal_done(opportunity: Opportunity, facts: dict[str, Any]) -> str:
    if facts["has_demo_or_proposal_done"]:
        return ""
    return gettext("No demo or proposal visit has been completed.")


@check("demo_done", "has_demo_done")
def _demo_done(opportunity: Opportunity, facts: dict[str, Any]) -> str:
    return "" if facts["has_demo_done"] else gettext("No demo visit has been completed.")


@check("delivery_done", "has_delivery_done")
def _delivery_done(opportunity: Opportunity, facts: dict[str, Any]) -> str:
    return "" if facts["has_delivery_done"] else gettext("No delivery visit has been completed.")


@check("follow_up_visits_done", "has_follow_up_done", "has_follow_up_planned")
def _follow_up_visits_done(opportunity: Opportunity, facts: dict[str, Any]) -> str:
    if facts["has_follow_up_planned"]:
        return gettext("A follow-up visit is still planned.")
    if not facts["has_follow_up_done"]:
        return gettext("No follow-up visit has been completed.")
    return ""


@check("satisfaction_recorded", "has_satisfaction")
def _satisfaction_recorded(opportunity: Opportunity, facts: dict[str, Any]) -> str:
    if facts["has_satisfaction"]:
        return ""
    return gettext("No completed visit on this opportunity records the customer's satisfaction.")


IMPLEMENTED_CHECKS: frozenset[str] = frozenset(CHECKS)


# --- manual criteria ------------------------------------------------------------------------------------------------


def manual_value_reason(input_type: str, value: Any) -> str:
    """Returns "" when a manual criterion's stored value meets it, else why not (active language)."""
    if input_type == StageCriterion.InputType.CHECKBOX:
        return "" if value is True else gettext("Not checked yet.")
    if input_type == StageCriterion.InputType.TEXT:
        return "" if isinstance(value, str) and value.strip() else gettext("Not written yet.")
    if input_type == StageCriterion.InputType.DATE:
        if not value:
            return gettext("No date set yet.")
        try:
            date.fromisoformat(value)
        except (TypeError, ValueError):
            return gettext("Not a valid date.")
        return ""
    return gettext("This criterion has no input type; a director must fix the stage.")


# --- evaluation -----------------------------------------------------------------------------------------------------


def _criteria_by_stage(stages: Iterable[Stage]) -> dict[int, list[StageCriterion]]:
    """Criteria per stage id, from the prefetch cache when every stage has one, else in one query."""
    stages = list(stages)
    if all("criteria" in getattr(s, "_prefetched_objects_cache", {}) for s in stages):
        return {s.pk: list(s.criteria.all()) for s in stages}
    by_stage: dict[int, list[StageCriterion]] = {s.pk: [] for s in stages}
    for criterion in StageCriterion.objects.filter(stage__in=[s.pk for s in stages]).order_by("order", "code"):
        by_stage[criterion.stage_id].append(criterion)
    return by_stage


def _facts(opportunity_ids: list[int], codes: set[str]) -> dict[int, dict[str, Any]]:
    """The facts the automatic checks `codes` read, per opportunity id, in one query (none if no fact is needed)."""
    names = sorted({fact for code in codes if code in CHECKS for fact in CHECKS[code].facts})
    if not names or not opportunity_ids:
        return {pk: {} for pk in opportunity_ids}
    rows = (
        Opportunity.objects.filter(pk__in=opportunity_ids)
        .order_by()
        .values("pk")
        .annotate(**{f"fact_{name}": FACTS[name]() for name in names})
    )
    return {row["pk"]: {name: row[f"fact_{name}"] for name in names} for row in rows}


def _evaluate(
    opportunity: Opportunity, criterion: StageCriterion, facts: dict[str, Any], stage_code: str
) -> CriterionResult:
    value = None
    if criterion.kind == StageCriterion.Kind.MANUAL:
        value = (opportunity.criteria_values or {}).get(criterion.code)
        reason = manual_value_reason(criterion.input_type, value)
    elif criterion.code in CHECKS:
        reason = CHECKS[criterion.code].test(opportunity, facts)
    else:
        reason = gettext("SalesFlow has no automatic check with this code; a director must fix the stage.")
    return CriterionResult(
        criterion=criterion,
        code=criterion.code,
        label=criterion.label,
        kind=criterion.kind,
        met=not reason,
        reason=reason,
        input_type=criterion.input_type,
        value=value,
        stage_code=stage_code,
    )


def evaluate_stage_criteria(*, opportunity: Opportunity, stage: Stage) -> list[CriterionResult]:
    """Returns every exit criterion of `stage` for `opportunity`, met or not, in the stage's order.

    Runs at most two queries (the stage's criteria unless prefetched, and one for all automatic facts), however
    many visits and contacts the account has.
    """
    criteria = _criteria_by_stage([stage])[stage.pk]
    codes = {c.code for c in criteria if c.kind == StageCriterion.Kind.AUTOMATIC}
    facts = _facts([opportunity.pk], codes).get(opportunity.pk, {})
    return [_evaluate(opportunity, criterion, facts, stage.code) for criterion in criteria]


def evaluate_current_stage_criteria(*, opportunities: Iterable[Opportunity]) -> dict[int, list[CriterionResult]]:
    """Returns, per opportunity id, `evaluate_stage_criteria` for its current stage, in at most two queries in all.

    For lists such as the board; pass opportunities with `stage` selected to avoid a query per row.
    """
    opportunities = list(opportunities)
    stages = {o.stage_id: o.stage for o in opportunities}
    criteria = _criteria_by_stage(stages.values())
    codes = {c.code for cs in criteria.values() for c in cs if c.kind == StageCriterion.Kind.AUTOMATIC}
    facts = _facts([o.pk for o in opportunities], codes)
    return {
        o.pk: [_evaluate(o, c, facts.get(o.pk, {}), stages[o.stage_id].code) for c in criteria[o.stage_id]]
        for o in opportunities
    }


def unmet_exit_criteria(*, opportunity: Opportunity, stages: Iterable[Stage]) -> list[UnmetCriterion]:
    """Returns the unmet exit criteria of all `stages` for `opportunity`, by stage order; at most two queries."""
    stages = sorted(stages, key=lambda s: s.order)
    criteria = _criteria_by_stage(stages)
    codes = {c.code for cs in criteria.values() for c in cs if c.kind == StageCriterion.Kind.AUTOMATIC}
    facts = _facts([opportunity.pk], codes).get(opportunity.pk, {})
    return [
        UnmetCriterion(stage_code=stage.code, code=result.code, label=result.label, reason=result.reason)
        for stage in stages
        for criterion in criteria[stage.pk]
        if not (result := _evaluate(opportunity, criterion, facts, stage.code)).met
    ]


def win_blockers(*, opportunity: Opportunity, stages: list[Stage]) -> list[UnmetCriterion]:
    """Returns the exit criteria that stand in the way of winning: the unmet ones of every stage from the current one
    up to and including the closing stage (`stages` is the pipeline's, in order); at most two queries.

    The one rule win_opportunity applies, so the page offers "Mark as won" only when the service will accept it.
    """
    closing = next((s for s in stages if s.is_closing), None)
    if closing is None:
        return []
    lowest = min(opportunity.stage.order, closing.order)
    return unmet_exit_criteria(
        opportunity=opportunity, stages=[s for s in stages if lowest <= s.order <= closing.order]
    )
