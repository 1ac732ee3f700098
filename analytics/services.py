"""Nightly analytics jobs (SPEC §7): each computes first, then replaces its snapshot in one transaction.

Running a job twice leaves the same rows; a job that raises leaves the previous snapshot in place.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Max, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from accounts.models import Account, AccountYear, InstalledBase
from analytics import matrix
from analytics.dates import day_start, today, year_bounds
from analytics.models import AccountValue, JobRun, MatrixRun, StaleFlag, UntouchedFlag
from pipeline.models import Opportunity, StageChange, Visit
from pipeline.selectors import is_stale_expression

BATCH_SIZE = 2000


def _matrix_inputs(*, year: int) -> pd.DataFrame:
    """One row per account with what CV and PV of `year` are made of, in four queries (one per table)."""
    start, end = year_bounds(year)
    accounts = pd.DataFrame.from_records(
        Account.objects.values_list(
            "id", "name", "is_target", "employee_count", "industry__spend_per_employee", "region__code"
        ).order_by(),
        columns=["account", "name", "is_target", "employee_count", "spend_per_employee", "region_code"],
    )
    won = dict(
        Opportunity.objects.won()
        .closed_between(start, end)
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
        .order_by()
    )
    years = {
        account_id: (other, potential)
        for account_id, other, potential in AccountYear.objects.filter(year=year)
        .values_list("account_id", "other_revenue", "potential_value")
        .order_by()
    }
    # Installed base is today's; units installed after `year` were not there yet.
    units = {
        row["account_id"]: (row["ours"] or 0, row["theirs"] or 0)
        for row in InstalledBase.objects.filter(Q(year__isnull=True) | Q(year__lte=year))
        .values("account_id")
        .annotate(ours=Sum("units", filter=Q(is_ours=True)), theirs=Sum("units", filter=Q(is_ours=False)))
        .order_by()
    }
    if accounts.empty:
        return accounts.assign(won=[], other_revenue=[], potential_value=[], our_units=[], competitor_units=[])
    ids = accounts["account"]
    return accounts.assign(
        employee_count=accounts["employee_count"].astype(object).where(accounts["employee_count"].notna(), None),
        won=pd.Series([won.get(i, Decimal(0)) for i in ids], index=accounts.index, dtype=object),
        other_revenue=pd.Series([years.get(i, (Decimal(0), None))[0] for i in ids], index=accounts.index, dtype=object),
        potential_value=pd.Series([years.get(i, (None, None))[1] for i in ids], index=accounts.index, dtype=object),
        our_units=[units.get(i, (0, 0))[0] for i in ids],
        competitor_units=[units.get(i, (0, 0))[1] for i in ids],
    )


def compute_matrix(*, year: int) -> MatrixRun:
    """Replaces the CV/PV snapshot of `year` (thresholds, a row per account); keeps the old one if it raises."""
    values = matrix.account_values(
        _matrix_inputs(year=year),
        value_per_unit=Decimal(settings.SALESFLOW_VALUE_PER_UNIT),
        default_spend=Decimal(settings.SALESFLOW_SPEND_PER_EMPLOYEE),
    )
    fixed_cv, fixed_pv = settings.SALESFLOW_CV_THRESHOLD, settings.SALESFLOW_PV_THRESHOLD
    cv_threshold, pv_threshold = matrix.thresholds(values, fixed_cv=fixed_cv, fixed_pv=fixed_pv)
    computed_at = timezone.now()
    rows: list[AccountValue] = []
    if not values.empty:
        classified = matrix.visit_priority(
            matrix.classify_accounts(values, cv_threshold=cv_threshold, pv_threshold=pv_threshold)
        )
        columns = ["account", "cv", "pv", "pv_source", "share", "quadrant", "customer_type", "priority"]
        records = classified[columns].astype(object).where(classified[columns].notna(), None).to_dict("records")
        rows = [AccountValue(account_id=r.pop("account"), **r, year=year, computed_at=computed_at) for r in records]
    with transaction.atomic():
        # Writing the run row first locks it: a concurrent run of the same year waits here until this one commits.
        run, _ = MatrixRun.objects.update_or_create(
            year=year,
            defaults={
                "computed_at": computed_at,
                "cv_threshold": cv_threshold,
                "pv_threshold": pv_threshold,
                "thresholds_fixed": fixed_cv is not None or fixed_pv is not None,
            },
        )
        AccountValue.objects.filter(year=year).delete()
        for row in rows:
            row.run = run
        AccountValue.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return run


def nightly_matrix_years(*, on: date | None = None) -> list[int]:
    """The years the nightly job recomputes: this year and last year."""
    year = (on or today()).year
    return [year, year - 1]


def _latest(*moments: datetime | None) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


def flag_untouched(*, on: date | None = None) -> int:
    """Replaces the untouched-target snapshot; returns how many target accounts it flagged.

    A target is untouched when no visit to it was done (by anyone) on or after the day SALESFLOW_UNTOUCHED_DAYS
    before `on`: a visit exactly that many days ago still counts as a touch. Runs two queries and one transaction.
    """
    day = on or today()
    cutoff = day_start(day - timedelta(days=settings.SALESFLOW_UNTOUCHED_DAYS))
    last_visits = (
        Account.objects.targets()
        .annotate(last_visit_at=Max("visits__done_at", filter=Q(visits__status=Visit.Status.DONE)))
        .values_list("id", "last_visit_at")
        .order_by()
    )
    computed_at = timezone.now()
    flags = [
        UntouchedFlag(account_id=account_id, last_visit_at=last, computed_at=computed_at)
        for account_id, last in last_visits
        if last is None or last < cutoff
    ]
    with transaction.atomic():
        # Writing the job row first locks it: a concurrent run waits here until this one commits.
        JobRun.objects.update_or_create(job=JobRun.UNTOUCHED, defaults={"computed_at": computed_at})
        UntouchedFlag.objects.all().delete()
        UntouchedFlag.objects.bulk_create(flags, batch_size=BATCH_SIZE)
    return len(flags)


def flag_stale(*, on: date | None = None) -> int:
    """Replaces the stale-opportunity snapshot; returns how many open opportunities it flagged.

    Stale is the board's rule (pipeline.selectors.is_stale_expression) as of the start of `on`: activity on the day
    SALESFLOW_STALE_DAYS before still counts. Each flag keeps the last of stage entry, stage change and completed
    visit on the opportunity. Runs one query and one transaction.
    """
    last_change = StageChange.objects.filter(opportunity=OuterRef("pk")).order_by("-changed_at").values("changed_at")
    last_visit = (
        Visit.objects.filter(opportunity=OuterRef("pk"), status=Visit.Status.DONE)
        .order_by("-done_at")
        .values("done_at")
    )
    stale = (
        Opportunity.objects.filter(is_stale_expression(as_of=day_start(on or today())))
        .annotate(last_change=Subquery(last_change[:1]), last_visit=Subquery(last_visit[:1]))
        .values_list("id", "stage_entered_at", "last_change", "last_visit")
        .order_by()
    )
    computed_at = timezone.now()
    flags = [
        StaleFlag(opportunity_id=opportunity_id, last_activity_at=_latest(*moments), computed_at=computed_at)
        for opportunity_id, *moments in stale
    ]
    with transaction.atomic():
        JobRun.objects.update_or_create(job=JobRun.STALE, defaults={"computed_at": computed_at})  # a lock, as above
        StaleFlag.objects.all().delete()
        StaleFlag.objects.bulk_create(flags, batch_size=BATCH_SIZE)
    return len(flags)


def compute_nightly_analytics(*, on: date | None = None) -> None:
    """Runs every nightly job in turn: CV/PV of this and last year, untouched targets, stale opportunities."""
    for year in nightly_matrix_years(on=on):
        compute_matrix(year=year)
    flag_untouched(on=on)
    flag_stale(on=on)
