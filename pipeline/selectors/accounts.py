"""Reads for the account pages: the account page, the account list and the account search; never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.db.models import Case, Count, F, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.text import Truncator
from django.utils.timezone import localtime

from accounts.facts import CUSTOMER_TYPE_LABELS, customer_type_for
from accounts.models import Account, AccountChange, Contact, InstalledBase, Region, User, display_name
from accounts.visibility import VIEWER_SHAPE, sees_without_asking
from core.statements import bound_queryset
from pipeline.models import Opportunity, Visit
from pipeline.selectors.history import ChangePage, change_page
from pipeline.selectors.search import pinyin_matches

ACCOUNT_PAGE_TIMELINE_LENGTH = 30


@dataclass(frozen=True)
class InstalledBaseSummary:
    """An account's installed base rows and its units split ours / competitors."""

    rows: list[InstalledBase]
    our_units: int
    competitor_units: int

    @property
    def total_units(self) -> int:
        return self.our_units + self.competitor_units

    @property
    def customer_type(self) -> str:
        return customer_type_for(our_units=self.our_units, competitor_units=self.competitor_units)

    @property
    def customer_type_label(self) -> str:
        return str(CUSTOMER_TYPE_LABELS[self.customer_type])

    @property
    def our_share(self) -> float | None:
        """Our share of the installed units (0–1); None when there are none."""
        return self.our_units / self.total_units if self.total_units else None


@dataclass(frozen=True)
class TimelineVisit:
    """A visit as the account page's timeline shows it: its kind's label and the names of its owner, contact and
    opportunity read with it (None: no contact, no opportunity), and whether the viewer may complete it."""

    pk: int
    status: str
    kind_label: str
    when: datetime | None
    day: str  # `when` in the viewer's time zone, "2025-06-18" ("" when the visit has no time)
    time: str  # and its time of day, "15:30"
    owner_name: str
    contact_name: str | None
    opportunity_name: str | None
    purpose: str  # cut to TIMELINE_TEXT_LENGTH characters as the truncatechars filter cuts (…)
    summary: str  # the same
    next_step: str  # cut to TIMELINE_NEXT_STEP_LENGTH
    is_editable: bool


TIMELINE_TEXT_LENGTH, TIMELINE_NEXT_STEP_LENGTH = 200, 120


def _cut(text: str, length: int) -> str:
    """`text|truncatechars:length`, without the filter's cost for the many texts that are short enough already (a
    text of at most `length` characters is never cut)."""
    return text if len(text) <= length else Truncator(text).chars(length)


@dataclass(frozen=True)
class AccountPage:
    account: Account
    archived_by: User | None
    region_path: list[Region]
    branches: list[Account]
    contacts: list[Contact]
    archived_contacts: list[Contact]
    installed_base: InstalledBaseSummary
    opportunities: list[Opportunity]
    visits: list[TimelineVisit]
    has_more_visits: bool
    changes: ChangePage

    @property
    def open_opportunities(self) -> list[Opportunity]:
        return [o for o in self.opportunities if o.status == Opportunity.Status.OPEN]

    @property
    def closed_opportunities(self) -> list[Opportunity]:
        return [o for o in self.opportunities if o.status != Opportunity.Status.OPEN]


# What the page shows of the account, of its branches and of the rows at it; the rest of each row stays unread.
_ACCOUNT_FIELDS = (
    *("name", "owner", "industry", "region", "parent", "archived_at", "archived_by", "employee_count", "address"),
    *("is_target", "target_since", "is_headquarters", "notes"),
    *("owner__username", "owner__first_name", "owner__last_name", "industry__name", "industry__name_en"),
    "parent__name",
    *("region__name", "region__name_en", "region__parent__name", "region__parent__name_en"),
    *("region__parent__parent__name", "region__parent__parent__name_en", "region__parent__parent__parent"),
)
_CONTACT_FIELDS = (
    *("account", "name", "title", "department", "phone", "email", "buying_role", "communication_style"),
    "archived_at",
)
_OPPORTUNITY_FIELDS = (
    *("name", "status", "amount", "created_at", "stage__order", "stage__name_zh", "stage__name_en"),
    *("owner__username", "owner__first_name", "owner__last_name"),
)
_TIMELINE_COLUMNS = (
    *("pk", "status", "kind", "when", "owner__username", "owner__first_name", "owner__last_name"),
    *("contact__name", "opportunity__name", "purpose", "summary", "next_step", "is_editable"),
)


