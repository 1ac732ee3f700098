"""Indexes and index migrations that behave on PostgreSQL and SQLite alike.

- `NullsOrderedIndex`: an index whose keys carry the NULLS placement of a list's ORDER BY, which PostgreSQL needs to
  serve that order from the index; SQLite refuses a NULLS clause in an index.
- `AddIndexConcurrentlyWhereSupported`: `CREATE INDEX CONCURRENTLY` on PostgreSQL, so adding an index to a large
  table does not block its writes; a plain `CREATE INDEX` elsewhere. Use it in a migration with `atomic = False`.
"""

from __future__ import annotations

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import models
from django.db.migrations.operations import AddIndex


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
