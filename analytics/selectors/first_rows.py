"""The first rows of several lists and their counts in one query (a UNION ALL of each list cut by its own ORDER BY
and LIMIT), read as values into a common set of columns, and the visits, opportunities and owners built back from
those rows with only what the lists show loaded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import (
    BigIntegerField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    F,
    Field,
    IntegerField,
    Model,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber

from accounts.models import Account, Contact, User
from core.statements import converted, converters_of, fetch_all
from pipeline.models import Opportunity, Stage, Visit


@dataclass(frozen=True)
class FirstRows:
    """The statement of `first_rows_of_each` and how to read its rows back (no SQL: every part selects nothing)."""

    sql: str
    params: list
    parts: int
    names: list[str]
    convert: list[tuple[int, Any, list]]  # (column position, expression, the ORM's converters of its raw value)
    alias: str


def first_rows_statement(columns: dict[str, Field], parts: list[tuple[QuerySet, dict[str, str], int]]) -> FirstRows:
    """The statement of `first_rows_of_each`, unrun (a `core.statements` build)."""
    alias = parts[0][0].db if parts else DEFAULT_DB_ALIAS
    connection = connections[alias]
    quote = connection.ops.quote_name
    selects, params, converters = [], [], {}
    for number, (rows, picked, limit) in enumerate(parts):
        # The first ids are picked on the list's own rows, then only those few are joined to what the list shows:
        # joining first made a plan that guessed many rows hash whole tables of names (accounts, contacts).
        first = rows.filter(pk__in=rows.values("pk")[:limit])
        part = first.values(
            **{name: F(path) for name, path in picked.items()},
            first_rows_position=Window(RowNumber(), order_by=list(rows.query.order_by)),
        )[:limit]
        compiler = part.query.get_compiler(part.db)
        try:
            sql, part_params = compiler.as_sql()
            # compiled on its own (not as an ORM Subquery, which would copy and re-alias the whole query first)
            counted, count_params = rows.order_by().values("pk").query.get_compiler(rows.db).as_sql()
        except EmptyResultSet:
            continue
        for expression, _sql, alias_ in compiler.select:
            if alias_ in columns and alias_ not in converters:  # a column has one type: any part's expression serves
                converters[alias_] = (expression, converters_of(connection, expression))
        listed = [
            quote(name) if name in picked else f"CAST(NULL AS {kind.cast_db_type(connection)}) AS {quote(name)}"
            for name, kind in columns.items()
        ]
        selects.append(
            f"SELECT {', '.join(listed)}, {number} AS {quote('first_rows_part')},"
            f" (SELECT COUNT(*) FROM ({counted}) {quote('counted')}) AS {quote('first_rows_total')},"
            f" {quote('first_rows_position')} FROM ({sql}) {quote(f'part_{number}')}"
        )
        params.extend([*count_params, *part_params])
    order = f"{quote('first_rows_part')}, {quote('first_rows_position')}"
    names = list(columns)
    return FirstRows(
        sql=" UNION ALL ".join(selects) + f" ORDER BY {order}" if selects else "",
        params=params,
        parts=len(parts),
        names=names,
        convert=[(at, *converters[name]) for at, name in enumerate(names) if converters.get(name, (0, []))[1]],
        alias=alias,
    )


def read_first_rows(statement: FirstRows, params: list) -> list[tuple[list[dict], int]]:
    """Runs `statement` with `params`: for each part, its first rows (dicts of every column) and its total."""
    found: list[tuple[list[dict], int]] = [([], 0) for _ in range(statement.parts)]
    if not statement.sql:
        return found
    connection = connections[statement.alias]
    rows = fetch_all(connection, statement.sql, params)
    for row in rows:
        *values, number, total, _position = converted(row, statement.convert, connection)
        found[number][0].append(dict(zip(statement.names, values, strict=True)))
        found[number] = (found[number][0], total)
    return found


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
    statement = first_rows_statement(columns, parts)
    return read_first_rows(statement, statement.params)


# The columns the lists of a page are read into (one UNION ALL); a list picks those it has, the rest are NULL.
COLUMNS = {
    "item_id": BigIntegerField(),
    "item_at": DateTimeField(),
    "item_on": DateField(),
    "item_name": CharField(),
    "item_kind": CharField(),
    "account_ref": BigIntegerField(),
    "account_label": CharField(),
    "contact_ref": BigIntegerField(),
    "contact_label": CharField(),
    "stage_ref": BigIntegerField(),
    "stage_zh": CharField(),
    "stage_en": CharField(),
    "item_amount": DecimalField(max_digits=14, decimal_places=2),
    "owner_ref": BigIntegerField(),
    "owner_username": CharField(),
    "owner_first": CharField(),
    "owner_last": CharField(),
    "item_priority": IntegerField(),
}


def owner_columns(owner: str) -> dict[str, str]:
    return {
        "owner_ref": f"{owner}_id",
        "owner_username": f"{owner}__username",
        "owner_first": f"{owner}__first_name",
        "owner_last": f"{owner}__last_name",
    }


VISIT_COLUMNS = {
    "item_id": "pk",
    "item_at": "planned_at",
    "item_name": "purpose",
    "item_kind": "kind",
    "account_ref": "account_id",
    "account_label": "account__name",
    "contact_ref": "contact_id",
    "contact_label": "contact__name",
    **owner_columns("owner"),
}


def opportunity_columns(path: str) -> dict[str, str]:
    return {
        "item_name": f"{path}name",
        "account_ref": f"{path}account_id",
        "account_label": f"{path}account__name",
        "stage_ref": f"{path}stage_id",
        "stage_zh": f"{path}stage__name_zh",
        "stage_en": f"{path}stage__name_en",
        "item_amount": f"{path}amount",
        **owner_columns(f"{path}owner"),
    }


def loaded(model: type[Model], **values: Any) -> Any:
    """A `model` instance with only `values` loaded: reading any other field would run a query (which the query-count
    tests catch) instead of answering a made-up default."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(DEFAULT_DB_ALIAS, names, [values[name] for name in names])


def owner_of(row: dict) -> User:
    return loaded(
        User,
        id=row["owner_ref"],
        username=row["owner_username"],
        first_name=row["owner_first"],
        last_name=row["owner_last"],
    )


def visit_of(row: dict) -> Visit:
    """The visit of a row of VISIT_COLUMNS, or of fewer: without the contact's or the owner's names, those are left
    unloaded."""
    visit = loaded(
        Visit,
        id=row["item_id"],
        account_id=row["account_ref"],
        contact_id=row.get("contact_ref"),
        owner_id=row["owner_ref"],
        kind=row["item_kind"],
        planned_at=row["item_at"],
        purpose=row["item_name"],
    )
    visit.account = loaded(Account, id=row["account_ref"], name=row["account_label"])
    if row.get("contact_ref") is not None:
        visit.contact = loaded(Contact, id=row["contact_ref"], name=row["contact_label"])
    if "owner_username" in row:
        visit.owner = owner_of(row)
    return visit


def opportunity_of(row: dict, **more: Any) -> Opportunity:
    opportunity = loaded(
        Opportunity,
        id=row["item_id"],
        account_id=row["account_ref"],
        stage_id=row["stage_ref"],
        owner_id=row["owner_ref"],
        name=row["item_name"],
        amount=row["item_amount"],
        **more,
    )
    opportunity.account = loaded(Account, id=row["account_ref"], name=row["account_label"])
    opportunity.stage = loaded(Stage, id=row["stage_ref"], name_zh=row["stage_zh"], name_en=row["stage_en"])
    opportunity.owner = owner_of(row)
    return opportunity