def account_page(*, viewer: User, pk: int, changes_page: Any = 1) -> AccountPage | None:
    """Returns what the account page shows of account `pk`, or None when `viewer` may not see it; whatever the data
    size in 7 queries.

    The account comes with its owner, industry, region path, headquarters and who archived it, and `is_editable`
    (whether the viewer may change it); its visible active branches are read with it, in the same query. Opportunities
    and visits are those visible to the viewer; the timeline holds the latest ACCOUNT_PAGE_TIMELINE_LENGTH visits (done
    ones by done time, planned ones by planned time). Archived contacts are listed apart. `changes_page` is the page of
    the account's change history shown (newest first).
    """
    # The page's queries are composed once per process and viewer role, then only re-bound (core.statements).
    found = list(
        bound_queryset("account page", _account_and_branches, keep={"viewer": VIEWER_SHAPE}, viewer=viewer, pk=pk)
    )
    account = next((row for row in found if row.pk == pk), None)
    if account is None:
        return None
    contacts, archived_contacts = account_contacts(account)
    rows = list(bound_queryset("account installed base", _installed_base_of, account_id=account.pk))
    opportunities = list(
        bound_queryset(
            "account page opportunities",
            _opportunities_at,
            keep={"viewer": VIEWER_SHAPE},
            viewer=viewer,
            account_id=account.pk,
        )
    )
    visits = _timeline(viewer=viewer, account=account)
    return AccountPage(
        account=account,
        # Who archived the account shows only on an archived account's page: read then, not joined to every page's.
        archived_by=User.objects.filter(pk=account.archived_by_id).first() if account.archived_by_id else None,
        region_path=_region_path(account.region),
        branches=[row for row in found if row.parent_id == pk and row.archived_at is None],
        contacts=contacts,
        archived_contacts=archived_contacts,
        installed_base=InstalledBaseSummary(
            rows=rows,
            our_units=sum(r.units for r in rows if r.is_ours),
            competitor_units=sum(r.units for r in rows if not r.is_ours),
        ),
        opportunities=opportunities,
        visits=visits[:ACCOUNT_PAGE_TIMELINE_LENGTH],
        has_more_visits=len(visits) > ACCOUNT_PAGE_TIMELINE_LENGTH,
        changes=change_page(changes=AccountChange.objects.filter(account=account), model=Account, page=changes_page),
    )


def _account_and_branches(*, viewer: User, pk: int) -> QuerySet[Account]:
    return (
        Account.objects.visible_to(viewer)
        .filter(Q(pk=pk) | Q(parent=pk, archived_at__isnull=True))
        .select_related("owner", "industry", "region__parent__parent", "parent")
        .only(*_ACCOUNT_FIELDS)
        .annotate_is_editable(viewer)
        .order_by("name")
    )


def _opportunities_at(*, viewer: User, account_id: int) -> QuerySet[Opportunity]:
    return (
        Opportunity.objects.visible_to(viewer)
        .filter(account=account_id)
        .select_related("stage", "owner")
        .only(*_OPPORTUNITY_FIELDS)
        .order_by(Case(When(status=Opportunity.Status.OPEN, then=Value(0)), default=Value(1)), "-created_at")
    )


def _contacts_of(*, account_id: int) -> QuerySet[Contact]:
    return Contact.objects.filter(account=account_id).only(*_CONTACT_FIELDS).order_by("name", "pk")


def _installed_base_of(*, account_id: int) -> QuerySet[InstalledBase]:
    return InstalledBase.objects.filter(account=account_id).select_related("competitor")


def account_contacts(account: Account) -> tuple[list[Contact], list[Contact]]:
    """The account's contacts as its page lists them, by name: the current ones and, apart, the archived ones; what
    the page shows of them only, in one query."""
    contacts = list(bound_queryset("account contacts", _contacts_of, account_id=account.pk))
    return (
        [contact for contact in contacts if contact.archived_at is None],
        [contact for contact in contacts if contact.archived_at is not None],
    )


def _region_path(region: Region | None) -> list[Region]:
    """The region and the regions above it, the top one first."""
    path: list[Region] = []
    while region is not None:
        path.insert(0, region)
        region = region.parent
    return path


def _timeline_rows(*, viewer: User, account_id: int, everything: bool) -> QuerySet:
    at_account = Visit.objects.filter(account=account_id)
    if not everything:
        at_account = at_account.visible_to(viewer)
    return (
        at_account.annotate(when=Coalesce("done_at", "planned_at"))
        .annotate_is_editable(viewer)  # another side's visit at the account is read-only
        .order_by("-when", "-pk")
        .values_list(*_TIMELINE_COLUMNS)[: ACCOUNT_PAGE_TIMELINE_LENGTH + 1]
    )


