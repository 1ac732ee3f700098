"""Visits: plan one, log one already done, complete, change or cancel a planned one; completing or logging a visit
may plan the next."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Account, Contact, User
from core.errors import NotAllowed, NotVisible, ValidationFailed
from pipeline.models import Opportunity, Visit
from pipeline.services._common import aware, check_account_visible, check_user_assignable, in_actor_language, refreshed
from pipeline.services.webhook_events import visit_done


def _check_visit_links(
    *, account: Account, contact: Contact | None, opportunity: Opportunity | None, actor: User
) -> None:
    if contact is not None and contact.account_id != account.pk:
        raise ValidationFailed(gettext("The contact must work at the visit's account."), field="contact")
    if opportunity is not None:
        if opportunity.account_id != account.pk:
            raise ValidationFailed(gettext("The opportunity must be at the visit's account."), field="opportunity")
        if not Opportunity.objects.visible_to(actor).filter(pk=opportunity.pk).exists():
            raise NotVisible(gettext("No such opportunity."), field="opportunity")


def _clean_kind(kind: str) -> str:
    if kind not in Visit.Kind.values:
        raise ValidationFailed(gettext("Choose a kind of visit from the list."), field="kind")
    return kind


def _clean_done_at(done_at: datetime, actor: User) -> datetime:
    """Not in the future, and for everyone but directors at most SALESFLOW_VISIT_BACKDATE_DAYS calendar days back."""
    done_at = aware(done_at, field="done_at")
    now = timezone.now()
    if done_at > now:
        raise ValidationFailed(gettext("A visit cannot be done in the future."), field="done_at")
    days = settings.SALESFLOW_VISIT_BACKDATE_DAYS
    if not actor.is_director and timezone.localdate(done_at) < timezone.localdate(now) - timedelta(days=days):
        raise ValidationFailed(
            gettext("A visit can be logged at most %(days)d days back.") % {"days": days}, field="done_at"
        )
    return done_at


def _clean_satisfaction(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise ValidationFailed(gettext("Enter a satisfaction from 0 to 10."), field="satisfaction")
    return value


def _clean_planned_at(planned_at: datetime, *, field: str) -> datetime:
    """Today or later (local time): a plan made afterwards is not a plan."""
    planned_at = aware(planned_at, field=field)
    if timezone.localdate(planned_at) < timezone.localdate():
        raise ValidationFailed(gettext("Plan the visit for today or later."), field=field)
    return planned_at


def _plan_next_visit(done: Visit, *, next_visit_at: datetime | None, purpose: str) -> Visit | None:
    if next_visit_at is None:
        return None
    next_visit_at = aware(next_visit_at, field="next_visit_at")
    if next_visit_at <= timezone.now():
        raise ValidationFailed(gettext("Plan the next visit in the future."), field="next_visit_at")
    return Visit.objects.create(
        account_id=done.account_id,
        contact_id=done.contact_id,
        opportunity_id=done.opportunity_id,
        owner_id=done.owner_id,
        kind=Visit.Kind.VISIT,
        status=Visit.Status.PLANNED,
        planned_at=next_visit_at,
        purpose=(purpose or "").strip(),
    )


@in_actor_language("planned_by")
@transaction.atomic
def plan_visit(
    *,
    planned_by: User,
    account: Account,
    planned_at: datetime,
    kind: str = Visit.Kind.VISIT,
    purpose: str = "",
    contact: Contact | None = None,
    opportunity: Opportunity | None = None,
    owner: User | None = None,
) -> Visit:
    """Plans a visit for today or later at an account the planner can see, for themself or (managers, directors)
    a user they can see; writes nothing if it raises."""
    check_account_visible(account, planned_by)
    owner = owner or planned_by
    if owner.pk != planned_by.pk:
        check_user_assignable(owner, planned_by, field="owner")
    _check_visit_links(account=account, contact=contact, opportunity=opportunity, actor=planned_by)
    return Visit.objects.create(
        account=account,
        contact=contact,
        opportunity=opportunity,
        owner=owner,
        kind=_clean_kind(kind),
        status=Visit.Status.PLANNED,
        planned_at=_clean_planned_at(planned_at, field="planned_at"),
        purpose=(purpose or "").strip(),
    )


@in_actor_language("logged_by")
@transaction.atomic
def log_visit(
    *,
    logged_by: User,
    account: Account,
    done_at: datetime,
    kind: str = Visit.Kind.VISIT,
    summary: str = "",
    purpose: str = "",
    next_step: str = "",
    contact: Contact | None = None,
    opportunity: Opportunity | None = None,
    satisfaction: int | None = None,
    next_visit_at: datetime | None = None,
    next_visit_purpose: str = "",
    owner: User | None = None,
) -> Visit:
    """Records a visit already done (not in the future; at most SALESFLOW_VISIT_BACKDATE_DAYS back except for
    directors), with the opportunity's current stage, and plans the next one when `next_visit_at` is given
    (set as `.next_visit` on the returned visit). A manager or director may log it for a user they can see
    (`owner`), e.g. to load history. Writes nothing if it raises."""
    check_account_visible(account, logged_by)
    owner = owner or logged_by
    if owner.pk != logged_by.pk:
        check_user_assignable(owner, logged_by, field="owner")
    _check_visit_links(account=account, contact=contact, opportunity=opportunity, actor=logged_by)
    visit = Visit.objects.create(
        account=account,
        contact=contact,
        opportunity=opportunity,
        owner=owner,
        kind=_clean_kind(kind),
        status=Visit.Status.DONE,
        done_at=_clean_done_at(done_at, logged_by),
        purpose=(purpose or "").strip(),
        summary=(summary or "").strip(),
        next_step=(next_step or "").strip(),
        satisfaction=_clean_satisfaction(satisfaction),
        stage_when_done_id=(
            Opportunity.objects.filter(pk=opportunity.pk).values_list("stage_id", flat=True).first()
            if opportunity is not None
            else None
        ),
    )
    visit.next_visit = _plan_next_visit(visit, next_visit_at=next_visit_at, purpose=next_visit_purpose)
    visit_done(visit)
    return visit


def _refuse_visit(visit: Visit, actor: User) -> NotAllowed | NotVisible:
    """Why `actor` may not change the visit: they see it read-only (another side's visit at their account or about
    their opportunity) or not at all."""
    if Visit.objects.visible_to(actor).filter(pk=visit.pk).exists():
        return NotAllowed(gettext("You can see this visit but not change it."))
    return NotVisible(gettext("No such visit."))


def _load_planned_visit(visit: Visit, actor: User) -> Visit:
    current = Visit.objects.editable_by(actor).filter(pk=visit.pk).first()
    if current is None:
        raise _refuse_visit(visit, actor)
    if current.status != Visit.Status.PLANNED:
        raise ValidationFailed(gettext("This visit is no longer planned."), field="status")
    return current


@in_actor_language("completed_by")
@transaction.atomic
def complete_visit(
    *,
    visit: Visit,
    completed_by: User,
    summary: str,
    next_step: str = "",
    satisfaction: int | None = None,
    done_at: datetime | None = None,
    next_visit_at: datetime | None = None,
    next_visit_purpose: str = "",
) -> Visit:
    """Marks a planned visit done (now, or `done_at` under log_visit's date rules) with its outcome and the
    opportunity's current stage, and plans the next one when `next_visit_at` is given (`.next_visit`).
    Writes nothing if it raises."""
    current = _load_planned_visit(visit, completed_by)
    summary = (summary or "").strip()
    if not summary:
        raise ValidationFailed(gettext("Write what came out of the visit."), field="summary")
    done_at = _clean_done_at(done_at if done_at is not None else timezone.now(), completed_by)
    stage_id = None
    if current.opportunity_id is not None:
        stage_id = Opportunity.objects.filter(pk=current.opportunity_id).values_list("stage_id", flat=True).first()
    # Compare-and-set on status: a visit completed or cancelled meanwhile is not completed twice.
    if not Visit.objects.filter(pk=current.pk, status=Visit.Status.PLANNED).update(
        status=Visit.Status.DONE,
        done_at=done_at,
        summary=summary,
        next_step=(next_step or "").strip(),
        satisfaction=_clean_satisfaction(satisfaction),
        stage_when_done_id=stage_id,
        updated_at=timezone.now(),
    ):
        raise ValidationFailed(gettext("This visit is no longer planned."), field="status")
    current.refresh_from_db()
    next_visit = _plan_next_visit(current, next_visit_at=next_visit_at, purpose=next_visit_purpose)
    visit_done(current)
    visit = refreshed(visit)
    visit.next_visit = next_visit
    return visit


VISIT_EDITABLE_FIELDS = ("kind", "planned_at", "purpose", "summary", "next_step", "satisfaction")


@in_actor_language("changed_by")
@transaction.atomic
def update_visit(*, visit: Visit, changed_by: User, **fields: Any) -> Visit:
    """Changes the plain fields of a visit the user may change (kind, planned time while planned, texts, satisfaction)
    under the same rules as planning it; status moves only through complete/cancel. Writes nothing if it raises."""
    current = Visit.objects.editable_by(changed_by).select_for_update(of=("self",)).filter(pk=visit.pk).first()
    if current is None:
        raise _refuse_visit(visit, changed_by)
    if unknown := sorted(set(fields) - set(VISIT_EDITABLE_FIELDS)):
        raise ValidationFailed(gettext("This field cannot be changed here."), field=unknown[0])
    if "kind" in fields:
        current.kind = _clean_kind(fields["kind"])
    if "planned_at" in fields and fields["planned_at"] != current.planned_at:
        if current.status != Visit.Status.PLANNED:
            raise ValidationFailed(gettext("Only a planned visit can be moved."), field="planned_at")
        current.planned_at = _clean_planned_at(fields["planned_at"], field="planned_at")
    for text_field in ("purpose", "summary", "next_step"):
        if text_field in fields:
            setattr(current, text_field, (fields[text_field] or "").strip())
    if "satisfaction" in fields:
        current.satisfaction = _clean_satisfaction(fields["satisfaction"])
    current.save()
    return current


@in_actor_language("cancelled_by")
@transaction.atomic
def cancel_visit(*, visit: Visit, cancelled_by: User) -> Visit:
    """Cancels a planned visit; writes nothing if it raises."""
    current = _load_planned_visit(visit, cancelled_by)
    if not Visit.objects.filter(pk=current.pk, status=Visit.Status.PLANNED).update(
        status=Visit.Status.CANCELLED, updated_at=timezone.now()
    ):
        raise ValidationFailed(gettext("This visit is no longer planned."), field="status")
    return refreshed(visit)
