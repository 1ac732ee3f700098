"""Giving work to another owner: an opportunity, an account with its open opportunities and planned visits, and
the bulk handover of accounts an import or an owner change records."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Account, AccountChange, User
from core.errors import NotAllowed
from core.history import Change, record_changes, reference
from pipeline.models import Opportunity, OpportunityChange, Reassignment, Visit
from pipeline.services._common import (
    check_account_editable,
    check_user_assignable,
    compare_and_set,
    in_actor_language,
    is_manager_or_director,
    load_opportunity,
    refreshed,
)
from pipeline.services.webhook_events import account_reassigned


@in_actor_language("reassigned_by")
@transaction.atomic
def reassign_opportunity(
    *, opportunity: Opportunity, to_owner: User, reassigned_by: User, owner_field: str = "to_owner"
) -> Opportunity:
    """Gives an opportunity and its planned visits to another user the actor can see (managers and directors only),
    keeping stage, history and done visits, and records a Reassignment; writes nothing if it raises.

    A refused new owner is reported on `owner_field`, the name the caller's input gave it.
    """
    current = load_opportunity(opportunity, reassigned_by, None)
    if not is_manager_or_director(reassigned_by):
        raise NotAllowed(gettext("Only a manager or a director may reassign."))
    check_user_assignable(to_owner, reassigned_by, field=owner_field)
    from_owner = current.owner
    if from_owner.pk == to_owner.pk:
        return refreshed(opportunity)
    now = timezone.now()
    compare_and_set(current, changed_by=reassigned_by, owner=to_owner)
    Visit.objects.planned().filter(opportunity=current, owner=from_owner).update(owner=to_owner, updated_at=now)
    Reassignment.objects.create(
        opportunity=current, from_owner=from_owner, to_owner=to_owner, reassigned_by=reassigned_by, reassigned_at=now
    )
    return refreshed(opportunity)


@in_actor_language("reassigned_by")
@transaction.atomic
def reassign_account(
    *,
    account: Account,
    to_owner: User,
    reassigned_by: User,
    with_open_opportunities: bool = True,
    owner_field: str = "to_owner",
) -> Account:
    """Gives an account to another user the actor can see (managers and directors only) and records a
    Reassignment; by default also the previous owner's open opportunities at it (each recorded) and planned visits
    there. Stages, history and done visits stay. Writes nothing if it raises.

    A refused new owner is reported on `owner_field`, the name the caller's input gave it.
    """
    check_account_editable(account, reassigned_by)
    if not is_manager_or_director(reassigned_by):
        raise NotAllowed(gettext("Only a manager or a director may reassign."))
    check_user_assignable(to_owner, reassigned_by, field=owner_field)
    locked = Account.objects.select_for_update().get(pk=account.pk)
    from_owner_id = locked.owner_id
    if from_owner_id == to_owner.pk:
        return refreshed(account)
    now = timezone.now()
    Account.objects.filter(pk=locked.pk).update(owner=to_owner, updated_at=now)
    hand_over_accounts(
        moves={locked.pk: (from_owner_id, to_owner.pk)},
        reassigned_by=reassigned_by,
        at=now,
        with_open_opportunities=with_open_opportunities,
    )
    account_reassigned(account=locked, from_owner_id=from_owner_id, to_owner=to_owner, by=reassigned_by)
    return refreshed(account)


HANDOVER_IDS_PER_QUERY = 5000
HANDOVER_BATCH_SIZE = 500


def hand_over_accounts(
    *,
    moves: dict[int, tuple[int | None, int]],
    reassigned_by: User | None,
    at: datetime,
    with_open_opportunities: bool = True,
) -> None:
    """Records accounts that changed owner (account id -> (previous owner id, new owner id)), each with a
    Reassignment and an `owner` AccountChange, and by default gives each previous owner's open opportunities (each
    recorded likewise, version bumped) and planned visits at that account to the new owner. The caller has already
    changed the accounts' owner and checked who may do it. Its queries do not grow with the number of accounts
    (reads in chunks of HANDOVER_IDS_PER_QUERY ids, writes in batches)."""
    if not moves:
        return
    name_of = _display_names({user_id for pair in moves.values() for user_id in pair if user_id is not None})

    def owner_change(pk: int, old: int | None, new: int) -> Change:
        return Change(
            parent_id=pk, field="owner", old=reference(old, name_of.get(old)), new=reference(new, name_of[new])
        )

    records = [
        Reassignment(account_id=pk, from_owner_id=old, to_owner_id=new, reassigned_by=reassigned_by, reassigned_at=at)
        for pk, (old, new) in moves.items()
    ]
    account_changes = [owner_change(pk, old, new) for pk, (old, new) in moves.items()]
    opportunity_changes: list[Change] = []
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
            opportunity_changes.append(owner_change(opportunity.pk, old, new))
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
    record_changes(AccountChange, account_changes, by=reassigned_by, at=at)
    record_changes(OpportunityChange, opportunity_changes, by=reassigned_by, at=at)


def _display_names(user_ids: set[int]) -> dict[int, str]:
    """Users' display names by id, in one query per HANDOVER_IDS_PER_QUERY users."""
    ids = sorted(user_ids)
    names: dict[int, str] = {}
    for start in range(0, len(ids), HANDOVER_IDS_PER_QUERY):
        users = User.objects.filter(pk__in=ids[start : start + HANDOVER_IDS_PER_QUERY])
        names.update({user.pk: user.display_name for user in users.only("username", "first_name", "last_name")})
    return names
