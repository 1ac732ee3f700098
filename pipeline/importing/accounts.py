"""Account import from spreadsheet rows (SPEC §2 external key, §9 `import_accounts`).

`import_accounts` creates or updates one account per row that `reading.read_rows` gives, keyed by its external key,
all or nothing. It lives in pipeline, not accounts, because an owner change on an existing account is a reassignment
(SPEC: recorded, and the previous owner's open opportunities and planned visits there follow the account), which
pipeline owns.

Cell rules, for a column present in the file (a column missing from the file leaves that field alone):
an empty cell clears the field, except `name` and `owner`, which keep their current value (a new account needs a
name, and an owner from the cell or the default owner); an empty `is_target`/`is_headquarters` means no; a target
keeps the date it became one when `target_since` is empty (today for a new target); an account that ends up with
branches is a headquarters whatever its cell says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Account, AccountChange, Industry, Region, User
from accounts.names import PINYIN_FIELDS, with_pinyin
from core.exports import starts_like_formula
from core.history import Change, record_changes, reference
from pipeline.importing.common import BULK_BATCH_SIZE, KEYS_PER_QUERY, PROGRESS_EVERY, ImportResult, Progress
from pipeline.importing.reading import (
    CLEANERS,
    COLUMNS,
    ROW_NUMBER,
    BadCell,
    ImportRejected,
    RowError,
)
from pipeline.services.reassignment import hand_over_accounts

SELLER_ROLES = (User.Role.REP, User.Role.MANAGER)
REFERENCES = ("industry", "region", "parent")  # fields whose history names a row: id and label


# --- importing ------------------------------------------------------------------------------------------------------

Node = str | int  # a row of the file by its external key, or an account outside the file by its pk


@dataclass(slots=True)  # one per row of the file, all kept until the write: no instance dict
class _Row:
    number: int
    cells: dict[str, Any]  # cleaned values of the columns the row has
    bad: frozenset[str] = frozenset()  # columns whose cell could not be read (most rows: none, so no set of their own)
    key: str = ""
    existing: Account | None = None
    values: dict[str, Any] = field(default_factory=dict)  # the account's new field values (parent apart)
    owner: User | None = None  # the owner it will have
    parent: Node | None = None  # the headquarters it will have
    account: Account | None = None  # the account to save (new, or the existing one with new values)
    changed: set[str] | None = None  # the changed fields of an existing account (set by _apply)
    before: dict[str, Any] = field(default_factory=dict)  # the changed fields' previous values (ids for references)
    previous_owner_id: int | None = None  # set when an existing account changes hands
    is_first: bool = False  # the row that stands for its account (a repeated key is an error)

    @property
    def is_new(self) -> bool:
        return self.existing is None


class _Errors(list):
    def add(self, row: int, column: str, message: str) -> None:
        self.append(RowError(row, column, message))


@dataclass
class _References:
    industries: dict[str, list[Industry]]  # by casefolded code, name and English name
    regions: dict[str, list[Region]]
    users: dict[str, User]  # by username
    accounts: dict[str, Account]  # by external key: every account a row names, as itself or as its headquarters
    parent_of: dict[int, int]  # every branch in the database → its headquarters (pks)


def import_accounts(
    *,
    rows: Iterable[dict[str, Any]],
    dry_run: bool,
    default_owner: User | None,
    imported_by: User | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Creates or updates one account per row by external key, all or nothing: raises ImportRejected naming every bad
    row and column and writes nothing; with `dry_run` it only counts. An owner change on an existing account is a
    Reassignment by `imported_by` (a director) and takes the previous owner's open opportunities and planned visits
    there along, as reassign_account does. Runs a fixed number of queries (five reads, at most seven writes), plus
    one per further bulk batch of BULK_BATCH_SIZE rows (fewer on SQLite) or KEYS_PER_QUERY keys."""
    errors, warnings = _Errors(), _Errors()
    # Rows are cleaned as they are read (the file is streamed); only the cleaned cells are kept for the checks across
    # rows, and the writing starts once every row has passed.
    parsed = []
    for index, raw in enumerate(rows):
        parsed.append(_parse_row(raw, index, errors, warnings))
        if progress is not None and (len(parsed) % PROGRESS_EVERY == 0):
            progress(len(parsed))
    if progress is not None:
        progress(len(parsed))
    with transaction.atomic():
        references = _load_references(parsed, lock=not dry_run)
        _resolve_fields(parsed, references, default_owner=default_owner, imported_by=imported_by, errors=errors)
        resolved = [row for row in parsed if row.is_first]
        _resolve_parents(resolved, references, errors)
        if errors:
            raise ImportRejected(errors)
        flagged = _apply_headquarters(resolved, references)
        pk_of_key = {row.key: row.existing.pk for row in resolved if row.existing is not None}
        for row in resolved:
            _apply(row, pk_of_key)
        result = ImportResult(
            created=sum(row.is_new for row in resolved),
            updated=sum(bool(not row.is_new and row.changed) for row in resolved),
            unchanged=sum(bool(not row.is_new and not row.changed) for row in resolved),
            dry_run=dry_run,
            reassigned=sum(row.previous_owner_id is not None for row in resolved),
            warnings=tuple(warnings),
        )
        if not dry_run:
            _write(resolved, flagged, reassigned_by=imported_by)
            _record_changes(resolved, flagged, references, by=imported_by)
    return result


