"""The stored CV/PV matrix of a year (SPEC §7) and an account's matrix values over the years."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

import pandas as pd
from django.db.models import F, OuterRef, QuerySet, Subquery

from accounts.models import Account, Team, User
from accounts.visibility import VIEWER_SHAPE, sees_without_asking
from analytics import matrix as matrix_frames
from analytics.models import AccountValue, MatrixRun
from analytics.selectors._common import _scope
from core.statements import bound_queryset


@dataclass(frozen=True)
class MatrixRow:
    account_id: int
    name: str
    owner_id: int
    region_code: str | None
    customer_type: str
    cv: Decimal
    pv: Decimal
    pv_source: str
    share: float | None
    quadrant: str
    previous_quadrant: str | None
    priority: int | None


@dataclass(frozen=True)
class CvPvMatrix:
    year: int
    computed_at: datetime | None  # None: the matrix of this year was never computed
    cv_threshold: Decimal | None
    pv_threshold: Decimal | None
    thresholds_fixed: bool
    rows: list[MatrixRow]
    transitions: dict[str, dict[str, int]]


def cvpv_matrix(*, viewer: User, year: int, owner: User | None = None, team: Team | None = None) -> CvPvMatrix:
    """The stored matrix of `year`: company-wide thresholds, the viewer's accounts in visit-priority order with their
    quadrant of the year before, and the 4×4 transitions among them; 2 queries."""
    run = MatrixRun.objects.filter(year=year).first()
    # One row per account and year (unique): no ordering, so the unique index finds it without joining the account.
    previous = AccountValue.objects.filter(account=OuterRef("account"), year=year - 1).order_by().values("quadrant")[:1]
    values = (
        AccountValue.objects.filter(_scope(viewer, "account__owner", owner=owner, team=team), year=year)
        .annotate(previous_quadrant=Subquery(previous))
        .values_list(
            "account_id",
            "account__name",
            "account__owner_id",
            "account__region__code",
            "customer_type",
            "cv",
            "pv",
            "pv_source",
            "share",
            "quadrant",
            "previous_quadrant",
            "priority",
        )
        .order_by(F("priority").asc(nulls_last=True), "account__name", "account_id")
    )
    rows = [MatrixRow(*row) for row in values]
    quadrants = pd.DataFrame(
        {"previous_quadrant": [r.previous_quadrant for r in rows], "quadrant": [r.quadrant for r in rows]}
    )
    return CvPvMatrix(
        year=year,
        computed_at=run.computed_at if run else None,
        cv_threshold=run.cv_threshold if run else None,
        pv_threshold=run.pv_threshold if run else None,
        thresholds_fixed=run.thresholds_fixed if run else False,
        rows=rows,
        transitions=matrix_frames.transitions(quadrants),
    )


def account_value_history(*, viewer: User, account: Account) -> list[AccountValue]:
    """An account's stored CV, PV and quadrant per year, oldest first (empty if not visible); one query."""
    everything = sees_without_asking(viewer, owner_id=account.owner_id)  # their own account's rows need no rule
    return list(
        bound_queryset(  # composed once per process, viewer role and shape (core.statements)
            ("account values", everything),
            partial(_values_of, everything=everything),
            keep={"viewer": VIEWER_SHAPE},
            viewer=viewer,
            account_id=account.pk,
        )
    )


def _values_of(*, viewer: User, account_id: int, everything: bool) -> QuerySet[AccountValue]:
    values = AccountValue.objects.filter(account=account_id)
    return (values if everything else values.visible_to(viewer)).order_by("year")


@dataclass(frozen=True)
class ValueYear:
    """An account's place in one year's stored matrix, and where it stood in the stored year before."""

    year: int
    cv: Decimal
    pv: Decimal
    share: float | None
    quadrant: str
    quadrant_label: str
    previous_year: int | None  # the latest earlier year whose matrix holds the account; None for its first year
    previous_quadrant: str | None
    previous_quadrant_label: str | None

    @property
    def moved(self) -> bool:
        return self.previous_quadrant is not None and self.previous_quadrant != self.quadrant


def account_value_years(*, viewer: User, account: Account) -> list[ValueYear]:
    """The account page's matrix history: CV, PV, share of wallet and quadrant per stored year, oldest first, each
    with the quadrant of the stored year before it (the transition); empty if not visible; one query."""
    years: list[ValueYear] = []
    previous: AccountValue | None = None
    for value in account_value_history(viewer=viewer, account=account):
        years.append(
            ValueYear(
                year=value.year,
                cv=value.cv,
                pv=value.pv,
                share=value.share,
                quadrant=value.quadrant,
                quadrant_label=value.get_quadrant_display(),
                previous_year=previous.year if previous else None,
                previous_quadrant=previous.quadrant if previous else None,
                previous_quadrant_label=previous.get_quadrant_display() if previous else None,
            )
        )
        previous = value
    return years
