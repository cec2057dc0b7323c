"""How the database is set up and what a transaction may ask of it for itself.

`configure(engine)` runs once per app (the factory calls it): SQLite connections get their
PRAGMAs; on PostgreSQL a pooled connection the server closed is replaced before a request uses it.
The rest are asked inside a transaction and do nothing where the database has no such thing.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import dialect, reading

_SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=30000",
)


def configure(engine: sa.Engine) -> None:
    """Set up the app's engine for its database (once, from the app factory)."""
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # Every route: a pooled connection the server closed is replaced before use (the read
        # engine's pool and the connections threads keep are checked as well).
        reading.replace_closed_on_checkout(engine)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys enforced, readers beside the writer (WAL), and a writer waits its turn."""
    cursor = dbapi_connection.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def analyze(session: Session, table: str) -> None:
    """Let the planner see a table just filled in this transaction (PostgreSQL; SQLite plans
    without statistics)."""
    if dialect.is_postgres():
        session.execute(sa.text(f"ANALYZE {table}"))


def roomy_sorts(session: Session) -> None:
    """Large sorts and hashes stay in memory, for this transaction only (PostgreSQL)."""
    if dialect.is_postgres():
        session.execute(sa.text("SET LOCAL work_mem = '256MB'"))


def transaction_lock(session: Session, key: int) -> None:
    """Wait for, then hold until the transaction ends, the lock named by `key`: transactions that
    take it run one after the other. (PostgreSQL's advisory lock; SQLite has one writer at a time
    anyway.)"""
    if dialect.is_postgres():
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def shared_transaction_lock(session: Session, key: int) -> None:
    """Hold `key` beside other holders of it in shared mode, until the transaction ends: only a
    `transaction_lock` of the same key waits for them (and they for it). (PostgreSQL.)"""
    if dialect.is_postgres():
        session.execute(sa.text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": key})


def transaction_locks(session: Session, keys: list[int]) -> None:
    """`transaction_lock` on each key, in ascending order (so that two holders of overlapping
    sets never wait for each other crosswise)."""
    if dialect.is_postgres() and keys:
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:ks AS bigint[])) AS k"),
            {"ks": sorted(set(keys))},
        )