def _parse_row(raw: dict[str, Any], index: int, errors: _Errors, warnings: _Errors) -> _Row:
    unknown = set(raw) - set(COLUMNS) - {ROW_NUMBER}
    if unknown:
        raise TypeError(f"unknown columns: {sorted(unknown)}")
    row = _Row(number=raw.get(ROW_NUMBER, index + 2), cells={})
    for column, value in raw.items():
        if column == ROW_NUMBER:
            continue
        try:
            row.cells[column] = CLEANERS[column](value)
        except BadCell as bad:
            errors.add(row.number, column, str(bad))
            row.bad |= {column}
            continue
        if isinstance(row.cells[column], str) and starts_like_formula(value):  # a text column, not "-0" employees
            warnings.add(
                row.number,
                column,
                gettext("Starts like a spreadsheet formula: stored as text, as “%(value)s”.")
                % {"value": row.cells[column]},
            )
    row.key = row.cells.get("external_key", "")
    if "external_key" not in raw or row.cells.get("external_key") == "":
        errors.add(row.number, "external_key", gettext("Enter the external key: re-imports find the account by it."))
    return row


def _chunks(values: Iterable[Any]) -> list[list[Any]]:
    ordered = sorted(set(values))
    return [ordered[start : start + KEYS_PER_QUERY] for start in range(0, len(ordered), KEYS_PER_QUERY)]


def _load_references(rows: list[_Row], *, lock: bool) -> _References:
    """Loads every industry and region, the named users, the accounts the rows name (locked when writing) and the
    branch links: five queries for up to KEYS_PER_QUERY distinct keys and usernames."""
    industries: dict[str, list[Industry]] = {}
    for industry in Industry.objects.all():
        for name in {industry.code, industry.name, industry.name_en} - {""}:
            industries.setdefault(name.casefold(), []).append(industry)
    regions: dict[str, list[Region]] = {}
    for region in Region.objects.all():
        for name in {region.code, region.name, region.name_en} - {""}:
            regions.setdefault(name.casefold(), []).append(region)
    users = {}
    for chunk in _chunks({row.cells.get("owner") for row in rows} - {None, ""}):
        users.update({user.username: user for user in User.objects.filter(username__in=chunk)})
    keys = {row.key for row in rows} | {row.cells.get("parent_external_key") for row in rows}
    accounts = {}
    candidates = Account.objects.select_for_update() if lock else Account.objects.all()
    for chunk in _chunks(keys - {None, ""}):
        accounts.update({account.external_key: account for account in candidates.filter(external_key__in=chunk)})
    parent_of = dict(Account.objects.filter(parent__isnull=False).values_list("pk", "parent_id"))
    return _References(industries, regions, users, accounts, parent_of)


