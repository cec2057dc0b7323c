"""The access token every worker shares, kept in the channel's row (`payment_channels`).

Daraja ends a token when it issues the next one, so only one caller at a time may fetch, and every
other one uses what it fetched. `get` reads the row; when no valid token is there (or the valid one
is the one Daraja just refused), it takes the row's write lock (a no-op UPDATE: a row lock on
PostgreSQL, the database's one writer on SQLite), reads again (another caller may have fetched
while it waited), and only then fetches and stores. It runs in a transaction of its own, apart
from the caller's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marketplace.db import dialect
from marketplace.domain.base import utcnow
from marketplace.domain.models import PaymentChannel
from marketplace.extensions import db


class DatabaseTokenStore:
    def __init__(self, channel: str = "mpesa", engine: sa.Engine | None = None) -> None:
        self.channel = channel
        self._engine = engine

    def _session(self) -> Session:
        return Session(self._engine or db.engine, expire_on_commit=False)

    def _valid(self, row: PaymentChannel | None, refused: str | None) -> str | None:
        if row is None or not row.token or row.token_expires_at is None:
            return None
        if row.token_expires_at <= utcnow() or row.token == refused:
            return None
        return row.token

    def get(self, fetch: Callable[[], tuple[str, float]], refused: str | None = None) -> str:
        with self._session() as session:
            token = self._valid(session.get(PaymentChannel, self.channel), refused)
            if token:
                return token
        with self._session() as session, session.begin():
            locked = session.execute(
                sa.update(PaymentChannel)
                .where(PaymentChannel.name == self.channel)
                .values(token_fetches=PaymentChannel.token_fetches)
            )
            if not locked.rowcount:  # type: ignore[attr-defined]
                session.execute(
                    dialect.insert_or_ignore(PaymentChannel.__table__).values(  # type: ignore[arg-type]
                        name=self.channel, token_fetches=0, paused_reason=""
                    )
                )
            row = session.get(PaymentChannel, self.channel, populate_existing=True)
            assert row is not None
            token = self._valid(row, refused)
            if token:
                return token
            token, lives = fetch()
            row.token = token
            row.token_expires_at = utcnow() + timedelta(seconds=lives)
            row.token_fetches += 1
            return token
