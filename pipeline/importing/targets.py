"""Sales-target import (issue 14): one target per row, of a user (by username) or a team (by name), for a period
type and the period's first day, all or nothing.

Owner, period type and period start are the row's key (database constraints keep them unique): a re-import finds the
target again and sets its amount, so importing the same file twice changes nothing. Who may set which target, and what
makes a valid one, are the target services' rules (pipeline/services/targets.py), checked for every row: a director
imports any target, a manager those of the reps in the teams they manage. A changed amount is recorded as a
TargetChange by the importing user, as update_target records it; a new target has no history row, as with
create_target.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from accounts.models import Team, User
from core.errors import SalesFlowError
from core.history import Change, record_changes
from pipeline.importing.cells import choice_words, clean_money
from pipeline.importing.common import (
    BULK_BATCH_SIZE,
    Errors,
    ImportResult,
    ParsedRow,
    Progress,
    chunks,
    once_per_key,
    parse_rows,
)
from pipeline.importing.reading import BadCell, Columns, ImportRejected, clean_date, clean_text, is_blank, text_of
from pipeline.models import SalesTarget, TargetChange
from pipeline.services.targets import clean_target_values, target_setter_check

COLUMNS = Columns(
    aliases={
        "owner": ("owner", "user", "username", "负责人", "用户名", "销售代表"),
        "team": ("team", "团队"),
        "period_type": ("period_type", "period", "周期", "期间类型"),
        "period_start": ("period_start", "start", "开始日期", "期间开始"),
        "amount": ("amount", "target", "目标金额", "金额"),
    },
    required=("period_type", "period_start", "amount"),
    one_of=("owner", "team"),
    repeating=frozenset({"owner", "team", "period_type", "period_start"}),
)
PERIOD_WORDS = {"年度": "year", "季": "quarter", "月度": "month", "星期": "week"}
EXAMPLE = ["rep1", "", "quarter", "2025-01-01", "300000.00"]
FIELD_COLUMNS = {"owner_user": "owner", "owner_team": "team"}  # the services' field names → this file's columns

Key = tuple[int | None, int | None, str, Any]  # owner user id, owner team id, period type, period start


def _clean_period_type(value: Any) -> str:
    if is_blank(value):
        raise BadCell(gettext("Choose a period: year, quarter, month or week."))
    code = choice_words(SalesTarget.PeriodType.choices, PERIOD_WORDS).get(text_of(value).casefold())
    if code is None:
        raise BadCell(gettext("Choose a period: year, quarter, month or week."))
    return code


def _clean_required_date(value: Any) -> Any:
    if is_blank(value):
        raise BadCell(gettext("Give the first day of the period (a Monday for a week)."))
    return clean_date(value)


def _clean_required_amount(value: Any) -> Any:
    if is_blank(value):
        raise BadCell(gettext("Enter an amount in CNY."))
    return clean_money(default=None)(value)


CLEANERS = {
    "owner": clean_text("owner", 150),
    "team": clean_text("team", 100),
    "period_type": _clean_period_type,
    "period_start": _clean_required_date,
    "amount": _clean_required_amount,
}


def import_targets(
    *,
    rows: Iterable[dict[str, Any]],
    dry_run: bool,
    imported_by: User,
    progress: Progress | None = None,
) -> ImportResult:
    """Creates or updates one target per row if `imported_by` may set it, all or nothing: raises ImportRejected
    naming every bad row and column and writes nothing; with `dry_run` it only counts. Records each changed amount as
    a TargetChange by `imported_by`. Its queries do not grow with the rows but per bulk batch."""
    errors, warnings = Errors(), Errors()
    parsed = parse_rows(rows, CLEANERS, errors=errors, warnings=warnings, progress=progress)
    with transaction.atomic():
        users, teams = _owners(parsed)
        may_set = target_setter_check(actor=imported_by)
        keyed: dict[int, Key] = {}
        for row in parsed:
            if key := _key(row, users, teams, may_set, errors):
                keyed[row.number] = key
        existing = _targets_of(keyed.values(), lock=not dry_run)
        new, changed, unchanged, changes = [], [], 0, []
        rows_by_number = {row.number: row for row in parsed}
        first = once_per_key(
            (rows_by_number[number] for number in keyed),
            lambda row: keyed[row.number],
            column="period_start",
            errors=errors,
        )
        for row in first:
            user_id, team_id, period_type, period_start = keyed[row.number]
            target = existing.get(keyed[row.number])
            if target is None:
                new.append(
                    SalesTarget(
                        owner_user_id=user_id,
                        owner_team_id=team_id,
                        period_type=period_type,
                        period_start=period_start,
                        amount=row.cells["amount"],
                    )
                )
            elif target.amount != row.cells["amount"]:
                changes.append(Change(parent_id=target.pk, field="amount", old=target.amount, new=row.cells["amount"]))
                target.amount = row.cells["amount"]
                changed.append(target)
            else:
                unchanged += 1
        if errors:
            raise ImportRejected(errors, columns=tuple(COLUMNS.aliases))
        if not dry_run:
            SalesTarget.objects.bulk_create(new, batch_size=BULK_BATCH_SIZE)
            SalesTarget.objects.bulk_update(changed, ["amount"], batch_size=BULK_BATCH_SIZE)
            record_changes(TargetChange, changes, by=imported_by)
    return ImportResult(
        created=len(new), updated=len(changed), unchanged=unchanged, dry_run=dry_run, warnings=tuple(warnings)
    )


def _owners(rows: list[ParsedRow]) -> tuple[dict[str, User], dict[str, Team]]:
    """The users and teams the rows name, by username and by name; one query each per KEYS_PER_QUERY names."""
    users: dict[str, User] = {}
    for chunk in chunks({row.cells.get("owner") for row in rows} - {None, ""}):
        users.update({user.username: user for user in User.objects.filter(username__in=chunk)})
    teams: dict[str, Team] = {}
    for chunk in chunks({row.cells.get("team") for row in rows} - {None, ""}):
        teams.update({team.name: team for team in Team.objects.filter(name__in=chunk)})
    return users, teams


def _key(row: ParsedRow, users: dict, teams: dict, may_set, errors: Errors) -> Key | None:
    """The row's owner and period if it names exactly one owner the importer may set a target for and a valid
    period and amount (the services' rules); None with the reasons in `errors`."""
    username, team_name = row.cells.get("owner"), row.cells.get("team")
    if {"owner", "team"} & row.bad:
        return None
    if bool(username) == bool(team_name):
        errors.add(row.number, "owner", gettext("Give either a user or a team, not both."))
        return None
    user, team = users.get(username) if username else None, teams.get(team_name) if team_name else None
    if username and user is None:
        errors.add(row.number, "owner", gettext("Unknown user “%(username)s”.") % {"username": username})
        return None
    if team_name and team is None:
        errors.add(row.number, "team", gettext("Unknown team “%(name)s”.") % {"name": team_name})
        return None
    try:
        may_set(user, team)
    except SalesFlowError as refused:
        errors.add(row.number, "owner" if user else "team", str(refused))
        return None
    if {"period_type", "period_start", "amount"} & row.bad:
        return None
    cells = row.cells
    try:
        clean_target_values(
            owner_user=user,
            owner_team=team,
            period_type=cells["period_type"],
            period_start=cells["period_start"],
            amount=cells["amount"],
        )
    except SalesFlowError as refused:
        errors.add(row.number, FIELD_COLUMNS.get(refused.field, refused.field or "-"), str(refused))
        return None
    return (getattr(user, "pk", None), getattr(team, "pk", None), cells["period_type"], cells["period_start"])


def _targets_of(keys: Iterable[Key], *, lock: bool) -> dict[Key, SalesTarget]:
    """The targets of the named owners by key; one query per KEYS_PER_QUERY owners."""
    keys = list(keys)
    targets = SalesTarget.objects.select_for_update() if lock else SalesTarget.objects.all()
    found: dict[Key, SalesTarget] = {}
    user_ids = chunks({key[0] for key in keys} - {None})
    team_ids = chunks({key[1] for key in keys} - {None})
    for condition in [Q(owner_user_id__in=chunk) for chunk in user_ids] + [Q(owner_team_id__in=c) for c in team_ids]:
        for target in targets.filter(condition):
            found[(target.owner_user_id, target.owner_team_id, target.period_type, target.period_start)] = target
    return found