def _lookup(table: dict[str, list], value: str, *, unknown: str) -> Any:
    """The one record a code or name means; raises BadCell when none or several do."""
    found = {record.pk: record for record in table.get(value.casefold(), [])}
    if len(found) == 1:
        return next(iter(found.values()))
    if not found:
        raise BadCell(unknown % {"value": value})
    codes = ", ".join(sorted(record.code for record in found.values()))
    raise BadCell(gettext("“%(value)s” names several: %(codes)s; use the code.") % {"value": value, "codes": codes})


def _resolve_fields(
    rows: list[_Row],
    references: _References,
    *,
    default_owner: User | None,
    imported_by: User | None,
    errors: _Errors,
) -> None:
    """Works out each row's field values, owner and headquarters key from its cells and the account it updates."""
    first_row_of: dict[str, int] = {}
    for row in rows:
        if not row.key:
            continue
        if row.key in first_row_of:
            errors.add(
                row.number,
                "external_key",
                gettext("“%(key)s” is also on row %(row)d; an account may appear once.")
                % {"key": row.key, "row": first_row_of[row.key]},
            )
            continue
        first_row_of[row.key] = row.number
        row.is_first = True
        row.existing = references.accounts.get(row.key)
        row.values = _field_values(row, references, errors)
        row.owner = _owner_of(row, references, default_owner=default_owner, imported_by=imported_by, errors=errors)
        if "parent_external_key" in row.cells and row.cells["parent_external_key"] == row.key:
            errors.add(row.number, "parent_external_key", gettext("An account cannot be its own headquarters."))
        # Every row is kept until the write: from here on only its headquarters cell is read again.
        row.cells = {column: row.cells[column] for column in ("parent_external_key",) if column in row.cells}


def _field_values(row: _Row, references: _References, errors: _Errors) -> dict[str, Any]:
    cells, existing, values = row.cells, row.existing, {}
    if cells.get("name"):
        values["name"] = cells["name"]
    elif existing is None and "name" not in row.bad:
        errors.add(row.number, "name", gettext("Enter a name: a new account needs one."))
    lookups = (
        ("industry", references.industries, gettext("Unknown industry “%(value)s”: use an industry code or name.")),
        ("region", references.regions, gettext("Unknown region “%(value)s”: use a region code or name.")),
    )
    for column, table, unknown in lookups:
        if column in cells:
            try:
                values[column] = _lookup(table, cells[column], unknown=unknown) if cells[column] else None
            except BadCell as bad:
                errors.add(row.number, column, str(bad))
    values.update({column: cells[column] for column in ("employee_count", "address", "notes") if column in cells})
    was_target = existing is not None and existing.is_target
    is_target = bool(cells["is_target"]) if "is_target" in cells else was_target
    since = cells.get("target_since")
    today = timezone.localdate()
    if since is not None and not is_target:
        errors.add(
            row.number,
            "target_since",
            gettext("Only a target account has this date: set is_target (目标客户) to 是, or leave the date empty."),
        )
    elif since is not None and since > today:
        errors.add(row.number, "target_since", gettext("The date an account became a target cannot be in the future."))
    # As create_account/update_account: a target keeps the date it became one (today when new); others have none.
    kept = existing.target_since if was_target else None
    values["is_target"] = is_target
    values["target_since"] = (since or kept or today) if is_target else None
    if "is_headquarters" in cells:
        values["is_headquarters"] = bool(cells["is_headquarters"])
    return values


