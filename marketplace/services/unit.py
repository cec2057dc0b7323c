"""The one commit of a use case: seal the audit chain, then commit. Turns constraint violations
into domain errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


@contextmanager
def constraint_as(make_error: Callable[[IntegrityError], errors.DomainError]) -> Iterator[None]:
    """Flush inside; a violated constraint rolls back and raises the domain error instead."""
    try:
        yield
        db.session.flush()
    except IntegrityError as exc:
        rollback()
        raise make_error(exc) from exc
