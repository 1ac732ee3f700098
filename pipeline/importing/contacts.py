"""Contact import (issue 14): one contact per row, found again by its account's external key and its own external key
or, without one, its name at that account; all or nothing.

A row with an external key updates the contact with that key at the account; if there is none yet, the one contact of
that name at the account that has no key (one entered by hand before the first import) takes the key; otherwise it is
a new contact. A row without a key finds the contact by name at the account. A column missing from the file leaves
that field alone; an empty cell clears it, except `name`, which keeps its value. Contacts have no change history
(SPEC §1 records opportunities, accounts and targets).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from accounts.models import Contact, User
from accounts.names import PINYIN_FIELDS, with_pinyin
from pipeline.importing.cells import clean_choice, clean_email
from pipeline.importing.common import (
    BULK_BATCH_SIZE,
    Errors,
    ImportResult,
    ParsedRow,
    Progress,
    account_of,
    accounts_by_key,
    changed_fields,
    chunks,
    once_per_key,
    parse_rows,
)
from pipeline.importing.reading import Columns, ImportRejected, clean_date, clean_text

COLUMNS = Columns(
    aliases={
        "account_external_key": ("account_external_key", "account_key", "客户编号", "客户外部编号"),
        "external_key": ("external_key", "contact_key", "联系人编号", "外部编号"),
        "name": ("name", "full_name", "contact_name", "姓名", "联系人"),
        "title": ("title", "职务", "职位"),
        "department": ("department", "部门"),
        "phone": ("phone", "电话", "手机"),
        "email": ("email", "邮箱", "电子邮件"),
        "buying_role": ("buying_role", "采购角色"),
        "communication_style": ("communication_style", "沟通风格"),
        "birthday": ("birthday", "生日"),
        "notes": ("notes", "备注"),
    },
    required=("account_external_key",),
    one_of=("external_key", "name"),
    repeating=frozenset({"account_external_key", "title", "department", "buying_role", "communication_style"}),
)
CLEANERS = {
    "account_external_key": clean_text("account_external_key", 100),
    "external_key": clean_text("external_key", 100),
    "name": clean_text("name", 100),
    "title": clean_text("title", 100),
    "department": clean_text("department", 100),
    "phone": clean_text("phone", 40),
    "email": clean_email,
    "buying_role": clean_choice(Contact.BuyingRole.choices, required=False),
    "communication_style": clean_choice(Contact.CommunicationStyle.choices, required=False),
    "birthday": clean_date,
    "notes": clean_text("notes"),
}
FIELDS = ("name", "title", "department", "phone", "email", "buying_role", "communication_style", "birthday", "notes")
EXAMPLE = ["C001", "P001", "王伟", "采购经理", "采购部", "13800000000", "wang@example.com", "决策者", "分析型", "", ""]


def import_contacts(
    *,
    rows: Iterable[dict[str, Any]],
    dry_run: bool,
    imported_by: User | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Creates or updates one contact per row, all or nothing: raises ImportRejected naming every bad row and column
    and writes nothing; with `dry_run` it only counts. Its queries do not grow with the rows but per bulk batch."""
    errors, warnings = Errors(), Errors()
    parsed = parse_rows(rows, CLEANERS, errors=errors, warnings=warnings, progress=progress)
    with transaction.atomic():
        accounts = accounts_by_key(row.cells.get("account_external_key", "") for row in parsed)
        existing = _contacts_of([account.pk for account in accounts.values()], lock=not dry_run)
        new, changed, unchanged = [], [], 0
        for row in once_per_key(parsed, _key, column="external_key", errors=errors):
            account = account_of(row, accounts, errors)
            if account is None:
                continue
            contact = _match(row, account.pk, existing, errors)
            values = {name: row.cells[name] for name in FIELDS if name in row.cells}
            if not values.get("name"):
                values.pop("name", None)
                if contact is None and "name" not in row.bad:
                    errors.add(row.number, "name", gettext("Enter a name: a new contact needs one."))
                    continue
            if row.cells.get("external_key"):
                values["external_key"] = row.cells["external_key"]
            if contact is None:
                new.append(Contact(account=account, **values))
            elif changed_fields(contact, values):
                changed.append(contact)
            else:
                unchanged += 1
        if errors:
            raise ImportRejected(errors, columns=tuple(COLUMNS.aliases))
        if not dry_run:
            Contact.objects.bulk_create(with_pinyin(new), batch_size=BULK_BATCH_SIZE)
            if changed:
                fields = [*FIELDS, "external_key", *PINYIN_FIELDS]
                Contact.objects.bulk_update(with_pinyin(changed), fields, batch_size=BULK_BATCH_SIZE)
    return ImportResult(
        created=len(new), updated=len(changed), unchanged=unchanged, dry_run=dry_run, warnings=tuple(warnings)
    )


def _key(row: ParsedRow) -> tuple | None:
    account_key = row.cells.get("account_external_key")
    if not account_key:
        return (None, row.number)  # refused later, by account_of; never a repeat
    if row.cells.get("external_key"):
        return (account_key, "key", row.cells["external_key"])
    if row.cells.get("name"):
        return (account_key, "name", row.cells["name"])
    return (None, row.number)


class _Existing:
    def __init__(self) -> None:
        self.by_key: dict[tuple[int, str], Contact] = {}
        self.by_name: dict[tuple[int, str], list[Contact]] = {}


def _contacts_of(account_ids: list[int], *, lock: bool) -> _Existing:
    """The contacts of these accounts by key and by name; one query per KEYS_PER_QUERY accounts."""
    existing = _Existing()
    contacts = Contact.objects.select_for_update() if lock else Contact.objects.all()
    for chunk in chunks(account_ids):
        for contact in contacts.filter(account_id__in=chunk).order_by("pk"):
            if contact.external_key:
                existing.by_key[(contact.account_id, contact.external_key)] = contact
            existing.by_name.setdefault((contact.account_id, contact.name), []).append(contact)
    return existing


def _match(row: ParsedRow, account_id: int, existing: _Existing, errors: Errors) -> Contact | None:
    key, name = row.cells.get("external_key"), row.cells.get("name")
    if key and (contact := existing.by_key.get((account_id, key))):
        return contact
    named = existing.by_name.get((account_id, name), []) if name else []
    if key:
        named = [contact for contact in named if not contact.external_key]
    if len(named) > 1:
        errors.add(
            row.number,
            "external_key" if key else "name",
            gettext("Several contacts at this account have this name: give each an external key."),
        )
        return None
    return named[0] if named else None
