"""Set-based writes for bulk use cases, inside the caller's transaction.

PostgreSQL takes rows through COPY (ids drawn from the table's sequence first when the caller needs
them); other databases through a multi-row INSERT. Datetimes must be timezone-aware UTC; they are
stored naive UTC like every other column of the application.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, cast

import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.orm import Session

from ..domain.base import UTCDateTime

CHUNK = 5000


def table_of(model: type[Any]) -> sa.Table:
    return cast(sa.Table, model.__table__)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def next_ids(session: Session, table: sa.Table, n: int) -> list[int]:
    """Draw n ids from the table's id sequence (PostgreSQL)."""
    if n == 0:
        return []
    return list(
        session.scalars(
            sa.text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table.name, "n": n},
        )
    )


def _converter(column: sa.Column[Any]) -> Callable[[Any], Any] | None:
    """How a value reaches COPY: JSON wrapped, datetimes naive UTC (as the ORM stores them)."""
    if isinstance(column.type, sa.JSON):
        return lambda v: None if v is None else Jsonb(v)
    if isinstance(column.type, UTCDateTime | sa.DateTime):
        seen: dict[datetime, datetime] = {}

        def naive_utc(v: datetime | None) -> datetime | None:
            if v is None:
                return None
            if v not in seen:
                if v.tzinfo is None:
                    raise ValueError("naive datetime given; use timezone-aware UTC")
                seen[v] = v.astimezone(UTC).replace(tzinfo=None)
            return seen[v]

        return naive_utc
    return None


def insert(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (dicts with the same keys) into the table."""
    if not rows:
        return
    if not is_postgres(session):
        for i in range(0, len(rows), CHUNK):
            session.execute(table.insert(), list(rows[i : i + CHUNK]))
        return
    columns = list(rows[0])
    converters = [(i, f) for i, c in enumerate(columns) if (f := _converter(table.c[c]))]
    values = itemgetter(*columns)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            cells = list(values(row)) if len(columns) > 1 else [row[columns[0]]]
            for i, convert in converters:
                cells[i] = convert(cells[i])
            copy.write_row(cells)
