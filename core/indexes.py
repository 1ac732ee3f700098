"""Indexes and index migrations that behave on PostgreSQL and SQLite alike.

- `NullsOrderedIndex`: an index whose keys carry the NULLS placement of a list's ORDER BY, which PostgreSQL needs to
  serve that order from the index; SQLite refuses a NULLS clause in an index.
- `AddIndexConcurrentlyWhereSupported`: `CREATE INDEX CONCURRENTLY` on PostgreSQL, so adding an index to a large
  table does not block its writes; a plain `CREATE INDEX` elsewhere. Use it in a migration with `atomic = False`.
- `RemoveIndexConcurrentlyWhereSupported`: its twin for `DROP INDEX`, for an index a wider one replaces.
- `ComputedKeyIndex`: an index with a computed key such as `F("changed_at") - F("entered_at")` on PostgreSQL; on
  SQLite the columns the key reads instead (Django computes such a key there with a function it registers on its own
  connections only, so any other connection writing the table would fail).
- `TrigramIndex`: a GIN index with pg_trgm's `gin_trgm_ops` on PostgreSQL, which serves `LIKE '%...%'` (Django's
  `contains`, and `icontains` when the index is on `Upper(column)`); a plain index elsewhere (SQLite has neither GIN
  nor pg_trgm, and its search reads the table). The migration adding one runs `TrigramExtension()` first.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import models
from django.db.migrations.operations import AddIndex, RemoveIndex


class NullsOrderedIndex(models.Index):
    """An index of expressions such as `Coalesce(...).desc(nulls_last=True)`, the order of a list in a query.

    On SQLite the NULLS clause is left out: it sorts NULL first ascending and last descending, which is what the keys
    this index is meant for (`.desc(nulls_last=True)`, `.asc(nulls_first=True)`) say anyway.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "sqlite":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        plain = self.clone()
        plain.expressions = tuple(
            models.OrderBy(key.expression, descending=key.descending) if isinstance(key, models.OrderBy) else key
            for key in self.expressions
        )
        return models.Index.create_sql(plain, model, schema_editor, using=using, **kwargs)


class ComputedKeyIndex(models.Index):
    """`ComputedKeyIndex("pipeline", F("changed_at") - F("entered_at"), name=...)`: the keys as given on PostgreSQL;
    elsewhere each computed key becomes the columns it reads, in order (a plain index of the same rows)."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        columns: list[models.F] = []
        for key in self.expressions:
            for part in [key] if isinstance(key, models.F) else key.flatten():
                if isinstance(part, models.F) and part not in columns:
                    columns.append(part)
        plain = self.clone()
        plain.expressions = tuple(columns)
        return models.Index.create_sql(plain, model, schema_editor, using=using, **kwargs)


class TrigramIndex(GinIndex):
    """`TrigramIndex(Upper("name"), name=...)` or `TrigramIndex(fields=["name_pinyin"], name=...)`: every key gets
    the `gin_trgm_ops` operator class on PostgreSQL; on other databases the same keys in a plain index.

    Without GIN's fast update: a new row is in the index at once, not in a pending list that every search reads
    until a vacuum flushes it (and that makes the planner prefer reading the table). Names change rarely."""

    def __init__(self, *expressions, fields=(), name=None, **kwargs):
        kwargs.setdefault("fastupdate", False)
        keys = tuple(OpClass(expression, name="gin_trgm_ops") for expression in expressions)
        opclasses = ("gin_trgm_ops",) * len(fields)
        super().__init__(*keys, fields=fields, name=name, opclasses=opclasses, **kwargs)

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        kwargs.pop("opclasses", None)  # set again by __init__
        if kwargs.get("fastupdate") is False:
            del kwargs["fastupdate"]
        args = tuple(arg.get_source_expressions()[0] if isinstance(arg, OpClass) else arg for arg in args)
        return path, args, kwargs

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        plain = models.Index(
            *(expression.get_source_expressions()[0] for expression in self.expressions),
            fields=self.fields,
            name=self.name,
        )
        return plain.create_sql(model, schema_editor, using=using, **kwargs)


class AddIndexConcurrentlyWhereSupported(AddIndexConcurrently):
    """Adds an index without blocking writes on PostgreSQL (`CONCURRENTLY`, outside a transaction); elsewhere a plain
    `AddIndex`. The migration must set `atomic = False`."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrentlyWhereSupported(RemoveIndexConcurrently):
    """Drops an index without blocking writes on PostgreSQL (`CONCURRENTLY`, outside a transaction); elsewhere a plain
    `RemoveIndex`. The migration must set `atomic = False`."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
