"""Racing use cases against each other on PostgreSQL.

Each contender is a thread with its own app context, hence its own Flask-SQLAlchemy session and its
own database connection; a barrier releases them together so their transactions overlap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask

from marketplace.domain.errors import DomainError
from marketplace.extensions import db


@dataclass(frozen=True)
class Outcome:
    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Race:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(self, *contenders: Callable[[], Any], timeout: float = 60) -> list[Outcome]:
        """Run every contender at once; returns their outcomes in order.

        A domain error is an expected answer (someone else won); anything else (a leaked
        IntegrityError, a deadlock, a crash) fails the test.
        """
        # The test's own session must not hold a transaction open while the contenders run.
        db.session.remove()
        barrier = threading.Barrier(len(contenders))
        outcomes: list[Outcome | None] = [None] * len(contenders)

        def run(i: int, fn: Callable[[], Any]) -> None:
            with self.app.app_context():
                try:
                    barrier.wait(timeout)
                    outcomes[i] = Outcome(value=fn())
                except BaseException as exc:  # recorded, judged below
                    outcomes[i] = Outcome(error=exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(contenders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout)
        assert not any(t.is_alive() for t in threads), "a contender hung"
        done = [o for o in outcomes if o is not None]
        assert len(done) == len(contenders)
        unexpected = [o.error for o in done if o.error and not isinstance(o.error, DomainError)]
        if unexpected:
            raise AssertionError(f"unexpected errors: {unexpected!r}") from unexpected[0]
        return done


def winners(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.ok]


def refusals(outcomes: list[Outcome]) -> list[str]:
    return sorted(getattr(o.error, "code", "?") for o in outcomes if not o.ok)
