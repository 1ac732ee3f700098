"""A manager's forecast call (issue 13): their own judgment of what a rep closes in a period, beside the rep's
numbers. Managers call the reps they see, directors anyone; nobody calls their own numbers. Every change of the
amount or the note is a ForecastCallChange."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from core.calendar import period_start as start_of_period
from core.errors import NotAllowed, NotVisible, ValidationFailed
from core.history import changes_between, record_changes
from pipeline.models import ForecastCall, ForecastCallChange
from pipeline.services._common import clean_amount, in_actor_language, is_manager_or_director

CALL_PERIOD_TYPES = ("month", "quarter", "year")
MAX_NOTE = 2000


def _clean_note(value: Any) -> str:
    note = "" if value is None else value.strip() if isinstance(value, str) else None
    if note is None or len(note) > MAX_NOTE:
        raise ValidationFailed(gettext("Enter a note of at most 2000 characters."), field="note")
    return note


@in_actor_language("called_by")
@transaction.atomic
def record_forecast_call(
    *, called_by: User, owner: User, period_type: str, period_start: date, amount: Decimal | str, note: str = ""
) -> ForecastCall:
    """Records or changes `called_by`'s call of what `owner` closes in the period and a ForecastCallChange per
    changed field; writes nothing if it raises (and nothing when nothing changed)."""
    if not is_manager_or_director(called_by):
        raise NotAllowed(gettext("Only a manager or a director makes a forecast call."))
    if not User.objects.visible_to(called_by).filter(pk=owner.pk, is_active=True).exists():
        raise NotVisible(gettext("No such user."), field="owner")
    if owner.pk == called_by.pk:
        raise NotAllowed(gettext("A forecast call is a judgment of someone else's numbers."), field="owner")
    if period_type not in CALL_PERIOD_TYPES:
        raise ValidationFailed(gettext("Choose a month, a quarter or a year."), field="period_type")
    if start_of_period(period_type, period_start) != period_start:
        raise ValidationFailed(gettext("Give the first day of the period."), field="period_start")
    values = {"amount": clean_amount(amount), "note": _clean_note(note)}
    call, created = ForecastCall.objects.select_for_update().get_or_create(
        owner_user=owner,
        period_type=period_type,
        period_start=period_start,
        defaults={**values, "called_by": called_by},
    )
    before = {"amount": None, "note": ""} if created else {"amount": call.amount, "note": call.note}
    changes = changes_between(call.pk, before, values)
    if not created and changes:
        ForecastCall.objects.filter(pk=call.pk).update(**values, called_by=called_by, called_at=timezone.now())
        call.refresh_from_db()
    record_changes(ForecastCallChange, changes, by=called_by)
    return call
