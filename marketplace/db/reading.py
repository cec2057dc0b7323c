"""The connection reads go through (`connection()`): the database session's, or, lent to a request
that only reads (a USSD hop), a connection of the read engine. That engine has the database's URL
and pool settings but a pool of its own, autocommit from connect (no BEGIN or COMMIT round trips, no
transaction bookkeeping, no isolation level switched per checkout), generic plans for its prepared
statements, and it refuses a statement sent through SQLAlchemy that would change something before
it runs. That refusal guards against a screen's mistake (a service called where only reads belong);
it is not a permission: the USSD engine stores its reply on the lent connection on purpose, through
psycopg directly (`Prepared`).

A thread keeps the connection it was lent between requests, as long as the pool has room for one
connection per such thread (a worker thread of gunicorn serves request after request: checking a
connection out of the pool and back in cost about a twentieth of a USSD hop). It goes back to the
pool when the thread ends, and is dropped when found broken or after `dispose_engines`.

Connections the server closed (a restart, a failover, backends terminated) are found before a
request uses them, on every pool of the app (`replace_closed_on_checkout`) and for the connection a
thread keeps, without a round trip (`closed_by_server`): a request never starts on a dead one."""

from __future__ import annotations

import contextlib
import select
import threading
from collections.abc import MutableMapping
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from psycopg import pq

from ..extensions import db

_LENT = "_reading_connection"  # name in `flask.g` of the read-only connection lent to the request
_READ_ENGINE = "ujuzi.read_engine"  # key in `app.extensions`
_WATCH = "reading.watch"  # in a pooled connection's `info`: its socket and a poller on it
_making = threading.Lock()


class _Kept:
    """The read connection a thread keeps between requests, and the pool it came from."""

    __slots__ = ("connection", "pool")

    def __init__(self, connection: sa.Connection, pool: sa.pool.Pool) -> None:
        self.connection = connection
        self.pool = pool

    def __del__(self) -> None:
        # The thread ended (or the connection was replaced): back to its pool, or closed with it.
        with contextlib.suppress(Exception):  # nothing to report at a thread's exit
            self.connection.close()


_threads = threading.local()  # `kept`: this thread's _Kept, if any


class WriteRefused(RuntimeError):
    """Something tried to change the database through a read-only connection."""


def connection() -> sa.Connection:
    """The connection reads go through: the read-only one lent to the request (`lend`), or
    else the database session's, with its pending changes flushed so that the read sees them."""
    lent: sa.Connection | None = g.get(_LENT)
    if lent is not None:
        return lent
    s = db.session()
    s.flush()
    return s.connection()


def lend() -> sa.Connection:
    """Lend the request's reads a connection of the read engine until `give_back` (PostgreSQL).

    It is autocommit (no BEGIN or COMMIT round trips, no transaction bookkeeping) and comes from a
    pool of its own, so its connections never switch isolation level; statements that would change
    something are refused before they run (`WriteRefused`)."""
    lent: sa.Connection | None = g.get(_LENT)
    if lent is None:
        made = engine()
        kept: _Kept | None = getattr(_threads, "kept", None)
        if kept is not None and kept.pool is made.pool and _alive(kept.connection):
            lent = kept.connection
        else:
            if kept is not None:
                _drop_kept(kept)
            lent = made.connect()
        setattr(g, _LENT, lent)
    return lent


def give_back() -> None:
    """End the loan: this thread keeps the connection for its next request while the pool has
    room for that (else it goes back to the pool)."""
    lent: sa.Connection | None = g.pop(_LENT, None)
    if lent is None:
        return
    kept: _Kept | None = getattr(_threads, "kept", None)
    if kept is not None and kept.connection is lent:
        if not _reusable(lent):
            _drop_kept(kept)
        return
    pool = engine().pool
    if kept is None and _reusable(lent) and _room_to_keep(pool):
        _threads.kept = _Kept(lent, pool)
    else:
        lent.close()


def _alive(connection: sa.Connection) -> bool:
    """Not invalidated, and not closed by the server while it was kept (then invalidated here)."""
    if connection.invalidated:
        return False
    pooled = connection.connection
    if closed_by_server(pooled.driver_connection, pooled.info):
        connection.invalidate()
        return False
    return True


