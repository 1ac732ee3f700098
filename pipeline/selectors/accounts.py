"""Reads for the account pages: the account page, the account list and the account search; never writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Case, Count, F, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from accounts.facts import CUSTOMER_TYPE_LABELS, customer_type_for
from accounts.models import Account, AccountChange, Contact, InstalledBase, Region
from accounts.visibility import sees_without_asking
from pipeline.models import Opportunity, Visit
from pipeline.selectors.history import ChangePage, change_page
from pipeline.selectors.search import pinyin_matches

if TYPE_CHECKING:
    from accounts.models import User

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
class AccountPage:
    account: Account
    region_path: list[Region]
    branches: list[Account]
    contacts: list[Contact]
    archived_contacts: list[Contact]
    installed_base: InstalledBaseSummary
    opportunities: list[Opportunity]
    visits: list[Visit]
    has_more_visits: bool
    changes: ChangePage

    @property
    def open_opportunities(self) -> list[Opportunity]:
        return [o for o in self.opportunities if o.status == Opportunity.Status.OPEN]

    @property
    def closed_opportunities(self) -> list[Opportunity]:
        return [o for o in self.opportunities if o.status != Opportunity.Status.OPEN]


def account_page(*, viewer: User, account: Account, changes_page: Any = 1) -> AccountPage:
    """Returns what the account page shows, whatever the data size in 7 queries; the account must come from
    `Account.objects.visible_to(viewer)` with industry, region (and its parents), owner and parent loaded.

    Opportunities and visits are those visible to the viewer; the timeline holds the latest
    ACCOUNT_PAGE_TIMELINE_LENGTH visits (done ones by done time, planned ones by planned time). Archived contacts are
    listed apart; archived branches are left out. `changes_page` is the page of the account's change history shown
    (newest first).
    """
    region_path: list[Region] = []
    region = account.region
    while region is not None:
        region_path.insert(0, region)
        region = region.parent
    branches = list(
        Account.objects.visible_to(viewer).active().filter(parent=account).select_related("owner").order_by("name")
    )
    contacts = list(Contact.objects.filter(account=account).select_related("archived_by").order_by("name"))
    rows = list(InstalledBase.objects.filter(account=account).select_related("competitor"))
    opportunities = list(
        Opportunity.objects.visible_to(viewer)
        .filter(account=account)
        .select_related("stage", "owner")
        .order_by(Case(When(status=Opportunity.Status.OPEN, then=Value(0)), default=Value(1)), "-created_at")
    )
    # Every visit at an account is visible to the account's owner (visibility.py): no rule to apply then.
    at_account = Visit.objects.filter(account=account)
    if not sees_without_asking(viewer, owner_id=account.owner_id):
        at_account = at_account.visible_to(viewer)
    visits = list(
        at_account.select_related("contact", "owner", "opportunity")
        .annotate(when=Coalesce("done_at", "planned_at"))
        .annotate_is_editable(viewer)  # another side's visit at the account is read-only
        .order_by("-when", "-pk")[: ACCOUNT_PAGE_TIMELINE_LENGTH + 1]
    )
    return AccountPage(
        account=account,
        region_path=region_path,
        branches=branches,
        contacts=[contact for contact in contacts if contact.archived_at is None],
        archived_contacts=[contact for contact in contacts if contact.archived_at is not None],
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


def account_for_page(*, viewer: User) -> QuerySet[Account]:
    """The visible accounts with what the account page header shows loaded (use with get_object_or_404)."""
    return Account.objects.visible_to(viewer).select_related(
        "industry", "owner", "parent", "region__parent__parent", "archived_by"
    )


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
