"""Moving an opportunity through its pipeline: move between stages, win (and the follow-up visits a win plans),
lose (and whether a loss is untouched, SPEC §4), reopen."""

from __future__ import annotations

from datetime import datetime, timedelta
from operator import attrgetter

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Account, Competitor, User
from core.errors import ExitCriteriaNotMet, InvalidMove, NotAllowed, OverrideNotAllowed, ValidationFailed
from pipeline.criteria import unmet_exit_criteria, win_blockers
from pipeline.models import Opportunity, Stage, Visit, WebhookEndpoint
from pipeline.services._common import (
    after_sales_stage,
    clean_competitor,
    closing_stage,
    compare_and_set,
    in_actor_language,
    is_manager_or_director,
    load_opportunity,
    open_may_reach,
    refreshed,
    stages_of,
)
from pipeline.services.stage_changes import Step, record_stage_changes
from pipeline.services.webhook_events import opportunity_event

Event = WebhookEndpoint.Event


def is_untouched_loss(
    *, account: Account | int, furthest_stage: Stage, lost_to: Competitor | None, closed_at: datetime
) -> bool:
    """SPEC §4: lost to a competitor, and either never engaged or no visit to the account completed in the
    SALESFLOW_UNTOUCHED_LOOKBACK_DAYS days up to `closed_at`. At most one query."""
    if lost_to is None:
        return False
    if not furthest_stage.engaged:
        return True
    since = closed_at - timedelta(days=settings.SALESFLOW_UNTOUCHED_LOOKBACK_DAYS)
    return not Visit.objects.done().filter(account=account, done_at__gte=since, done_at__lte=closed_at).exists()


@in_actor_language("moved_by")
@transaction.atomic
def move_opportunity(
    *,
    opportunity: Opportunity,
    to_stage_code: str,
    moved_by: User,
    override_reason: str = "",
    expected_version: int | None = None,
) -> Opportunity:
    """Moves an opportunity to another stage of its pipeline and records a StageChange; writes nothing if it raises.

    Forward needs every exit criterion of the current stage and of each skipped stage, unless a manager or director
    overrides them with a written reason (kept on the StageChange); backward is always allowed. The probability
    and, while open, the forecast category become the new stage's defaults. An open opportunity stays at or before
    the closing stage (a win takes it further); a won one moves only between after-sales stages; a lost one not at
    all. Moving to the current stage changes nothing.
    """
    current = load_opportunity(opportunity, moved_by, expected_version)
    stages = stages_of(current.pipeline_id)
    to_stage = next((s for s in stages if s.code == to_stage_code), None)
    if to_stage is None:
        raise InvalidMove(gettext("This sales process has no such stage."))
    from_stage = current.stage
    if current.status == Opportunity.Status.LOST:
        raise InvalidMove(gettext("A lost opportunity cannot change stage; a manager can reopen it."))
    if current.status == Opportunity.Status.WON and not (from_stage.is_after_sales and to_stage.is_after_sales):
        raise InvalidMove(gettext("A won opportunity only moves between after-sales stages."))
    if current.status == Opportunity.Status.OPEN and not open_may_reach(to_stage, stages):
        raise InvalidMove(gettext("Win the opportunity to take it past the closing stage."))
    if to_stage.pk == from_stage.pk:
        return refreshed(opportunity)  # a repeated request is not a second move

    reason = (override_reason or "").strip()
    if reason and not moved_by.can_override_exit_criteria:
        raise OverrideNotAllowed()
    overridden = ""
    if to_stage.order > from_stage.order:
        passed = [s for s in stages if from_stage.order <= s.order < to_stage.order]
        if unmet := unmet_exit_criteria(opportunity=current, stages=passed):
            if not reason:
                raise ExitCriteriaNotMet(unmet)
            overridden = reason  # kept only when it actually let unmet criteria through

    now = timezone.now()
    compare_and_set(
        current,
        changed_by=moved_by,
        stage=to_stage,
        stage_entered_at=now,
        furthest_stage=max(to_stage, current.furthest_stage, key=attrgetter("order")),
        probability=current.probability if to_stage.probability is None else to_stage.probability,
        forecast_category=to_stage.forecast_category if current.is_open else current.forecast_category,
    )
    record_stage_changes(
        opportunity=current,
        steps=[Step(from_stage=from_stage, to_stage=to_stage, changed_at=now, override_reason=overridden)],
        changed_by=moved_by,
    )
    opportunity_event(Event.OPPORTUNITY_STAGE_CHANGED, current, from_stage=from_stage)
    return refreshed(opportunity)


@in_actor_language("won_by")
@transaction.atomic
def win_opportunity(*, opportunity: Opportunity, won_by: User, expected_version: int | None = None) -> Opportunity:
    """Wins an open opportunity; writes nothing if it raises.

    Needs every exit criterion from its current stage up to and including the closing stage (no override). Then:
    status won, closed now, probability 100, moved with StageChange rows to the closing stage and on to the
    after-sales stage, and follow-up visits planned SALESFLOW_FOLLOW_UP_DAYS days after closing.
    """
    current = load_opportunity(opportunity, won_by, expected_version)
    if not current.is_open:
        raise InvalidMove(gettext("Only an open opportunity can be won."), field="status")
    stages = stages_of(current.pipeline_id)
    closing = closing_stage(stages)
    if closing is None:
        raise InvalidMove(gettext("This sales process has no closing stage."), field="status")
    if unmet := win_blockers(opportunity=current, stages=stages):
        raise ExitCriteriaNotMet(unmet)

    path = [s for s in (closing, after_sales_stage(stages, closing)) if s is not None and s.pk != current.stage_id]
    final = path[-1] if path else current.stage
    now = timezone.now()
    compare_and_set(
        current,
        changed_by=won_by,
        status=Opportunity.Status.WON,
        closed_at=now,
        probability=100,
        stage=final,
        stage_entered_at=now if path else current.stage_entered_at,
        furthest_stage=max(final, current.furthest_stage, key=attrgetter("order")),
    )
    record_stage_changes(
        opportunity=current,
        steps=[
            Step(from_stage=from_stage, to_stage=to_stage, changed_at=now)
            for from_stage, to_stage in zip([current.stage, *path], path, strict=False)
        ],
        changed_by=won_by,
    )
    _plan_follow_ups(current, closed_at=now)
    opportunity_event(Event.OPPORTUNITY_WON, current)
    return refreshed(opportunity)


