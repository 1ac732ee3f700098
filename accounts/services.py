"""Writes about customers: accounts and their contacts (SPEC §2). Each service is one transaction."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Account, AccountChange, Contact, Team, User
from core.errors import Conflict, NotAllowed, NotVisible, ValidationFailed
from core.history import Change, changes_between, record_changes

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
    _mark_headquarters(parent, changed_by=created_by)
    return account


@transaction.atomic
def update_account(*, account: Account, changed_by: User, **fields: Any) -> Account:
    """Changes an account's profile (not its owner: see reassign_account) and records each field that changed as an
    AccountChange by `changed_by`; writes nothing if it raises. Sets the new values on `account` and returns it.

    Becoming a target sets `target_since` to today unless given; ceasing to be one clears it.
    """
    if not Account.objects.editable_by(changed_by).filter(pk=account.pk).exists():
        raise NotAllowed(_("You cannot change this account."))
    fields = _clean_fields(dict(fields), ACCOUNT_FIELDS)
    if "parent" in fields:
        _check_parent(user=changed_by, account=account, parent=fields["parent"])
    # The row as it is now, locked, so the history's old values are the ones this change replaces.
    current = (
        Account.objects.select_for_update(of=("self",))
        .select_related("industry", "region", "parent")
        .get(pk=account.pk)
    )
    is_target = fields.get("is_target", current.is_target)
    fields["target_since"] = _target_since(
        is_target=is_target,
        target_since=fields.get("target_since"),
        previous=current.target_since if current.is_target else None,
    )
    if "external_key" in fields:
        fields["external_key"] = fields["external_key"] or None
    changes = changes_between(current.pk, {name: getattr(current, name) for name in fields}, fields)
    for field, value in fields.items():
        setattr(current, field, value)
        setattr(account, field, value)
    current.save(update_fields=[*fields, "updated_at"])
    account.updated_at = current.updated_at
    record_changes(AccountChange, changes, by=changed_by)
    _mark_headquarters(fields.get("parent"), changed_by=changed_by)
    return account


# The fields of an account that name another row, loaded so the history can label them.
ACCOUNT_REFERENCES = ("industry", "region", "parent", "owner")


def record_back_office_edit(*, before: Account, changed_by: User, fields: Iterable[str]) -> None:
    """Records, as AccountChanges by `changed_by`, what an edit in the admin changed among the account's `fields`;
    `before` is the row read (with ACCOUNT_REFERENCES) before the admin saved it. One query, then one insert when
    something changed."""
    after = Account.objects.select_related(*ACCOUNT_REFERENCES).get(pk=before.pk)
    names = [name for name in fields if name in ACCOUNT_FIELDS or name in ACCOUNT_REFERENCES]
    changes = changes_between(before.pk, {n: getattr(before, n) for n in names}, {n: getattr(after, n) for n in names})
    record_changes(AccountChange, changes, by=changed_by)


def _mark_headquarters(parent: Account | None, *, changed_by: User) -> None:
    """An account with branches is a headquarters: flags `parent` (recorded) unless it already is one."""
    if parent is None:
        return
    if Account.objects.filter(pk=parent.pk, is_headquarters=False).update(
        is_headquarters=True, updated_at=timezone.now()
    ):
        change = Change(parent_id=parent.pk, field="is_headquarters", old=False, new=True)
        record_changes(AccountChange, [change], by=changed_by)


@transaction.atomic
def create_contact(*, created_by: User, account: Account, name: str, **fields: Any) -> Contact:
    """Adds a contact to an account the creator may change (not one they see read-only); writes nothing if it
    raises."""
    if not Account.objects.editable_by(created_by).filter(pk=account.pk).exists():
        raise NotAllowed(_("You cannot add contacts to this account."))
    fields = _clean_fields({"name": name, **fields}, CONTACT_FIELDS)
    return Contact.objects.create(account=account, **fields)


@transaction.atomic
def update_contact(*, contact: Contact, changed_by: User, **fields: Any) -> Contact:
    """Changes a contact of an account the user may change (never moves it to another account); writes nothing if it
    raises."""
    if not Contact.objects.editable_by(changed_by).filter(pk=contact.pk).exists():
        raise NotAllowed(_("You cannot change this contact."))
    fields = _clean_fields(dict(fields), CONTACT_FIELDS)
    for field, value in fields.items():
        setattr(contact, field, value)
    contact.save()
    return contact


def set_user_language(*, user: User, language: str) -> User:
    """Stores the interface language `user` chose (zh-hans or en); an unknown language changes nothing."""
    if language in dict(settings.LANGUAGES) and user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
    return user


def set_digest_opt_out(*, user: User, opt_out: bool) -> User:
    """Stores whether `user` stays out of the weekly digest (SPEC §8); writes only that field."""
    User.objects.filter(pk=user.pk).update(digest_opt_out=opt_out)
    user.digest_opt_out = opt_out
    return user


def set_reminder_opt_out(*, user: User, opt_out: bool) -> User:
    """Stores whether `user` stays out of the daily reminder email; writes only that field."""
    User.objects.filter(pk=user.pk).update(reminder_opt_out=opt_out)
    user.reminder_opt_out = opt_out
    return user


def _new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


def calendar_token_for(*, user: User) -> str:
    """The secret of `user`'s calendar feed URL, created the first time it is asked for (a compare-and-set on the
    empty token, so two first requests agree on one)."""
    if user.calendar_token:
        return user.calendar_token
    User.objects.filter(pk=user.pk, calendar_token__isnull=True).update(calendar_token=_new_calendar_token())
    user.calendar_token = User.objects.filter(pk=user.pk).values_list("calendar_token", flat=True).get()
    return user.calendar_token


def regenerate_calendar_token(*, user: User) -> str:
    """Replaces `user`'s calendar feed secret: the old feed URL stops answering (404) at once."""
    user.calendar_token = _new_calendar_token()
    User.objects.filter(pk=user.pk).update(calendar_token=user.calendar_token)
    return user.calendar_token


