"""The main navigation, assembled here where every app is known, and the context processor that hands it to base.html.

Apps below never name each other's URLs for the menu: each entry is a URL name, shown only once it resolves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# Main navigation, in display order. A link is shown only once its URL name resolves, so pages can be added
# by other apps without touching base.html. Each entry: (URL name, label, extra URL names that mark it active).
NAV_ITEMS: list[tuple[str, str, tuple[str, ...]]] = [
    ("home", _("Home"), ()),
    ("pipeline:board", _("Pipeline board"), ()),
    ("pipeline:opportunity_list", _("Opportunities"), ("pipeline:opportunity",)),
    ("accounts:list", _("Accounts"), ("accounts:detail",)),
    ("pipeline:visit_list", _("Visits"), ("pipeline:visit", "pipeline:visit_log")),
    ("pipeline:visit_plan", _("Visit plan"), ()),
    ("analytics:team", _("Team"), ()),
    ("analytics:matrix", _("CV/PV matrix"), ()),
    ("analytics:territory", _("Territory"), ()),
    ("analytics:targets", _("Targets"), ()),
    ("analytics:forecast", _("Forecast"), ()),
    ("analytics:changes", _("What changed"), ()),
    ("analytics:winloss", _("Win/loss"), ()),
    ("analytics:jobs", _("Jobs"), ()),
    ("pipeline:imports", _("Imports"), ("pipeline:import_job",)),
    (
        "pipeline:webhook_list",
        _("Webhooks"),
        ("pipeline:webhook_create", "pipeline:webhook_edit", "pipeline:webhook_deliveries"),
    ),
]
# Links shown under "More" on a desktop, so the navigation fits one line at 1440 px (issue 12).
NAV_MORE: frozenset[str] = frozenset(
    {
        "analytics:team",
        "analytics:matrix",
        "analytics:territory",
        "analytics:targets",
        "analytics:forecast",
        "analytics:changes",
        "analytics:winloss",
        "analytics:jobs",
        "pipeline:imports",
        "pipeline:webhook_list",
    }
)
# Links the phone's bottom bar (templates/shared/bottom_bar.html) already shows: left out of its "More" menu.
NAV_IN_BOTTOM_BAR: frozenset[str] = frozenset({"home", "pipeline:board"})
# Links only some roles see (URL name -> roles); a link not listed here is shown to everyone.
NAV_ROLES: dict[str, tuple[str, ...]] = {
    "analytics:team": ("manager", "director"),
    "analytics:jobs": ("director",),
    "pipeline:imports": ("manager", "director"),
    "pipeline:webhook_list": ("director",),
}


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    is_active: bool
    is_more: bool = False
    in_bottom_bar: bool = False


def nav_links(request: HttpRequest) -> list[NavLink]:
    """The main navigation links the user's role may see whose URL names resolve, the current page's marked active."""
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    role = getattr(getattr(request, "user", None), "role", None)
    links = []
    for name, label, also_active in NAV_ITEMS:
        if name in NAV_ROLES and role not in NAV_ROLES[name]:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        is_active = current == name or current in also_active
        links.append(
            NavLink(
                label=str(label),
                url=url,
                is_active=is_active,
                is_more=name in NAV_MORE,
                in_bottom_bar=name in NAV_IN_BOTTOM_BAR,
            )
        )
    return links


def navigation(request: HttpRequest) -> dict[str, Callable[[], list[NavLink]]]:
    """Context processor: `nav_links` for base.html, computed only when a template shows it, and once however often
    it does (the desktop bar and its "More" menu both loop over it)."""
    return {"nav_links": cache(lambda: nav_links(request))}
