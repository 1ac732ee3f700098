"""Search: accounts, contacts and opportunities whose name matches what the user typed, best first (issue 12).

A name matches by its characters (`博远` finds 宁波博远连锁超市有限公司) and, for accounts and contacts, by its
pinyin in full (`boyuan`, `ningbo`) or by initials (`nbby`). Best first: the exact name, then names (or pinyin)
starting with the query, then names containing it; shorter names first within a rank. Only what the viewer may see,
never archived rows (nor opportunities of archived accounts).

On PostgreSQL every condition is `LIKE '%...%'` on a column with a trigram index (core.indexes.TrigramIndex), so the
search reads the indexes, not the tables; on SQLite the same ORM reads the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Case, Q, QuerySet, Value, When
from django.db.models.functions import Length
from django.urls import reverse

from accounts.models import Account, Contact, User
from pipeline.models import Opportunity

SEARCH_TYPES = ("account", "contact", "opportunity")
SEARCH_QUERY_MAX_LENGTH = 100
SEARCH_LIMIT = 20
PICK_LIMIT = 10  # a picker's options
_PINYIN_QUERY = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class SearchResult:
    type: str  # one of SEARCH_TYPES
    id: int
    title: str
    subtitle: str
    url: str
    rank: int  # 0 the exact name, 1 starts with the query, 2 contains it


def _pinyin_query(query: str) -> str:
    """The query as the pinyin columns store names (lowercase, no spaces); empty when it cannot be pinyin."""
    compact = re.sub(r"[\s'·-]+", "", query.lower())
    return compact if _PINYIN_QUERY.fullmatch(compact) else ""


def pinyin_matches(query: str) -> Q:
    """Rows whose name's pinyin, in full or by initials, contains `query`; nothing when `query` cannot be pinyin."""
    compact = _pinyin_query(query)
    if not compact:
        return Q(pk__in=[])
    return Q(name_pinyin__contains=compact) | Q(name_initials__contains=compact)


def _matching(rows: QuerySet, query: str, *, pinyin: bool) -> QuerySet:
    """`rows` whose name (or pinyin) contains `query`, annotated with their rank and ordered best first."""
    compact = _pinyin_query(query) if pinyin else ""
    contains = Q(name__icontains=query)
    starts = Q(name__istartswith=query)
    if compact:
        contains |= Q(name_pinyin__contains=compact) | Q(name_initials__contains=compact)
        starts |= Q(name_pinyin__startswith=compact) | Q(name_initials__startswith=compact)
    rank = Case(When(name__iexact=query, then=Value(0)), When(starts, then=Value(1)), default=Value(2))
    return (
        rows.filter(contains)
        .annotate(rank=rank, name_length=Length("name"))
        .order_by("rank", "name_length", "name", "pk")
    )


def matching_accounts(*, viewer: User, query: str, limit: int = SEARCH_LIMIT) -> QuerySet[Account]:
    """Up to `limit` visible active accounts matching `query`, best first, with their region; one query."""
    rows = Account.objects.visible_to(viewer).active().select_related("region")
    return _matching(rows, query, pinyin=True)[:limit]


def matching_contacts(*, viewer: User, query: str, limit: int = SEARCH_LIMIT) -> QuerySet[Contact]:
    """Up to `limit` visible active contacts (of active accounts) matching `query`, best first, with their account;
    one query."""
    rows = Contact.objects.visible_to(viewer).active().select_related("account")
    return _matching(rows, query, pinyin=True)[:limit]


def matching_opportunities(*, viewer: User, query: str, limit: int = SEARCH_LIMIT) -> QuerySet[Opportunity]:
    """Up to `limit` visible opportunities of active accounts whose name matches `query`, best first, with their
    account and stage; one query."""
    rows = (
        Opportunity.objects.visible_to(viewer)
        .filter(account__archived_at__isnull=True)
        .select_related("account", "stage")
    )
    return _matching(rows, query, pinyin=False)[:limit]


def _account_result(account: Account) -> SearchResult:
    subtitle = " · ".join(part for part in (str(account.region or ""), account.address) if part)
    url = reverse("accounts:detail", args=[account.pk])
    return SearchResult("account", account.pk, account.name, subtitle, url, account.rank)


def _contact_result(contact: Contact) -> SearchResult:
    subtitle = " · ".join(part for part in (contact.title, contact.account.name) if part)
    url = reverse("accounts:detail", args=[contact.account_id]) + f"#contact-{contact.pk}"
    return SearchResult("contact", contact.pk, contact.name, subtitle, url, contact.rank)


def _opportunity_result(opportunity: Opportunity) -> SearchResult:
    subtitle = f"{opportunity.account.name} · {opportunity.stage.name}"
    url = reverse("pipeline:opportunity", args=[opportunity.pk])
    return SearchResult("opportunity", opportunity.pk, opportunity.name, subtitle, url, opportunity.rank)


def search(
    *, viewer: User, query: str, types: tuple[str, ...] = SEARCH_TYPES, limit: int = SEARCH_LIMIT
) -> list[SearchResult]:
    """Up to `limit` results of the given types matching `query`, best first (rank, then accounts before contacts
    before opportunities, then the shorter title); one query per type, none for a blank query."""
    query = query.strip()
    if not query:
        return []
    results: list[SearchResult] = []
    if "account" in types:
        results += map(_account_result, matching_accounts(viewer=viewer, query=query, limit=limit))
    if "contact" in types:
        results += map(_contact_result, matching_contacts(viewer=viewer, query=query, limit=limit))
    if "opportunity" in types:
        results += map(_opportunity_result, matching_opportunities(viewer=viewer, query=query, limit=limit))
    order = {kind: i for i, kind in enumerate(SEARCH_TYPES)}
    results.sort(key=lambda r: (r.rank, order[r.type], len(r.title), r.title, r.id))
    return results[:limit]
