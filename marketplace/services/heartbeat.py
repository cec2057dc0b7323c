"""Heartbeats: long-running processes (the SMS worker, the scheduler) write when they were last alive,
so that `/healthz` and `/metrics` can tell an operator one has stopped, from any app server."""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime

import sqlalchemy as sa

from ..db import dialect
from ..domain.base import utcnow
from ..domain.jobs import Heartbeat
from ..extensions import db

COMPONENTS = ("sms-worker", "scheduler")


def instance_name() -> str:
    """This process: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def beat(component: str, instance: str, now: datetime | None = None) -> None:
    """Record a sign of life, on a connection of its own (outside the caller's transaction)."""
    now = now or utcnow()
    t: sa.Table = Heartbeat.__table__  # type: ignore[assignment]
    with db.engine.begin() as conn:
        updated = conn.execute(
            sa.update(t).where(t.c.component == component).values(instance=instance, beat_at=now)
        ).rowcount
        if not updated:  # the first beat; another instance's may come first
            conn.execute(
                dialect.insert_or_ignore(t).values(
                    component=component, instance=instance, beat_at=now
                )
            )


class Beater:
    """Beats at most once every `every` seconds, however often it is called."""

    def __init__(self, component: str, instance: str, every: float = 15.0) -> None:
        self.component, self.instance, self.every = component, instance, every
        self._last = float("-inf")

    def __call__(self) -> None:
        if time.monotonic() - self._last >= self.every:
            beat(self.component, self.instance)
            self._last = time.monotonic()


def last_beats() -> dict[str, datetime]:
    """When each component was last alive (components never started are absent)."""
    rows = db.session.execute(sa.select(Heartbeat.component, Heartbeat.beat_at)).all()
    return {component: at for component, at in rows}