# --- archiving: teams, accounts and contacts are archived, never deleted -------------------------------------------
# Pages and the API archive what the user may change; the admin (`back_office=True`) is gated by Django's model
# permissions instead of the sales role. The rules about the record's state (open opportunities, active members)
# hold everywhere.


def _locked(rows, *, pk: int, user: User, back_office: bool):
    """The row `pk`, locked for this transaction: NotVisible (404) when `user` cannot see it, NotAllowed (403) when
    they see it read-only; unchecked in the back office."""
    if not back_office:
        if not rows.visible_to(user).filter(pk=pk).exists():
            raise NotVisible()
        if hasattr(rows, "editable_by") and not rows.editable_by(user).filter(pk=pk).exists():
            raise NotAllowed(_("You can see this record but not change it."))
    return rows.select_for_update().get(pk=pk)


def _set_archived(row, *, by: User, archived: bool) -> None:
    row.archived_at = timezone.now() if archived else None
    row.archived_by = by if archived else None
    fields = ["archived_at", "archived_by"]
    if hasattr(row, "updated_at"):
        fields.append("updated_at")
    row.save(update_fields=fields)


def _check_may_archive_accounts(user: User, *, back_office: bool) -> None:
    if user.is_rep and not back_office:
        raise NotAllowed(_("Only a sales manager or director may archive or restore an account."))


@transaction.atomic
def archive_account(*, account: Account, archived_by: User, back_office: bool = False) -> Account:
    """Archives an account instead of deleting it: it leaves lists, pickers and choices and keeps its contacts,
    installed base, yearly figures, opportunities and visits for history and analytics (its wins still count).
    Recorded in the account's history.

    Managers and directors archive accounts they can see; one with open opportunities is refused (win or lose them
    first). Archiving an archived account changes nothing. Writes nothing if it raises.
    """
    locked = _locked(Account.objects, pk=account.pk, user=archived_by, back_office=back_office)
    _check_may_archive_accounts(archived_by, back_office=back_office)
    if locked.archived_at is not None:
        return locked
    open_count = locked.opportunities.filter(status="open").count()
    if open_count:
        raise Conflict(
            ngettext(
                "This account has %(count)d open opportunity: win or lose it before archiving the account.",
                "This account has %(count)d open opportunities: win or lose them before archiving the account.",
                open_count,
            )
            % {"count": open_count}
        )
    _set_archived(locked, by=archived_by, archived=True)
    record_changes(AccountChange, [Change(locked.pk, "archived_at", None, locked.archived_at)], by=archived_by)
    return locked


@transaction.atomic
def restore_account(*, account: Account, restored_by: User, back_office: bool = False) -> Account:
    """Brings an archived account back into lists and pickers (managers and directors), recorded in its history;
    writes nothing if it raises."""
    locked = _locked(Account.objects, pk=account.pk, user=restored_by, back_office=back_office)
    _check_may_archive_accounts(restored_by, back_office=back_office)
    if locked.archived_at is not None:
        archived_at = locked.archived_at
        _set_archived(locked, by=restored_by, archived=False)
        record_changes(AccountChange, [Change(locked.pk, "archived_at", archived_at, None)], by=restored_by)
    return locked


