"""Opportunities themselves: create one (live), record one closed after the fact (history), edit its fields and
owner, and fill in its manual exit criteria."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Account, Competitor, User
from core.errors import NotAllowed, ValidationFailed
from core.history import Change, changes_between, is_same, record_changes
from pipeline.models import (
    Opportunity,
    OpportunityChange,
    Pipeline,
    Stage,
    StageCriterion,
    WebhookEndpoint,
)
from pipeline.services._common import (
    after_sales_stage,
    aware,
    check_account_visible,
    check_user_assignable,
    clean_amount,
    clean_competitor,
    clean_competitors,
    clean_date,
    clean_forecast_category,
    clean_name,
    clean_probability,
    clean_source,
    closing_stage,
    compare_and_set,
    in_actor_language,
    is_manager_or_director,
    load_opportunity,
    open_may_reach,
    opportunity_changes,
    refreshed,
    stages_of,
)
from pipeline.services.moves import is_untouched_loss
from pipeline.services.reassignment import reassign_opportunity
from pipeline.services.stage_changes import Step, record_stage_changes
from pipeline.services.webhook_events import opportunity_event

EDITABLE_OPPORTUNITY_FIELDS = (
    "name",
    "amount",
    "expected_close_date",
    "source",
    "competitors",
    "probability",
    "forecast_category",
)


@dataclass(frozen=True)
class _Draft:
    """A new opportunity checked and cleaned, not yet written; live creation and recorded history share it."""

    account: Account
    owner: User
    pipeline: Pipeline
    stages: list[Stage]
    stage: Stage  # the stage asked for (the first by default), at most the closing stage
    values: dict[str, Any]  # name, amount, expected_close_date, source
    competitors: list[Competitor]


def _draft(
    *,
    created_by: User,
    account: Account,
    owner: User | None,
    pipeline: Pipeline | None,
    stage_code: str | None,
    name: str,
    amount: Decimal,
    expected_close_date: date | None,
    source: str,
    competitors: Iterable[Competitor | int],
) -> _Draft:
    """Checks that `created_by` may create at `account` for `owner` in `pipeline` (default: the default one) at
    `stage_code`, and cleans the plain values; writes nothing."""
    check_account_visible(account, created_by)
    owner = owner or created_by
    if owner.pk != created_by.pk:
        check_user_assignable(owner, created_by, field="owner")
    if pipeline is None:
        pipeline = Pipeline.objects.filter(is_default=True).first()
    if pipeline is None or not pipeline.is_active:
        raise ValidationFailed(gettext("Choose an active sales process."), field="pipeline")
    stages = stages_of(pipeline.pk)
    if not stages:
        raise ValidationFailed(gettext("This sales process has no stages."), field="pipeline")
    values = {
        "name": clean_name(name),
        "amount": clean_amount(amount),
        "expected_close_date": clean_date(expected_close_date, field="expected_close_date"),
        "source": clean_source(source),
    }
    competitors = clean_competitors(competitors)
    stage = stages[0]
    if stage_code:
        stage = next((s for s in stages if s.code == stage_code), None)
        if stage is None or not open_may_reach(stage, stages):
            raise ValidationFailed(gettext("Choose a stage up to the closing stage."), field="stage")
    return _Draft(
        account=account,
        owner=owner,
        pipeline=pipeline,
        stages=stages,
        stage=stage,
        values=values,
        competitors=competitors,
    )


def _insert(
    draft: _Draft,
    *,
    created_by: User,
    path: list[Stage],
    created_at: datetime,
    closed_at: datetime | None,
    is_backfill: bool,
    **fields: Any,
) -> Opportunity:
    """Writes the opportunity at the last stage of `path` and a StageChange for each step along it: the first at
    `created_at`, the others at `closed_at`."""
    final = path[-1]
    opportunity = Opportunity.objects.create(
        pipeline=draft.pipeline,
        stage=final,
        furthest_stage=final,
        account=draft.account,
        owner=draft.owner,
        **draft.values,
        created_at=created_at,
        stage_entered_at=created_at if len(path) == 1 else closed_at,
        closed_at=closed_at,
        **fields,
    )
    record_stage_changes(
        opportunity=opportunity,
        steps=[
            Step(from_stage=from_stage, to_stage=to_stage, changed_at=created_at if from_stage is None else closed_at)
            for from_stage, to_stage in zip([None, *path], path, strict=False)
        ],
        changed_by=created_by,
        is_backfill=is_backfill,
        is_new=True,
    )
    opportunity.competitors.set(draft.competitors)
    return opportunity


@in_actor_language("created_by")
@transaction.atomic
def create_opportunity(
    *,
    created_by: User,
    account: Account,
    name: str,
    amount: Decimal = Decimal(0),
    pipeline: Pipeline | None = None,
    stage_code: str | None = None,
    expected_close_date: date | None = None,
    source: str = "",
    owner: User | None = None,
    competitors: Iterable[Competitor | int] = (),
) -> Opportunity:
    """Creates an open opportunity with its first StageChange; writes nothing if it raises.

    It starts now at the pipeline's first stage (or `stage_code`, at most the closing stage) with that stage's
    default probability, owned by `owner` (default `created_by`; a rep cannot name anyone else).
    """
    draft = _draft(
        created_by=created_by,
        account=account,
        owner=owner,
        pipeline=pipeline,
        stage_code=stage_code,
        name=name,
        amount=amount,
        expected_close_date=expected_close_date,
        source=source,
        competitors=competitors,
    )
    opportunity = _insert(
        draft,
        created_by=created_by,
        path=[draft.stage],
        created_at=timezone.now(),
        closed_at=None,
        is_backfill=False,
        status=Opportunity.Status.OPEN,
        probability=draft.stage.probability or 0,
        forecast_category=draft.stage.forecast_category,
    )
    opportunity_event(WebhookEndpoint.Event.OPPORTUNITY_CREATED, opportunity)
    return opportunity


@in_actor_language("created_by")
@transaction.atomic
def record_closed_opportunity(
    *,
    created_by: User,
    account: Account,
    name: str,
    status: str,
    closed_at: datetime | None,
    amount: Decimal = Decimal(0),
    pipeline: Pipeline | None = None,
    stage_code: str | None = None,
    expected_close_date: date | None = None,
    source: str = "",
    owner: User | None = None,
    competitors: Iterable[Competitor | int] = (),
    loss_reason: str = "",
    lost_to: Competitor | None = None,
    untouched_cause: str = "",
    created_at: datetime | None = None,
) -> Opportunity:
    """Records history: an opportunity already won or lost at a past `closed_at`, with back-filled StageChanges along
    its path; writes nothing if it raises.

    Won: the path runs from the first stage through the closing stage on to the after-sales stage. Lost: from the
    first stage up to `stage_code`, with the loss fields and the untouched-loss flag as of `closed_at`.
    `created_at` defaults to `closed_at`. No follow-up visits are planned for history.

    A director records any history. Anyone else records only a competitor's win at an account they may edit (a rep's
    own, a manager's team's) where we had no opportunity (SPEC §4): lost at the first stage with `lost_to` set, so it
    counts as an untouched loss exactly when SPEC's rule says so, and then with its cause from the decks' list.
    """
    draft = _draft(
        created_by=created_by,
        account=account,
        owner=owner,
        pipeline=pipeline,
        stage_code=stage_code,
        name=name,
        amount=amount,
        expected_close_date=expected_close_date,
        source=source,
        competitors=competitors,
    )
    if status not in (Opportunity.Status.WON, Opportunity.Status.LOST):
        raise ValidationFailed(gettext("History can only be recorded as won or lost."), field="status")
    if not created_by.is_director:
        _check_competitor_win(draft, created_by=created_by, status=status, lost_to=lost_to)
    closed_at, created_at = _past_moments(closed_at=closed_at, created_at=created_at)
    if status == Opportunity.Status.WON:
        path, fields = _won_path(draft.stages), {"status": Opportunity.Status.WON, "probability": 100}
    else:
        path = [s for s in draft.stages if s.order <= draft.stage.order]
        fields = _loss_fields(
            draft, closed_at=closed_at, loss_reason=loss_reason, lost_to=lost_to, untouched_cause=untouched_cause
        )
        if not created_by.is_director and fields["is_untouched_loss"] and not fields["untouched_cause"]:
            # From the field, as when a rep marks a loss (SPEC §4); a director's imported history may lack it.
            raise ValidationFailed(
                gettext("An untouched loss needs its cause, chosen from the list."), field="untouched_cause"
            )
    return _insert(
        draft, created_by=created_by, path=path, created_at=created_at, closed_at=closed_at, is_backfill=True, **fields
    )


def _check_competitor_win(draft: _Draft, *, created_by: User, status: str, lost_to: Competitor | None) -> None:
    """What a rep or a manager may record closed: a competitor's win at an account of theirs, nothing else."""
    if status != Opportunity.Status.LOST or lost_to is None:
        raise ValidationFailed(
            gettext(
                "Only a director may record an opportunity that is already closed; you may record a competitor's "
                "win (lost, with the competitor that won) at an account of yours."
            ),
            field="status",
        )
    if not Account.objects.editable_by(created_by).filter(pk=draft.account.pk).exists():
        raise ValidationFailed(gettext("Record a competitor's win at an account of yours."), field="account")
    if draft.stage != draft.stages[0]:
        # We had no opportunity there: a later stage would back-fill an engagement that never happened.
        raise ValidationFailed(
            gettext("A competitor's win is recorded at the first stage: we had no opportunity there."), field="stage"
        )


