"""A name's pinyin, kept beside it so that search finds 宁波博远 by `ningbo`, `boyuan` or `nbby` (issue 12).

`name_pinyin` is the full pinyin without spaces, `name_initials` the first letter of each syllable (and of each word
of letters or digits), both lowercase and made of [a-z0-9] only. pypinyin reads whole phrases, so 重庆 is `chongqing`.
Every path that writes a name sets both: the models' `save()`, `with_pinyin` before a bulk write, and the data
migration that filled the existing rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol, TypeVar

from django.db import models
from django.utils.translation import gettext_lazy as _

_WORD = re.compile(r"[a-z0-9]+")

PINYIN_FIELDS = ("name_pinyin", "name_initials")


def pinyin_of(name: str) -> tuple[str, str]:
    """Returns (full pinyin, initials) of `name`, lowercase, letters and digits only; ("", "") for a blank name."""
    from pypinyin import Style, lazy_pinyin  # its dictionaries load on first use, not with every process

    full, initials = [], []
    for part in lazy_pinyin(name or "", style=Style.NORMAL, errors="default"):
        words = _WORD.findall(part.lower())
        full.extend(words)
        initials.extend(word[0] for word in words)
    return "".join(full), "".join(initials)


class Named(Protocol):
    name: str
    name_pinyin: str
    name_initials: str


N = TypeVar("N", bound=Named)


def with_pinyin(rows: Iterable[N]) -> list[N]:
    """Sets `name_pinyin` and `name_initials` of each row from its name (before a bulk_create or bulk_update);
    returns the rows as a list."""
    rows = list(rows)
    for row in rows:
        row.name_pinyin, row.name_initials = pinyin_of(row.name)
    return rows


class PinyinNamed(models.Model):
    """A row with a `name` (defined by the concrete model) and that name's pinyin, kept in step on every save."""

    name_pinyin = models.CharField(_("name in pinyin"), max_length=1200, blank=True, editable=False)
    name_initials = models.CharField(_("initials of the name in pinyin"), max_length=400, blank=True, editable=False)

    class Meta:
        abstract = True

    def save(self, **kwargs) -> None:
        # Derived from the row's own name, so every save (services, admin, fixtures) keeps it true; bulk writes,
        # which skip save(), call with_pinyin.
        self.name_pinyin, self.name_initials = pinyin_of(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, *PINYIN_FIELDS}
        super().save(**kwargs)
