"""Errors raised by services. Each carries its HTTP status, the form field it belongs to and a stable code.

Pages turn a `SalesFlowError` into a form error on `field` (or a page message when it is None); the API's one
exception handler answers `status` with `as_dict()` as JSON. Messages are translatable and resolve in the active
language when rendered; `ExitCriteriaNotMet` is built in the acting user's language by the service that raises it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from django.utils.translation import gettext, gettext_lazy


class UnmetCriterion(Protocol):
    """What an error needs to know of an unmet exit criterion (pipeline.criteria.UnmetCriterion has it)."""

    stage_code: str
    code: str
    label: Any
    reason: Any


class SalesFlowError(Exception):
    """A rule refused the request; nothing was written."""

    status: int = 400
    code: str = "invalid"
    field: str | None = None
    default_message: Any = gettext_lazy("The request could not be carried out.")

    def __init__(
        self, message: Any = None, *, field: str | None = None, code: str | None = None, status: int | None = None
    ) -> None:
        self.message = message if message is not None else self.default_message
        if field is not None:
            self.field = field
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        super().__init__(self.message)

    def __str__(self) -> str:
        return str(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, "message": str(self.message)}


class ValidationFailed(SalesFlowError):
    """A value is not acceptable; `field` names it."""

    code = "invalid"


class InvalidMove(SalesFlowError):
    """The opportunity cannot go to that stage (unknown stage, closed opportunity, after-sales without a win)."""

    field = "stage"
    code = "invalid_move"
    default_message = gettext_lazy("This opportunity cannot be moved to that stage.")


class ExitCriteriaNotMet(SalesFlowError):
    """Moving forward needs exit criteria that are not met; `.unmet` lists every one of them."""

    field = "stage"
    code = "exit_criteria_not_met"

    def __init__(self, unmet: list[UnmetCriterion], *, field: str | None = None) -> None:
        self.unmet = list(unmet)
        # Built now, in the language active where it is raised (the service activates the user's language).
        message = gettext("These exit criteria are not met: %(criteria)s.") % {
            "criteria": "; ".join(str(item.label) for item in self.unmet)
        }
        super().__init__(message, field=field)

    def as_dict(self) -> dict[str, Any]:
        return {
            **super().as_dict(),
            "unmet": [
                {"stage": item.stage_code, "code": item.code, "label": str(item.label), "reason": str(item.reason)}
                for item in self.unmet
            ],
        }


class OverrideNotAllowed(SalesFlowError):
    """Only managers and directors may override exit criteria."""

    field = "override_reason"
    code = "override_not_allowed"
    default_message = gettext_lazy("Only a manager or a director may override exit criteria.")


class StaleVersion(SalesFlowError):
    """Someone saved the record since it was loaded; reload and try again."""

    status = 409
    field = "version"
    code = "stale_version"
    default_message = gettext_lazy("Someone else changed this record in the meantime. Reload it and try again.")


class NotAllowed(SalesFlowError):
    """The user can see the record but their role may not make this change."""

    status = 403
    code = "not_allowed"
    default_message = gettext_lazy("Your role does not allow this change.")


class NotVisible(SalesFlowError):
    """The record does not exist for this user (answers 404, never revealing that it exists)."""

    status = 404
    code = "not_found"
    default_message = gettext_lazy("Not found.")


class Conflict(SalesFlowError):
    """The record's current state does not allow this change (archiving an account with open opportunities, a team
    with members); nothing was written."""

    status = 409
    code = "conflict"


@contextmanager
def fields_renamed(renames: dict[str, str]) -> Iterator[None]:
    """Reports a service's refusal under the field name the request used (an API field named apart from the
    service's argument)."""
    try:
        yield
    except SalesFlowError as error:
        if error.field in renames:
            error.field = renames[error.field]
        raise