def _past_moments(*, closed_at: datetime | None, created_at: datetime | None) -> tuple[datetime, datetime]:
    """When history closed (given, not in the future) and was created (default: when it closed, not after)."""
    closed_at = aware(closed_at, field="closed_at") if closed_at is not None else None
    if closed_at is None or closed_at > timezone.now():
        raise ValidationFailed(gettext("Enter when it closed, not in the future."), field="closed_at")
    created_at = aware(created_at, field="created_at") if created_at is not None else closed_at
    if created_at > closed_at:
        raise ValidationFailed(gettext("It cannot have been created after it closed."), field="created_at")
    return closed_at, created_at


def _won_path(stages: list[Stage]) -> list[Stage]:
    """Every stage up to the closing stage, then the after-sales stage a win moves on to."""
    closing = closing_stage(stages)
    if closing is None:
        raise ValidationFailed(gettext("This sales process has no closing stage."), field="status")
    after_sales = after_sales_stage(stages, closing)
    return [s for s in stages if s.order <= closing.order] + ([after_sales] if after_sales else [])


def _loss_fields(
    draft: _Draft, *, closed_at: datetime, loss_reason: str, lost_to: Competitor | None, untouched_cause: str
) -> dict[str, Any]:
    """The fields of a loss recorded at the draft's stage, its untouched-loss flag computed as of `closed_at`."""
    loss_reason = loss_reason or ""
    if loss_reason not in Opportunity.LossReason.values:
        raise ValidationFailed(gettext("Choose a loss reason."), field="loss_reason")
    lost_to = clean_competitor(lost_to, field="lost_to")
    untouched = is_untouched_loss(
        account=draft.account.pk, furthest_stage=draft.stage, lost_to=lost_to, closed_at=closed_at
    )
    cause = (untouched_cause or "").strip()
    if cause and (not untouched or cause not in Opportunity.UntouchedCause.values):
        raise ValidationFailed(
            gettext("Only an untouched loss has an untouched cause, chosen from the list."), field="untouched_cause"
        )
    return {
        "status": Opportunity.Status.LOST,
        "probability": 0,
        "loss_reason": loss_reason,
        "lost_to": lost_to,
        "is_untouched_loss": untouched,
        "untouched_cause": cause,
    }