def _timeline(*, viewer: User, account: Account) -> list[TimelineVisit]:
    """The latest ACCOUNT_PAGE_TIMELINE_LENGTH + 1 visits at `account` visible to `viewer`, read as values: a visit's
    kind labelled once per page, not once per visit."""
    # Every visit at an account is visible to the account's owner (visibility.py): no rule to apply then.
    everything = sees_without_asking(viewer, owner_id=account.owner_id)
    rows = bound_queryset(
        ("account timeline", everything),
        partial(_timeline_rows, everything=everything),
        keep={"viewer": VIEWER_SHAPE},
        viewer=viewer,
        account_id=account.pk,
    )
    kinds = {value: str(label) for value, label in Visit.Kind.choices}
    timeline = []
    for pk, status, kind, when, *owner_names, contact, opportunity, purpose, summary, next_step, is_editable in rows:
        local = localtime(when) if when else None
        timeline.append(
            TimelineVisit(
                pk=pk,
                status=status,
                kind_label=kinds.get(kind, kind),
                when=when,
                day=local.date().isoformat() if local else "",
                time=f"{local:%H:%M}" if local else "",
                owner_name=display_name(*owner_names),
                contact_name=contact,
                opportunity_name=opportunity,
                purpose=_cut(purpose, TIMELINE_TEXT_LENGTH),
                summary=_cut(summary, TIMELINE_TEXT_LENGTH),
                next_step=_cut(next_step, TIMELINE_NEXT_STEP_LENGTH),
                is_editable=is_editable,
            )
        )
    return timeline


SIZE_BAND_RANGES: dict[str, tuple[int, int | None]] = {
    "1-49": (0, 49),
    "50-99": (50, 99),
    "100-299": (100, 299),
    "300-999": (300, 999),
    "1000+": (1000, None),
}

ACCOUNT_SORTS = {
    "name": ["name", "pk"],
    "-last_visit": [F("last_visit_at").desc(nulls_last=True), "name"],
    "last_visit": [F("last_visit_at").asc(nulls_first=True), "name"],
    "-size": [F("employee_count").desc(nulls_last=True), "name"],
    "region": [F("region__code").asc(nulls_last=True), "name"],
    "owner": ["owner__username", "name"],
    "-updated": ["-updated_at", "pk"],
}


def accounts_for_list(
    *,
    viewer: User,
    q: str = "",
    owner: User | None = None,
    region: Region | None = None,
    industry=None,
    is_target: bool | None = None,
    size_band: str = "",
    sort: str = "name",
) -> QuerySet[Account]:
    """The visible active (not archived) accounts matching the list's search and filters, with owner, industry and
    region loaded and `open_opportunities` and `last_visit_at` (latest completed visit) annotated; one query per page.

    A region matches its own accounts and those of the regions below it.
    """
    accounts = Account.objects.visible_to(viewer).active()
    if q := q.strip():
        accounts = accounts.filter(
            Q(name__icontains=q)
            | Q(address__icontains=q)
            | Q(pk__in=Contact.objects.filter(name__icontains=q).values("account_id"))
        )
    if owner is not None:
        accounts = accounts.filter(owner=owner)
    if region is not None:
        accounts = accounts.filter(Q(region=region) | Q(region__parent=region) | Q(region__parent__parent=region))
    if industry is not None:
        accounts = accounts.filter(industry=industry)
    if is_target is not None:
        accounts = accounts.filter(is_target=is_target)
    if size_band in SIZE_BAND_RANGES:
        low, high = SIZE_BAND_RANGES[size_band]
        accounts = accounts.filter(employee_count__gte=low)
        if high is not None:
            accounts = accounts.filter(employee_count__lte=high)
    open_opportunities = (
        Opportunity.objects.filter(account=OuterRef("pk"), status=Opportunity.Status.OPEN)
        .order_by()
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last_visit = (
        Visit.objects.filter(account=OuterRef("pk"), status=Visit.Status.DONE)
        .order_by()
        .values("account")
        .annotate(at=Max("done_at"))
        .values("at")
    )
    return (
        accounts.select_related("owner", "industry", "region")
        .annotate(
            open_opportunities=Coalesce(Subquery(open_opportunities), Value(0)),
            last_visit_at=Subquery(last_visit),
        )
        .order_by(*ACCOUNT_SORTS.get(sort, ACCOUNT_SORTS["name"]))
    )


def account_search(*, viewer: User, query: str, limit: int = 10) -> list[Account]:
    """Up to `limit` visible active accounts whose name (or address, or the name's pinyin) contains `query`, names
    starting with it first; one query, none when the query is blank."""
    query = query.strip()
    if not query:
        return []
    return list(
        Account.objects.visible_to(viewer)
        .active()
        .filter(Q(name__icontains=query) | Q(address__icontains=query) | pinyin_matches(query))
        .select_related("region")
        .annotate(rank=Case(When(name__istartswith=query, then=Value(0)), default=Value(1)))
        .order_by("rank", "name")[:limit]
    )
