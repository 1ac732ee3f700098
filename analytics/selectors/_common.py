"""What every analytics selector shares: the viewer's scope, money rounding, period bounds, visible teams, when a
nightly job last ran, and the first rows of several lists in one query."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import DecimalField, Expression, Func, IntegerField, Q, QuerySet, Subquery, Value, Window
from django.db.models.functions import RowNumber, TruncMonth, TruncQuarter, TruncWeek, TruncYear

from accounts.models import Team, User
from accounts.visibility import visibility_filter
from analytics.models import JobRun
from core.calendar import day_start

CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=20, decimal_places=4)
PERIOD_TRUNC = {"year": TruncYear, "quarter": TruncQuarter, "month": TruncMonth, "week": TruncWeek}


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return day_start(start), day_start(end + timedelta(days=1))


def _scope(viewer: User, owner_path: str, *, owner: User | None = None, team: Team | None = None) -> Q:
    """The rows the viewer may see, narrowed to one owner or one team's members."""
    scope = visibility_filter(viewer, owner_path)
    if owner is not None:
        scope &= Q(**{owner_path: owner})
    if team is not None:
        scope &= Q(**{f"{owner_path}__team": team})
    return scope


def visible_teams(viewer: User) -> QuerySet[Team]:
    """Teams whose numbers the viewer may ask for: all for a director, the ones they manage or belong to otherwise."""
    if viewer.is_director:
        return Team.objects.all()
    return Team.objects.filter(Q(manager=viewer) | Q(members=viewer)).distinct()


def job_computed_at(job: str) -> datetime | None:
    """When a nightly job last completed, in one query; None if it never ran."""
    return JobRun.objects.filter(job=job).values_list("computed_at", flat=True).first()


def first_rows_of_each(parts: list[tuple[QuerySet, dict[str, Expression], int]]) -> list[tuple[list[dict], int]]:
    """For each (ordered queryset, columns, limit) of `parts`: its first `limit` rows, each a dict of `columns`, and
    how many rows the whole queryset has; one query whatever the parts and the data.

    Every part selects the same column names with the same types (a column a part lacks is a typed NULL, e.g.
    `Cast(Value(None), DateField())`). Each part is cut by its own ORDER BY and LIMIT, so an index in its order lets
    the database stop early, and counted by a subquery computed once; the parts are joined by UNION ALL, each inside
    a derived table so that the statement is the same on PostgreSQL and SQLite. A part that can select nothing (an
    inactive viewer's) is left out of the query, as is the query when every part is.
    """
    names = list(parts[0][1]) if parts else []
    quote = connections[parts[0][0].db].ops.quote_name if parts else None
    selects, params, converters, reader = [], [], None, None
    for number, (rows, columns, limit) in enumerate(parts):
        count = rows.order_by().annotate(n=Func("pk", function="COUNT", output_field=IntegerField())).values("n")
        part = rows.values(
            **columns,
            first_rows_part=Value(number, output_field=IntegerField()),
            first_rows_position=Window(RowNumber(), order_by=list(rows.query.order_by)),
            first_rows_total=Subquery(count, output_field=IntegerField()),
        )[:limit]
        compiler = part.query.get_compiler(part.db)
        try:
            sql, part_params = compiler.as_sql()
        except EmptyResultSet:
            continue
        if converters is None:  # the columns' types are the same in every part: the first one's converters serve
            expressions = {alias: expression for expression, _sql, alias in compiler.select}
            converters = compiler.get_converters(
                [expressions[name] for name in [*names, "first_rows_part", "first_rows_total"]]
            )
            reader = compiler
        picked = ", ".join(
            quote(name) for name in [*names, "first_rows_part", "first_rows_total", "first_rows_position"]
        )
        selects.append(f"SELECT {picked} FROM ({sql}) {quote(f'part_{number}')}")
        params.extend(part_params)
    found: list[tuple[list[dict], int]] = [([], 0) for _ in parts]
    if not selects:
        return found
    order = f"{quote('first_rows_part')}, {quote('first_rows_position')}"
    with connections[parts[0][0].db].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects) + f" ORDER BY {order}", params)
        rows = cursor.fetchall()
    for *values, number, total, _position in reader.apply_converters(rows, converters) if reader else rows:
        found[number][0].append(dict(zip(names, values, strict=True)))
        found[number] = (found[number][0], total)
    return found
