"""Statements built once per process: the SQL of a hot page query, compiled by the ORM the first time and re-bound
to each viewer's values afterwards, so that a page pays for running its query, not for composing it again.

Composing a query with the ORM (filters, the visibility rule's subqueries, windows, a UNION of lists) often costs more
than the database's work on it; yet for a given *shape* (the viewer's role, a limit) the SQL text never changes, only
its parameters do. `bound_statement` builds the statement with stand-in values ("sentinels") where the real values
go, remembers at which parameter positions each one landed, and for every later call only puts the real values in
those positions.

Safety: the statement is built twice, with two different sets of stand-ins, and is reused only when the two differ
exactly at the stand-ins' positions and nowhere else — a value computed from an input inside `build` (a date minus
seven days) would differ elsewhere and makes the statement be built anew on every call instead (`refused` lists
such keys, for the tests). A model instance is handed to `build` with only its primary key, its foreign keys
(both stand-ins) and the fields named in `keep` (which become part of the key) loaded; reading any other field loads
it from the database by the stand-in key, finds nothing and refuses the statement (`refused` says so).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import psycopg2
import psycopg2.errors
from django.conf import settings
from django.core.exceptions import EmptyResultSet, ObjectDoesNotExist
from django.db import DatabaseError, connections
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.sql import Query
from django.db.models.sql.compiler import SQLCompiler


class Statement(Protocol):
    sql: str
    params: list


class NotReusable(Exception):
    """`build` computed a parameter from an input: the statement cannot be re-bound."""


@dataclass
class _Stand:
    """The stand-ins of one build: each value's name, by stand-in."""

    generation: int
    names: dict[Any, str] = field(default_factory=dict)

    def integer(self, name: str) -> int:
        # in range of every integer field (out of range, an ORM lookup matches nothing and leaves the SQL out)
        value = 30_000 + self.generation * 1_000 + len(self.names)
        self.names[value] = name
        return value

    def moment(self, name: str, value: datetime) -> datetime:
        shift = timedelta(days=400 * self.generation + len(self.names), microseconds=len(self.names) + 1)
        stand = datetime(1990, 1, 1, tzinfo=UTC) + shift
        stand = stand.astimezone(value.tzinfo) if value.tzinfo else stand.replace(tzinfo=None)
        self.names[stand] = name
        return stand

    def text(self, name: str) -> str:
        stand = f"\x1fstand-in {self.generation}.{len(self.names)}"  # a value no input has
        self.names[stand] = name
        return stand

    def day(self, name: str) -> date:
        stand = date(1970, 1, 1) + timedelta(days=400 * self.generation + len(self.names))
        self.names[stand] = name
        return stand

    def instance(self, name: str, value: Model, keep: tuple[str, ...]) -> Model:
        model = value.__class__  # also through a lazy object (request.user)
        stand = model.__new__(model)
        stand._state = ModelState()
        stand._state.adding, stand._state.db = False, value._state.db
        for each in model._meta.concrete_fields:
            if each.primary_key or each.is_relation:
                real = getattr(value, each.attname)  # a missing key (NULL) is part of the shape
                stand.__dict__[each.attname] = None if real is None else self.integer(f"{name}.{each.attname}")
        for attribute in keep:
            stand.__dict__[attribute] = getattr(value, attribute)
        return stand

    def of(self, values: dict[str, Any], keep: dict[str, tuple[str, ...]]) -> dict[str, Any]:
        stands = {}
        for name, value in values.items():
            if value is None:  # part of the shape
                stands[name] = None
            elif isinstance(value, Model):
                stands[name] = self.instance(name, value, keep.get(name, ()))
            elif isinstance(value, datetime):
                stands[name] = self.moment(name, value)
            elif isinstance(value, date):
                stands[name] = self.day(name)
            elif isinstance(value, int) and not isinstance(value, bool):
                stands[name] = self.integer(name)
            elif isinstance(value, str):
                stands[name] = self.text(name)
            else:
                raise TypeError(f"{name}: a stand-in is made for a model instance, an int, a str, a date or a datetime")
        return stands


@dataclass(frozen=True)
class _Template:
    statement: Any  # what `build` returned, its params those of the first stand-ins
    slots: tuple[tuple[int, str], ...]  # (parameter position, value name or "name.attname")


_templates: dict[Hashable, _Template | None] = {}  # None: not reusable, build on every call
refused: dict[Hashable, str] = {}  # key -> why its statement is built on every call
_to_prepare: set[str] = set()  # those of them run as prepared statements (one generic plan)
_lock = threading.Lock()


