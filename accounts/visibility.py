"""The one visibility rule (SPEC §1). Every page, endpoint, export and digest starts from it.

- a director sees everything;
- a manager sees what they own and what members of the teams they manage own;
- a rep sees what they own.
Teams are visible to their members and manager (and directors).
Rows of other models are visible when their owner is (a visit through its owner, a contact through its account).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

if TYPE_CHECKING:
    from accounts.models import User


def visibility_filter(user: User, owner_path: str = "owner", *, team_path: str | None = None) -> Q:
    """Returns a Q selecting the rows `user` may see.

    `owner_path` is the lookup from the row to its owning user ("" when the rows are users themselves).
    `team_path`, for rows owned by a user or a team (targets), is the lookup to the owning team: a director sees
    every team's rows, a manager those of the teams they manage.
    """
    nothing = Q(pk__in=[])
    if not user.is_authenticated or not user.is_active:
        return nothing
    if user.role == "director":
        return Q()
    prefix = f"{owner_path}__" if owner_path else ""
    by_user = Q(**{owner_path or "pk": user.pk})
    if user.role == "manager":
        by_user |= Q(**{f"{prefix}team__manager": user.pk})
    if team_path is None:
        return by_user
    by_team = Q(**{f"{team_path}__manager": user.pk}) if user.role == "manager" else nothing
    return Q(**{f"{team_path}__isnull": True}) & by_user | Q(**{f"{team_path}__isnull": False}) & by_team


def team_visibility_filter(user: User) -> Q:
    """Returns a Q selecting the teams `user` may see: a director all; anyone else the team they belong to and the
    teams they manage."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.role == "director":
        return Q()
    return Q(pk=user.team_id) | Q(manager=user.pk)
