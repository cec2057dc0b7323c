"""Set-based writes for bulk use cases, inside the caller's transaction.

PostgreSQL takes rows through COPY (ids drawn from the table's sequence first when the caller needs
them); other databases through a multi-row INSERT. Datetimes must be timezone-aware UTC; they are
stored naive UTC like every other column of the application.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..domain.base import UTCDateTime
from . import dialect

CHUNK = 5000


def table_of(model: type[Any]) -> sa.Table:
    return cast(sa.Table, model.__table__)


def next_ids(session: Session, table: sa.Table, n: int) -> list[int]:
    """Draw n ids from the table's id sequence (PostgreSQL).

    The sequence is looked up first and named by its oid: a constant, where a name looked up in the
    same statement would be looked up again for every id (ten times slower)."""
    if n == 0:
        return []
    sequence = session.scalar(
        sa.text("SELECT CAST(CAST(pg_get_serial_sequence(:t, 'id') AS regclass) AS oid)"),
        {"t": table.name},
    )
    return list(
        session.scalars(
            sa.text(
                "SELECT nextval(CAST(CAST(:seq AS bigint) AS regclass)) FROM generate_series(1, :n)"
            ),
            {"seq": int(sequence), "n": n},
        )
    )


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")


def _text(value: Any) -> str:
    """A value in COPY's text format."""
    if value is None:
        return _NULL
    kind = type(value)
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    text = str(value)
    # Most values hold nothing to escape; searching is cheaper than translating every one.
    return text.translate(_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


def _converter(column: sa.Column[Any]) -> Callable[[Any], str]:
    """How a column's value is written: JSON as its text, datetimes naive UTC (as the ORM stores
    them); values shared by many rows are converted once."""
    seen: dict[int, tuple[Any, str]] = {}
    if isinstance(column.type, sa.JSON):

        def to_json(v: Any) -> str:
            if v is None:
                return _NULL
            hit = seen.get(id(v))
            if hit is None or hit[0] is not v:
                hit = seen[id(v)] = (v, _text(json.dumps(v, default=str)))
            return hit[1]

        return to_json
    if isinstance(column.type, UTCDateTime | sa.DateTime):

        def naive_utc(v: datetime | None) -> str:
            if v is None:
                return _NULL
            hit = seen.get(id(v))
            if hit is None or hit[0] is not v:
                if v.tzinfo is None:
                    raise ValueError("naive datetime given; use timezone-aware UTC")
                text = v.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
                hit = seen[id(v)] = (v, text)
            return hit[1]

        return naive_utc
    return _text


def insert(
    session: Session, table: sa.Table, rows: Sequence[dict[str, Any]], *, copy_from: int = 1
) -> None:
    """Insert rows (dicts with the same keys) into the table: through COPY on PostgreSQL when
    there are `copy_from` rows or more, else through INSERT."""
    if not rows:
        return
    if len(rows) < copy_from or not dialect.is_postgres():
        for i in range(0, len(rows), CHUNK):
            session.execute(table.insert(), list(rows[i : i + CHUNK]))
        return
    columns = list(rows[0])
    pairs = [(c, _converter(table.c[c])) for c in columns]
    raw = session.connection().connection.driver_connection
    assert raw is not None
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for i in range(0, len(rows), CHUNK):
            lines = ["\t".join([text(row[c]) for c, text in pairs]) for row in rows[i : i + CHUNK]]
            copy.write("\n".join(lines) + "\n")


def insert_returning_ids(
    session: Session, table: sa.Table, rows: list[dict[str, Any]]
) -> list[int]:
    """Insert rows; their new ids in the same order."""
    if dialect.is_postgres():
        ids = next_ids(session, table, len(rows))
        insert(session, table, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
        return ids
    ids = []
    for i in range(0, len(rows), CHUNK):
        result = session.execute(
            table.insert().returning(table.c.id, sort_by_parameter_order=True), rows[i : i + CHUNK]
        )
        ids.extend(result.scalars().all())
    return ids