def _owner_of(
    row: _Row,
    references: _References,
    *,
    default_owner: User | None,
    imported_by: User | None,
    errors: _Errors,
) -> User | None:
    username = row.cells.get("owner")
    if not username:
        if row.existing is not None:
            return row.existing.owner
        if default_owner is None and "owner" not in row.bad:
            errors.add(row.number, "owner", gettext("Enter the owner's username, or give a default owner (--owner)."))
        return default_owner
    owner = references.users.get(username)
    if owner is None:
        errors.add(row.number, "owner", gettext("Unknown user “%(username)s”.") % {"username": username})
        return None
    if row.existing is not None and row.existing.owner_id == owner.pk:
        return owner  # unchanged, even if they have left since: re-importing the same file must not fail
    if not owner.is_active or owner.role not in SELLER_ROLES:
        errors.add(
            row.number,
            "owner",
            gettext("%(username)s cannot own accounts: an owner is an active sales rep or manager.")
            % {"username": username},
        )
        return None
    if row.existing is not None and (imported_by is None or not imported_by.is_director or not imported_by.is_active):
        errors.add(
            row.number,
            "owner",
            gettext(
                "Changing the owner of an existing account is recorded as a reassignment: name the director who "
                "authorises it (--by)."
            ),
        )
    return owner


def _resolve_parents(rows: list[_Row], references: _References, errors: _Errors) -> None:
    """Finds each row's headquarters, in the file or the database (either order), and refuses cycles."""
    by_key = {row.key: row for row in rows}
    key_of_pk = {row.existing.pk: row.key for row in rows if row.existing is not None}
    for row in rows:
        if "parent_external_key" not in row.cells:
            parent_id = row.existing.parent_id if row.existing is not None else None
            row.parent = key_of_pk.get(parent_id, parent_id)
        elif not (key := row.cells["parent_external_key"]):
            row.parent = None
        elif key in by_key:
            row.parent = key
        elif key in references.accounts:
            row.parent = references.accounts[key].pk
        else:
            errors.add(
                row.number,
                "parent_external_key",
                gettext("No account has the external key “%(key)s”, in this file or already imported.") % {"key": key},
            )
    if errors:
        return

    def parent_of(node: Node) -> Node | None:
        if isinstance(node, str):
            return by_key[node].parent
        parent_id = references.parent_of.get(node)
        return key_of_pk.get(parent_id, parent_id)

    for row in rows:
        seen: set[Node] = set()
        node = row.parent
        while node is not None and node not in seen:
            if node == row.key:
                errors.add(
                    row.number,
                    "parent_external_key",
                    gettext("This would make the account a branch of its own branch."),
                )
                break
            seen.add(node)
            node = parent_of(node)


def _apply_headquarters(rows: list[_Row], references: _References) -> list[Account]:
    """Marks every account that will have branches as a headquarters; returns the accounts outside the file that
    become one."""
    in_file = {row.existing.pk for row in rows if row.existing is not None}
    key_of_pk = {row.existing.pk: row.key for row in rows if row.existing is not None}
    with_branches = {row.parent for row in rows} | {
        key_of_pk.get(parent, parent) for child, parent in references.parent_of.items() if child not in in_file
    }
    for row in rows:
        current = row.existing.is_headquarters if row.existing is not None else False
        flag = row.values.get("is_headquarters", current)
        row.values["is_headquarters"] = flag or row.key in with_branches
    outside = {account.pk: account for account in references.accounts.values() if account.pk not in in_file}
    flagged = [outside[pk] for pk in with_branches if pk in outside and not outside[pk].is_headquarters]
    for account in flagged:
        account.is_headquarters = True
    return flagged


def _apply(row: _Row, pk_of_key: dict[str, int]) -> None:
    """Builds the new account, or sets the changed fields on the existing one and records their names."""
    parent = pk_of_key.get(row.parent, row.parent) if isinstance(row.parent, str) else row.parent
    parent_id = parent if isinstance(parent, int) else None  # a new headquarters gets its pk when written
    if row.existing is None:
        row.account = Account(external_key=row.key, owner=row.owner, parent_id=parent_id, **row.values)
        row.values = {}  # now held by the account; every row is kept until the write
        return
    account = row.account = row.existing
    row.changed = set()
    for name, value in row.values.items():
        current = getattr(account, f"{name}_id") if name in ("industry", "region") else getattr(account, name)
        new = value.pk if name in ("industry", "region") and value is not None else value
        if current != new:
            row.changed.add(name)
            row.before[name] = current
            setattr(account, name, value)
    if parent_id != account.parent_id or isinstance(parent, str):
        row.changed.add("parent")
        row.before["parent"] = account.parent_id
        account.parent_id = parent_id
    if row.owner.pk != account.owner_id:
        row.previous_owner_id = account.owner_id
        row.changed.add("owner")
        account.owner = row.owner


