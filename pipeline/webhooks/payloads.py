"""What each event says: the `data` of a webhook body, built from the rows the event is about.

Names are given in both languages where the product keeps both (stages), amounts as decimal strings in CNY, times in
ISO 8601 UTC, and a link to the page. A builder runs only when some endpoint wants the event, in one query.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from accounts.models import User
from pipeline.models import Opportunity, Stage, Visit


def iso(moment: datetime | None) -> str | None:
    """A moment as ISO 8601 in UTC, as every time in a payload is."""
    return moment and moment.astimezone(UTC).isoformat()


def _url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _user(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.display_name}


def stage_data(stage: Stage | None) -> dict[str, Any] | None:
    if stage is None:
        return None
    return {"code": stage.code, "name_zh": stage.name_zh, "name_en": stage.name_en}


def opportunity_data(opportunity_id: int) -> dict[str, Any]:
    """The opportunity as events show it; one query."""
    opportunity = Opportunity.objects.select_related("account", "owner", "stage", "lost_to").get(pk=opportunity_id)
    return {
        "opportunity": {
            "id": opportunity.pk,
            "name": opportunity.name,
            "status": opportunity.status,
            "amount": str(opportunity.amount),
            "currency": "CNY",
            "probability": opportunity.probability,
            "expected_close_date": opportunity.expected_close_date and opportunity.expected_close_date.isoformat(),
            "closed_at": iso(opportunity.closed_at),
            "stage": stage_data(opportunity.stage),
            "account": {"id": opportunity.account_id, "name": opportunity.account.name},
            "owner": _user(opportunity.owner),
            "loss_reason": opportunity.loss_reason,
            "lost_to": opportunity.lost_to and opportunity.lost_to.name,
            "url": _url(opportunity.get_absolute_url()),
        }
    }


def visit_data(visit_id: int) -> dict[str, Any]:
    """The done visit as events show it; one query."""
    visit = Visit.objects.select_related("account", "owner", "opportunity").get(pk=visit_id)
    return {
        "visit": {
            "id": visit.pk,
            "kind": visit.kind,
            "done_at": iso(visit.done_at),
            "account": {"id": visit.account_id, "name": visit.account.name},
            "owner": _user(visit.owner),
            "opportunity": visit.opportunity and {"id": visit.opportunity_id, "name": visit.opportunity.name},
            "purpose": visit.purpose,
            "summary": visit.summary,
            "next_step": visit.next_step,
            "satisfaction": visit.satisfaction,
            "url": _url(visit.get_absolute_url()),
        }
    }


def reassignment_data(*, account, from_owner: User | None, to_owner: User, reassigned_by: User) -> dict[str, Any]:
    """An account's new owner as events show it; runs no query (the caller holds the rows)."""
    return {
        "account": {"id": account.pk, "name": account.name, "url": _url(account.get_absolute_url())},
        "from_owner": _user(from_owner),
        "to_owner": _user(to_owner),
        "reassigned_by": _user(reassigned_by),
    }
