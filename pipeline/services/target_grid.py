"""Saving a page of the targets grid (issue 13): many cells of owners × periods of one year at once, each cell through
the rules of `targets.py`, all of them written or none.

A cell typed as it was shown is left alone, so saving a page writes (and records) only what the user changed. A
target is a business row with its history: it is never deleted, so emptying a cell that has a target is refused (0
clears it). A cell someone else changed since the page was shown is refused too, rather than silently overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext, ngettext

from accounts.models import Team, User
from core.errors import Conflict, NotVisible, SalesFlowError, ValidationFailed
from core.history import Change, record_changes
from pipeline.models import SalesTarget, TargetChange
from pipeline.services._common import in_actor_language
from pipeline.services.targets import check_may_set_target, clean_target_values

OWNER_TYPES = ("user", "team")


@dataclass(frozen=True)
class TargetCell:
    """One cell of the grid as posted: whose target, which period, the amount as typed ("" for an empty cell) and,
    when known, the amount the page showed ("" for none)."""

    owner_type: str  # "user" or "team"
    owner_id: int
    period_start: date
    amount: str
    was: str | None = None  # None: not known, so no check for someone else's change

    @property
    def key(self) -> str:
        """The cell's name in the grid's form and in TargetGridInvalid.errors."""
        return cell_key(self.owner_type, self.owner_id, self.period_start)


def cell_key(owner_type: str, owner_id: int, period_start: date) -> str:
    return f"{owner_type}-{owner_id}-{period_start.isoformat()}"


class TargetGridInvalid(ValidationFailed):
    """Some cells of a grid cannot be saved; `errors` maps each one's key to why. Nothing was saved."""

    code = "invalid_cells"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        count = len(errors)
        message = ngettext(
            "%(count)s cell could not be saved, so nothing was saved.",
            "%(count)s cells could not be saved, so nothing was saved.",
            count,
        ) % {"count": count}
        super().__init__(message)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "cells": self.errors}


def typed_amount(value: str | None) -> str:
    """An amount as typed in a grid or pasted from a spreadsheet, without spaces, thousands separators or ¥."""
    return "".join(ch for ch in (value or "") if ch not in " ,\u00a0¥￥\t")


def _owners(actor: User, cells: list[TargetCell]) -> tuple[dict[int, User], dict[int, Team]]:
    """The users and teams the cells name, if `actor` sees every one of them (NotVisible otherwise); two queries."""
    user_ids = {c.owner_id for c in cells if c.owner_type == "user"}
    team_ids = {c.owner_id for c in cells if c.owner_type == "team"}
    users_seen = User.objects.all() if actor.is_superuser else User.objects.visible_to(actor)
    teams_seen = Team.objects.all() if actor.is_superuser else Team.objects.visible_to(actor)
    users = {u.pk: u for u in users_seen.filter(pk__in=user_ids)} if user_ids else {}
    teams = {t.pk: t for t in teams_seen.filter(pk__in=team_ids)} if team_ids else {}
    if set(users) != user_ids or set(teams) != team_ids or {c.owner_type for c in cells} - set(OWNER_TYPES):
        raise NotVisible(gettext("No such user or team."))
    return users, teams


def _existing(period_type: str, year: int, users: Iterable[int], teams: Iterable[int]) -> dict[str, SalesTarget]:
    """The targets of those owners for periods of `year`, locked, by cell key; one query."""
    targets = (
        SalesTarget.objects.select_for_update()
        .filter(period_type=period_type, period_start__gte=date(year, 1, 1), period_start__lt=date(year + 1, 1, 1))
        .filter(Q(owner_user_id__in=list(users)) | Q(owner_team_id__in=list(teams)))
    )
    return {
        cell_key("user" if t.owner_user_id else "team", t.owner_user_id or t.owner_team_id, t.period_start): t
        for t in targets
    }


def _same_amount(typed: str, amount: Decimal | None) -> bool:
    """Whether an amount as typed reads as `amount` (an empty cell as None); runs no query."""
    if typed == "" or amount is None:
        return typed == "" and amount is None
    try:
        return Decimal(typed) == amount
    except ArithmeticError:
        return False


@in_actor_language("actor")
@transaction.atomic
def save_target_grid(*, actor: User, period_type: str, year: int, cells: list[TargetCell]) -> int:
    """Sets the targets of the grid's cells for periods of `period_type` in `year`: creates the new ones, changes
    those whose amount changed (one TargetChange each) and leaves the others untouched. Raises TargetGridInvalid
    with every bad cell's reason, NotVisible (404) for an owner `actor` cannot see; writes nothing if it raises.
    Returns how many targets it wrote. At most seven queries, whatever the number of cells."""
    if period_type not in SalesTarget.PeriodType.values:
        raise ValidationFailed(gettext("Choose a period: year, quarter, month or week."), field="period_type")
    users, teams = _owners(actor, cells)
    managed = set(Team.objects.filter(manager=actor.pk).values_list("pk", flat=True)) if actor.is_manager else set()
    existing = _existing(period_type, year, users, teams)
    errors: dict[str, str] = {}
    new: list[SalesTarget] = []
    changed: list[SalesTarget] = []
    changes: list[Change] = []
    for cell in cells:
        owner_user = users.get(cell.owner_id) if cell.owner_type == "user" else None
        owner_team = teams.get(cell.owner_id) if cell.owner_type == "team" else None
        current = existing.get(cell.key)
        typed = typed_amount(cell.amount)
        try:
            check_may_set_target(actor=actor, owner_user=owner_user, owner_team=owner_team, managed_team_ids=managed)
            if cell.period_start.year != year:
                raise ValidationFailed(gettext("This period is not in the year shown."), field="period_start")
            if cell.was is not None and typed == typed_amount(cell.was):
                continue  # as the page showed it: the user did not touch it
            if typed == "":
                if current is None:
                    continue
                raise ValidationFailed(gettext("A target is never deleted: enter 0 instead."), field="amount")
            amount = clean_target_values(
                owner_user=owner_user,
                owner_team=owner_team,
                period_type=period_type,
                period_start=cell.period_start,
                amount=typed,
            )
            if current is not None and current.amount == amount:
                continue
            if cell.was is not None and not _same_amount(typed_amount(cell.was), getattr(current, "amount", None)):
                raise Conflict(
                    gettext("Someone else changed this target meanwhile (now %(amount)s); reload the page.")
                    % {"amount": "—" if current is None else current.amount},
                    field="amount",
                )
        except SalesFlowError as error:
            errors[cell.key] = str(error.message)
            continue
        if current is None:
            new.append(
                SalesTarget(
                    owner_user=owner_user,
                    owner_team=owner_team,
                    period_type=period_type,
                    period_start=cell.period_start,
                    amount=amount,
                )
            )
        else:
            changes.append(Change(parent_id=current.pk, field="amount", old=current.amount, new=amount))
            current.amount = amount
            changed.append(current)
    if errors:
        raise TargetGridInvalid(errors)
    try:
        SalesTarget.objects.bulk_create(new)
    except IntegrityError:  # another user created one of these targets since they were read
        raise Conflict(
            gettext("Someone else set one of these targets meanwhile; reload the page and try again.")
        ) from None
    SalesTarget.objects.bulk_update(changed, ["amount"])
    record_changes(TargetChange, changes, by=actor)
    return len(new) + len(changed)
