"""Writes about customers: accounts and their contacts (SPEC §2). Each service is one transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact, User
from core.errors import NotAllowed, ValidationFailed

ACCOUNT_FIELDS = frozenset(
    {
        "name",
        "industry",
        "employee_count",
        "region",
        "address",
        "is_target",
        "target_since",
        "parent",
        "is_headquarters",
        "notes",
        "external_key",
    }
)
CONTACT_FIELDS = frozenset(
    {"name", "title", "department", "phone", "email", "buying_role", "communication_style", "birthday", "notes"}
)


def assignable_owners(*, user: User):
    """Returns the active users `user` may make the owner of an account: a rep themself, a manager themself and
    their team's members, a director anyone who sells (reps and managers)."""
    users = User.objects.filter(is_active=True)
    if user.is_director:
        return users.filter(role__in=[User.Role.REP, User.Role.MANAGER])
    return users.visible_to(user)


def _check_owner(*, user: User, owner: User) -> None:
    if not assignable_owners(user=user).filter(pk=owner.pk).exists():
        if user.is_rep:
            raise NotAllowed(_("A sales rep can only create accounts for themself."), field="owner")
        raise NotAllowed(_("You can only assign accounts to yourself or members of your team."), field="owner")


def _check_parent(*, user: User, account: Account | None, parent: Account | None) -> None:
    if parent is None:
        return
    if not Account.objects.visible_to(user).filter(pk=parent.pk).exists():
        raise ValidationFailed(_("Choose a headquarters account you can see."), field="parent")
    ancestor: Account | None = parent
    seen: set[int] = set()
    while ancestor is not None and ancestor.pk not in seen:
        if account is not None and ancestor.pk == account.pk:
            raise ValidationFailed(
                _("An account cannot be its own headquarters or a branch of its branch."), field="parent"
            )
        seen.add(ancestor.pk)
        ancestor = ancestor.parent


def _target_since(*, is_target: bool, target_since: date | None, previous: date | None = None) -> date | None:
    """A target keeps the date it became one (today when not given); a non-target has none."""
    if not is_target:
        return None
    return target_since or previous or timezone.localdate()


def _clean_fields(fields: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        if not fields["name"]:
            raise ValidationFailed(_("Enter a name."), field="name")
    return fields


@transaction.atomic
def create_account(*, created_by: User, name: str, owner: User | None = None, **fields: Any) -> Account:
    """Creates an account owned by `owner` (default: the creator) within the creator's reach; writes nothing if it
    raises. A rep creates for themself, a manager for themself or their team, a director for anyone."""
    fields = _clean_fields({"name": name, **fields}, ACCOUNT_FIELDS)
    owner = owner or created_by
    _check_owner(user=created_by, owner=owner)
    parent = fields.get("parent")
    _check_parent(user=created_by, account=None, parent=parent)
    fields["target_since"] = _target_since(
        is_target=bool(fields.get("is_target")), target_since=fields.get("target_since")
    )
    fields["external_key"] = fields.get("external_key") or None
    account = Account.objects.create(owner=owner, **fields)
    if parent is not None and not parent.is_headquarters:
        Account.objects.filter(pk=parent.pk).update(is_headquarters=True)  # an account with branches is an HQ
    return account


@transaction.atomic
def update_account(*, account: Account, changed_by: User, **fields: Any) -> Account:
    """Changes an account's profile (not its owner: see reassign_account); writes nothing if it raises.

    Becoming a target sets `target_since` to today unless given; ceasing to be one clears it.
    """
    if not Account.objects.visible_to(changed_by).filter(pk=account.pk).exists():
        raise NotAllowed(_("You cannot change this account."))
    fields = _clean_fields(dict(fields), ACCOUNT_FIELDS)
    if "parent" in fields:
        _check_parent(user=changed_by, account=account, parent=fields["parent"])
    is_target = fields.get("is_target", account.is_target)
    fields["target_since"] = _target_since(
        is_target=is_target,
        target_since=fields.get("target_since"),
        previous=account.target_since if account.is_target else None,
    )
    if "external_key" in fields:
        fields["external_key"] = fields["external_key"] or None
    for field, value in fields.items():
        setattr(account, field, value)
    account.save()
    parent = fields.get("parent")
    if parent is not None and not parent.is_headquarters:
        Account.objects.filter(pk=parent.pk).update(is_headquarters=True)
    return account


@transaction.atomic
def create_contact(*, created_by: User, account: Account, name: str, **fields: Any) -> Contact:
    """Adds a contact to an account the creator can see; writes nothing if it raises."""
    if not Account.objects.visible_to(created_by).filter(pk=account.pk).exists():
        raise NotAllowed(_("You cannot add contacts to this account."))
    fields = _clean_fields({"name": name, **fields}, CONTACT_FIELDS)
    return Contact.objects.create(account=account, **fields)


@transaction.atomic
def update_contact(*, contact: Contact, changed_by: User, **fields: Any) -> Contact:
    """Changes a contact of an account the user can see (never moves it to another account); writes nothing if it
    raises."""
    if not Contact.objects.visible_to(changed_by).filter(pk=contact.pk).exists():
        raise NotAllowed(_("You cannot change this contact."))
    fields = _clean_fields(dict(fields), CONTACT_FIELDS)
    for field, value in fields.items():
        setattr(contact, field, value)
    contact.save()
    return contact


def set_digest_opt_out(*, user: User, opt_out: bool) -> User:
    """Stores whether `user` stays out of the weekly digest (SPEC §8); writes only that field."""
    User.objects.filter(pk=user.pk).update(digest_opt_out=opt_out)
    user.digest_opt_out = opt_out
    return user
