"""Template helpers shared by every page: money formatting, bar widths and links to pages that may not exist yet."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


def _url_or_blank(name: str, *args) -> str:
    try:
        return reverse(name, args=args or None)
    except NoReverseMatch:
        return ""


@register.simple_tag
def nav_url(name: str, *args) -> str:
    """The URL for a URL name, or "" when that page does not exist (yet): `{% nav_url "pipeline:board" as url %}`."""
    return _url_or_blank(name, *args)


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
