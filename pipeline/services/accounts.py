"""Editing an account as one write: its profile (accounts' update_account) and its owner, whose change is pipeline's
handover of the account's open opportunities and planned visits (reassign_account)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Account, User
from accounts.services import update_account
from pipeline.services._common import in_actor_language
from pipeline.services.reassignment import reassign_account


@in_actor_language("changed_by")
@transaction.atomic
def edit_account(*, account: Account, changed_by: User, owner: User | None = None, **fields: Any) -> Account:
    """Changes an account's profile `fields` and, when `owner` is someone new, reassigns it with the previous owner's
    open opportunities and planned visits there; a refused owner is reported on `owner`. Writes nothing if it
    raises."""
    if fields:
        account = update_account(account=account, changed_by=changed_by, **fields)
    if owner is not None and owner.pk != account.owner_id:
        account = reassign_account(account=account, to_owner=owner, reassigned_by=changed_by, owner_field="owner")
    return account
