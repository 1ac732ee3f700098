from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from accounts.models import Contact
from pipeline.criteria import (
    CHECKS,
    FACTS,
    IMPLEMENTED_CHECKS,
    evaluate_current_stage_criteria,
    evaluate_stage_criteria,
    unmet_exit_criteria,
)
from pipeline.models import Opportunity, Stage, StageCriterion, Visit
from tests.factories import (
    AccountFactory,
    ContactFactory,
    IndustryFactory,
    OpportunityFactory,
    VisitFactory,
    default_stage,
)

pytestmark = pytest.mark.django_db


def done(**fields):
    return {"status": Visit.Status.DONE, "done_at": timezone.now(), "planned_at": None, **fields}


def criterion_on(code: str) -> StageCriterion:
    """The default pipeline's criterion with this code; codes only templates use are added to the prep stage."""
    found = StageCriterion.objects.filter(stage__pipeline__is_default=True, code=code).first()
    return found or StageCriterion.objects.create(
        stage=default_stage("prep"), code=code, kind="automatic", label_zh=code, label_en=code, order=99
    )


def result(opportunity: Opportunity, code: str):
    criterion = criterion_on(code)
    opportunity.refresh_from_db()
    return next(r for r in evaluate_stage_criteria(opportunity=opportunity, stage=criterion.stage) if r.code == code)


def new_opportunity(**fields) -> Opportunity:
    return OpportunityFactory(**fields)


def yesterday():
    return timezone.now() - timedelta(days=1)


# Each automatic check: (code, set-up that leaves it unmet, set-up that meets it, the unmet reason in English).
def _account_incomplete(o):
    o.account.__class__.objects.filter(pk=o.account_id).update(industry=None, employee_count=None)


def _account_complete(o):
    o.account.__class__.objects.filter(pk=o.account_id).update(industry=IndustryFactory(), employee_count=8)


def _nothing(o):
    return None


AUTOMATIC_CASES = [
    (
        "account_profile_complete",
        _account_incomplete,
        _account_complete,
        "The account's profile lacks: industry, size (employee count).",
    ),
    (
        "visit_planned",
        lambda o: VisitFactory(account=o.account, status=Visit.Status.CANCELLED),
        lambda o: VisitFactory(account=o.account),
        "No visit is planned at this account.",
    ),
    (
        "visit_completed",
        # done at the account before the opportunity existed, and not about it
        lambda o: VisitFactory(account=o.account, **done(done_at=o.created_at - timedelta(hours=1))),
        lambda o: VisitFactory(account=o.account, **done()),
        "No visit has been completed at this account since the opportunity was created.",
    ),
    (
        "contact_named",
        lambda o: ContactFactory(),  # at another account
        lambda o: ContactFactory(account=o.account, buying_role=""),
        "The account has no contact yet.",
    ),
    (
        "key_contact_named",
        lambda o: ContactFactory(account=o.account, buying_role=Contact.BuyingRole.GATEKEEPER),
        lambda o: ContactFactory(account=o.account, buying_role=Contact.BuyingRole.INFLUENCER),
        "The account has no contact whose buying role is decision maker or influencer.",
    ),
    (
        "decision_maker_contact",
        lambda o: ContactFactory(account=o.account, buying_role=Contact.BuyingRole.INFLUENCER),
        lambda o: ContactFactory(account=o.account, buying_role=Contact.BuyingRole.DECISION_MAKER),
        "The account has no contact whose buying role is decision maker.",
    ),
    (
        "contact_style_known",
        lambda o: ContactFactory(account=o.account, communication_style=""),
        lambda o: ContactFactory(account=o.account, communication_style=Contact.CommunicationStyle.ANALYTICAL),
        "No contact at the account has a communication style recorded.",
    ),
    (
        "budget_set",
        lambda o: Opportunity.objects.filter(pk=o.pk).update(amount=Decimal(0)),
        lambda o: Opportunity.objects.filter(pk=o.pk).update(amount=Decimal("0.01")),
        "The amount is not above 0.",
    ),
    (
        "close_date_set",
        _nothing,
        lambda o: Opportunity.objects.filter(pk=o.pk).update(expected_close_date=date(2030, 1, 31)),
        "The expected close date is not set.",
    ),
    (
        "source_set",
        _nothing,
        lambda o: Opportunity.objects.filter(pk=o.pk).update(source=Opportunity.Source.REFERRAL),
        "The source of the opportunity is not recorded.",
    ),
    (
        "demo_or_proposal_done",
        lambda o: [
            VisitFactory(account=o.account, kind=Visit.Kind.VISIT, **done()),
            VisitFactory(account=o.account, kind=Visit.Kind.DEMO),  # only planned
            VisitFactory(
                account=o.account,
                kind=Visit.Kind.DEMO,
                opportunity=new_opportunity(owner=o.owner, account=o.account),
                **done(),
            ),
        ],
        lambda o: VisitFactory(account=o.account, kind=Visit.Kind.PROPOSAL, **done()),
        "No demo or proposal visit has been completed.",
    ),
    (
        "demo_done",
        lambda o: VisitFactory(account=o.account, kind=Visit.Kind.PROPOSAL, **done()),
        lambda o: VisitFactory(account=o.account, kind=Visit.Kind.DEMO, opportunity=o, **done()),
        "No demo visit has been completed.",
    ),
    (
        "delivery_done",
        lambda o: VisitFactory(account=o.account, kind=Visit.Kind.DELIVERY),
        lambda o: VisitFactory(account=o.account, kind=Visit.Kind.DELIVERY, **done()),
        "No delivery visit has been completed.",
    ),
    (
        "follow_up_visits_done",
        lambda o: VisitFactory(account=o.account, kind=Visit.Kind.FOLLOW_UP, **done()),  # not about this one
        lambda o: VisitFactory(account=o.account, opportunity=o, kind=Visit.Kind.FOLLOW_UP, **done()),
        "No follow-up visit has been completed.",
    ),
    (
        "satisfaction_recorded",
        lambda o: VisitFactory(account=o.account, opportunity=o, kind=Visit.Kind.FOLLOW_UP, **done()),
        lambda o: VisitFactory(account=o.account, opportunity=o, satisfaction=0, **done()),
        "No completed visit on this opportunity records the customer's satisfaction.",
    ),
]


