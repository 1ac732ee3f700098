"""Every write on opportunities and visits, and the rules they enforce (SPEC §3–§5).

Each service takes keyword-only arguments, runs in one transaction and raises a `SalesFlowError` subclass, in which
case it wrote nothing. Callers load records through `.visible_to(user)`; services check visibility again, so an
API and a page cannot drift apart. `expected_version` is the optimistic-lock token a form or API client sent; when
it is None the version of the instance passed in is used, so a stale instance is refused just the same.
Services run in the acting user's language: refusals (and any text they store, such as a follow-up's purpose)
read in that language.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Account, Competitor, Contact, User
from core.errors import (
    ExitCriteriaNotMet,
    InvalidMove,
    NotAllowed,
    NotVisible,
    OverrideNotAllowed,
    SalesFlowError,
    StaleVersion,
    ValidationFailed,
)
from pipeline.criteria import unmet_exit_criteria
from pipeline.models import (
    Opportunity,
    Pipeline,
    Reassignment,
    Stage,
    StageChange,
    StageCriterion,
    Visit,
    VisitWeekComment,
)

EDITABLE_OPPORTUNITY_FIELDS = ("name", "amount", "expected_close_date", "source", "competitors", "probability")
MAX_AMOUNT = Decimal("999999999999.99")  # max_digits=14, decimal_places=2


# --- shared helpers -------------------------------------------------------------------------------------------------


def _in_actor_language(actor_argument: str) -> Callable:
    """Runs a service in the language of its acting user; a refusal's message is fixed in that language."""

    def decorate(service: Callable) -> Callable:
        @functools.wraps(service)
        def run(**kwargs: Any) -> Any:
            actor = kwargs.get(actor_argument)
            with translation.override(getattr(actor, "language", None) or translation.get_language()):
                try:
                    return service(**kwargs)
                except SalesFlowError as error:
                    error.message = str(error.message)
                    raise

        return run

    return decorate


def _is_manager_or_director(user: User) -> bool:
    return user.role in (User.Role.MANAGER, User.Role.DIRECTOR)


def _load_opportunity(opportunity: Opportunity, actor: User, expected_version: int | None) -> Opportunity:
    """Reads the opportunity afresh if `actor` may see it and nobody saved it since the caller's version."""
    current = (
        Opportunity.objects.visible_to(actor)
        .select_related("pipeline", "stage", "furthest_stage", "owner")
        .filter(pk=opportunity.pk)
        .first()
    )
    if current is None:
        raise NotVisible(gettext("No such opportunity."))
    token = opportunity.version if expected_version is None else expected_version
    if current.version != token:
        raise StaleVersion()
    return current


def _compare_and_set(current: Opportunity, **changes: Any) -> None:
    """Writes `changes` and bumps the version only if the row still has the version `current` was read with."""
    if not Opportunity.objects.filter(pk=current.pk, version=current.version).update(
        **changes, version=F("version") + 1, updated_at=timezone.now()
    ):
        raise StaleVersion()


def _refreshed(instance):
    instance.refresh_from_db()
    return instance


def _stages_of(pipeline_id: int) -> list[Stage]:
    return list(Stage.objects.filter(pipeline_id=pipeline_id).order_by("order"))


def _closing_stage(stages: list[Stage]) -> Stage | None:
    return next((s for s in stages if s.is_closing), None)


def _after_sales_stage(stages: list[Stage], closing: Stage) -> Stage | None:
    """The first after-sales stage after the closing stage: where a won opportunity goes."""
    return next((s for s in stages if s.is_after_sales and s.order > closing.order), None)


def _open_may_reach(stage: Stage, stages: list[Stage]) -> bool:
    """An open opportunity stays at or before the closing stage; only a win takes it further."""
    closing = _closing_stage(stages)
    return not stage.is_after_sales and (closing is None or stage.order <= closing.order)


def _check_user_assignable(user: User, actor: User, *, field: str) -> None:
    """`user` must be an active user `actor` can see (a rep can only name themself)."""
    if user is None or not User.objects.visible_to(actor).filter(pk=user.pk, is_active=True).exists():
        raise ValidationFailed(gettext("Choose a user from your team."), field=field)


def _check_account_visible(account: Account, actor: User) -> None:
    if account is None or not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
        raise NotVisible(gettext("No such account."), field="account")


def _clean_name(value: Any) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not name or len(name) > 200:
        raise ValidationFailed(gettext("Enter a name of at most 200 characters."), field="name")
    return name


