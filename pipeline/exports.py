"""What the pipeline lists export (issue 14): the columns of opportunities, visits and sales targets.

Each function takes a queryset the caller already narrowed to the viewer's visible rows and to the page's (or the
API's) filters and order, and returns a `core.exports.Table` read in one query. Headers are translated when the
table is written, in the viewer's language; names of stages, regions and industries are the viewer's language's.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.exports import localized_name, person_name
from core.exports import Column, Kind, Table, queryset_table
from pipeline.models import Opportunity, SalesTarget, Visit


def opportunity_table(*, queryset: QuerySet[Opportunity], **kwargs) -> Table:
    """The opportunities of the queryset, in its order, one row each; one query."""
    columns = [
        Column(_("Opportunity"), "name"),
        Column(_("Account"), "account__name"),
        Column(_("Owner"), person_name("owner")),
        Column(_("Sales process"), localized_name("pipeline", zh="name_zh")),
        Column(_("Stage"), localized_name("stage", zh="name_zh")),
        Column(_("Status"), "status", labels=dict(Opportunity.Status.choices)),
        Column(_("Amount (CNY)"), "amount", Kind.MONEY),
        Column(_("Win probability (%)"), "probability", Kind.INT),
        Column(_("Expected close"), "expected_close_date", Kind.DATE),
        Column(_("Source"), "source", labels=dict(Opportunity.Source.choices)),
        Column(_("Created at"), "created_at", Kind.DATETIME),
        Column(_("Closed at"), "closed_at", Kind.DATETIME),
        Column(_("Loss reason"), "loss_reason", labels=dict(Opportunity.LossReason.choices)),
        Column(_("ID"), "pk", Kind.INT),
    ]
    return queryset_table(name="opportunities", filename="opportunities", queryset=queryset, columns=columns, **kwargs)


def visit_table(*, queryset: QuerySet[Visit], **kwargs) -> Table:
    """The visits of the queryset, in its order, one row each; one query."""
    columns = [
        Column(_("Account"), "account__name"),
        Column(_("Contact"), "contact__name"),
        Column(_("Opportunity"), "opportunity__name"),
        Column(_("Owner"), person_name("owner")),
        Column(_("Kind"), "kind", labels=dict(Visit.Kind.choices)),
        Column(_("Status"), "status", labels=dict(Visit.Status.choices)),
        Column(_("Planned for"), "planned_at", Kind.DATETIME),
        Column(_("Done at"), "done_at", Kind.DATETIME),
        Column(_("Purpose"), "purpose"),
        Column(_("Summary / outcome"), "summary"),
        Column(_("Next step"), "next_step"),
        Column(_("Satisfaction (0–10)"), "satisfaction", Kind.INT),
        Column(_("ID"), "pk", Kind.INT),
    ]
    return queryset_table(name="visits", filename="visits", queryset=queryset, columns=columns, **kwargs)


def target_table(*, queryset: QuerySet[SalesTarget], **kwargs) -> Table:
    """The sales targets of the queryset (a user's or a team's), one row each; one query."""
    columns = [
        Column(_("Person"), person_name("owner_user")),
        Column(_("Team"), "owner_team__name"),
        Column(_("Period"), "period_type", labels=dict(SalesTarget.PeriodType.choices)),
        Column(_("Period start"), "period_start", Kind.DATE),
        Column(_("Target amount (CNY)"), "amount", Kind.MONEY),
        Column(_("ID"), "pk", Kind.INT),
    ]
    return queryset_table(name="targets", filename="targets", queryset=queryset, columns=columns, **kwargs)