def _slots(first: Statement, second: Statement, a: _Stand, b: _Stand) -> tuple[tuple[int, str], ...]:
    if first.sql != second.sql or len(first.params) != len(second.params):
        raise NotReusable("the SQL depends on the values")
    slots = []
    for position, (one, other) in enumerate(zip(first.params, second.params, strict=True)):
        if one == other and one not in a.names:
            continue  # a constant of the shape
        name = a.names.get(one) if type(one) is type(other) else None
        if name is None or b.names.get(other) != name:
            raise NotReusable(f"parameter {position} ({one!r}) is computed from the values")
        slots.append((position, name))
    return tuple(slots)


def _value(values: dict[str, Any], name: str) -> Any:
    base, _, attname = name.partition(".")
    return getattr(values[base], attname) if attname else values[base]


def _missing(values: dict[str, Any]):
    """The names of the values, and of their instances' keys, that are None: the SQL differs for them."""
    for name, value in values.items():
        if value is None:
            yield name
        elif isinstance(value, Model):
            for each in value._meta.concrete_fields:
                if each.is_relation and getattr(value, each.attname) is None:
                    yield f"{name}.{each.attname}"


def _bind(template: _Template, values: dict[str, Any]) -> list:
    params = list(template.statement.params)
    for position, name in template.slots:
        params[position] = _value(values, name)
    return params


def _template(
    key: Hashable, build: Callable[..., Statement], keep: dict, values: dict[str, Any], prepare: bool
) -> _Template | None:
    """Builds the statement with two sets of stand-ins and with `values` themselves; None unless the stand-ins'
    statement, bound to `values`, is exactly the latter."""
    a, b = _Stand(generation=1), _Stand(generation=2)
    try:
        try:
            first, second = build(**a.of(values, keep)), build(**b.of(values, keep))
        except ObjectDoesNotExist as error:  # `build` read a field of an instance that is not kept
            raise NotReusable(f"a stand-in instance was asked for more than its keys: {error}") from error
        if not getattr(first, "reusable", True):
            raise NotReusable("a related manager's or a prefetching queryset")
        template = _Template(statement=first, slots=_slots(first, second, a, b))
        real = build(**values)
        if real.sql != first.sql or list(real.params) != _bind(template, values):
            raise NotReusable("the statement of the values themselves differs")
    except NotReusable as why:  # e.g. SQLite, which is handed dates as text
        refused[key] = str(why)
        return None
    if prepare:
        _to_prepare.add(first.sql)
    return template


def _template_for(
    key: Hashable, build: Callable[..., Statement], keep: dict, values: dict[str, Any], prepare: bool
) -> _Template | None:
    """The template of the shape `values` have (made on first use); None: not reusable."""
    full_key = (
        key,
        tuple((name, tuple(getattr(values[name], a) for a in keep[name])) for name in sorted(keep)),
        tuple(sorted(_missing(values))),
    )
    template = _templates.get(full_key, False)
    if template is False:
        template = _template(key, build, keep, values, prepare)
        with _lock:
            _templates[full_key] = template
    return template


def bound_statement(
    key: Hashable,
    build: Callable[..., Statement],
    *,
    keep: dict[str, tuple[str, ...]] | None = None,
    prepare: bool = True,
    **values: Any,
) -> tuple[Any, list]:
    """(statement, params): what `build(**values)` returns and the parameters to run its SQL with for `values`.

    `key` names the shape: everything the SQL depends on beyond `values` (a limit, a language). `keep` names, per
    model instance among `values`, the fields `build` reads besides the keys (a role); they join the key, as do the
    values and keys that are None. `prepare=False` runs the statement as plain SQL, planned for its values each
    time: for a statement whose one generic plan misjudges them (measured: a director's company-wide lists).
    """
    template = _template_for(key, build, keep or {}, values, prepare)
    if template is None:
        statement = build(**values)
        return statement, list(statement.params)
    return template.statement, _bind(template, values)


@dataclass(frozen=True)
class QueryStatement:
    """The SQL of a queryset and how to read its rows back as dicts (no SQL: it selects nothing)."""

    sql: str
    params: list
    names: list[str]
    convert: list[tuple[int, Any, list]]  # (column position, expression, the ORM's converters of its raw value)
    alias: str


