"""What every analytics selector shares: the viewer's scope, money rounding, period bounds, visible teams, when a
nightly job last ran, and the first rows of several lists in one query."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import DecimalField, F, Field, Func, IntegerField, Q, QuerySet, Subquery, Window
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


def first_rows_of_each(
    columns: dict[str, Field], parts: list[tuple[QuerySet, dict[str, str], int]]
) -> list[tuple[list[dict], int]]:
    """For each (ordered queryset, its columns, limit) of `parts`: its first `limit` rows, each a dict of every name
    of `columns`, and how many rows the whole queryset has; one query whatever the parts and the data.

    `columns` names and types every column; a part picks some of them (name -> field path, of that type) and the
    others are NULL in its rows. Each part is cut by its own ORDER BY and LIMIT, so an index in its order lets the
    database stop early, and counted by a subquery computed once; the parts are joined by UNION ALL, each inside a
    derived table so that the statement is the same on PostgreSQL and SQLite. A part that can select nothing (an
    inactive viewer's) is left out of the query, as is the query when every part is.
    """
    if not parts:
        return []
    connection = connections[parts[0][0].db]
    quote = connection.ops.quote_name
    selects, params, converters = [], [], {}
    for number, (rows, picked, limit) in enumerate(parts):
        count = rows.order_by().annotate(n=Func("pk", function="COUNT", output_field=IntegerField())).values("n")
        part = rows.values(
            **{name: F(path) for name, path in picked.items()},
            first_rows_position=Window(RowNumber(), order_by=list(rows.query.order_by)),
            first_rows_total=Subquery(count, output_field=IntegerField()),
        )[:limit]
        compiler = part.query.get_compiler(part.db)
        try:
            sql, part_params = compiler.as_sql()
        except EmptyResultSet:
            continue
        for expression, _sql, alias in compiler.select:
            if alias in columns and alias not in converters:
                converters[alias] = (compiler, expression)
        listed = [
            quote(name) if name in picked else f"CAST(NULL AS {kind.cast_db_type(connection)}) AS {quote(name)}"
            for name, kind in columns.items()
        ]
        selects.append(
            f"SELECT {', '.join(listed)}, {number} AS {quote('first_rows_part')}, {quote('first_rows_total')},"
            f" {quote('first_rows_position')} FROM ({sql}) {quote(f'part_{number}')}"
        )
        params.extend(part_params)
    found: list[tuple[list[dict], int]] = [([], 0) for _ in parts]
    if not selects:
        return found
    with connection.cursor() as cursor:
        order = f"{quote('first_rows_part')}, {quote('first_rows_position')}"
        cursor.execute(" UNION ALL ".join(selects) + f" ORDER BY {order}", params)
        rows = cursor.fetchall()
    names = list(columns)
    convert = [(position, converters[name]) for position, name in enumerate(names) if name in converters]
    for *values, number, total, _position in rows:
        for position, (compiler, expression) in convert:
            values[position] = _converted(compiler, expression, values[position])
        found[number][0].append(dict(zip(names, values, strict=True)))
        found[number] = (found[number][0], total)
    return found


def _converted(compiler, expression, value):
    """A raw column converted as the ORM converts `expression`'s value (SQLite returns datetimes as text)."""
    connection = compiler.connection
    for convert in [*connection.ops.get_db_converters(expression), *expression.get_db_converters(connection)]:
        value = convert(value, expression, connection)
    return value