def test_every_implemented_check_has_a_true_and_a_false_case():
    assert {case[0] for case in AUTOMATIC_CASES} == IMPLEMENTED_CHECKS
    assert all(fact in FACTS for check in CHECKS.values() for fact in check.facts)


@pytest.mark.parametrize(
    ("code", "leave_unmet", "meet", "reason"), AUTOMATIC_CASES, ids=[c[0] for c in AUTOMATIC_CASES]
)
def test_an_automatic_criterion_is_unmet_with_its_reason_then_met_once_the_data_exists(code, leave_unmet, meet, reason):
    opportunity = new_opportunity(amount=Decimal(0))
    leave_unmet(opportunity)
    with translation.override("en"):
        unmet = result(opportunity, code)
    assert (unmet.met, unmet.reason, unmet.kind) == (False, reason, "automatic")

    meet(opportunity)
    met = result(opportunity, code)
    assert (met.met, met.reason) == (True, "")


def test_the_account_profile_names_only_the_missing_region():
    opportunity = new_opportunity(account=AccountFactory(region=None))
    with translation.override("en"):
        assert result(opportunity, "account_profile_complete").reason == "The account's profile lacks: region."


def test_a_visit_about_the_opportunity_counts_even_if_done_before_it_was_created():
    opportunity = new_opportunity()
    VisitFactory(account=opportunity.account, opportunity=opportunity, **done(done_at=yesterday() - timedelta(days=3)))
    assert result(opportunity, "visit_completed").met is True


def test_follow_ups_are_not_done_while_one_is_still_planned():
    opportunity = new_opportunity()
    VisitFactory(account=opportunity.account, opportunity=opportunity, kind=Visit.Kind.FOLLOW_UP, **done())
    VisitFactory(account=opportunity.account, opportunity=opportunity, kind=Visit.Kind.FOLLOW_UP)
    with translation.override("en"):
        assert result(opportunity, "follow_up_visits_done").reason == "A follow-up visit is still planned."


@pytest.mark.parametrize(
    ("code", "value", "met"),
    [
        ("problem_acknowledged", True, True),
        ("problem_acknowledged", False, False),
        ("problem_acknowledged", "true", False),
        ("problem_acknowledged", None, False),
        ("visit_purpose", "介绍新产品", True),
        ("visit_purpose", "   ", False),
        ("visit_purpose", 5, False),
        ("purchase_date_agreed", "2025-06-30", True),
        ("purchase_date_agreed", "2025-13-01", False),
        ("purchase_date_agreed", "", False),
    ],
)
def test_a_manual_criterion_is_met_by_the_value_its_input_expects(code, value, met):
    opportunity = new_opportunity(criteria_values={} if value is None else {code: value})
    evaluated = result(opportunity, code)
    assert (evaluated.met, evaluated.kind, evaluated.value) == (met, "manual", value)
    assert (evaluated.reason == "") is met


def test_manual_reasons_say_what_is_missing():
    opportunity = new_opportunity(criteria_values={"purchase_date_agreed": "soon"})
    with translation.override("en"):
        reasons = {
            code: result(opportunity, code).reason
            for code in ("problem_acknowledged", "visit_purpose", "purchase_date_agreed")
        }
    assert reasons == {
        "problem_acknowledged": "Not checked yet.",
        "visit_purpose": "Not written yet.",
        "purchase_date_agreed": "Not a valid date.",
    }


