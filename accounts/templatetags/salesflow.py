"""Template helpers shared by every page: money formatting, bar widths and navigation links that may not exist yet."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

register = template.Library()

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
]
# Links only some roles see (URL name -> roles); a link not listed here is shown to everyone.
NAV_ROLES: dict[str, tuple[str, ...]] = {
    "analytics:team": ("manager", "director"),
}


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    is_active: bool


def _url_or_blank(name: str, *args) -> str:
    try:
        return reverse(name, args=args or None)
    except NoReverseMatch:
        return ""


@register.simple_tag
def nav_url(name: str, *args) -> str:
    """The URL for a URL name, or "" when that page does not exist (yet): `{% nav_url "pipeline:board" as url %}`."""
    return _url_or_blank(name, *args)


@register.simple_tag(takes_context=True)
def nav_links(context) -> list[NavLink]:
    """The main navigation links whose URL names resolve, the current page's marked active."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    role = getattr(context.get("user"), "role", None)
    links = []
    for name, label, also_active in NAV_ITEMS:
        if name in NAV_ROLES and role not in NAV_ROLES[name]:
            continue
        if url := _url_or_blank(name):
            links.append(NavLink(label=str(label), url=url, is_active=current == name or current in also_active))
    return links


def _as_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


@register.filter
def cny(value) -> str:
    """Formats an amount of CNY as whole yuan with thousands separators: 1234567.5 -> "¥1,234,568"; empty -> "—"."""
    amount = _as_decimal(value)
    if amount is None:
        return "—"
    whole = amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    sign = "-" if whole < 0 else ""
    return f"{sign}¥{abs(whole):,.0f}"


@register.filter
def percent_of(value, total) -> str:
    """The share of `value` in `total` as a CSS-ready percentage between 0 and 100, e.g. "42.5"; "0" when total is 0."""
    part, whole = _as_decimal(value), _as_decimal(total)
    if part is None or not whole or whole <= 0:
        return "0"
    share = max(Decimal(0), min(Decimal(100), part * 100 / whole))
    return f"{share.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}"
