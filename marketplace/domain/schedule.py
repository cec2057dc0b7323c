"""A person's day as the sessions they recorded make it: how many sessions, how many minutes, and
whether two of them overlap. The rules that judge it are the services'; this only counts.

An institute's class (one teacher, one start, one length, one topic, several trainees) is one
session of the teacher's day, whatever the number of trainees in it: a class of nine is one hour,
not nine. A session without a start time (recorded before start times were asked) is a slot of its
own that overlaps nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time


@dataclass(frozen=True)
class Slot:
    """One session as the day sees it."""

    starts_at: time | None
    duration_minutes: int
    topic: str

    def class_key(self, grouped: bool) -> tuple[object, ...] | None:
        """The key that makes several trainees' sessions one class (None: a slot of its own)."""
        if not grouped or self.starts_at is None:
            return None
        return (self.starts_at, self.duration_minutes, self.topic.casefold())

    @property
    def start_minute(self) -> int | None:
        return None if self.starts_at is None else self.starts_at.hour * 60 + self.starts_at.minute


@dataclass(frozen=True)
class Day:
    sessions: int  # classes counted once
    minutes: int
    overlaps: bool  # two sessions (not one class) at the same time


def day_of(slots: Iterable[Slot], *, classes: bool) -> Day:
    """The day's sessions counted as the teacher lived them; `classes`: an institute's staff, whose
    trainees taught together count once."""
    seen: set[tuple[object, ...]] = set()
    distinct: list[Slot] = []
    for slot in slots:
        key = slot.class_key(classes)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        distinct.append(slot)
    timed = sorted(
        (s.start_minute, s.start_minute + s.duration_minutes)
        for s in distinct
        if s.start_minute is not None
    )
    overlaps, busy_until = False, -1
    for start, end in timed:
        overlaps = overlaps or start < busy_until
        busy_until = max(busy_until, end)
    return Day(
        sessions=len(distinct),
        minutes=sum(s.duration_minutes for s in distinct),
        overlaps=overlaps,
    )
