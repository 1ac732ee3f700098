"""Sales targets (SPEC §6): who may set which target, and each change recorded as a TargetChange.

Directors set every target; a manager sets the targets of the reps in the teams they manage, not their own nor a
team's; reps set none. A superuser (the back office) counts as a director here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from accounts.models import Team, User
from core.calendar import period_start as start_of_period
from core.errors import NotAllowed, NotVisible, ValidationFailed
from core.history import changes_between, record_changes
from pipeline.models import SalesTarget, TargetChange
from pipeline.services._common import clean_amount, in_actor_language

TARGET_FIELDS = ("owner_user", "owner_team", "period_type", "period_start", "amount")


def check_may_set_target(
    *, actor: User, owner_user: User | None, owner_team: Team | None, managed_team_ids: Collection[int] | None = None
) -> None:
    """Raises NotAllowed (403), saying why, unless `actor` may set a target of `owner_user` or `owner_team`; at most
    one query, none when the caller passes the ids of the teams `actor` manages (`managed_team_ids`)."""
    if actor.is_director or actor.is_superuser:
        return
    if not actor.is_manager:
        raise NotAllowed(gettext("A sales rep cannot set targets; your manager or a director sets them."))
    if owner_team is not None:
        raise NotAllowed(gettext("Only a sales director sets a team's target."))
    if owner_user is not None and owner_user.pk == actor.pk:
        raise NotAllowed(gettext("A sales manager cannot set their own target; a sales director sets it."))
    if owner_user is None or not owner_user.is_rep or owner_user.team_id is None:
        manages = False
    elif managed_team_ids is not None:
        manages = owner_user.team_id in managed_team_ids
    else:
        manages = Team.objects.filter(pk=owner_user.team_id, manager=actor.pk).exists()
    if not manages:
        raise NotAllowed(gettext("A sales manager sets targets only for the reps of the teams they manage."))


def target_setter_check(*, actor: User) -> Callable[[User | None, Team | None], None]:
    """check_may_set_target for many targets of one actor (an import): one query now, none per call."""
    managed = (
        frozenset(Team.objects.filter(manager=actor.pk).values_list("pk", flat=True))
        if actor.is_manager and not (actor.is_director or actor.is_superuser)
        else frozenset()
    )

    def check(owner_user: User | None, owner_team: Team | None) -> None:
        check_may_set_target(actor=actor, owner_user=owner_user, owner_team=owner_team, managed_team_ids=managed)

    return check


def may_set_targets(*, actor: User) -> bool:
    """Whether `actor` may set anyone's target at all (directors and managers; reps never); runs no query."""
    return actor.is_director or actor.is_superuser or actor.is_manager


def settable_target_owners(*, actor: User) -> tuple[Q, Q]:
    """The users and the teams whose targets `actor` may set, as filters on User and on Team: check_may_set_target's
    rule for a whole list at once; runs no query."""
    if actor.is_director or actor.is_superuser:
        return Q(), Q()
    nothing = Q(pk__in=[])
    if not actor.is_manager:
        return nothing, nothing
    return Q(role=User.Role.REP, team__manager=actor.pk) & ~Q(pk=actor.pk), nothing


def clean_target_values(
    *, owner_user: User | None, owner_team: Team | None, period_type: str, period_start: date, amount: Any
) -> Decimal:
    """Raises ValidationFailed naming the field unless the values make a valid target; returns the cleaned amount.
    Runs no query (whether the owner already has a target for the period is check_target_values' question)."""
    if (owner_user is None) == (owner_team is None):
        raise ValidationFailed(gettext("Give either a user or a team, not both."), field="owner_user")
    if period_type not in SalesTarget.PeriodType.values:
        raise ValidationFailed(gettext("Choose a period: year, quarter, month or week."), field="period_type")
    if not isinstance(period_start, date) or start_of_period(period_type, period_start) != period_start:
        raise ValidationFailed(gettext("Give the first day of the period (a Monday for a week)."), field="period_start")
    return clean_amount(amount)


def check_target_values(
    *,
    owner_user: User | None,
    owner_team: Team | None,
    period_type: str,
    period_start: date,
    amount: Any,
    exclude_pk: int | None = None,
) -> Decimal:
    """Raises ValidationFailed naming the field unless the values make a valid target no other target of the same
    owner and period has; returns the cleaned amount. One query."""
    cleaned = clean_target_values(
        owner_user=owner_user, owner_team=owner_team, period_type=period_type, period_start=period_start, amount=amount
    )
    same = SalesTarget.objects.filter(
        owner_user=owner_user, owner_team=owner_team, period_type=period_type, period_start=period_start
    )
    if exclude_pk is not None:
        same = same.exclude(pk=exclude_pk)
    if same.exists():
        raise ValidationFailed(gettext("There is already a target for this period."), field="period_start")
    return cleaned


@in_actor_language("created_by")
@transaction.atomic
def create_target(
    *,
    created_by: User,
    period_type: str,
    period_start: date,
    amount: Any,
    owner_user: User | None = None,
    owner_team: Team | None = None,
) -> SalesTarget:
    """Sets a new target of a user or a team for a period, if `created_by` may set it; writes nothing if it raises."""
    check_may_set_target(actor=created_by, owner_user=owner_user, owner_team=owner_team)
    cleaned = check_target_values(
        owner_user=owner_user,
        owner_team=owner_team,
        period_type=period_type,
        period_start=period_start,
        amount=amount,
    )
    return SalesTarget.objects.create(
        owner_user=owner_user,
        owner_team=owner_team,
        period_type=period_type,
        period_start=period_start,
        amount=cleaned,
    )


@in_actor_language("changed_by")
@transaction.atomic
def update_target(*, target: SalesTarget, changed_by: User, **fields: Any) -> SalesTarget:
    """Changes a target `changed_by` can see and may set (for its owner, and for its new owner when that changes)
    and records each field that changed as a TargetChange; writes nothing if it raises. Returns it as saved."""
    unknown = set(fields) - set(TARGET_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    targets = SalesTarget.objects.all() if changed_by.is_superuser else SalesTarget.objects.visible_to(changed_by)
    current = (
        targets.select_for_update(of=("self",)).select_related("owner_user", "owner_team").filter(pk=target.pk).first()
    )
    if current is None:
        raise NotVisible(gettext("No such target."))
    check_may_set_target(actor=changed_by, owner_user=current.owner_user, owner_team=current.owner_team)
    values = {name: getattr(current, name) for name in TARGET_FIELDS} | fields
    if values["owner_user"] != current.owner_user or values["owner_team"] != current.owner_team:
        check_may_set_target(actor=changed_by, owner_user=values["owner_user"], owner_team=values["owner_team"])
    values["amount"] = check_target_values(**values, exclude_pk=current.pk)
    changes = changes_between(current.pk, {name: getattr(current, name) for name in TARGET_FIELDS}, values)
    if not changes:
        return current
    for name, value in values.items():
        setattr(current, name, value)
    current.save(update_fields=[change.field for change in changes])
    record_changes(TargetChange, changes, by=changed_by)
    return current