@transaction.atomic
def archive_contact(*, contact: Contact, archived_by: User, back_office: bool = False) -> Contact:
    """Archives a contact (someone who left the customer) of an account the user can see: it leaves the contact
    lists and the visit forms' choices, and its visits keep naming it. Writes nothing if it raises."""
    locked = _locked(Contact.objects, pk=contact.pk, user=archived_by, back_office=back_office)
    if locked.archived_at is None:
        _set_archived(locked, by=archived_by, archived=True)
    return locked


@transaction.atomic
def restore_contact(*, contact: Contact, restored_by: User, back_office: bool = False) -> Contact:
    """Brings an archived contact back; writes nothing if it raises."""
    locked = _locked(Contact.objects, pk=contact.pk, user=restored_by, back_office=back_office)
    if locked.archived_at is not None:
        _set_archived(locked, by=restored_by, archived=False)
    return locked


def _check_director(user: User, *, back_office: bool) -> None:
    if not user.is_director and not back_office:
        raise NotAllowed(_("Only a sales director may archive or restore a team."))


@transaction.atomic
def archive_team(*, team: Team, archived_by: User, back_office: bool = False) -> Team:
    """Archives a team (directors): it leaves lists and choices and keeps its targets and history. A team with
    active members is refused (move them to another team first), so nobody is silently left without one. Writes
    nothing if it raises."""
    _check_director(archived_by, back_office=back_office)
    locked = _locked(Team.objects, pk=team.pk, user=archived_by, back_office=back_office)
    if locked.archived_at is not None:
        return locked
    members = locked.members.filter(is_active=True).count()
    if members:
        raise Conflict(
            ngettext(
                "This team has %(count)d active member: move them to another team before archiving it.",
                "This team has %(count)d active members: move them to another team before archiving it.",
                members,
            )
            % {"count": members}
        )
    _set_archived(locked, by=archived_by, archived=True)
    return locked


@transaction.atomic
def restore_team(*, team: Team, restored_by: User, back_office: bool = False) -> Team:
    """Brings an archived team back (directors); writes nothing if it raises."""
    _check_director(restored_by, back_office=back_office)
    locked = _locked(Team.objects, pk=team.pk, user=restored_by, back_office=back_office)
    if locked.archived_at is not None:
        _set_archived(locked, by=restored_by, archived=False)
    return locked


# --- users: the company always keeps an active director ---------------------------------------------------------

USER_FIELDS = frozenset(
    {
        "username",
        "first_name",
        "last_name",
        "email",
        "role",
        "team",
        "language",
        "time_zone",
        "digest_opt_out",
        "is_active",
    }
)


class LastDirector(ValidationFailed):
    code = "last_director"


def ensure_an_active_director_remains(*, user: User, role: str, is_active: bool) -> None:
    """Raises LastDirector (on the field that would change) when giving `user` this role and active flag would leave
    the company without an active director.

    Locks the active directors' rows, so two such changes at once cannot both pass (the second waits, then sees the
    first): call it inside the transaction that saves the change.
    """
    if role == User.Role.DIRECTOR and is_active:
        return
    directors = list(
        User.objects.select_for_update()
        .filter(role=User.Role.DIRECTOR, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if directors != [user.pk]:
        return
    if not is_active:
        message = _(
            "%(name)s is the last active sales director: make someone else a director before deactivating them."
        )
        raise LastDirector(message % {"name": user.display_name}, field="is_active")
    message = _("%(name)s is the last active sales director: make someone else a director before changing their role.")
    raise LastDirector(message % {"name": user.display_name}, field="role")


def check_team_assignable(*, user: User, team: Team | None) -> None:
    """Refuses to put a user into an archived team (staying in the archived team they are in is allowed)."""
    if team is not None and team.archived_at is not None and team.pk != user.team_id:
        raise ValidationFailed(_("This team is archived; choose an active team."), field="team")


@transaction.atomic
def update_user(*, user: User, changed_by: User, **fields: Any) -> User:
    """Changes a user's profile, role, team or active flag (directors); refuses to leave the company without an active
    director or to put the user into an archived team. Writes nothing if it raises."""
    if not changed_by.is_director:
        raise NotAllowed(_("Only a sales director may change this."))
    unknown = set(fields) - USER_FIELDS
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    ensure_an_active_director_remains(
        user=user, role=fields.get("role", user.role), is_active=fields.get("is_active", user.is_active)
    )
    if "team" in fields:
        check_team_assignable(user=user, team=fields["team"])
    for field, value in fields.items():
        setattr(user, field, value)
    if fields:
        user.save(update_fields=sorted(fields))
    return user
