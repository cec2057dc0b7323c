"""Statements sent straight through psycopg, as server-side prepared statements.

For the few statements on the hottest path (every USSD hop runs two of them), SQLAlchemy's work per
execution (cache key, parameter processing, result rows) costs more than PostgreSQL takes to answer.
A `Prepared` statement is a Core statement compiled once for the connection's dialect; each run hands
its SQL and parameters to the psycopg connection under the SQLAlchemy connection (the same
transaction and pool) and returns psycopg's cursor, with plain tuples for rows.

Parameters go to the driver as they are: no type processing happens here, so callers pass what
psycopg takes (`Jsonb` for JSON, naive UTC datetimes for the UTC columns, lists for arrays).
Errors come out as SQLAlchemy's (`IntegrityError`, ...), and a connection found dead is invalidated
with the app's pools (as SQLAlchemy does with its own pool for its own statements). PostgreSQL only;
other databases use the Core statement itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.rows import RowFactory, namedtuple_row, tuple_row

from . import reading

_CURSOR = "prepared.cursor"  # in the pooled connection's `info`: its cursors for these


@dataclass
class Prepared:
    statement: sa.Executable
    _compiled: tuple[str, dict[str, Any]] | None = field(default=None, init=False, repr=False)

    def rows(self, conn: sa.Connection, params: Mapping[str, Any]) -> Sequence[Any]:
        """All the rows, their columns as attributes: prepared on PostgreSQL, elsewhere the Core
        statement (parameters as both take them: plain values)."""
        if conn.dialect.name != "postgresql":
            return conn.execute(self.statement, params).all()
        return self.execute(conn, params, namedtuple_row).fetchall()

    def execute(
        self,
        conn: sa.Connection,
        params: Mapping[str, Any],
        row_factory: RowFactory[Any] = tuple_row,
    ) -> psycopg.Cursor[Any]:
        """Run the statement; read its rows before the connection runs another of the same kind of
        row (the cursor is the connection's own, reused: its adapters stay looked up)."""
        if self._compiled is None:
            assert isinstance(self.statement, sa.ClauseElement)
            compiled = self.statement.compile(dialect=conn.dialect)
            literals = {k: v for k, v in compiled.params.items() if v is not None}
            self._compiled = (compiled.string, literals)
        sql, literals = self._compiled
        pooled = conn.connection
        driver: psycopg.Connection[Any] = pooled.driver_connection  # type: ignore[assignment]
        values = {**literals, **params} if literals else params
        try:
            # One cursor per kind of row: a cursor given another row factory applies it at once
            # to the result it still holds, which may not fit.
            key = (_CURSOR, row_factory)
            cursor: psycopg.Cursor[Any] | None = pooled.info.get(key)
            if cursor is None or cursor.connection is not driver:
                cursor = pooled.info[key] = driver.cursor(row_factory=row_factory)
            return cursor.execute(sql, values, prepare=True)
        except psycopg.Error as exc:
            dead = driver.broken
            if dead:
                conn.invalidate(exc)
                reading.dispose_engines()  # the database restarted: every pooled connection is dead
            raise sa.exc.DBAPIError.instance(
                sql, values, exc, psycopg.Error, connection_invalidated=dead, dialect=conn.dialect
            ) from exc
