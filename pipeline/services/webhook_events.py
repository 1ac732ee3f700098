"""The events pipeline services emit to webhooks and robots (issue 14), each a call the service makes inside its own
transaction (pipeline.services.webhooks.emit): one query when no endpoint wants the event. An event belongs to the
team of the opportunity's or visit's owner; an account's reassignment to both owners' teams."""

from __future__ import annotations

from collections.abc import Callable

from accounts.models import Account, User
from pipeline.models import Opportunity, Stage, Visit, WebhookEndpoint
from pipeline.services.webhooks import emit
from pipeline.webhooks import payloads

Event = WebhookEndpoint.Event


def _teams_of(*user_ids: int | None) -> Callable:
    def teams() -> set[int | None]:
        return set(User.objects.filter(pk__in=[pk for pk in user_ids if pk]).values_list("team_id", flat=True))

    return teams


def opportunity_event(event: str, opportunity: Opportunity, *, from_stage: Stage | None = None) -> list[int]:
    """opportunity.created, .stage_changed (with `from_stage`), .won or .lost."""

    def data() -> dict:
        body = payloads.opportunity_data(opportunity.pk)
        if event == Event.OPPORTUNITY_STAGE_CHANGED:
            body["from_stage"] = payloads.stage_data(from_stage)
            body["to_stage"] = body["opportunity"]["stage"]
        return body

    return emit(event, team_ids=_teams_of(opportunity.owner_id), data=data)


def visit_done(visit: Visit) -> list[int]:
    return emit(Event.VISIT_DONE, team_ids=_teams_of(visit.owner_id), data=lambda: payloads.visit_data(visit.pk))


def account_reassigned(*, account: Account, from_owner_id: int | None, to_owner: User, by: User) -> list[int]:
    def data() -> dict:
        from_owner = User.objects.filter(pk=from_owner_id).first() if from_owner_id else None
        return payloads.reassignment_data(account=account, from_owner=from_owner, to_owner=to_owner, reassigned_by=by)

    return emit(Event.ACCOUNT_REASSIGNED, team_ids=_teams_of(from_owner_id, to_owner.pk), data=data)