@in_actor_language("changed_by")
@transaction.atomic
def update_opportunity(
    *,
    opportunity: Opportunity,
    changed_by: User,
    expected_version: int | None = None,
    change_reason: str = "",
    **fields: Any,
) -> Opportunity:
    """Changes plain fields (name, amount, expected_close_date, source, competitors, probability,
    forecast_category) under the optimistic lock and records each field that changed (with `change_reason`); a
    closed opportunity only by a manager or director, and its amount only by a director who gives `change_reason`.
    Writes nothing if it raises.

    A probability or forecast category set here overrides the stage's default until the next stage change; only an
    open opportunity changes its forecast category.
    """
    for field_name in fields:
        if field_name not in EDITABLE_OPPORTUNITY_FIELDS:
            raise ValidationFailed(gettext("This field cannot be changed here."), field=field_name)
    current = load_opportunity(opportunity, changed_by, expected_version)
    if not current.is_open and not is_manager_or_director(changed_by):
        raise NotAllowed(gettext("Only a manager or a director may edit a closed opportunity."))
    if not fields:
        return refreshed(opportunity)
    cleaners: dict[str, Callable[[Any], Any]] = {
        "name": clean_name,
        "amount": clean_amount,
        "expected_close_date": lambda v: clean_date(v, field="expected_close_date"),
        "source": clean_source,
        "probability": clean_probability,
        "competitors": clean_competitors,
        "forecast_category": clean_forecast_category,
    }
    changes = {name: cleaners[name](value) for name, value in fields.items()}
    category = changes.get("forecast_category", current.forecast_category)
    if not current.is_open and category != current.forecast_category:
        raise ValidationFailed(gettext("Only an open opportunity has a forecast category."), field="forecast_category")
    reason = (change_reason or "").strip()
    if not current.is_open and "amount" in changes and not is_same(current.amount, changes["amount"]):
        _check_closed_amount_change(changed_by, reason)
    competitors = changes.pop("competitors", None)
    compare_and_set(current, changed_by=changed_by, change_reason=reason, **changes)
    if competitors is not None:
        before = list(current.competitors.all())
        if not is_same(before, competitors):
            current.competitors.set(competitors)
            change = Change(parent_id=current.pk, field="competitors", old=before, new=competitors)
            record_changes(OpportunityChange, [change], by=changed_by, reason=reason)
    return refreshed(opportunity)


