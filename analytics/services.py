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
    """One row per account with what CV and PV of `year` are made of (money in cents), in four queries."""
    start, end = year_bounds(year)
    accounts = list(
        Account.objects.values_list(
            "id", "name", "is_target", "employee_count", "industry__spend_per_employee", "region__code"
        ).order_by()
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
        account_id: (ours or 0, theirs or 0)
        for account_id, ours, theirs in InstalledBase.objects.filter(Q(year__isnull=True) | Q(year__lte=year))
        .values("account_id")
        .annotate(ours=Sum("units", filter=Q(is_ours=True)), theirs=Sum("units", filter=Q(is_ours=False)))
        .values_list("account_id", "ours", "theirs")
        .order_by()
    }
    columns = [list(column) for column in zip(*accounts, strict=True)] or [[] for _ in range(6)]
    ids, names, is_target, employees, spend, region_codes = columns
    no_year, no_units = (0, None), (0, 0)
    return pd.DataFrame(
        {
            "account": pd.array(ids, dtype="int64"),
            "name": names,
            "is_target": pd.array(is_target, dtype=bool),
            "region_code": pd.array(region_codes, dtype=object),
            "employee_count": pd.array(employees, dtype="Int64"),
            "spend_cents": matrix.cents_array(spend),
            "won_cents": matrix.cents_array(won.get(i, 0) for i in ids),
            "other_cents": matrix.cents_array(years.get(i, no_year)[0] or 0 for i in ids),
            "potential_cents": matrix.cents_array(years.get(i, no_year)[1] for i in ids),
            "our_units": pd.array([units.get(i, no_units)[0] for i in ids], dtype="int64"),
            "competitor_units": pd.array([units.get(i, no_units)[1] for i in ids], dtype="int64"),
        }
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
        rows = [
            AccountValue(
                account_id=account,
                year=year,
                cv=cv,
                pv=pv,
                pv_source=pv_source,
                share=share,
                quadrant=quadrant,
                customer_type=customer_type,
                priority=None if priority is pd.NA else priority,
                computed_at=computed_at,
            )
            for account, cv, pv, pv_source, share, quadrant, customer_type, priority in zip(
                *(classified[column].tolist() for column in columns), strict=True
            )
        ]
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
            row.run_id = run.pk
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
