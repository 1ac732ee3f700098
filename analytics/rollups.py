"""Company-wide sums the nightly roll-up keeps for a director (issue 10).

Monthly rollups: won and lost counts and amounts of the opportunities closed in a month per value of each win/loss
dimension and per owner (ClosedMonthSum), completed visits per owner and month (VisitMonthSum). A director's
win/loss and activity over a year read eleven rows a value from them, plus the live rows of the days no rollup
covers, instead of every closed opportunity and visit of the company's year.

A month is rolled up once it is over (the nightly job, `roll_up_months`); PostgreSQL triggers (migration 0010) drop
its RolledMonth row in the transaction that changes one of its rows, so a rolled-up month is always exact and a
changed one is read live until the next night. Only PostgreSQL has the triggers: elsewhere nothing is rolled up and
every read is live.

Territory snapshot: the whole company's territory sums of each dimension, taken each night for that day
(TerritorySnapshot); a director's territory reads them as of then, a manager's or a rep's are summed when asked.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import reduce
from operator import or_

from django.db import connection, transaction
from django.db.models import Count, DateField, Min, Model, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncMonth
from django.utils import timezone

from analytics.models import ClosedMonthSum, RolledMonth, TerritorySnapshot, VisitMonthSum
from analytics.selectors.coverage import COVERAGE, company_coverage
from analytics.selectors.territory import TERRITORY_DIMENSIONS, whole_company_sums
from core.calendar import company_tz, day_start, local_date, period_bounds, period_end, period_start, today
from pipeline.models import Opportunity, Visit

Kind = RolledMonth.Kind
WON, LOST = Q(status=Opportunity.Status.WON), Q(status=Opportunity.Status.LOST)
OUTCOMES = {
    "won": Count("pk", filter=WON),
    "lost": Count("pk", filter=LOST),
    "won_amount": Sum("amount", filter=WON, default=0),
    "lost_amount": Sum("amount", filter=LOST, default=0),
}
# A dimension's column in ClosedMonthSum and the opportunity's lookup it sums by.
CLOSED_DIMENSIONS = {
    "reason": ("loss_reason", "loss_reason"),
    "stage": ("furthest_stage_id", "furthest_stage_id"),
    "untouched_cause": ("untouched_cause", "untouched_cause"),
    "source": ("source", "source"),
    "competitor": ("competitor_id", "competitors__pk"),
    "owner": ("owner_id", "owner_id"),
}
Months = list[tuple[datetime, datetime]]  # [starts_at, ends_at) of rolled-up months


def _month(moment_field: str) -> TruncMonth:
    return TruncMonth(moment_field, tzinfo=company_tz(), output_field=DateField())


def _months_to_roll(kind: str, first: datetime | None, this_month: date) -> list[date]:
    if first is None:
        return []
    month = period_start("month", local_date(first))
    rolled = set(RolledMonth.objects.filter(kind=kind).values_list("month", flat=True))
    months = []
    while month < this_month:
        if month not in rolled:
            months.append(month)
        month = period_end("month", month)
    return months


def _insert(cursor, model: type[Model], columns: list[str], rows: QuerySet, months: list[date]) -> None:
    """Inserts the grouped `rows` (their values in the order of `columns`) of `months` into `model`'s table, in the
    database: no row passes through Python."""
    q = connection.ops.quote_name
    sql, params = rows.query.sql_with_params()
    cursor.execute(
        f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(column) for column in columns)})"
        f" SELECT * FROM ({sql}) grouped WHERE grouped.{q('month')} = ANY(%s)",
        [*params, months],
    )


def _sum_months(cursor, kind: str, months: list[date], until: datetime) -> None:
    """Writes the sums of `months` of `kind`: one INSERT per dimension (closed) or one (visits)."""
    since = day_start(months[0])
    if kind == Kind.VISITS:
        done = Visit.objects.done().filter(done_at__gte=since, done_at__lt=until).annotate(month=_month("done_at"))
        rows = done.values("month", "owner_id").annotate(n=Count("*")).values_list("month", "owner_id", "n")
        _insert(cursor, VisitMonthSum, ["month", "owner_id", "done"], rows.order_by(), months)
        return
    closed = Opportunity.objects.filter(closed_at__gte=since, closed_at__lt=until).annotate(month=_month("closed_at"))
    for dimension, (column, lookup) in CLOSED_DIMENSIONS.items():
        rows = (
            closed.values("month", lookup)
            .annotate(dimension=Value(dimension), **OUTCOMES)
            .values_list("month", "dimension", lookup, *OUTCOMES)
            .order_by()
        )
        _insert(cursor, ClosedMonthSum, ["month", "dimension", column, *OUTCOMES], rows, months)


def roll_up_months(*, on: date | None = None) -> int:
    """Sums every month before the company's month of `on` (today) that is not rolled up yet, of both kinds, and
    marks it rolled up; returns how many months it summed. On PostgreSQL only (nothing elsewhere: no trigger would
    keep the sums exact). Writers of opportunities and visits wait for the few statements it takes, so no change can
    slip between the sums and their mark. Aggregates per dimension, never a loop over rows."""
    if connection.vendor != "postgresql":
        return 0
    on = on or today()
    this_month = period_start("month", on)
    until = day_start(this_month)
    tables = [Opportunity._meta.db_table, Opportunity.competitors.through._meta.db_table, Visit._meta.db_table]
    summed = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {', '.join(connection.ops.quote_name(t) for t in tables)} IN SHARE MODE")
        cursor.execute(f"LOCK TABLE {connection.ops.quote_name(RolledMonth._meta.db_table)} IN EXCLUSIVE MODE")
        first_closed = Opportunity.objects.aggregate(first=Min("closed_at"))["first"]
        first_done = Visit.objects.done().aggregate(first=Min("done_at"))["first"]
        for kind, first, model in (
            (Kind.CLOSED, first_closed, ClosedMonthSum),
            (Kind.VISITS, first_done, VisitMonthSum),
        ):
            months = _months_to_roll(kind, first, this_month)
            if not months:
                continue
            model.objects.filter(month__in=months).delete()
            _sum_months(cursor, kind, months, until)
            RolledMonth.objects.bulk_create(
                [
                    RolledMonth(kind=kind, month=month, starts_at=bounds[0], ends_at=bounds[1])
                    for month in months
                    for bounds in [period_bounds("month", month)]
                ]
            )
            summed += len(months)
    return summed


def rolled_months(kinds: list[str], since: datetime, until: datetime) -> dict[str, Months]:
    """The rolled-up months of each kind wholly within [since, until), in order; one query."""
    months: dict[str, Months] = {kind: [] for kind in kinds}
    rows = RolledMonth.objects.filter(kind__in=kinds, starts_at__gte=since, ends_at__lte=until).order_by("starts_at")
    for kind, starts_at, ends_at in rows.values_list("kind", "starts_at", "ends_at"):
        months[kind].append((starts_at, ends_at))
    return months


def live(field: str, since: datetime, until: datetime, months: Months) -> Q:
    """Rows whose `field` falls in [since, until) outside the rolled-up `months` (in order, within the range)."""
    ranges, start = [], since
    for starts_at, ends_at in months:
        if starts_at > start:
            ranges.append((start, starts_at))
        start = max(start, ends_at)
    if start < until:
        ranges.append((start, until))
    if not ranges:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__gte": a, f"{field}__lt": b}) for a, b in ranges))


def month_days(months: Months) -> list[date]:
    """The first days (company time) of `months`, as ClosedMonthSum and VisitMonthSum key them."""
    return [local_date(starts_at) for starts_at, _ends_at in months]


def closed_sums(months: Months, dimension: str) -> QuerySet[ClosedMonthSum]:
    """The rolled-up sums of `dimension` over `months`, unevaluated."""
    return ClosedMonthSum.objects.filter(month__in=month_days(months), dimension=dimension)


def visit_sums(months: Months) -> QuerySet[VisitMonthSum]:
    return VisitMonthSum.objects.filter(month__in=month_days(months))


def snapshot_territory(*, on: date | None = None) -> int:
    """Replaces the territory snapshot with the whole company's sums of every dimension on `on` (today), which a
    director's territory reads that day, and the company's target coverage, which a director's untouched list reads
    (its flags are the night's too); returns how many territory tables it took (3 grouped queries each, and 1 for
    the coverage)."""
    day = on or today()
    computed_at = timezone.now()
    snapshots = [
        TerritorySnapshot(dimension=dimension, on=day, computed_at=computed_at, sums=whole_company_sums(dimension, day))
        for dimension in TERRITORY_DIMENSIONS
    ]
    coverage = company_coverage(day)
    counts = {name: str(getattr(coverage, name)) for name in ("targets", "covered", "new_targets", "new_covered")}
    snapshots.append(TerritorySnapshot(dimension=COVERAGE, on=day, computed_at=computed_at, sums=[[[], counts]]))
    with transaction.atomic():
        TerritorySnapshot.objects.all().delete()
        TerritorySnapshot.objects.bulk_create(snapshots)
    return len(TERRITORY_DIMENSIONS)


def roll_up(*, on: date | None = None) -> tuple[int, int]:
    """The nightly roll-up: the months that are over (`roll_up_months`), then today's territory snapshot."""
    return roll_up_months(on=on), snapshot_territory(on=on)