def _plan_follow_ups(opportunity: Opportunity, *, closed_at: datetime) -> None:
    owner = opportunity.owner
    with translation.override(owner.language or translation.get_language()):
        Visit.objects.bulk_create(
            Visit(
                account_id=opportunity.account_id,
                opportunity=opportunity,
                owner=owner,
                kind=Visit.Kind.FOLLOW_UP,
                status=Visit.Status.PLANNED,
                planned_at=closed_at + timedelta(days=days),
                purpose=gettext("Follow-up %(days)d days after the win: is the customer fully satisfied?")
                % {"days": days},
            )
            for days in settings.SALESFLOW_FOLLOW_UP_DAYS
        )


@in_actor_language("lost_by")
@transaction.atomic
def lose_opportunity(
    *,
    opportunity: Opportunity,
    lost_by: User,
    reason: str,
    lost_to: Competitor | None = None,
    note: str = "",
    untouched_cause: str = "",
    expected_version: int | None = None,
) -> Opportunity:
    """Loses an open opportunity at its stage: status lost, closed now, probability 0, loss fields set and the
    untouched-loss flag computed (SPEC §4). An untouched loss needs `untouched_cause`; any other loss refuses one.
    Writes nothing if it raises."""
    current = load_opportunity(opportunity, lost_by, expected_version)
    if not current.is_open:
        raise InvalidMove(gettext("Only an open opportunity can be lost."), field="status")
    if reason not in Opportunity.LossReason.values:
        raise ValidationFailed(gettext("Choose a loss reason."), field="reason")
    lost_to = clean_competitor(lost_to, field="lost_to")
    now = timezone.now()
    untouched = is_untouched_loss(
        account=current.account_id, furthest_stage=current.furthest_stage, lost_to=lost_to, closed_at=now
    )
    cause = (untouched_cause or "").strip()
    if untouched and cause not in Opportunity.UntouchedCause.values:
        raise ValidationFailed(
            gettext("This is an untouched loss (lost before the customer was really engaged): choose its cause."),
            field="untouched_cause",
        )
    if not untouched and cause:
        raise ValidationFailed(gettext("Only an untouched loss has an untouched cause."), field="untouched_cause")
    compare_and_set(
        current,
        changed_by=lost_by,
        status=Opportunity.Status.LOST,
        closed_at=now,
        probability=0,
        loss_reason=reason,
        lost_to=lost_to,
        loss_note=(note or "").strip(),
        is_untouched_loss=untouched,
        untouched_cause=cause,
    )
    opportunity_event(Event.OPPORTUNITY_LOST, current)
    return refreshed(opportunity)


@in_actor_language("reopened_by")
@transaction.atomic
def reopen_opportunity(
    *, opportunity: Opportunity, reopened_by: User, expected_version: int | None = None
) -> Opportunity:
    """Reopens a won or lost opportunity (managers and directors only); writes nothing if it raises.

    A lost one reopens at the stage it was lost at, a won one at the closing stage (it had moved on to after-sales
    only because it was won) and its still-planned follow-up visits are cancelled. Closing and loss fields are
    cleared, the probability and forecast category are the stage's defaults, and a StageChange records the
    reopening (from and to the same stage for a lost one).
    """
    current = load_opportunity(opportunity, reopened_by, expected_version)
    if not is_manager_or_director(reopened_by):
        raise NotAllowed(gettext("Only a manager or a director may reopen an opportunity."))
    if current.is_open:
        raise InvalidMove(gettext("This opportunity is already open."), field="status")
    stages = stages_of(current.pipeline_id)
    to_stage = current.stage
    if not open_may_reach(to_stage, stages):
        to_stage = closing_stage(stages) or to_stage
    now = timezone.now()
    if current.status == Opportunity.Status.WON:
        Visit.objects.planned().filter(opportunity=current, kind=Visit.Kind.FOLLOW_UP).update(
            status=Visit.Status.CANCELLED, updated_at=now
        )
    compare_and_set(
        current,
        changed_by=reopened_by,
        status=Opportunity.Status.OPEN,
        closed_at=None,
        loss_reason="",
        lost_to=None,
        loss_note="",
        is_untouched_loss=False,
        untouched_cause="",
        stage=to_stage,
        stage_entered_at=now if to_stage.pk != current.stage_id else current.stage_entered_at,
        probability=current.probability if to_stage.probability is None else to_stage.probability,
        forecast_category=to_stage.forecast_category,
    )
    record_stage_changes(
        opportunity=current,
        steps=[Step(from_stage=current.stage, to_stage=to_stage, changed_at=now)],
        changed_by=reopened_by,
    )
    return refreshed(opportunity)
