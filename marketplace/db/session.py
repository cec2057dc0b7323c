"""The app's database session (`db.session` is one of these): Flask-SQLAlchemy's own, except that
it refuses to commit while the code around it says that nothing may change.

`with commits_refused(why):` around code that must only read (the USSD screens not declared to
change anything) makes any commit in it raise `CommitRefused` before anything is committed; `with
commits_allowed():` inside it lifts that for a block that changes something on purpose. The state
is per thread and per context (a `ContextVar`), so requests served side by side never see each
other's; a commit outside both costs one look-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask_sqlalchemy.session import Session as FlaskSession

_refused: ContextVar[str | None] = ContextVar("commits_refused", default=None)


class CommitRefused(RuntimeError):
    """A commit was attempted where the code around it said that nothing may change."""


class Session(FlaskSession):
    def commit(self) -> None:
        why = _refused.get()
        if why is not None:
            raise CommitRefused(why)
        super().commit()


@contextmanager
def commits_refused(why: str) -> Iterator[None]:
    """Commits in the block raise `CommitRefused(why)`."""
    token = _refused.set(why)
    try:
        yield
    finally:
        _refused.reset(token)


@contextmanager
def commits_allowed() -> Iterator[None]:
    """Commits in the block go through, even inside `commits_refused`."""
    token = _refused.set(None)
    try:
        yield
    finally:
        _refused.reset(token)
