"""The one visibility rule (SPEC §1). Every page, endpoint, export and digest starts from it.

Who owns what:
- a director sees everything;
- a manager sees what they own and what members of the teams they manage own;
- a rep sees what they own.
These are the viewer's *visible owners*. Beyond what those owners own:
- a visit is visible with its author, with the owner of its account and with the owner of its opportunity;
- an account is visible to its owner's side and, read-only, to the side of whoever owns an opportunity or a visit at
  it; rows about an account (contacts, installed base, yearly figures, matrix values) are visible with it;
- teams are visible to their members and manager (and directors).
What a user may change is the owners' side only (`visibility_filter`): an account seen through an opportunity or a
visit at it, and another rep's visit seen through one's account or opportunity, are read-only.

The shape, so that the cost of a page follows what its viewer sees: every condition compares a column of the row
itself (owner, account, opportunity, id) with a list of ids computed once — the visible owners, their accounts, their
opportunities — and never filters a join of every row. The planner then starts from the owner, account and
opportunity indexes (see `AnyOfArray`), also where the rule ORs several conditions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import apps
from django.db.models import BooleanField, Expression, ExpressionWrapper, F, Q, QuerySet, Value
from django.db.models.lookups import In

if TYPE_CHECKING:
    from accounts.models import User


# The fields of a viewer the rule reads besides its keys (id, team): a statement built for one viewer serves every
# viewer alike in these (core.statements).
VIEWER_SHAPE = ("role", "is_active")


class AnyOfArray(In):
    """`column IN (subquery)`, the portable form; on PostgreSQL `column = ANY(ARRAY(subquery))`.

    PostgreSQL evaluates `ARRAY(subquery)` once (an InitPlan) and looks its ids up in the index on the column, also
    under an OR (a BitmapOr of index scans). An `IN (subquery)` under an OR cannot become a semi-join: PostgreSQL then
    reads the whole table and checks each row against a hashed subplan.
    """

    lookup_name = "any_of_array"

    def as_postgresql(self, compiler, connection):
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)  # "(SELECT ...)"
        return f"{lhs_sql} = ANY(ARRAY{rhs_sql})", (*lhs_params, *rhs_params)


def among(path: str, ids: QuerySet) -> Q:
    """A Q selecting the rows whose `path` (a foreign key or "pk") is one of the ids `ids` selects."""
    return Q(AnyOfArray(F(path), ids.order_by()))


def as_boolean(condition: Q) -> Expression:
    """`condition` as a boolean column, for an annotation (an empty Q selects every row: TRUE)."""
    if not condition:
        return Value(True)
    return ExpressionWrapper(condition, output_field=BooleanField())


def _model(label: str):
    # By name: the rule spans pipeline's tables (accounts does not import pipeline) and runs while models load.
    return apps.get_model(*label.split("."))


def _sees_nothing(user: User) -> bool:
    return not user.is_authenticated or not user.is_active


def visible_owners(user: User) -> QuerySet:
    """The ids of the users whose rows `user` sees: themself and, for a manager, the members of the teams they
    manage (a director sees every row; callers do not filter for them)."""
    mine = Q(pk=user.pk) | Q(team__manager=user.pk) if user.role == "manager" else Q(pk=user.pk)
    return _model("accounts.User").objects.filter(mine).values("pk")


def sees_everything(user: User) -> bool:
    """Whether `user` sees every row of the company (an active director): what reads of company-wide sums or
    snapshots (analytics.rollups) ask before serving them instead of the rows."""
    return not _sees_nothing(user) and user.role == "director"


def sees_without_asking(user: User, *, owner_id: int | None) -> bool:
    """Whether `user` surely sees a row owned by `owner_id` by the rule above, without a query: a director sees every
    row, anyone their own. False only means: ask the database (`visible_to`)."""
    if _sees_nothing(user):
        return False
    return user.role == "director" or (owner_id is not None and owner_id == user.pk)


def _owned_by_visible_owners(user: User, owner_path: str) -> Q:
    if user.role == "manager":
        return among(owner_path, visible_owners(user))
    return Q(**{owner_path: user.pk})  # a rep: one id, no subquery needed


def visibility_filter(user: User, owner_path: str = "owner", *, team_path: str | None = None) -> Q:
    """Returns a Q selecting the rows of the owners `user` sees (what `user` may see and change by ownership).

    `owner_path` is the lookup from the row to its owning user ("" when the rows are users themselves).
    `team_path`, for rows owned by a user or a team (targets), is the lookup to the owning team: a director sees
    every team's rows, a manager those of the teams they manage.
    """
    nothing = Q(pk__in=[])
    if _sees_nothing(user):
        return nothing
    if user.role == "director":
        return Q()
    if not owner_path:  # users: a small table, filtered directly
        by_user = Q(pk=user.pk) | Q(team__manager=user.pk) if user.role == "manager" else Q(pk=user.pk)
    else:
        by_user = _owned_by_visible_owners(user, owner_path)
    if team_path is None:
        return by_user
    by_team = Q(**{f"{team_path}__manager": user.pk}) if user.role == "manager" else nothing
    return Q(**{f"{team_path}__isnull": True}) & by_user | Q(**{f"{team_path}__isnull": False}) & by_team


def _others_accounts_with(user: User, rows: QuerySet) -> QuerySet:
    """The ids of the accounts owned by someone else at which `rows` (opportunities or visits) are."""
    at = rows.values("account_id").distinct()
    return _model("accounts.Account").objects.filter(among("pk", at)).exclude(_owned_by_visible_owners(user, "owner"))


def _of_visible_owners(user: User, label: str) -> QuerySet:
    return _model(label).objects.filter(_owned_by_visible_owners(user, "owner"))


def account_visibility_filter(user: User) -> Q:
    """Returns a Q selecting the accounts `user` may see: owned by a visible owner, or with an opportunity or a visit
    of a visible owner at them (those read-only).

    The second and third lists hold only accounts owned by someone else: usually few ids, so checking a row against
    them is cheap also when the planner walks an index in the list's order.
    """
    if _sees_nothing(user):
        return Q(pk__in=[])
    if user.role == "director":
        return Q()
    return (
        _owned_by_visible_owners(user, "owner")
        | among("pk", _others_accounts_with(user, _of_visible_owners(user, "pipeline.Opportunity")).values("pk"))
        | among("pk", _others_accounts_with(user, _of_visible_owners(user, "pipeline.Visit")).values("pk"))
    )


def account_row_visibility_filter(user: User, account_path: str = "account") -> Q:
    """Returns a Q selecting the rows about an account (contacts, installed base, ...) that `user` may see: those of
    the accounts they may see."""
    if _sees_nothing(user):
        return Q(pk__in=[])
    if user.role == "director":
        return Q()
    accounts = _model("accounts.Account").objects.filter(account_visibility_filter(user))
    return among(account_path, accounts.values("pk"))


def visit_visibility_filter(user: User) -> Q:
    """Returns a Q selecting the visits `user` may see: made by a visible owner, or at an account or about an
    opportunity a visible owner owns.

    Beyond the visible owners' own visits the lists hold only the exceptions, usually few ids: the visible owners'
    accounts where someone else made a visit, and the visible owners' opportunities at someone else's account (a
    visit about an opportunity is at the opportunity's account).
    """
    if _sees_nothing(user):
        return Q(pk__in=[])
    if user.role == "director":
        return Q()
    own_accounts = _of_visible_owners(user, "accounts.Account").values("pk")
    visited_by_others = (
        _model("pipeline.Visit")
        .objects.filter(among("account", own_accounts))
        .exclude(_owned_by_visible_owners(user, "owner"))
        .values("account_id")
        .distinct()
    )
    opportunities = _of_visible_owners(user, "pipeline.Opportunity")
    crossing = opportunities.filter(among("account", _others_accounts_with(user, opportunities).values("pk")))
    return (
        _owned_by_visible_owners(user, "owner")
        | among("account", visited_by_others)
        | among("opportunity", crossing.values("pk"))
    )


def team_visibility_filter(user: User) -> Q:
    """Returns a Q selecting the teams `user` may see: a director all; anyone else the team they belong to and the
    teams they manage."""
    if _sees_nothing(user):
        return Q(pk__in=[])
    if user.role == "director":
        return Q()
    return Q(pk=user.team_id) | Q(manager=user.pk)