def _clean_amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise ValidationFailed(gettext("Enter an amount in CNY."), field="amount") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(
            gettext("Enter an amount of 0 or more, with at most two decimal places."), field="amount"
        )
    return amount.quantize(Decimal("0.01"))


def _clean_date(value: Any, *, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        raise ValidationFailed(gettext("Enter a date without a time."), field=field)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationFailed(gettext("Enter a valid date (YYYY-MM-DD)."), field=field) from None


def _clean_source(value: Any) -> str:
    source = value or ""
    if source and source not in Opportunity.Source.values:
        raise ValidationFailed(gettext("Choose a source from the list."), field="source")
    return source


def _clean_probability(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValidationFailed(gettext("Enter a whole percentage from 0 to 100."), field="probability")
    return value


def _clean_competitors(values: Iterable[Any]) -> list[Competitor]:
    ids = [v.pk if isinstance(v, Competitor) else v for v in values or ()]
    found = list(Competitor.objects.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise ValidationFailed(gettext("Choose competitors from the list."), field="competitors")
    return found


def _clean_competitor(value: Any, *, field: str) -> Competitor | None:
    if value in (None, ""):
        return None
    competitor = value if isinstance(value, Competitor) else Competitor.objects.filter(pk=value).first()
    if competitor is None or competitor.pk is None:
        raise ValidationFailed(gettext("Choose a competitor from the list."), field=field)
    return competitor


def _aware(value: datetime, *, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationFailed(gettext("Enter a date and time."), field=field)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


# --- untouched loss -------------------------------------------------------------------------------------------------


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


# --- opportunities --------------------------------------------------------------------------------------------------


@_in_actor_language("created_by")
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
    backfill_status: str | None = None,
    closed_at: datetime | None = None,
    loss_reason: str = "",
    lost_to: Competitor | None = None,
    untouched_cause: str = "",
    created_at: datetime | None = None,
) -> Opportunity:
    """Creates an opportunity with its first StageChange; writes nothing if it raises.

    Live: open at the pipeline's first stage (or `stage_code`, at most the closing stage), probability = the
    stage's default, owned by `owner` (default `created_by`; a rep cannot name anyone else).
    History (directors only): `backfill_status` "won" or "lost" with a past `closed_at` records a path of
    back-filled StageChanges from the first stage up to `stage_code` (lost) or the closing and after-sales stages
    (won); `created_at` defaults to `closed_at`. No follow-up visits are planned for history.
    """
    _check_account_visible(account, created_by)
    owner = owner or created_by
    if owner.pk != created_by.pk:
        _check_user_assignable(owner, created_by, field="owner")
    if pipeline is None:
        pipeline = Pipeline.objects.filter(is_default=True).first()
    if pipeline is None or not pipeline.is_active:
        raise ValidationFailed(gettext("Choose an active sales process."), field="pipeline")
    stages = _stages_of(pipeline.pk)
    if not stages:
        raise ValidationFailed(gettext("This sales process has no stages."), field="pipeline")
    name, amount = _clean_name(name), _clean_amount(amount)
    expected_close_date = _clean_date(expected_close_date, field="expected_close_date")
    source, competitors = _clean_source(source), _clean_competitors(competitors)

    stage = stages[0]
    if stage_code:
        stage = next((s for s in stages if s.code == stage_code), None)
        if stage is None or not _open_may_reach(stage, stages):
            raise ValidationFailed(gettext("Choose a stage up to the closing stage."), field="stage")

    now = timezone.now()
    fields: dict[str, Any] = {"status": Opportunity.Status.OPEN, "probability": stage.probability or 0}
    if backfill_status in (None, ""):
        for given, field_name in ((closed_at, "closed_at"), (loss_reason, "loss_reason"), (lost_to, "lost_to")):
            if given:
                raise ValidationFailed(gettext("Only a closed opportunity has this value."), field=field_name)
        if untouched_cause:
            raise ValidationFailed(gettext("Only a closed opportunity has this value."), field="untouched_cause")
        if created_at is not None:
            raise ValidationFailed(gettext("Only history can be created in the past."), field="created_at")
        path, created_at, closed_at = [stage], now, None
    else:
        if backfill_status not in (Opportunity.Status.WON, Opportunity.Status.LOST):
            raise ValidationFailed(gettext("History can only be recorded as won or lost."), field="status")
        if not created_by.is_director:
            raise ValidationFailed(
                gettext("Only a director may record an opportunity that is already closed."), field="status"
            )
        closed_at = _aware(closed_at, field="closed_at") if closed_at is not None else None
        if closed_at is None or closed_at > now:
            raise ValidationFailed(gettext("Enter when it closed, not in the future."), field="closed_at")
        created_at = _aware(created_at, field="created_at") if created_at is not None else closed_at
        if created_at > closed_at:
            raise ValidationFailed(gettext("It cannot have been created after it closed."), field="created_at")
        if backfill_status == Opportunity.Status.WON:
            closing = _closing_stage(stages)
            if closing is None:
                raise ValidationFailed(gettext("This sales process has no closing stage."), field="status")
            after_sales = _after_sales_stage(stages, closing)
            path = [s for s in stages if s.order <= closing.order] + ([after_sales] if after_sales else [])
            fields = {"status": Opportunity.Status.WON, "probability": 100}
        else:
            loss_reason = loss_reason or ""
            if loss_reason not in Opportunity.LossReason.values:
                raise ValidationFailed(gettext("Choose a loss reason."), field="loss_reason")
            lost_to = _clean_competitor(lost_to, field="lost_to")
            path = [s for s in stages if s.order <= stage.order]
            untouched = is_untouched_loss(
                account=account.pk, furthest_stage=stage, lost_to=lost_to, closed_at=closed_at
            )
            cause = (untouched_cause or "").strip()
            if cause and (not untouched or cause not in Opportunity.UntouchedCause.values):
                raise ValidationFailed(
                    gettext("Only an untouched loss has an untouched cause, chosen from the list."),
                    field="untouched_cause",
                )
            fields = {
                "status": Opportunity.Status.LOST,
                "probability": 0,
                "loss_reason": loss_reason,
                "lost_to": lost_to,
                "is_untouched_loss": untouched,
                "untouched_cause": cause,
            }

    final = path[-1]
    opportunity = Opportunity.objects.create(
        pipeline=pipeline,
        stage=final,
        furthest_stage=final,
        account=account,
        owner=owner,
        name=name,
        amount=amount,
        expected_close_date=expected_close_date,
        source=source,
        created_at=created_at,
        stage_entered_at=created_at if len(path) == 1 else closed_at,
        closed_at=closed_at,
        **fields,
    )
    is_backfill = backfill_status not in (None, "")
    StageChange.objects.bulk_create(
        StageChange(
            opportunity=opportunity,
            from_stage=path[i - 1] if i else None,
            to_stage=to_stage,
            changed_at=created_at if i == 0 else closed_at,
            changed_by=created_by,
            is_backfill=is_backfill,
        )
        for i, to_stage in enumerate(path)
    )
    opportunity.competitors.set(competitors)
    return opportunity


@_in_actor_language("changed_by")
@transaction.atomic
def update_opportunity(
    *, opportunity: Opportunity, changed_by: User, expected_version: int | None = None, **fields: Any
) -> Opportunity:
    """Changes plain fields (name, amount, expected_close_date, source, competitors, probability) under the
    optimistic lock; a closed opportunity only by a manager or director. Writes nothing if it raises.

    A probability set here overrides the stage's default until the next stage change.
    """
    for field_name in fields:
        if field_name not in EDITABLE_OPPORTUNITY_FIELDS:
            raise ValidationFailed(gettext("This field cannot be changed here."), field=field_name)
    current = _load_opportunity(opportunity, changed_by, expected_version)
    if not current.is_open and not _is_manager_or_director(changed_by):
        raise NotAllowed(gettext("Only a manager or a director may edit a closed opportunity."))
    if not fields:
        return _refreshed(opportunity)
    cleaners: dict[str, Callable[[Any], Any]] = {
        "name": _clean_name,
        "amount": _clean_amount,
        "expected_close_date": lambda v: _clean_date(v, field="expected_close_date"),
        "source": _clean_source,
        "probability": _clean_probability,
        "competitors": _clean_competitors,
    }
    changes = {name: cleaners[name](value) for name, value in fields.items()}
    competitors = changes.pop("competitors", None)
    _compare_and_set(current, **changes)
    if competitors is not None:
        current.competitors.set(competitors)
    return _refreshed(opportunity)


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
    cleaned = _clean_date(value, field=code)
    return cleaned.isoformat() if cleaned else None


@_in_actor_language("changed_by")
@transaction.atomic
def set_criterion_value(
    *, opportunity: Opportunity, code: str, value: Any, changed_by: User, expected_version: int | None = None
) -> Opportunity:
    """Stores the value of a manual exit criterion of the opportunity's pipeline under the optimistic lock;
    a checkbox takes a bool, a text a string, a date a date or ISO string; None or "" clears it.
    Writes nothing if it raises."""
    current = _load_opportunity(opportunity, changed_by, expected_version)
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
    _compare_and_set(current, criteria_values=values)
    return _refreshed(opportunity)


@_in_actor_language("moved_by")
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
    becomes the new stage's default. An open opportunity stays at or before the closing stage (a win takes it
    further); a won one moves only between after-sales stages; a lost one not at all. Moving to the current stage
    changes nothing.
    """
    current = _load_opportunity(opportunity, moved_by, expected_version)
    stages = _stages_of(current.pipeline_id)
    to_stage = next((s for s in stages if s.code == to_stage_code), None)
    if to_stage is None:
        raise InvalidMove(gettext("This sales process has no such stage."))
    from_stage = current.stage
    if current.status == Opportunity.Status.LOST:
        raise InvalidMove(gettext("A lost opportunity cannot change stage; a manager can reopen it."))
    if current.status == Opportunity.Status.WON and not (from_stage.is_after_sales and to_stage.is_after_sales):
        raise InvalidMove(gettext("A won opportunity only moves between after-sales stages."))
    if current.status == Opportunity.Status.OPEN and not _open_may_reach(to_stage, stages):
        raise InvalidMove(gettext("Win the opportunity to take it past the closing stage."))
    if to_stage.pk == from_stage.pk:
        return _refreshed(opportunity)  # a repeated request is not a second move

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
    _compare_and_set(
        current,
        stage=to_stage,
        stage_entered_at=now,
        furthest_stage=max(to_stage, current.furthest_stage, key=attrgetter("order")),
        probability=current.probability if to_stage.probability is None else to_stage.probability,
    )
    StageChange.objects.create(
        opportunity=current,
        from_stage=from_stage,
        to_stage=to_stage,
        changed_at=now,
        changed_by=moved_by,
        override_reason=overridden,
    )
    return _refreshed(opportunity)


@_in_actor_language("won_by")
@transaction.atomic
def win_opportunity(*, opportunity: Opportunity, won_by: User, expected_version: int | None = None) -> Opportunity:
    """Wins an open opportunity; writes nothing if it raises.

    Needs every exit criterion from its current stage up to and including the closing stage (no override). Then:
    status won, closed now, probability 100, moved with StageChange rows to the closing stage and on to the
    after-sales stage, and follow-up visits planned SALESFLOW_FOLLOW_UP_DAYS days after closing.
    """
    current = _load_opportunity(opportunity, won_by, expected_version)
    if not current.is_open:
        raise InvalidMove(gettext("Only an open opportunity can be won."), field="status")
    stages = _stages_of(current.pipeline_id)
    closing = _closing_stage(stages)
    if closing is None:
        raise InvalidMove(gettext("This sales process has no closing stage."), field="status")
    lowest = min(current.stage.order, closing.order)
    if unmet := unmet_exit_criteria(
        opportunity=current, stages=[s for s in stages if lowest <= s.order <= closing.order]
    ):
        raise ExitCriteriaNotMet(unmet)

    path = [s for s in (closing, _after_sales_stage(stages, closing)) if s is not None and s.pk != current.stage_id]
    final = path[-1] if path else current.stage
    now = timezone.now()
    _compare_and_set(
        current,
        status=Opportunity.Status.WON,
        closed_at=now,
        probability=100,
        stage=final,
        stage_entered_at=now if path else current.stage_entered_at,
        furthest_stage=max(final, current.furthest_stage, key=attrgetter("order")),
    )
    StageChange.objects.bulk_create(
        StageChange(
            opportunity=current,
            from_stage=([current.stage, *path])[i],
            to_stage=to_stage,
            changed_at=now,
            changed_by=won_by,
        )
        for i, to_stage in enumerate(path)
    )
    _plan_follow_ups(current, closed_at=now)
    return _refreshed(opportunity)


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


@_in_actor_language("lost_by")
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
    current = _load_opportunity(opportunity, lost_by, expected_version)
    if not current.is_open:
        raise InvalidMove(gettext("Only an open opportunity can be lost."), field="status")
    if reason not in Opportunity.LossReason.values:
        raise ValidationFailed(gettext("Choose a loss reason."), field="reason")
    lost_to = _clean_competitor(lost_to, field="lost_to")
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
    _compare_and_set(
        current,
        status=Opportunity.Status.LOST,
        closed_at=now,
        probability=0,
        loss_reason=reason,
        lost_to=lost_to,
        loss_note=(note or "").strip(),
        is_untouched_loss=untouched,
        untouched_cause=cause,
    )
    return _refreshed(opportunity)


@_in_actor_language("reopened_by")
@transaction.atomic
def reopen_opportunity(
    *, opportunity: Opportunity, reopened_by: User, expected_version: int | None = None
) -> Opportunity:
    """Reopens a won or lost opportunity (managers and directors only); writes nothing if it raises.

    A lost one reopens at the stage it was lost at, a won one at the closing stage (it had moved on to after-sales
    only because it was won) and its still-planned follow-up visits are cancelled. Closing and loss fields are
    cleared, the probability is the stage's default, and a StageChange records the reopening (from and to the
    same stage for a lost one).
    """
    current = _load_opportunity(opportunity, reopened_by, expected_version)
    if not _is_manager_or_director(reopened_by):
        raise NotAllowed(gettext("Only a manager or a director may reopen an opportunity."))
    if current.is_open:
        raise InvalidMove(gettext("This opportunity is already open."), field="status")
    stages = _stages_of(current.pipeline_id)
    to_stage = current.stage
    if not _open_may_reach(to_stage, stages):
        to_stage = _closing_stage(stages) or to_stage
    now = timezone.now()
    if current.status == Opportunity.Status.WON:
        Visit.objects.planned().filter(opportunity=current, kind=Visit.Kind.FOLLOW_UP).update(
            status=Visit.Status.CANCELLED, updated_at=now
        )
    _compare_and_set(
        current,
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
    )
    StageChange.objects.create(
        opportunity=current, from_stage=current.stage, to_stage=to_stage, changed_at=now, changed_by=reopened_by
    )
    return _refreshed(opportunity)


# --- reassignment ---------------------------------------------------------------------------------------------------


@_in_actor_language("reassigned_by")
@transaction.atomic
def reassign_opportunity(*, opportunity: Opportunity, to_owner: User, reassigned_by: User) -> Opportunity:
    """Gives an opportunity and its planned visits to another user the actor can see (managers and directors only),
    keeping stage, history and done visits, and records a Reassignment; writes nothing if it raises."""
    current = _load_opportunity(opportunity, reassigned_by, None)
    if not _is_manager_or_director(reassigned_by):
        raise NotAllowed(gettext("Only a manager or a director may reassign."))
    _check_user_assignable(to_owner, reassigned_by, field="to_owner")
    from_owner = current.owner
    if from_owner.pk == to_owner.pk:
        return _refreshed(opportunity)
    now = timezone.now()
    _compare_and_set(current, owner=to_owner)
    Visit.objects.planned().filter(opportunity=current, owner=from_owner).update(owner=to_owner, updated_at=now)
    Reassignment.objects.create(
        opportunity=current, from_owner=from_owner, to_owner=to_owner, reassigned_by=reassigned_by, reassigned_at=now
    )
    return _refreshed(opportunity)


@_in_actor_language("reassigned_by")
@transaction.atomic
def reassign_account(
    *, account: Account, to_owner: User, reassigned_by: User, with_open_opportunities: bool = True
) -> Account:
    """Gives an account to another user the actor can see (managers and directors only) and records a
    Reassignment; by default also the previous owner's open opportunities at it (each recorded) and planned visits
    there. Stages, history and done visits stay. Writes nothing if it raises."""
    _check_account_visible(account, reassigned_by)
    if not _is_manager_or_director(reassigned_by):
        raise NotAllowed(gettext("Only a manager or a director may reassign."))
    _check_user_assignable(to_owner, reassigned_by, field="to_owner")
    locked = Account.objects.select_for_update().get(pk=account.pk)
    from_owner_id = locked.owner_id
    if from_owner_id == to_owner.pk:
        return _refreshed(account)
    now = timezone.now()
    Account.objects.filter(pk=locked.pk).update(owner=to_owner, updated_at=now)
    hand_over_accounts(
        moves={locked.pk: (from_owner_id, to_owner.pk)},
        reassigned_by=reassigned_by,
        at=now,
        with_open_opportunities=with_open_opportunities,
    )
    return _refreshed(account)


HANDOVER_IDS_PER_QUERY = 5000
HANDOVER_BATCH_SIZE = 500


def hand_over_accounts(
    *,
    moves: dict[int, tuple[int | None, int]],
    reassigned_by: User | None,
    at: datetime,
    with_open_opportunities: bool = True,
) -> None:
    """Records accounts that changed owner (account id -> (previous owner id, new owner id)) and, by default, gives
    each previous owner's open opportunities (each recorded, version bumped) and planned visits at that account to
    the new owner. The caller has already changed the accounts' owner and checked who may do it. Its queries do not
    grow with the number of accounts (reads in chunks of HANDOVER_IDS_PER_QUERY ids)."""
    records = [
        Reassignment(account_id=pk, from_owner_id=old, to_owner_id=new, reassigned_by=reassigned_by, reassigned_at=at)
        for pk, (old, new) in moves.items()
    ]
    if with_open_opportunities:
        ids = sorted(moves)
        opportunities, visits = [], []
        for start in range(0, len(ids), HANDOVER_IDS_PER_QUERY):
            chunk = ids[start : start + HANDOVER_IDS_PER_QUERY]
            opportunities += (
                Opportunity.objects.open().filter(account_id__in=chunk).only("pk", "account_id", "owner_id")
            )
            visits += Visit.objects.planned().filter(account_id__in=chunk).only("pk", "account_id", "owner_id")
        opportunities = [o for o in opportunities if o.owner_id == moves[o.account_id][0]]
        visits = [v for v in visits if v.owner_id == moves[v.account_id][0]]
        for opportunity in opportunities:
            old, new = moves[opportunity.account_id]
            records.append(
                Reassignment(
                    opportunity_id=opportunity.pk,
                    from_owner_id=old,
                    to_owner_id=new,
                    reassigned_by=reassigned_by,
                    reassigned_at=at,
                )
            )
            opportunity.owner_id, opportunity.version, opportunity.updated_at = new, F("version") + 1, at
        for visit in visits:
            visit.owner_id, visit.updated_at = moves[visit.account_id][1], at
        if opportunities:
            Opportunity.objects.bulk_update(
                opportunities, ["owner", "version", "updated_at"], batch_size=HANDOVER_BATCH_SIZE
            )
        if visits:
            Visit.objects.bulk_update(visits, ["owner", "updated_at"], batch_size=HANDOVER_BATCH_SIZE)
    Reassignment.objects.bulk_create(records, batch_size=HANDOVER_BATCH_SIZE)


# --- visits ---------------------------------------------------------------------------------------------------------


def _check_visit_links(
    *, account: Account, contact: Contact | None, opportunity: Opportunity | None, actor: User
) -> None:
    if contact is not None and contact.account_id != account.pk:
        raise ValidationFailed(gettext("The contact must work at the visit's account."), field="contact")
    if opportunity is not None:
        if opportunity.account_id != account.pk:
            raise ValidationFailed(gettext("The opportunity must be at the visit's account."), field="opportunity")
        if not Opportunity.objects.visible_to(actor).filter(pk=opportunity.pk).exists():
            raise NotVisible(gettext("No such opportunity."), field="opportunity")


def _clean_kind(kind: str) -> str:
    if kind not in Visit.Kind.values:
        raise ValidationFailed(gettext("Choose a kind of visit from the list."), field="kind")
    return kind


def _clean_done_at(done_at: datetime, actor: User) -> datetime:
    """Not in the future, and for everyone but directors at most SALESFLOW_VISIT_BACKDATE_DAYS calendar days back."""
    done_at = _aware(done_at, field="done_at")
    now = timezone.now()
    if done_at > now:
        raise ValidationFailed(gettext("A visit cannot be done in the future."), field="done_at")
    days = settings.SALESFLOW_VISIT_BACKDATE_DAYS
    if not actor.is_director and timezone.localdate(done_at) < timezone.localdate(now) - timedelta(days=days):
        raise ValidationFailed(
            gettext("A visit can be logged at most %(days)d days back.") % {"days": days}, field="done_at"
        )
    return done_at


def _clean_satisfaction(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise ValidationFailed(gettext("Enter a satisfaction from 0 to 10."), field="satisfaction")
    return value


def _clean_planned_at(planned_at: datetime, *, field: str) -> datetime:
    """Today or later (local time): a plan made afterwards is not a plan."""
    planned_at = _aware(planned_at, field=field)
    if timezone.localdate(planned_at) < timezone.localdate():
        raise ValidationFailed(gettext("Plan the visit for today or later."), field=field)
    return planned_at


def _plan_next_visit(done: Visit, *, next_visit_at: datetime | None, purpose: str) -> Visit | None:
    if next_visit_at is None:
        return None
    next_visit_at = _aware(next_visit_at, field="next_visit_at")
    if next_visit_at <= timezone.now():
        raise ValidationFailed(gettext("Plan the next visit in the future."), field="next_visit_at")
    return Visit.objects.create(
        account_id=done.account_id,
        contact_id=done.contact_id,
        opportunity_id=done.opportunity_id,
        owner_id=done.owner_id,
        kind=Visit.Kind.VISIT,
        status=Visit.Status.PLANNED,
        planned_at=next_visit_at,
        purpose=(purpose or "").strip(),
    )


@_in_actor_language("planned_by")
@transaction.atomic
def plan_visit(
    *,
    planned_by: User,
    account: Account,
    planned_at: datetime,
    kind: str = Visit.Kind.VISIT,
    purpose: str = "",
    contact: Contact | None = None,
    opportunity: Opportunity | None = None,
    owner: User | None = None,
) -> Visit:
    """Plans a visit for today or later at an account the planner can see, for themself or (managers, directors)
    a user they can see; writes nothing if it raises."""
    _check_account_visible(account, planned_by)
    owner = owner or planned_by
    if owner.pk != planned_by.pk:
        _check_user_assignable(owner, planned_by, field="owner")
    _check_visit_links(account=account, contact=contact, opportunity=opportunity, actor=planned_by)
    return Visit.objects.create(
        account=account,
        contact=contact,
        opportunity=opportunity,
        owner=owner,
        kind=_clean_kind(kind),
        status=Visit.Status.PLANNED,
        planned_at=_clean_planned_at(planned_at, field="planned_at"),
        purpose=(purpose or "").strip(),
    )


@_in_actor_language("logged_by")
@transaction.atomic
def log_visit(
    *,
    logged_by: User,
    account: Account,
    done_at: datetime,
    kind: str = Visit.Kind.VISIT,
    summary: str = "",
    purpose: str = "",
    next_step: str = "",
    contact: Contact | None = None,
    opportunity: Opportunity | None = None,
    satisfaction: int | None = None,
    next_visit_at: datetime | None = None,
    next_visit_purpose: str = "",
    owner: User | None = None,
) -> Visit:
    """Records a visit already done (not in the future; at most SALESFLOW_VISIT_BACKDATE_DAYS back except for
    directors), with the opportunity's current stage, and plans the next one when `next_visit_at` is given
    (set as `.next_visit` on the returned visit). A manager or director may log it for a user they can see
    (`owner`), e.g. to load history. Writes nothing if it raises."""
    _check_account_visible(account, logged_by)
    owner = owner or logged_by
    if owner.pk != logged_by.pk:
        _check_user_assignable(owner, logged_by, field="owner")
    _check_visit_links(account=account, contact=contact, opportunity=opportunity, actor=logged_by)
    visit = Visit.objects.create(
        account=account,
        contact=contact,
        opportunity=opportunity,
        owner=owner,
        kind=_clean_kind(kind),
        status=Visit.Status.DONE,
        done_at=_clean_done_at(done_at, logged_by),
        purpose=(purpose or "").strip(),
        summary=(summary or "").strip(),
        next_step=(next_step or "").strip(),
        satisfaction=_clean_satisfaction(satisfaction),
        stage_when_done_id=(
            Opportunity.objects.filter(pk=opportunity.pk).values_list("stage_id", flat=True).first()
            if opportunity is not None
            else None
        ),
    )
    visit.next_visit = _plan_next_visit(visit, next_visit_at=next_visit_at, purpose=next_visit_purpose)
    return visit


def _load_planned_visit(visit: Visit, actor: User) -> Visit:
    current = Visit.objects.visible_to(actor).filter(pk=visit.pk).first()
    if current is None:
        raise NotVisible(gettext("No such visit."))
    if current.status != Visit.Status.PLANNED:
        raise ValidationFailed(gettext("This visit is no longer planned."), field="status")
    return current


@_in_actor_language("completed_by")
@transaction.atomic
def complete_visit(
    *,
    visit: Visit,
    completed_by: User,
    summary: str,
    next_step: str = "",
    satisfaction: int | None = None,
    done_at: datetime | None = None,
    next_visit_at: datetime | None = None,
    next_visit_purpose: str = "",
) -> Visit:
    """Marks a planned visit done (now, or `done_at` under log_visit's date rules) with its outcome and the
    opportunity's current stage, and plans the next one when `next_visit_at` is given (`.next_visit`).
    Writes nothing if it raises."""
    current = _load_planned_visit(visit, completed_by)
    summary = (summary or "").strip()
    if not summary:
        raise ValidationFailed(gettext("Write what came out of the visit."), field="summary")
    done_at = _clean_done_at(done_at if done_at is not None else timezone.now(), completed_by)
    stage_id = None
    if current.opportunity_id is not None:
        stage_id = Opportunity.objects.filter(pk=current.opportunity_id).values_list("stage_id", flat=True).first()
    # Compare-and-set on status: a visit completed or cancelled meanwhile is not completed twice.
    if not Visit.objects.filter(pk=current.pk, status=Visit.Status.PLANNED).update(
        status=Visit.Status.DONE,
        done_at=done_at,
        summary=summary,
        next_step=(next_step or "").strip(),
        satisfaction=_clean_satisfaction(satisfaction),
        stage_when_done_id=stage_id,
        updated_at=timezone.now(),
    ):
        raise ValidationFailed(gettext("This visit is no longer planned."), field="status")
    current.refresh_from_db()
    next_visit = _plan_next_visit(current, next_visit_at=next_visit_at, purpose=next_visit_purpose)
    visit = _refreshed(visit)
    visit.next_visit = next_visit
    return visit


VISIT_EDITABLE_FIELDS = ("kind", "planned_at", "purpose", "summary", "next_step", "satisfaction")


@_in_actor_language("changed_by")
@transaction.atomic
def update_visit(*, visit: Visit, changed_by: User, **fields: Any) -> Visit:
    """Changes the plain fields of a visit the user can see (kind, planned time while planned, texts, satisfaction)
    under the same rules as planning it; status moves only through complete/cancel. Writes nothing if it raises."""
    current = Visit.objects.visible_to(changed_by).select_for_update(of=("self",)).filter(pk=visit.pk).first()
    if current is None:
        raise NotVisible(gettext("No such visit."))
    if unknown := sorted(set(fields) - set(VISIT_EDITABLE_FIELDS)):
        raise ValidationFailed(gettext("This field cannot be changed here."), field=unknown[0])
    if "kind" in fields:
        current.kind = _clean_kind(fields["kind"])
    if "planned_at" in fields and fields["planned_at"] != current.planned_at:
        if current.status != Visit.Status.PLANNED:
            raise ValidationFailed(gettext("Only a planned visit can be moved."), field="planned_at")
        current.planned_at = _clean_planned_at(fields["planned_at"], field="planned_at")
    for text_field in ("purpose", "summary", "next_step"):
        if text_field in fields:
            setattr(current, text_field, (fields[text_field] or "").strip())
    if "satisfaction" in fields:
        current.satisfaction = _clean_satisfaction(fields["satisfaction"])
    current.save()
    return current


@_in_actor_language("cancelled_by")
@transaction.atomic
def cancel_visit(*, visit: Visit, cancelled_by: User) -> Visit:
    """Cancels a planned visit; writes nothing if it raises."""
    current = _load_planned_visit(visit, cancelled_by)
    if not Visit.objects.filter(pk=current.pk, status=Visit.Status.PLANNED).update(
        status=Visit.Status.CANCELLED, updated_at=timezone.now()
    ):
        raise ValidationFailed(gettext("This visit is no longer planned."), field="status")
    return _refreshed(visit)


# --- visits & accounts pages: comments on a rep's week (the C and A of P-D-C-A) -------------------------------------


def may_comment_on_visit_week(*, author: User, rep: User) -> bool:
    """True when `author` is a director or the manager of `rep`'s team, and is not `rep`; one query at most."""
    if author.pk == rep.pk or not author.is_active:
        return False
    if author.is_director:
        return True
    return author.is_manager and User.objects.filter(pk=rep.pk, team__manager=author).exists()


@_in_actor_language("author")
@transaction.atomic
def comment_on_visit_week(*, rep: User, week_start: date, author: User, text: str) -> VisitWeekComment:
    """Adds the comment of the rep's manager (or a director) on the rep's week starting Monday `week_start`;
    writes nothing if it raises."""
    if not User.objects.visible_to(author).filter(pk=rep.pk).exists():
        raise NotVisible(gettext("No such user."))
    if not may_comment_on_visit_week(author=author, rep=rep):
        raise NotAllowed(gettext("Only the rep's manager or a director may comment on a rep's week."))
    if week_start.weekday() != 0:
        raise ValidationFailed(gettext("A week starts on a Monday."), field="week")
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(gettext("Write a comment."), field="text")
    return VisitWeekComment.objects.create(rep=rep, week_start=week_start, author=author, text=text)
