"""Cleaning the cells of the kinds beyond accounts (issue 14): money, whole numbers in a range, choices by code or by
label in either language, email addresses. Each cleaner turns one cell into a field value or raises BadCell saying
why; nothing here queries.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext

from pipeline.importing.reading import BadCell, is_blank, text_of

MAX_MONEY = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
LANGUAGES = ("en", "zh-hans")


def clean_money(*, default: Decimal | None) -> Callable[[Any], Decimal | None]:
    """An amount in CNY from 0 up with at most two decimals (1,200.50 and ¥1200.5 are fine); empty: `default`."""

    def clean(value: Any) -> Decimal | None:
        if is_blank(value):
            return default
        if isinstance(value, bool):
            raise BadCell(gettext("Enter an amount, not %(value)s.") % {"value": value})
        text = re.sub(r"[\s,，¥￥]", "", text_of(value) if not isinstance(value, float) else repr(value))
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise BadCell(gettext("Enter an amount, not “%(value)s”.") % {"value": value}) from None
        if not amount.is_finite() or not 0 <= amount <= MAX_MONEY:
            raise BadCell(gettext("Enter an amount from 0 to 999,999,999,999.99, not %(value)s.") % {"value": value})
        if amount != amount.quantize(Decimal("0.01")):
            raise BadCell(gettext("At most two decimals: %(value)s.") % {"value": value})
        return amount.quantize(Decimal("0.01"))

    return clean


def clean_whole(*, minimum: int, maximum: int, required: bool) -> Callable[[Any], int | None]:
    """A whole number from `minimum` to `maximum` (1,200 and 1200.0 are fine); empty: None unless `required`."""

    def clean(value: Any) -> int | None:
        if is_blank(value):
            if required:
                raise BadCell(gettext("Enter a number."))
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = re.sub(r"[\s,，]", "", text_of(value)) if not isinstance(value, bool) else "x"
        if not re.fullmatch(r"-?\d+(\.0*)?", text):
            raise BadCell(gettext("Enter a whole number, not “%(value)s”.") % {"value": value})
        number = int(text.split(".")[0])
        if not minimum <= number <= maximum:
            raise BadCell(
                gettext("Enter a whole number from %(min)d to %(max)d, not %(value)d.")
                % {"min": minimum, "max": maximum, "value": number}
            )
        return number

    return clean


def choice_words(choices: list[tuple[str, Any]], extra: dict[str, str] | None = None) -> dict[str, str]:
    """Every word that names a choice: its code and its label in English and Chinese (case-folded) → the code."""
    words = {code.casefold(): code for code, _label in choices}
    for language in LANGUAGES:
        with translation.override(language):
            words.update({str(label).casefold(): code for code, label in choices})
    words.update({word.casefold(): code for word, code in (extra or {}).items()})
    return words


def clean_choice(choices: list[tuple[str, Any]], *, required: bool) -> Callable[[Any], str]:
    """A choice by its code or its label in either language; empty: "" unless `required`."""
    words: dict[str, str] = {}

    def clean(value: Any) -> str:
        if is_blank(value):
            if required:
                raise BadCell(gettext("Choose one of: %(codes)s.") % {"codes": ", ".join(c for c, _ in choices)})
            return ""
        if not words:  # built at the first cell, in the languages, not when the module is imported
            words.update(choice_words(choices))
        code = words.get(text_of(value).casefold())
        if code is None:
            raise BadCell(
                gettext("“%(value)s” is not one of: %(codes)s.")
                % {"value": value, "codes": ", ".join(code for code, _label in choices)}
            )
        return code

    return clean


def clean_email(value: Any) -> str:
    text = text_of(value)
    if not text:
        return ""
    try:
        validate_email(text)
    except ValidationError:
        raise BadCell(gettext("Enter a valid email address, not “%(value)s”.") % {"value": value}) from None
    if len(text) > 254:
        raise BadCell(gettext("At most %(max)d characters.") % {"max": 254})
    return text
