"""The one commit of a use case: seal the audit chain, then commit. Turns constraint violations
into domain errors."""

from __future__ import annotations

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