def _check_closed_amount_change(changed_by: User, reason: str) -> None:
    """A won or lost opportunity's amount feeds attainment and CV: only a director changes it, saying why."""
    if not changed_by.is_director:
        raise NotAllowed(
            gettext("Only a sales director may change the amount of a won or lost opportunity."), field="amount"
        )
    if not reason:
        raise ValidationFailed(
            gettext("Say why the amount of a won or lost opportunity changes; the reason is kept in its history."),
            field="change_reason",
        )


@in_actor_language("changed_by")
@transaction.atomic
def edit_opportunity(
    *,
    opportunity: Opportunity,
    changed_by: User,
    owner: User | None = None,
    expected_version: int | None = None,
    **fields: Any,
) -> Opportunity:
    """Changes plain fields under the optimistic lock (as update_opportunity) and, when `owner` is given, gives the
    opportunity to them (as reassign_opportunity) in the same transaction; writes nothing if it raises.

    Naming an owner is a reassignment even when it is the current owner (managers and directors only; nothing
    changes then): a caller that merely sends back the current owner leaves `owner` out. A refused owner is
    reported on `owner`.
    """
    opportunity = update_opportunity(
        opportunity=opportunity, changed_by=changed_by, expected_version=expected_version, **fields
    )
    if owner is None:
        return opportunity
    return reassign_opportunity(opportunity=opportunity, to_owner=owner, reassigned_by=changed_by, owner_field="owner")


def _clean_criterion_value(input_type: str, value: Any, *, code: str) -> Any:
    """The JSON value stored for a manual criterion, or None to clear it."""
    if value is None or value == "":
        return None
    if input_type == StageCriterion.InputType.CHECKBOX:
        if not isinstance(value, bool):
            raise ValidationFailed(gettext("Tick the box or clear it."), field=code)
        return value
    if input_type == StageCriterion.InputType.TEXT:
        if not isinstance(value, str) or len(value) > 5000:
            raise ValidationFailed(gettext("Enter a text of at most 5000 characters."), field=code)
        return value.strip() or None
    cleaned = clean_date(value, field=code)
    return cleaned.isoformat() if cleaned else None


@in_actor_language("changed_by")
@transaction.atomic
def set_criterion_value(
    *, opportunity: Opportunity, code: str, value: Any, changed_by: User, expected_version: int | None = None
) -> Opportunity:
    """Stores the value of a manual exit criterion of the opportunity's pipeline under the optimistic lock;
    a checkbox takes a bool, a text a string, a date a date or ISO string; None or "" clears it.
    Writes nothing if it raises."""
    current = load_opportunity(opportunity, changed_by, expected_version)
    criterion = (
        StageCriterion.objects.filter(
            stage__pipeline_id=current.pipeline_id, code=code, kind=StageCriterion.Kind.MANUAL
        )
        .order_by("stage__order")
        .first()
    )
    if criterion is None:
        raise ValidationFailed(gettext("This sales process has no such manual criterion."), field="code")
    stored = _clean_criterion_value(criterion.input_type, value, code=code)
    values = dict(current.criteria_values or {})
    if stored is None:
        values.pop(code, None)
    else:
        values[code] = stored
    compare_and_set(current, changed_by=changed_by, criteria_values=values)
    return refreshed(opportunity)


# What the admin's change form may edit that names another row, loaded so the history can label it.
BACK_OFFICE_RELATED = ("account", "lost_to", "owner", "stage", "pipeline")


@transaction.atomic
def record_back_office_edit(*, before: Opportunity, changed_by: User, fields: Iterable[str]) -> None:
    """Records, as OpportunityChanges by `changed_by`, what an edit in the admin changed among `fields`: `before` is
    the row read (competitors prefetched) before the admin saved it, competitors included; two queries, then one
    insert when something changed."""
    after = Opportunity.objects.select_related(*BACK_OFFICE_RELATED).prefetch_related("competitors").get(pk=before.pk)
    names = [name for name in fields if name != "competitors"]
    changes = opportunity_changes(before, {name: getattr(after, name) for name in names})
    if "competitors" in fields:
        old, new = list(before.competitors.all()), list(after.competitors.all())
        changes += changes_between(before.pk, {"competitors": old}, {"competitors": new})
    record_changes(OpportunityChange, changes, by=changed_by)