def closed_by_server(driver: Any, info: MutableMapping[str, Any]) -> bool:
    """Whether the server closed this idle connection, found without a round trip.

    Between two requests nothing is asked on a pooled connection, so the server never speaks
    first on it, but to say it is closing it (the FATAL of a terminated backend or a shutdown,
    then the end of the socket): anything to read means dead. One `poll` of the socket, a few
    microseconds. A connection cut without a word (a network failure) is not seen here; its first
    statement fails, which invalidates it (and the USSD hop is answered again)."""
    pgconn = getattr(driver, "pgconn", None)
    if pgconn is None:
        return False  # not psycopg (SQLite): nothing the server could have closed
    if pgconn.status != pq.ConnStatus.OK:
        return True
    socket = pgconn.socket
    watch: tuple[int, Any] | None = info.get(_WATCH)
    if watch is None or watch[0] != socket:
        poller = select.poll()
        poller.register(socket, select.POLLIN)
        info[_WATCH] = watch = (socket, poller)
    return bool(watch[1].poll(0))


def replace_closed_on_checkout(made: sa.Engine) -> None:
    """A connection taken from this engine's pool that the server has closed is replaced by a
    fresh one before the request uses it (SQLAlchemy reconnects on `DisconnectionError` raised at
    checkout), so that no route meets a dead connection after a restart. The alternative, the
    pool's `pre_ping`, costs a round trip per checkout."""
    sa.event.listen(made, "checkout", _check_out)


def _check_out(driver: Any, record: Any, _proxy: Any) -> None:
    if closed_by_server(driver, record.info):
        raise sa.exc.DisconnectionError("the server closed this pooled connection")


def _room_to_keep(pool: sa.pool.Pool) -> bool:
    """The connections checked out (this one among them) are within the pool's size: threads
    that keep theirs never leave the others waiting (the overflow is for them)."""
    if not isinstance(pool, sa.pool.QueuePool):
        return False
    return pool.checkedout() <= pool.size()


def _reusable(connection: sa.Connection) -> bool:
    """Not broken, and idle (no statement or transaction left open on it)."""
    if connection.invalidated or connection.closed:
        return False
    driver = connection.connection.driver_connection
    info = getattr(driver, "info", None)
    status = getattr(info, "transaction_status", None)
    return status is None or status == pq.TransactionStatus.IDLE


def _drop_kept(kept: _Kept) -> None:
    """Forget this thread's kept connection: closed for good if its pool was replaced (its
    connections may be dead), else back to the pool."""
    _threads.kept = None
    if kept.pool is not engine().pool and not kept.connection.invalidated:
        kept.connection.invalidate()


def engine() -> sa.Engine:
    """The app's read engine (PostgreSQL): the database's URL and pool settings, autocommit,
    read-only, with generic plans for its prepared statements."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    made: sa.Engine | None = app.extensions.get(_READ_ENGINE)
    if made is None:
        with _making:
            made = app.extensions.get(_READ_ENGINE)
            if made is None:
                made = app.extensions[_READ_ENGINE] = _make_engine(app)
    return made


def _make_engine(app: Flask) -> sa.Engine:
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    made = sa.create_engine(
        db.engine.url,
        isolation_level="AUTOCOMMIT",
        pool_reset_on_return=None,  # nothing to roll back: every statement commits on its own
        **options,
    )
    sa.event.listen(made, "connect", _plan_once)
    sa.event.listen(made, "before_cursor_execute", _refuse_writes)
    replace_closed_on_checkout(made)
    return made


def _plan_once(dbapi_connection: Any, _record: Any) -> None:
    """The read engine's statements are few and fixed, prepared once per connection: planned once
    too. (PostgreSQL would re-plan a provider listing, whose LIMIT and OFFSET are parameters, on
    every run.) Set when the connection is made, not as a startup option, which poolers such as
    PgBouncer may refuse."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
    if not dbapi_connection.autocommit:  # (it is by now: the dialect's own setup runs first)
        dbapi_connection.commit()


def dispose_engines() -> None:
    """Close the pooled connections of the app's engines (the read engine's too)."""
    db.engine.dispose()
    made: sa.Engine | None = current_app.extensions.get(_READ_ENGINE)
    if made is not None:
        made.dispose()
    kept: _Kept | None = getattr(_threads, "kept", None)
    if kept is not None and kept.connection is not g.get(_LENT):
        _drop_kept(kept)  # (other threads drop theirs at their next loan)


def _refuse_writes(
    _conn: sa.Connection,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    context: Any,
    _executemany: bool,
) -> None:
    """Every statement on an autocommit connection would commit at once: one that changes something
    is refused before it runs."""
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        raise WriteRefused("a change was sent through a read-only connection")
    if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
        raise WriteRefused("a change was sent through a read-only connection")
