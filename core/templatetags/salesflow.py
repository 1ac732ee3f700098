"""Template helpers shared by every page: money formatting, bar widths and links to pages that may not exist yet."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from django import template
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

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


_ID_PLACEHOLDER = "918273645546372819"


@lru_cache(maxsize=512)
def _url_around_an_id(name: str, urlconf: str | None, prefix: str) -> tuple[str, str]:
    url = reverse(name, args=[int(_ID_PLACEHOLDER)], urlconf=urlconf)
    before, _placeholder, after = url.partition(_ID_PLACEHOLDER)
    return before, after


@register.simple_tag
def url_of(name: str, pk: int) -> str:
    """`{% url name pk %}` for a page whose one argument is a row's integer id, in lists that link many rows:
    `{% url_of "pipeline:visit" visit.pk %}`. The URL is reversed once per name (and URL configuration) around a
    placeholder id, then each call puts its id in, instead of matching every pattern again."""
    before, after = _url_around_an_id(name, get_urlconf(), get_script_prefix())
    return f"{before}{int(pk)}{after}"


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
