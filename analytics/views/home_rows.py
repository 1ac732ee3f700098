"""The home page's list rows, drawn here rather than by home.html (as the board's cards are, pipeline/views/board.py).

The home page is a third of what a rep opens all day (issue 10's mix). A to-do row with its two forms is some thirty
template lookups and tags: the rows cost more than every other part of the page, its queries included. Here each
row is one `format_html` of values the selector loaded, the words translated once per page; the template prints the
rows and draws everything else. tests/analytics/test_home_rows.py holds the rows to what a person sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from core.templatetags.salesflow import cny, url_of

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from django.http import HttpRequest

    from analytics.selectors.coverage import StaleOpportunity, UntouchedAccount
    from analytics.selectors.todo import TodoList
    from pipeline.models import Opportunity, Visit


@dataclass(frozen=True)
class TodoRows:
    """The `<li>` rows of each to-do list, ready to print."""

    overdue: SafeString
    follow_ups: SafeString
    past_close: SafeString
    stale: SafeString
    untouched: SafeString


_OWNER = '<span class="muted small home-list__side">{}</span>'

_VISIT = (
    '<li class="home-list__item todo__item" data-visit="{pk}">\n'
    '  <span class="home-list__when{late}">{when}</span>\n'
    '  <span class="home-list__main"><a href="{url}">{account}</a>'
    '<span class="muted small home-list__sub">{about}</span></span>\n'
    "  {owner}\n"
    '  <div class="todo__actions">\n'
    '    <details class="todo__action" data-action="done">\n'
    '      <summary class="btn btn--small">{done}</summary>\n'
    '      <form class="todo__form" method="post" action="{done_url}" hx-post="{done_url}" hx-target="#todo"'
    ' hx-swap="outerHTML">\n'
    '        <input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">\n'
    '        <label for="done-{pk}-summary">{outcome}</label>\n'
    '        <textarea id="done-{pk}-summary" name="done-{pk}-summary" rows="2" maxlength="4000" required></textarea>\n'
    '        <button type="submit" class="btn btn--primary btn--small">{mark_done}</button>\n'
    "      </form>\n"
    "    </details>\n"
    '    <details class="todo__action" data-action="reschedule">\n'
    '      <summary class="btn btn--small btn--ghost">{reschedule}</summary>\n'
    '      <form class="todo__form" method="post" action="{move_url}" hx-post="{move_url}" hx-target="#todo"'
    ' hx-swap="outerHTML">\n'
    '        <input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">\n'
    '        <label for="move-{pk}-planned_at">{new_time}</label>\n'
    '        <input type="datetime-local" id="move-{pk}-planned_at" name="move-{pk}-planned_at" required>\n'
    '        <button type="submit" class="btn btn--primary btn--small">{reschedule}</button>\n'
    "      </form>\n"
    "    </details>\n"
    "  </div>\n"
    "</li>\n"
)

_PAST_CLOSE = (
    '<li class="home-list__item todo__item" data-opportunity="{pk}">\n'
    '  <span class="home-list__when text-danger">{close_date}</span>\n'
    '  <span class="home-list__main"><a href="{url}">{name}</a>'
    '<span class="muted small home-list__sub">{account} · {stage} · {amount}</span></span>\n'
    "  {owner}\n"
    '  <div class="todo__actions">\n'
    '    <details class="todo__action">\n'
    '      <summary class="btn btn--small">{update_date}</summary>\n'
    '      <form class="todo__form" method="post" action="{form_url}" hx-post="{form_url}" hx-target="#todo"'
    ' hx-swap="outerHTML">\n'
    '        <input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">\n'
    '        <label for="close-{pk}-date">{new_date}</label>\n'
    '        <input type="date" id="close-{pk}-date" name="close-{pk}-expected_close_date" required min="{today}"'
    ' value="{today}">\n'
    '        <button type="submit" class="btn btn--primary btn--small">{save}</button>\n'
    "      </form>\n"
    "    </details>\n"
    "  </div>\n"
    "</li>\n"
)

_STALE = (
    '<li class="home-list__item" data-opportunity="{pk}">\n'
    '  <span class="home-list__when">{idle}</span>\n'
    '  <span class="home-list__main"><a href="{url}">{name}</a>'
    '<span class="muted small home-list__sub">{account} · {stage} · {amount}</span></span>\n'
    "  {owner}\n"
    "</li>\n"
)

_UNTOUCHED = (
    '<li class="home-list__item" data-account="{pk}">\n'
    '  <span class="home-list__when">{priority}</span>\n'
    '  <span class="home-list__main"><a href="{url}">{name}</a>'
    '<span class="muted small home-list__sub">{last_visit}</span></span>\n'
    "  {owner}\n"
    "</li>\n"
)

_AGENDA = (
    '<li class="home-list__item" data-visit="{pk}">\n'
    '  <span class="home-list__when">{when}</span>\n'
    '  <span class="home-list__main"><a href="{url}">{account}</a>{purpose}</span>\n'
    "  {owner}\n"
    "</li>\n"
)


def _joined(rows: Iterable[SafeString]) -> SafeString:
    return mark_safe("".join(rows))  # each row is format_html's: its values are escaped


def _owner(row, show_owner: bool) -> str:
    """The owner's name of a row (a visit, an opportunity, an account), only when shown: a rep's rows leave the owner
    unloaded."""
    return format_html(_OWNER, row.owner.display_name) if show_owner else ""


def _visit_labels() -> dict[str, str]:
    return {
        "done": pgettext("to-do action", "Done"),
        "outcome": _("What came out of it?"),
        "mark_done": _("Mark as done"),
        "reschedule": _("Reschedule"),
        "new_time": _("New time"),
    }


def _todo_visits(visits: list[Visit], *, now: datetime, show_owner: bool, csrf: str, labels: dict) -> SafeString:
    rows = []
    for visit in visits:
        about = [visit.get_kind_display()]
        if visit.contact_id is not None:
            about.append(visit.contact.name)
        if visit.purpose:
            about.append(visit.purpose)
        rows.append(
            format_html(
                _VISIT,
                pk=visit.pk,
                late=" text-danger" if visit.planned_at < now else "",
                when=timezone.localtime(visit.planned_at).strftime("%m-%d %H:%M"),
                url=url_of("pipeline:visit", visit.pk),
                account=visit.account.name,
                about=" · ".join(about),
                owner=_owner(visit, show_owner),
                done_url=url_of("analytics:todo_visit_done", visit.pk),
                move_url=url_of("analytics:todo_visit_reschedule", visit.pk),
                csrf=csrf,
                **labels,
            )
        )
    return _joined(rows)


def _past_close(opportunities: list[Opportunity], *, today: str, show_owner: bool, csrf: str) -> SafeString:
    labels = {"update_date": _("Update date"), "new_date": _("New expected close date"), "save": _("Save")}
    return _joined(
        format_html(
            _PAST_CLOSE,
            pk=opportunity.pk,
            close_date=opportunity.expected_close_date.isoformat(),
            url=url_of("pipeline:opportunity", opportunity.pk),
            name=opportunity.name,
            account=opportunity.account.name,
            stage=opportunity.stage.name,
            amount=cny(opportunity.amount),
            owner=_owner(opportunity, show_owner),
            form_url=url_of("analytics:todo_close_date", opportunity.pk),
            csrf=csrf,
            today=today,
            **labels,
        )
        for opportunity in opportunities
    )


def stale_rows(items: list[StaleOpportunity], *, show_owner: bool) -> SafeString:
    """The rows of stale opportunities, longest idle first, as the to-do and the stale list show them."""
    return _joined(
        format_html(
            _STALE,
            pk=item.opportunity.pk,
            idle="—" if item.days_idle is None else _("%(days)s d") % {"days": item.days_idle},
            url=url_of("pipeline:opportunity", item.opportunity.pk),
            name=item.opportunity.name,
            account=item.opportunity.account.name,
            stage=item.opportunity.stage.name,
            amount=cny(item.opportunity.amount),
            owner=_owner(item.opportunity, show_owner),
        )
        for item in items
    )


def _last_visit(days: int | None) -> str:
    if days is None:
        return _("never visited")
    return ngettext("last visit %(days)s day ago", "last visit %(days)s days ago", days) % {"days": days}


def untouched_rows(items: list[UntouchedAccount], *, show_owner: bool) -> SafeString:
    """The rows of untouched target accounts, in visit-priority order, as the to-do and the untouched list show
    them."""
    return _joined(
        format_html(
            _UNTOUCHED,
            pk=item.account_id,
            priority=f"#{item.priority}" if item.priority else "—",
            url=url_of("accounts:detail", item.account_id),
            name=item.name,
            last_visit=_last_visit(item.days_since),
            owner=_owner(item, show_owner),
        )
        for item in items
    )


def todo_rows(todo: TodoList, *, request: HttpRequest, show_owner: bool) -> TodoRows:
    """Every row of the to-do: its visits with their done and reschedule forms, the opportunities past their date with
    the new-date form, and the nightly flags' first rows."""
    csrf, labels = get_token(request), _visit_labels()
    return TodoRows(
        overdue=_todo_visits(todo.overdue.items, now=todo.now, show_owner=show_owner, csrf=csrf, labels=labels),
        follow_ups=_todo_visits(todo.follow_ups.items, now=todo.now, show_owner=show_owner, csrf=csrf, labels=labels),
        past_close=_past_close(todo.past_close.items, today=todo.today.isoformat(), show_owner=show_owner, csrf=csrf),
        stale=stale_rows(todo.stale.items, show_owner=show_owner),
        untouched=untouched_rows(todo.untouched.items, show_owner=show_owner),
    )


def agenda_rows(visits: list[Visit], *, show_owner: bool) -> SafeString:
    """The week's planned visits, in time order: the weekday and time (in the viewer's time zone), account, purpose."""
    return _joined(
        format_html(
            _AGENDA,
            pk=visit.pk,
            when=format_date(timezone.localtime(visit.planned_at), "D H:i"),
            url=url_of("pipeline:visit", visit.pk),
            account=visit.account.name,
            purpose=format_html('<span class="muted small home-list__sub">{}</span>', visit.purpose)
            if visit.purpose
            else "",
            owner=_owner(visit, show_owner),
        )
        for visit in visits
    )
