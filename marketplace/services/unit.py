"""The one commit of a use case: seal the audit chain, then commit. Turns constraint violations
into domain errors. And the connection reads go through (`reader()`): the session's, or, for work
that only reads (a USSD hop), an autocommit connection of its own that refuses to change anything."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain import errors
from ..extensions import db
from . import audit


def session() -> Session:
    return db.session()


def commit() -> None:
    s = db.session
    try:
        audit.seal(s())
        s.commit()
    except BaseException:
        s.rollback()
        audit.discard(s())
        raise


def rollback() -> None:
    db.session.rollback()
    audit.discard(db.session())


def flush_or(error: errors.DomainError) -> None:
    """Flush pending changes; a violated constraint rolls back and raises `error` instead
    (the database's constraints are the last word on races the row locks do not cover)."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        rollback()
        raise error from exc


# --------------------------------------------------------------------------- reading


_LENT = "_unit_reader"  # name in `flask.g` of the read-only connection lent to the request
_READ_ENGINE = "ujuzi.read_engine"  # key in `app.extensions`
_making = threading.Lock()


class WriteRefused(RuntimeError):
    """Something tried to change the database through a read-only connection."""


def reader() -> sa.Connection:
    """The connection reads go through: the read-only one lent to the request (`lend_reader`), or
    else the database session's, with its pending changes flushed so that the read sees them."""
    lent: sa.Connection | None = g.get(_LENT)
    if lent is not None:
        return lent
    s = db.session()
    s.flush()
    return s.connection()


def lend_reader() -> sa.Connection:
    """Lend the request's reads a connection of the read engine until `return_reader` (PostgreSQL).

    It is autocommit (no BEGIN or COMMIT round trips, no transaction bookkeeping) and comes from a
    pool of its own, so its connections never switch isolation level; statements that would change
    something are refused before they run (`WriteRefused`)."""
    lent: sa.Connection | None = g.get(_LENT)
    if lent is None:
        lent = read_engine().connect()
        setattr(g, _LENT, lent)
    return lent


def return_reader() -> None:
    lent: sa.Connection | None = g.pop(_LENT, None)
    if lent is not None:
        lent.close()


def read_engine() -> sa.Engine:
    """The app's read engine: the database's URL and pool settings, autocommit, read-only, with
    generic plans for its prepared statements."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    engine: sa.Engine | None = app.extensions.get(_READ_ENGINE)
    if engine is None:
        with _making:
            engine = app.extensions.get(_READ_ENGINE)
            if engine is None:
                engine = app.extensions[_READ_ENGINE] = _make_read_engine(app)
    return engine


def _make_read_engine(app: Flask) -> sa.Engine:
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.pop("connect_args", None) or {})
    # Its statements are few and fixed, prepared once per connection: planned once too. (PostgreSQL
    # would re-plan a provider listing, whose LIMIT and OFFSET are parameters, on every run.)
    generic = "-c plan_cache_mode=force_generic_plan"
    connect_args["options"] = f"{connect_args.get('options', '')} {generic}".strip()
    engine = sa.create_engine(
        db.engine.url,
        isolation_level="AUTOCOMMIT",
        pool_reset_on_return=None,  # nothing to roll back: every statement commits on its own
        connect_args=connect_args,
        **options,
    )
    sa.event.listen(engine, "before_cursor_execute", _refuse_writes)
    return engine


def dispose_engines() -> None:
    """Close the pooled connections of the app's engines (the read engine's too)."""
    db.engine.dispose()
    engine: sa.Engine | None = current_app.extensions.get(_READ_ENGINE)
    if engine is not None:
        engine.dispose()


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
