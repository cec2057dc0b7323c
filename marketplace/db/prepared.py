"""Statements sent straight through libpq, as server-side prepared statements.

For the few statements on the hottest path (every USSD hop runs two of them), SQLAlchemy's work per
execution (cache key, parameter processing, result rows) costs more than PostgreSQL takes to answer,
and so does a psycopg cursor's (its prepared-statement cache, query conversion, result set-up). A
`Prepared` statement is a Core statement compiled once for the connection's dialect and turned into
PostgreSQL's own `$1` form; it is prepared once per connection under its own name, and each run hands
its parameters (dumped by psycopg's adapters, as text) to libpq on the connection under the
SQLAlchemy connection (the same pool; autocommit or the same transaction), and loads the result's
rows with psycopg's adapters: plain tuples, or named tuples (`rows`).

Parameters go to the driver as they are: no type processing happens here, so callers pass what
psycopg takes (`json(value)` for JSON, `utc(moment)` for the UTC columns, lists for arrays). Every
parameter carries its type in the SQL (SQLAlchemy's bind casts), so PostgreSQL reads each text value
as its column does. Errors come out as SQLAlchemy's (`IntegrityError`, ...), and a connection found
dead is invalidated with the app's pools (as SQLAlchemy does with its own pool for its own
statements). PostgreSQL only; other databases use the Core statement itself.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from psycopg import abc, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.types.json import Jsonb

from . import reading

# In the pooled connection's `info`: what this module keeps for that connection.
_STATE = "prepared.state"
_PLACEHOLDER = re.compile(r"%(%|\((\w+)\)s)")
_OK = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK)
_numbers = itertools.count(1)
_compiling = threading.Lock()


@dataclass
class _Compiled:
    name: bytes  # the prepared statement's name on every connection
    sql: bytes  # with $1, $2, ... placeholders
    order: tuple[str, ...]  # the parameter behind each placeholder
    literals: dict[str, Any]  # values the statement fixed itself


@dataclass
class _Connection:
    """What this module keeps for one driver connection: its adapters and its prepared names."""

    driver: psycopg.Connection[Any]
    adapt: abc.Transformer
    prepared: set[bytes] = field(default_factory=set)


@dataclass
class Prepared:
    statement: sa.Executable
    _compiled: _Compiled | None = field(default=None, init=False, repr=False)
    _named: Callable[[Sequence[Any]], Any] | None = field(default=None, init=False, repr=False)

    def rows(self, conn: sa.Connection, params: Mapping[str, Any]) -> Sequence[Any]:
        """All the rows, their columns as attributes: prepared on PostgreSQL, elsewhere the Core
        statement (parameters as both take them: plain values)."""
        if conn.dialect.name != "postgresql":
            return conn.execute(self.statement, params).all()
        return self.execute(conn, params, named=True)

    def execute(
        self, conn: sa.Connection, params: Mapping[str, Any], *, named: bool = False
    ) -> list[Any]:
        """Run the statement on PostgreSQL; its rows as plain tuples (`named`: named tuples)."""
        compiled = self._compiled or self._compile(conn.dialect)
        pooled = conn.connection
        driver: psycopg.Connection[Any] = pooled.driver_connection  # type: ignore[assignment]
        values = {**compiled.literals, **params} if compiled.literals else params
        try:
            mine: _Connection | None = pooled.info.get(_STATE)
            if mine is None or mine.driver is not driver:
                mine = pooled.info[_STATE] = _Connection(
                    driver, cast(abc.Transformer, Transformer(driver))
                )
            adapt = mine.adapt
            args = [values[name] for name in compiled.order]
            buffers = adapt.dump_sequence(args, [PyFormat.TEXT] * len(args))
            try:
                result = _run(mine, compiled, buffers)
            except psycopg.errors.InvalidSqlStatementName:
                # Deallocated behind our back (DISCARD ALL from a pooler, say): prepared again on
                # the next run, and at once unless a transaction the failure spoiled is open.
                mine.prepared.clear()
                if driver.pgconn.transaction_status != pq.TransactionStatus.IDLE:
                    raise
                result = _run(mine, compiled, buffers)
            if result.status != pq.ExecStatus.TUPLES_OK:
                return []
            adapt.set_pgresult(result)
            return adapt.load_rows(0, result.ntuples, self._row_maker(result) if named else tuple)
        except psycopg.Error as exc:
            dead = driver.broken
            if dead:
                conn.invalidate(exc)
                reading.dispose_engines()  # the database restarted: every pooled connection is dead
            raise sa.exc.DBAPIError.instance(
                compiled.sql.decode(),
                dict(values),
                exc,
                psycopg.Error,
                connection_invalidated=dead,
                dialect=conn.dialect,
            ) from exc

    def _compile(self, dialect: sa.Dialect) -> _Compiled:
        """Once per statement (threads racing for the first run get the same name)."""
        with _compiling:
            if self._compiled is None:
                self._compiled = self._compiled_for(dialect)
            return self._compiled

    def _compiled_for(self, dialect: sa.Dialect) -> _Compiled:
        assert isinstance(self.statement, sa.ClauseElement)
        compiled = self.statement.compile(dialect=dialect)
        order: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(2)
            if name is None:
                return "%"  # a literal percent sign, doubled for the driver
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}"

        sql = _PLACEHOLDER.sub(number, compiled.string)
        literals = {k: v for k, v in compiled.params.items() if v is not None}
        name = f"ujuzi_{next(_numbers)}".encode()
        return _Compiled(name, sql.encode(), tuple(order), literals)

    def _row_maker(self, result: pq.abc.PGresult) -> Callable[[Sequence[Any]], Any]:
        if self._named is None:
            names = [(result.fname(i) or b"").decode() for i in range(result.nfields)]
            row: Any = namedtuple("Row", names, rename=True)  # type: ignore[misc]
            self._named = row._make
        return self._named


def json(value: Any) -> Any:
    """A JSON value as a prepared statement's parameter (for a JSON or JSONB column)."""
    return Jsonb(value)


def utc(moment: datetime) -> datetime:
    """A time as a prepared statement's parameter for a UTC column: naive UTC, as the columns
    store it (see `UTCDateTime`)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _run(mine: _Connection, compiled: _Compiled, buffers: Sequence[Any]) -> pq.abc.PGresult:
    pgconn = mine.driver.pgconn
    if compiled.name not in mine.prepared:
        _check(pgconn.prepare(compiled.name, compiled.sql), mine.driver)
        mine.prepared.add(compiled.name)
    return _check(pgconn.exec_prepared(compiled.name, buffers), mine.driver)


def _check(result: pq.abc.PGresult, driver: psycopg.Connection[Any]) -> pq.abc.PGresult:
    if result.status not in _OK:
        raise psycopg.errors.error_from_result(result, encoding=driver.info.encoding)
    return result
