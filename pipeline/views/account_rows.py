"""The account page's visit timeline and opportunity rows, drawn here rather than by accounts/detail.html (as the
board's cards and the home page's lists are: pipeline/views/board.py, analytics/views/home_rows.py).

The account page is a quarter of what a rep opens all day (issue 10's mix); its twenty timeline entries, a dozen
template lookups and tags each, cost as much as the rest of the page's template. Each row here is one `format_html`
of what the selector loaded, the words translated once per page. tests/pipeline/test_account_rows.py holds them to
what a person sees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from core.templatetags.salesflow import cny, url_of
from pipeline.models import Opportunity, Visit

if TYPE_CHECKING:
    from pipeline.selectors.accounts import TimelineVisit

_VISIT = (
    '<li class="timeline__item timeline__item--{status}">\n'
    '  <div class="timeline__when">{day}<span class="muted"> {time}</span></div>\n'
    '  <div class="timeline__body">\n'
    '    <a href="{url}"><strong>{kind}</strong></a>\n'
    "    {badge}\n"
    '    <span class="muted small">{about}</span>\n'
    "    {text}{complete}\n"
    "  </div>\n"
    "</li>\n"
)

_OPPORTUNITY = (
    "<li>\n"
    '  <a href="{url}">{name}</a>\n'
    '  <span class="account-opportunities__meta">\n'
    "    {badge}\n"
    '    <span class="num">{amount}</span>\n'
    '    <span class="muted small">{owner}</span>\n'
    "  </span>\n"
    "</li>\n"
)


def _text(visit: TimelineVisit, next_step_label: str) -> str:
    if visit.status == Visit.Status.DONE:
        parts = []
        if visit.summary:
            parts.append(format_html('<p class="timeline__text">{}</p>', visit.summary))
        if visit.next_step:
            line = '<p class="timeline__text muted small">{}: {}</p>'
            parts.append(format_html(line, next_step_label, visit.next_step))
        return mark_safe("".join(parts))
    if visit.purpose:
        return format_html('<p class="timeline__text">{}</p>', visit.purpose)
    return ""


def timeline_rows(visits: list[TimelineVisit], *, back: str) -> SafeString:
    """The timeline's entries, newest first: when, kind (a link to the visit), a planned or cancelled badge, whose,
    with whom and about what, the outcome or the purpose, and a "Complete" button on a planned visit the viewer may
    complete, which comes back to `back` (the account page's path)."""
    badges = {
        Visit.Status.PLANNED: format_html('<span class="badge badge--info">{}</span>', _("Planned")),
        Visit.Status.CANCELLED: format_html('<span class="badge badge--danger">{}</span>', _("Cancelled")),
    }
    next_step_label, complete_label, back = _("Next step"), _("Complete"), quote(back, safe="/")
    rows = []
    for visit in visits:
        about = [visit.owner_name]
        if visit.contact_name is not None:
            about.append(visit.contact_name)
        if visit.opportunity_name is not None:
            about.append(visit.opportunity_name)
        complete = ""
        if visit.status == Visit.Status.PLANNED and visit.is_editable:
            complete = format_html(
                '\n    <a class="btn btn--small btn--primary" href="{}?next={}">{}</a>',
                url_of("pipeline:visit_complete", visit.pk),
                back,
                complete_label,
            )
        rows.append(
            format_html(
                _VISIT,
                status=visit.status,
                day=visit.day,
                time=visit.time,
                url=url_of("pipeline:visit", visit.pk),
                kind=visit.kind_label,
                badge=badges.get(visit.status, ""),
                about=" · ".join(about),
                text=_text(visit, next_step_label),
                complete=complete,
            )
        )
    return mark_safe("".join(rows))  # each row is format_html's: its values are escaped


def opportunity_rows(opportunities: list[Opportunity]) -> SafeString:
    """The account's opportunities: name (a link), the stage of an open one or how a closed one ended, amount, owner."""
    rows = []
    for opportunity in opportunities:
        if opportunity.status == Opportunity.Status.OPEN:
            badge = format_html(
                '<span class="badge badge--stage stage-{}">{}</span>', opportunity.stage.order, opportunity.stage.name
            )
        else:
            badge = format_html(
                '<span class="badge badge--{}">{}</span>', opportunity.status, opportunity.get_status_display()
            )
        rows.append(
            format_html(
                _OPPORTUNITY,
                url=url_of("pipeline:opportunity", opportunity.pk),
                name=opportunity.name,
                badge=badge,
                amount=cny(opportunity.amount),
                owner=opportunity.owner.display_name,
            )
        )
    return mark_safe("".join(rows))
