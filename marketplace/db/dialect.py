"""What differs between PostgreSQL and SQLite in the statements the use cases build.

Each function gives the statement or expression that does the same thing on the database the app
runs on, so a use case states what it wants once. The dialect is the app's engine's (one database
per app); `name()` is there for statements cached per dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from ..extensions import db

POSTGRESQL = "postgresql"


def name() -> str:
    """The app's database dialect: "postgresql" or "sqlite"."""
    return str(db.engine.dialect.name)


def is_postgres() -> bool:
    return name() == POSTGRESQL


def any_of(column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """`column IN values`. On PostgreSQL one parameter instead of thousands of placeholders, which
    cost more to build than to run: the values joined by commas and split again by the database
    (the driver would escape an array element by element), or an array if a value holds a comma."""
    if not is_postgres():
        return column.in_(values)
    joined = ",".join(values)
    if joined.count(",") == len(values) - 1:
        return column == sa.any_(sa.func.string_to_array(sa.bindparam(None, joined), ","))
    return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(sa.String)))


def month_of(column: Any, dialect: str | None = None) -> ColumnElement[str]:
    """The month of a datetime column as `YYYY-MM` (`dialect` as in `insert`)."""
    if (dialect or name()) == POSTGRESQL:
        return sa.func.to_char(column, "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def days_between(later: Any, earlier: Any) -> ColumnElement[Any]:
    """Days from one datetime column to another, with the fraction of a day."""
    if is_postgres():
        return sa.extract("epoch", later - earlier) / 86400.0
    return sa.func.julianday(later) - sa.func.julianday(earlier)


def insert(table: sa.Table, dialect: str | None = None) -> Any:
    """An INSERT into `table` that can say what to do ON CONFLICT (`on_conflict_do_update`,
    `on_conflict_do_nothing`, `excluded`): the same statement on either database. `dialect`
    (as `name()` gives it) for a statement built once per dialect, else the app's."""
    if (dialect or name()) == POSTGRESQL:
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_or_ignore(table: sa.Table) -> Any:
    """An INSERT that adds nothing when the row exists."""
    return insert(table).on_conflict_do_nothing()