def query_statement(rows: QuerySet) -> QueryStatement:
    """The statement of a queryset (a `bound_statement` build), unrun."""
    connection = connections[rows.db]
    compiler = rows.query.get_compiler(rows.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return QueryStatement(sql="", params=[], names=[], convert=[], alias=rows.db)
    names, convert = [], []
    for position, (expression, _sql, alias) in enumerate(compiler.select):
        names.append(alias or expression.target.attname)
        if functions := converters_of(connection, expression):
            convert.append((position, expression, functions))
    return QueryStatement(sql=sql, params=list(params), names=names, convert=convert, alias=rows.db)


def read_rows(statement: QueryStatement, params: list) -> list[dict]:
    """Runs `statement` with `params`: its rows as dicts, converted as the ORM converts them."""
    if not statement.sql:
        return []
    connection = connections[statement.alias]
    rows = fetch_all(connection, statement.sql, params)
    return [dict(zip(statement.names, converted(row, statement.convert, connection), strict=True)) for row in rows]


def converters_of(connection, expression) -> list:
    """The functions the ORM converts a raw value of `expression` with (SQLite returns datetimes as text)."""
    return [*connection.ops.get_db_converters(expression), *expression.get_db_converters(connection)]


def converted(row, convert: list[tuple[int, Any, list]], connection) -> list:
    """A raw row's values as the ORM hands them out: each (position, expression, converters) of `convert` applied."""
    values = list(row)
    for position, expression, functions in convert:
        for function in functions:
            values[position] = function(values[position], expression, connection)
    return values


# Querysets of model instances -------------------------------------------------------------------------------------


class _Composed:
    """A queryset compiled once: its SQL, parameters and what its compiler knows of its columns (a `bound_statement`
    build for `bound_queryset`)."""

    def __init__(self, queryset: QuerySet):
        # a related manager's queryset hands out its instance (a stand-in), a prefetch runs queries of its own
        self.reusable = not (queryset._known_related_objects or queryset._prefetch_related_lookups)
        self.queryset = queryset
        compiler = queryset.query.get_compiler(queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            sql, params = "", ()
        self.sql, self.params = sql, list(params)
        self.columns = {
            name: getattr(compiler, name, None)
            for name in ("select", "klass_info", "annotation_col_map", "col_count", "has_extra_select")
        }

    def rebound(self, params: list) -> QuerySet:
        """The queryset, run with `params` instead of its own when iterated; not to be filtered or chained further."""
        queryset = self.queryset._chain()
        queryset.query.__class__ = _BoundQuery
        queryset.query.bound = (self, params)
        return queryset


class _BoundQuery(Query):
    bound: tuple[_Composed, list]

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        connection = connection or connections[using]
        return _BoundCompiler(self, connection, using, elide_empty)

    def clone(self):
        raise TypeError("a bound queryset (core.statements.bound_queryset) is only iterated, never chained")


class _BoundCompiler(SQLCompiler):
    def __init__(self, query: _BoundQuery, connection, using, elide_empty=True):
        super().__init__(query, connection, using, elide_empty)
        composed, self.bound_params = query.bound
        self.__dict__.update(composed.columns)
        self.composed = composed

    plain = False  # run the SQL itself, not its prepared statement

    def as_sql(self, with_limits=True, with_col_aliases=False):
        if not self.composed.sql:
            raise EmptyResultSet
        if self.plain:
            return self.composed.sql, self.bound_params
        return _execute(self.connection, self.composed.sql, self.bound_params)

    def execute_sql(self, *args, **kwargs):
        try:
            return super().execute_sql(*args, **kwargs)
        except DatabaseError as error:
            sent = self.as_sql()[0]
            if self.plain or not _retried(self.connection, sent, self.composed.sql, error):
                raise
            self.plain = True
            return super().execute_sql(*args, **kwargs)


def bound_queryset(
    key: Hashable,
    build: Callable[..., QuerySet],
    *,
    keep: dict[str, tuple[str, ...]] | None = None,
    prepare: bool = True,
    **values: Any,
) -> QuerySet:
    """The queryset `build(**values)` returns, composed once per shape as `bound_statement` composes a statement:
    iterate it (model instances, values), never chain it (filter, count, first)."""
    template = _template_for(key, lambda **each: _Composed(build(**each)), keep or {}, values, prepare)
    if template is None:
        return build(**values)  # not reusable: the queryset of these values, compiled when it runs
    return template.statement.rebound(_bind(template, values))


# Prepared statements (PostgreSQL) ----------------------------------------------------------------------------------
# A reused statement is also prepared once per database connection and run with EXECUTE: PostgreSQL then neither
# parses nor plans it again. The connection's plan_cache_mode (settings: force_generic_plan, which concerns only
# prepared statements; Django prepares none of its own) keeps one generic plan per statement: planning the to-do's
# UNION took longer than running it. The PREPARE itself is sent past Django's cursor wrapper (not a query of the
# page's, and not counted as one); inside a transaction under a savepoint, so that a statement PostgreSQL cannot
# prepare leaves the transaction usable and is then run as plain SQL.

_names: dict[str, str] = {}  # SQL -> its prepared statement's name (the same in every connection of this process)
_unpreparable: set[str] = set()
_PLACEHOLDER = re.compile(r"%(s|%)")


def _numbered(sql: str) -> str:
    """Django's %s placeholders as PostgreSQL's $1, $2, ... (and %% as %)."""
    numbers = iter(range(1, sql.count("%s") + 1))
    return _PLACEHOLDER.sub(lambda match: f"${next(numbers)}" if match.group(1) == "s" else "%", sql)


def _declared(value: Any) -> str:
    """The type a parameter is declared with: the one its value has (PostgreSQL would infer text for `SELECT $1`,
    where the plain statement's literal `true` is a boolean); `unknown` leaves it to PostgreSQL."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, Decimal):
        return "numeric"
    if isinstance(value, datetime):
        return "timestamptz" if value.tzinfo else "timestamp"
    if isinstance(value, date):
        return "date"
    return "unknown"


def _prepared(connection, sql: str, params: list) -> str | None:
    """The name `sql` is prepared under in this connection (preparing it now if need be); None: run it plainly."""
    if connection.vendor != "postgresql" or sql in _unpreparable or not settings.SALESFLOW_PREPARED_STATEMENTS:
        return None
    connection.ensure_connection()
    raw = connection.connection
    known = getattr(connection, "salesflow_prepared", None)
    if known is None or known[0] is not raw:  # a new database connection: nothing prepared in it yet
        known = connection.salesflow_prepared = (raw, set())
    name = _names.get(sql)
    if name is None:
        with _lock:  # one name per SQL, never two SQL under one name
            name = _names.setdefault(sql, f"salesflow_{len(_names) + 1}")
    if name in known[1]:
        return name
    in_transaction = raw.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE
    with raw.cursor() as cursor:
        try:
            if in_transaction:
                cursor.execute("SAVEPOINT salesflow_prepare")
            declared = f" ({', '.join(_declared(value) for value in params)})" if params else ""
            cursor.execute(f"PREPARE {name}{declared} AS {_numbered(sql)}")
        except psycopg2.Error:
            if in_transaction:
                cursor.execute("ROLLBACK TO SAVEPOINT salesflow_prepare")
            _unpreparable.add(sql)
            return None
        finally:
            if in_transaction:
                cursor.execute("RELEASE SAVEPOINT salesflow_prepare")
    known[1].add(name)
    return name


def _execute(connection, sql: str, params: list) -> tuple[str, list]:
    """What to send for `sql` run with `params`: EXECUTE of its prepared statement where there is one."""
    name = _prepared(connection, sql, params) if sql in _to_prepare else None
    if name is None:
        return sql, params
    return f"EXECUTE {name}" + (f" ({', '.join(['%s'] * len(params))})" if params else ""), params


def _lost(error: Exception) -> bool:
    """Whether `error` says the connection lost a prepared statement (a DEALLOCATE, a pooler's DISCARD ALL) or that
    its plan no longer fits its table (a migration changed a column while the connection stayed open)."""
    cause = error.__cause__ or error
    return isinstance(cause, (psycopg2.errors.InvalidSqlStatementName, psycopg2.errors.FeatureNotSupported))


def _forget(connection) -> None:
    """Drops this connection's prepared statements; they are prepared again when next run."""
    with connection.connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection.salesflow_prepared = None


def _retried(connection, sent: str, sql: str, error: DatabaseError) -> bool:
    """After `error` from running `sent` for `sql`: whether to run `sql` again as plain SQL (outside a transaction,
    for a prepared statement that was lost or went stale); the connection forgets its prepared statements then."""
    if sent == sql or connection.in_atomic_block or not _lost(error):
        return False
    _forget(connection)
    return True


def fetch_all(connection, sql: str, params: list) -> list[tuple]:
    """The rows of `sql` run with `params`: through its prepared statement on PostgreSQL when it is a reused
    statement's (`bound_statement`), as plain SQL otherwise."""
    sent, arguments = _execute(connection, sql, params)
    with connection.cursor() as cursor:
        try:
            cursor.execute(sent, arguments)
        except DatabaseError as error:
            if not _retried(connection, sent, sql, error):
                raise
            cursor.execute(sql, params)
        return cursor.fetchall()


def sql_of(sent: str) -> str:
    """The SQL a line of the query log stands for: a prepared statement's own SQL for its EXECUTE (for tests and
    debugging; names are the same in every connection of this process)."""
    if not sent.startswith("EXECUTE salesflow_"):
        return sent
    name = sent.split()[1]
    return next((sql for sql, each in _names.items() if each == name), sent)