def _write(rows: list[_Row], flagged: list[Account], *, reassigned_by: User | None) -> None:
    """Inserts the new accounts, links headquarters named by key, saves every change in bulk and records owner
    changes; one query per bulk batch."""
    now = timezone.now()
    new = [row.account for row in rows if row.is_new]
    for account in new:
        account.created_at = account.updated_at = now
    Account.objects.bulk_create(with_pinyin(new), batch_size=BULK_BATCH_SIZE)  # bulk writes skip save()
    if any(account.pk is None for account in new):  # a database that cannot return ids from a bulk insert
        pks = dict(
            Account.objects.filter(external_key__in=[a.external_key for a in new]).values_list("external_key", "pk")
        )
        for account in new:
            account.pk = pks[account.external_key]
    pk_of_key = {row.key: row.account.pk for row in rows}
    changed: dict[int, Account] = {account.pk: account for account in flagged}
    fields = {"is_headquarters"} if flagged else set()
    for row in rows:
        if isinstance(row.parent, str) and row.account.parent_id is None:
            row.account.parent_id = pk_of_key[row.parent]
            fields.add("parent")
            changed[row.account.pk] = row.account
        if not row.is_new and row.changed:
            fields |= row.changed
            changed[row.account.pk] = row.account
    for account in changed.values():
        account.updated_at = now
    if "name" in fields:
        with_pinyin(changed.values())
        fields |= set(PINYIN_FIELDS)
    if changed:
        Account.objects.bulk_update(list(changed.values()), sorted(fields | {"updated_at"}), batch_size=BULK_BATCH_SIZE)
    moved = {row.account.pk: row for row in rows if row.previous_owner_id is not None}
    if moved:
        hand_over_accounts(
            moves={pk: (row.previous_owner_id, row.owner.pk) for pk, row in moved.items()},
            reassigned_by=reassigned_by,
            at=now,
        )


def _record_changes(rows: list[_Row], flagged: list[Account], references: _References, *, by: User | None) -> None:
    """Records, by `by`, one AccountChange per field the import changed on an existing account (owner changes are
    recorded by hand_over_accounts); at most one query to name former headquarters outside the file, then one
    insert per history batch."""
    labels: dict[tuple[str, int], str] = {
        (column, record.pk): str(record)
        for column, table in (("industry", references.industries), ("region", references.regions))
        for records in table.values()
        for record in records
    }
    labels.update({("parent", account.pk): account.name for account in references.accounts.values()})
    labels.update({("parent", row.account.pk): row.account.name for row in rows})
    changes = [Change(parent_id=account.pk, field="is_headquarters", old=False, new=True) for account in flagged]
    updated = [row for row in rows if not row.is_new and row.changed - {"owner"}]
    unnamed = {row.before["parent"] for row in updated if "parent" in row.changed} - {None}
    unnamed -= {pk for column, pk in labels if column == "parent"}
    for chunk in _chunks(unnamed):
        named = Account.objects.filter(pk__in=chunk).values_list("pk", "name")
        labels.update({("parent", pk): name for pk, name in named})
    for row in updated:
        for name in sorted(row.changed - {"owner"}):
            old, new = row.before[name], getattr(row.account, f"{name}_id" if name in REFERENCES else name)
            if name in REFERENCES:
                old, new = reference(old, labels.get((name, old), "")), reference(new, labels.get((name, new), ""))
            changes.append(Change(parent_id=row.account.pk, field=name, old=old, new=new))
    record_changes(AccountChange, changes, by=by)
