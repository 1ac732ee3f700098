"""Helpers the service modules share: running in the acting user's language, loading an opportunity under the
optimistic lock and writing it by compare-and-set, the stage rules, visibility checks and cleaning typed values.

Internal to `pipeline.services`: nothing outside the package imports from here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.db.models import F, Model
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Account, Competitor, User
from accounts.visibility import sees_without_asking
from core.errors import NotAllowed, NotVisible, SalesFlowError, StaleVersion, ValidationFailed
from core.history import Change, changes_between, record_changes
from pipeline.models import Opportunity, OpportunityChange, Stage

MAX_AMOUNT = Decimal("999999999999.99")  # max_digits=14, decimal_places=2

ModelT = TypeVar("ModelT", bound=Model)


def in_actor_language(actor_argument: str) -> Callable:
    """Runs a service in the language of its acting user; a refusal's message is fixed in that language."""

    def decorate(service: Callable) -> Callable:
        @functools.wraps(service)
        def run(**kwargs: Any) -> Any:
            actor = kwargs.get(actor_argument)
            with translation.override(getattr(actor, "language", None) or translation.get_language()):
                try:
                    return service(**kwargs)
                except SalesFlowError as error:
                    error.message = str(error.message)
                    raise

        return run

    return decorate


def is_manager_or_director(user: User) -> bool:
    return user.role in (User.Role.MANAGER, User.Role.DIRECTOR)


def load_opportunity(opportunity: Opportunity, actor: User, expected_version: int | None) -> Opportunity:
    """Reads the opportunity afresh if `actor` may see it and nobody saved it since the caller's version."""
    current = (
        Opportunity.objects.visible_to(actor)
        .select_related("pipeline", "stage", "furthest_stage", "owner", "lost_to")
        .filter(pk=opportunity.pk)
        .first()
    )
    if current is None:
        raise NotVisible(gettext("No such opportunity."))
    token = opportunity.version if expected_version is None else expected_version
    if current.version != token:
        raise StaleVersion()
    return current


# Opportunity fields whose changes are not history rows: derived from the stage changes, or bookkeeping.
UNRECORDED_FIELDS = frozenset({"stage_entered_at", "furthest_stage", "version", "updated_at"})


def compare_and_set(current: Opportunity, *, changed_by: User | None, change_reason: str = "", **changes: Any) -> None:
    """Writes `changes` and bumps the version only if the row still has the version `current` was read with, and
    records every field that changed as an OpportunityChange by `changed_by` (with `change_reason`); two queries
    when something changed (`current` must have its related rows loaded, as load_opportunity does)."""
    if not Opportunity.objects.filter(pk=current.pk, version=current.version).update(
        **changes, version=F("version") + 1, updated_at=timezone.now()
    ):
        raise StaleVersion()
    record_changes(
        OpportunityChange,
        opportunity_changes(current, changes),
        by=changed_by,
        reason=change_reason,
    )


def opportunity_changes(current: Opportunity, changes: dict[str, Any]) -> list[Change]:
    """The history of writing `changes` over `current`: one Change per recorded field that differs, and one per
    manual criterion whose value differs (field `criteria_values.<code>`); runs no query."""
    recorded = {name: value for name, value in changes.items() if name not in UNRECORDED_FIELDS}
    criteria = recorded.pop("criteria_values", None)
    result = changes_between(current.pk, {name: getattr(current, name) for name in recorded}, recorded)
    if criteria is not None:
        before = current.criteria_values or {}
        result += changes_between(
            current.pk,
            {f"criteria_values.{code}": value for code, value in before.items()},
            {f"criteria_values.{code}": criteria.get(code) for code in sorted(set(before) | set(criteria))},
        )
    return result


def refreshed(instance: ModelT) -> ModelT:
    """The same instance, read again from the database (what the service wrote, version included)."""
    instance.refresh_from_db()
    return instance


def stages_of(pipeline_id: int) -> list[Stage]:
    return list(Stage.objects.filter(pipeline_id=pipeline_id).order_by("order"))


def closing_stage(stages: list[Stage]) -> Stage | None:
    return next((s for s in stages if s.is_closing), None)


def after_sales_stage(stages: list[Stage], closing: Stage) -> Stage | None:
    """The first after-sales stage after the closing stage: where a won opportunity goes."""
    return next((s for s in stages if s.is_after_sales and s.order > closing.order), None)


def open_may_reach(stage: Stage, stages: list[Stage]) -> bool:
    """An open opportunity stays at or before the closing stage; only a win takes it further."""
    closing = closing_stage(stages)
    return not stage.is_after_sales and (closing is None or stage.order <= closing.order)


def check_user_assignable(user: User, actor: User, *, field: str) -> None:
    """`user` must be an active user `actor` can see (a rep can only name themself)."""
    if user is None or not User.objects.visible_to(actor).filter(pk=user.pk, is_active=True).exists():
        raise ValidationFailed(gettext("Choose a user from your team."), field=field)


def check_account_visible(account: Account, actor: User) -> None:
    if account is not None and sees_without_asking(actor, owner_id=account.owner_id):
        return  # their own account (or a director): no query
    if account is None or not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
        raise NotVisible(gettext("No such account."), field="account")


def check_account_editable(account: Account, actor: User) -> None:
    """`actor` may change the account: NotVisible (404) when they cannot see it, NotAllowed (403) when they see it
    read-only (through an opportunity or a visit of theirs at it)."""
    if Account.objects.editable_by(actor).filter(pk=account.pk).exists():
        return
    check_account_visible(account, actor)
    raise NotAllowed(gettext("You can see this account but not change it."))


def clean_name(value: Any) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not name or len(name) > 200:
        raise ValidationFailed(gettext("Enter a name of at most 200 characters."), field="name")
    return name


def clean_amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise ValidationFailed(gettext("Enter an amount in CNY."), field="amount") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(
            gettext("Enter an amount of 0 or more, with at most two decimal places."), field="amount"
        )
    return amount.quantize(Decimal("0.01"))


def clean_date(value: Any, *, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        raise ValidationFailed(gettext("Enter a date without a time."), field=field)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationFailed(gettext("Enter a valid date (YYYY-MM-DD)."), field=field) from None


def clean_source(value: Any) -> str:
    source = value or ""
    if source and source not in Opportunity.Source.values:
        raise ValidationFailed(gettext("Choose a source from the list."), field="source")
    return source


def clean_probability(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValidationFailed(gettext("Enter a whole percentage from 0 to 100."), field="probability")
    return value


def clean_forecast_category(value: Any) -> str:
    if value not in Opportunity.ForecastCategory.values:
        raise ValidationFailed(gettext("Choose a forecast category from the list."), field="forecast_category")
    return value


def clean_competitors(values: Iterable[Any]) -> list[Competitor]:
    ids = [v.pk if isinstance(v, Competitor) else v for v in values or ()]
    found = list(Competitor.objects.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise ValidationFailed(gettext("Choose competitors from the list."), field="competitors")
    return found


def clean_competitor(value: Any, *, field: str) -> Competitor | None:
    if value in (None, ""):
        return None
    competitor = value if isinstance(value, Competitor) else Competitor.objects.filter(pk=value).first()
    if competitor is None or competitor.pk is None:
        raise ValidationFailed(gettext("Choose a competitor from the list."), field=field)
    return competitor


def aware(value: datetime, *, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationFailed(gettext("Enter a date and time."), field=field)
    return timezone.make_aware(value) if timezone.is_naive(value) else value