def test_an_automatic_criterion_without_a_check_is_never_met():
    StageCriterion.objects.create(
        stage=default_stage("prep"), code="moon_phase", kind="automatic", label_zh="月相", label_en="Moon"
    )
    evaluated = result(new_opportunity(), "moon_phase")
    assert evaluated.met is False
    assert evaluated.reason


@pytest.mark.parametrize(("language", "label"), [("en", "Visit purpose written"), ("zh-hans", "已写明拜访目的")])
def test_labels_come_in_the_active_language(language, label):
    opportunity = new_opportunity()
    with translation.override(language):
        assert result(opportunity, "visit_purpose").label == label


def test_results_follow_the_stage_order_of_criteria_with_the_stage_code():
    results = evaluate_stage_criteria(opportunity=new_opportunity(), stage=default_stage("prep"))
    assert [(r.code, r.stage_code) for r in results] == [
        ("account_profile_complete", "prep"),
        ("visit_purpose", "prep"),
        ("visit_planned", "prep"),
    ]


def test_unmet_exit_criteria_lists_every_stage_in_order():
    opportunity = new_opportunity(criteria_values={"visit_purpose": "x", "problem_acknowledged": True})
    stages = Stage.objects.filter(pipeline__is_default=True, code__in=["opportunity", "prep", "status"])
    unmet = unmet_exit_criteria(opportunity=opportunity, stages=stages)
    assert [(u.stage_code, u.code) for u in unmet] == [
        ("prep", "visit_planned"),
        ("status", "visit_completed"),
        ("status", "current_situation"),
        ("status", "key_contact_named"),
        ("opportunity", "problem_and_cause"),
    ]


def _stage_with_every_check() -> Stage:
    stage = default_stage("prep")
    for position, code in enumerate(sorted(IMPLEMENTED_CHECKS), start=10):
        StageCriterion.objects.get_or_create(
            stage=stage,
            code=code,
            defaults={"kind": "automatic", "label_zh": code, "label_en": code, "order": position},
        )
    return stage


@pytest.mark.parametrize("rows", [1, 25])
def test_evaluating_a_stage_takes_two_queries_however_many_visits_and_contacts(rows, django_assert_num_queries):
    stage = _stage_with_every_check()
    opportunity = new_opportunity()
    for _ in range(rows):
        VisitFactory(account=opportunity.account, opportunity=opportunity, kind=Visit.Kind.DEMO, **done())
        VisitFactory(account=opportunity.account, kind=Visit.Kind.FOLLOW_UP)
        ContactFactory(account=opportunity.account, buying_role=Contact.BuyingRole.DECISION_MAKER)
    opportunity.refresh_from_db()
    with django_assert_num_queries(2):
        results = evaluate_stage_criteria(opportunity=opportunity, stage=stage)
    assert len(results) == 3 + len(IMPLEMENTED_CHECKS) - 2  # prep's own two automatic codes are among them
    assert next(r for r in results if r.code == "demo_done").met is True


def test_evaluating_with_prefetched_criteria_takes_one_query(django_assert_num_queries):
    opportunity = new_opportunity()
    stage = Stage.objects.prefetch_related("criteria").get(pk=default_stage("prep").pk)
    with django_assert_num_queries(1):
        evaluate_stage_criteria(opportunity=opportunity, stage=stage)


def test_a_stage_with_only_manual_criteria_needs_no_facts_query(django_assert_num_queries):
    opportunity, stage = new_opportunity(), default_stage("opportunity")
    with django_assert_num_queries(1):
        results = evaluate_stage_criteria(opportunity=opportunity, stage=stage)
    assert [r.met for r in results] == [False, False]


@pytest.mark.parametrize("count", [2, 12])
def test_evaluating_a_list_of_opportunities_takes_two_queries_in_all(count, django_assert_num_queries):
    stages = [default_stage(code) for code in ("prep", "status", "needs", "develop")]
    opportunities = [new_opportunity(stage=stages[i % 4]) for i in range(count)]
    for opportunity in opportunities:
        VisitFactory(account=opportunity.account)
    loaded = list(Opportunity.objects.filter(pk__in=[o.pk for o in opportunities]).select_related("stage"))
    with django_assert_num_queries(2):
        by_id = evaluate_current_stage_criteria(opportunities=loaded)
    assert set(by_id) == {o.pk for o in opportunities}
    first = by_id[opportunities[0].pk]
    assert [(r.code, r.met) for r in first] == [
        ("account_profile_complete", True),
        ("visit_purpose", False),
        ("visit_planned", True),
    ]
