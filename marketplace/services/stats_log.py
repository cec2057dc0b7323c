"""The statistics' change log: which roll-up cells a change may have moved, written beside it.

Every change that moves a funder figure goes through a unit of work and records an audit event;
the unit hands each event to `note`, and when it commits, `write` adds to `stats_changes` the cells
(programme, issue month, region, trade, gender) of every voucher the events touched, in the same
transaction: one INSERT ... SELECT per kind of entity. The drainer (`stats_rollup.drain`) recounts
those cells from the raw rows and adds the differences to the roll-ups within seconds. Naming a cell
too many is harmless (its recount finds nothing to add); naming one too few would leave a figure
behind until the next check, so the rules below err on the side of naming.

A new figure needs nothing here when the events that move it are about vouchers, sessions,
payments, payouts, payout runs, entrepreneurs or ratings: the rules already name their cells. An
event about something else names where to look in `ACTIONS` (say `provider.rated`, whose rating
names the voucher); an event about a new kind of entity adds its rule to `RULES`. Rows written outside a unit of work (impressions) name their cells with `mark_people`,
or with `people_cells` inside a statement of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ..db import dialect
from ..domain.models import (
    Entrepreneur,
    Payment,
    Payout,
    Rating,
    StatsChange,
    TrainingSession,
    Voucher,
)

_MARKS = "stats_marks"  # session.info: entity kind -> ids noted by this transaction's events
_WHEN = "stats_marks_at"  # session.info: the latest `now` of those events
_FORMER = "former cells"  # a person's cells before their trade or region changed
_CHUNK = 1000

COLUMNS = ["programme_id", "issue_month", "region_code", "trade_code", "gender", "changed_at"]


def _sessions_of(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    ts = TrainingSession
    return Voucher.id.in_(sa.select(ts.voucher_id).where(condition))


# Entity kind (as the audit log names it) -> the vouchers whose cells an event about it may move.
RULES: dict[str, Callable[[list[Any]], ColumnElement[bool]]] = {
    "voucher": lambda ids: Voucher.id.in_(ids),
    "session": lambda ids: _sessions_of(TrainingSession.id.in_(ids)),
    "payout": lambda ids: _sessions_of(TrainingSession.payout_id.in_(ids)),
    "payment": lambda ids: _sessions_of(
        TrainingSession.payout_id.in_(sa.select(Payment.payout_id).where(Payment.id.in_(ids)))
    ),
    "payout_run": lambda ids: _sessions_of(
        TrainingSession.payout_id.in_(sa.select(Payout.id).where(Payout.run_id.in_(ids)))
    ),
    "entrepreneur": lambda ids: Voucher.entrepreneur_id.in_(ids),
    "rating": lambda ids: Voucher.id.in_(sa.select(Rating.voucher_id).where(Rating.id.in_(ids))),
}

# Events recorded about one entity that move the figures of another: action -> (kind, id) to mark.
# None: the event moves no figure by itself (a person registered counts once their voucher is
# issued, and that event names the voucher's cells).
ACTIONS: dict[str, Callable[[Any, dict[str, Any], dict[str, Any]], tuple[str, Any] | None]] = {
    "provider.rated": lambda _id, _before, after: (
        ("rating", after["rating_id"]) if after.get("rating_id") is not None else None
    ),
    "entrepreneur.registered": lambda _id, _before, _after: None,
}


def note(
    session: Session,
    action: str,
    kind: str,
    entity_id: Any,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
) -> None:
    """Remember the cells an audited event may move (written when the transaction commits)."""
    marks: dict[str, set[Any]] = session.info.setdefault(_MARKS, {})
    if action in ACTIONS:
        named = ACTIONS[action](entity_id, before or {}, after or {})
        if named is None:
            return
        kind, entity_id = named
    if kind not in RULES:
        return
    marks.setdefault(kind, set()).add(entity_id)
    if kind == "entrepreneur" and before and ("trade" in before or "region" in before):
        # The person's figures leave the cells of their former trade and region.
        marks.setdefault(_FORMER, set()).add((entity_id, before.get("trade"), before.get("region")))
    _note_time(session, now)


def note_many(session: Session, action: str, kind: str, ids: Iterable[Any], now: datetime) -> None:
    """Many events of one action about one kind of entity (a bulk issuance)."""
    if kind not in RULES or action in ACTIONS:  # (the actions named there concern one entity)
        return
    session.info.setdefault(_MARKS, {}).setdefault(kind, set()).update(ids)
    _note_time(session, now)


def _note_time(session: Session, now: datetime) -> None:
    latest = session.info.get(_WHEN)
    session.info[_WHEN] = now if latest is None or now > latest else latest


def discard(session: Session) -> None:
    session.info.pop(_MARKS, None)
    session.info.pop(_WHEN, None)


def _cells(
    condition: ColumnElement[bool],
    now: Any,
    region: Any = None,
    trade: Any = None,
    database: str | None = None,
) -> sa.Select[Any]:
    """The distinct cells of the vouchers that match `condition`, stamped `now`."""
    return (
        sa.select(
            Voucher.programme_id,
            dialect.month_of(Voucher.issued_at, database),
            Entrepreneur.region_code if region is None else region,
            Entrepreneur.trade_code if trade is None else trade,
            Entrepreneur.gender,
            now,
        )
        .join(Entrepreneur, Entrepreneur.id == Voucher.entrepreneur_id)
        .where(condition)
        .distinct()
    )


CHANGES: sa.Table = StatsChange.__table__  # type: ignore[assignment]


def _stamp(now: datetime) -> Any:
    return sa.literal(now, StatsChange.__table__.c.changed_at.type)


def write(session: Session) -> None:
    """Write the cells the transaction's events noted (called by the unit just before commit)."""
    marks: dict[str, set[Any]] = session.info.pop(_MARKS, {})
    now = session.info.pop(_WHEN, None)
    if not marks or now is None:
        return
    stamp = _stamp(now)
    for kind, ids in sorted(marks.items()):
        if kind == _FORMER:
            for person, trade, region in sorted(ids, key=repr):
                session.execute(
                    sa.insert(CHANGES).from_select(
                        COLUMNS,
                        _cells(
                            Voucher.entrepreneur_id == person,
                            stamp,
                            region=None if region is None else sa.literal(region),
                            trade=None if trade is None else sa.literal(trade),
                        ),
                    )
                )
            continue
        listed = sorted(ids)
        for start in range(0, len(listed), _CHUNK):
            chunk = listed[start : start + _CHUNK]
            session.execute(
                sa.insert(CHANGES).from_select(COLUMNS, _cells(RULES[kind](chunk), stamp))
            )


def people_cells(
    programme_id: Any, entrepreneur_id: Any, now: Any, database: str | None = None
) -> sa.Select[Any]:
    """The cells of one person's vouchers in one programme (their impressions are filed under
    the first of them), as rows for `stats_changes`; the arguments may be bind parameters, and
    `database` names the dialect of a statement built once (as `dialect.insert`)."""
    return _cells(
        sa.and_(Voucher.programme_id == programme_id, Voucher.entrepreneur_id == entrepreneur_id),
        now,
        database=database,
    )


def mark_people(session: Session, people: Iterable[tuple[int, int]], now: datetime) -> None:
    """Name the cells of these (programme, entrepreneur) pairs now, in the session's transaction
    (for rows written outside a unit of work: the impressions of a list shown)."""
    for programme_id, entrepreneur_id in sorted(set(people)):
        session.execute(
            sa.insert(CHANGES).from_select(
                COLUMNS, people_cells(programme_id, entrepreneur_id, _stamp(now))
            )
        )
