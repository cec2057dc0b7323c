"""Statistics roll-ups: the funder figures pre-aggregated per programme, kept live as changes happen.

The dashboard (`queries.stats`) sums a few rows of the roll-ups instead of scanning millions.

Kept live. Each change that moves a figure names, in its own transaction, the cells of the
vouchers it touched (`stats_log`, written by the unit of work beside the audit event). `drain`
takes the waiting cells (SKIP LOCKED: any number of drainers), counts each of them afresh from the
raw rows with the very statements of the rebuild, restricted to those cells' vouchers, and adds
the difference from the stored counts to every combination of `*` dimensions that sums them. A
recount is idempotent, so a cell named twice, or named by a change a drain already saw, costs a
recount and changes nothing. `flask drain-stats --every 1` runs it; the dashboard's "as of" is the
time of the latest change applied.

The repair and the check. `refresh` rebuilds one programme whole (set-based SQL, no Python loop
over rows); `check` compares the maintained cells with a fresh rebuild, cell by cell, and reports
every difference (the scheduler runs it daily as `check-stats` and repairs what differs; drains of
the programme wait while it rebuilds).

Cells. Every roll-up row belongs to one cell: the issue month, region, trade and gender of the
vouchers it counts (the dashboard's filters), and for voucher counters also the age band. Beside
the finest cells, every combination with some dimensions replaced by `*` ("every value") holds the
sum of the finest cells it covers, so a filter (or none) reads only the rows of its own
combination: an unfiltered headline reads one row, a date range one row per month.

Dates filter at month granularity: "issued from 2025-03 to 2025-05" covers vouchers issued in those
months. Medians come from histograms of days rounded to a tenth (the precision the page shows), so
the median is exact for the rounded days.

Privacy: the `<5` rule counts distinct entrepreneurs, and a sum of per-cell distinct counts would
count a person with vouchers in several cells more than once, which would show a figure that should
be hidden. So each count of people counts every entrepreneur ONCE per programme and subject (holding
a voucher, booking a kind of provider, confirming a session in a month, ...): under the cell of the
first (lowest id) of their vouchers that has that subject. Summing such counts under any filter
never double-counts; a person whose counted voucher falls outside the filter is missed even if
another of their vouchers matches, which can only under-count and so hide more, never less. Without
filters the counts are exact. Impressions belong to entrepreneurs rather than vouchers: they are
filed under the entrepreneur's first voucher in the programme. A drain recounting a cell holds all
the vouchers of that cell's people in the programme, so "first" is the same as in a rebuild.

Per-provider counts (top providers) are kept for every provider in every combination, so the top
ten are exact with a date range too.
"""

from __future__ import annotations

import itertools
import logging
import time as clock
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ..db import dialect, grouping, tuning
from ..domain.models import (
    Booking,
    BookingStatus,
    Entrepreneur,
    Impression,
    Payout,
    PayoutStatus,
    Programme,
    Rating,
    SessionStatus,
    StatsChange,
    StatsEventCell,
    StatsRefresh,
    StatsVoucherCell,
    TrainingSession,
    Voucher,
    VoucherStatus,
)
from ..extensions import db

log = logging.getLogger(__name__)

WILD = "*"
_VOUCHER_CELLS: sa.Table = StatsVoucherCell.__table__  # type: ignore[assignment]
_EVENT_CELLS: sa.Table = StatsEventCell.__table__  # type: ignore[assignment]
_CHANGES: sa.Table = StatsChange.__table__  # type: ignore[assignment]
_REFRESHES: sa.Table = StatsRefresh.__table__  # type: ignore[assignment]

# Age in the year of issue: (label, lowest age, highest age or None).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under 25", 0, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55 and over", 55, None),
)

EVENT_DIMS = ("region_code", "trade_code", "gender", "issue_month")
VOUCHER_DIMS = (*EVENT_DIMS, "age_band")

# Subjects of the event cells.
MONTHLY = ("issued", "booked", "confirmed", "paid")
BOOKING, SWITCH, IMPRESSION, RATING = "booking", "switch", "impression", "rating"
COMPLETED = "completed"
REDEEMED = "redeemed"  # confirmed sessions and their value, by the kind of provider booked
DAYS_TO_BOOKING, DAYS_TO_COMPLETION, PAYMENT_DAYS = (
    "days_to_booking",
    "days_to_completion",
    "payment_days",
)


# --------------------------------------------------------------------------- SQL helpers


def age_band(issued_at: Any, birth_year: Any) -> ColumnElement[str]:
    age = sa.extract("year", issued_at) - birth_year
    whens = []
    for label, low, high in AGE_BANDS:
        cond = age >= low if high is None else age.between(low, high)
        whens.append((cond, label))
    return sa.case(*whens, else_="unknown")


def whole_sum(expr: Any) -> ColumnElement[int]:
    """SUM as a whole number on every database (PostgreSQL widens bigint sums to numeric)."""
    return sa.cast(sa.func.coalesce(sa.func.sum(expr), 0), sa.BigInteger)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return whole_sum(sa.case((condition, 1), else_=0))


def _tenths(days: ColumnElement[Any]) -> ColumnElement[str]:
    return sa.cast(sa.cast(sa.func.round(days * 10), sa.Integer), sa.String)


def _redeemed_minor() -> ColumnElement[int]:
    """Value released by a voucher's confirmed sessions (as `money.session_share` splits it)."""
    share = Voucher.value_minor // Voucher.sessions_total
    rest = Voucher.value_minor % Voucher.sessions_total
    return Voucher.sessions_confirmed * share + sa.case(
        (Voucher.sessions_confirmed == Voucher.sessions_total, rest), else_=0
    )


# The vouchers being counted, with their cells: written per count into a temporary table (this
# connection only) and joined by every subject instead of the vouchers and entrepreneurs again. A
# full rebuild counts every voucher of the programme; a drain counts the vouchers of the cells its
# changes named (`counted`), and holds beside them every other voucher of the same people in the
# programme, so that "the first voucher of a person" is found among all of theirs.
_SCOPE = sa.Table(
    "stats_scope",
    sa.MetaData(),
    sa.Column("voucher_id", sa.Integer, primary_key=True),
    sa.Column("entrepreneur_id", sa.Integer),
    sa.Column("issue_month", sa.String(7)),
    sa.Column("region_code", sa.String(40)),
    sa.Column("trade_code", sa.String(40)),
    sa.Column("gender", sa.String(10)),
    sa.Column("age_band", sa.String(20)),
    sa.Column("counted", sa.Integer),
    prefixes=["TEMPORARY"],
)
# The cells a drain recounts.
_DIRTY = sa.Table(
    "stats_dirty",
    sa.MetaData(),
    sa.Column("issue_month", sa.String(7), primary_key=True),
    sa.Column("region_code", sa.String(40), primary_key=True),
    sa.Column("trade_code", sa.String(40), primary_key=True),
    sa.Column("gender", sa.String(10), primary_key=True),
    prefixes=["TEMPORARY"],
)
CELL_DIMS = ("issue_month", "region_code", "trade_code", "gender")


def _temporary_copy(model: Any, name: str) -> sa.Table:
    """A temporary table shaped as a roll-up table: the finest rows a drain counts afresh."""
    return sa.Table(
        name,
        sa.MetaData(),
        *(sa.Column(c.name, c.type, primary_key=c.primary_key) for c in model.__table__.c),
        prefixes=["TEMPORARY"],
    )


_FRESH_VOUCHERS = _temporary_copy(StatsVoucherCell, "stats_fresh_voucher_cells")
_FRESH_EVENTS = _temporary_copy(StatsEventCell, "stats_fresh_event_cells")


def _new_temporary(table: sa.Table) -> None:
    connection = db.session.connection()
    table.drop(connection, checkfirst=True)
    table.create(connection)


def _write_scope(programme_id: int, dirty: bool) -> None:
    """Fill the scope: every voucher of the programme, or (`dirty`) those of the dirty cells'
    people."""
    _new_temporary(_SCOPE)
    v, e = Voucher, Entrepreneur
    month = dialect.month_of(v.issued_at)
    d = _DIRTY.c
    if dirty:
        v2, e2 = sa.orm.aliased(Voucher), sa.orm.aliased(Entrepreneur)
        people = (
            sa.select(v2.entrepreneur_id)
            .join(e2, e2.id == v2.entrepreneur_id)
            .join(
                _DIRTY,
                sa.and_(
                    d.region_code == e2.region_code,
                    d.trade_code == e2.trade_code,
                    d.gender == e2.gender,
                    d.issue_month == dialect.month_of(v2.issued_at),
                ),
            )
            .where(v2.programme_id == programme_id)
        )
        where = sa.and_(v.programme_id == programme_id, v.entrepreneur_id.in_(people))
        in_dirty = (
            sa.select(sa.literal(1))
            .where(
                d.issue_month == month,
                d.region_code == e.region_code,
                d.trade_code == e.trade_code,
                d.gender == e.gender,
            )
            .exists()
        )
        counted: Any = sa.case((in_dirty, 1), else_=0)
    else:
        where = v.programme_id == programme_id
        counted = sa.literal(1)
    db.session.execute(
        sa.insert(_SCOPE).from_select(
            [c.name for c in _SCOPE.c],
            sa.select(
                v.id,
                v.entrepreneur_id,
                month,
                e.region_code,
                e.trade_code,
                e.gender,
                age_band(v.issued_at, e.birth_year),
                counted,
            )
            .join(e, e.id == v.entrepreneur_id)
            .where(where),
        )
    )
    tuning.analyze(db.session(), _SCOPE.name)


# --------------------------------------------------------------------------- voucher cells


def _insert_voucher_cells(programme_id: int, target: sa.Table) -> None:
    """The finest voucher cells of the counted vouchers, into `target`."""
    pid = programme_id
    sc = _SCOPE.c
    firsts = (
        sa.select(sa.func.min(sc.voucher_id).label("id"))
        .group_by(sc.entrepreneur_id)
        .subquery("firsts")
    )
    ts = TrainingSession
    counted = _SCOPE.alias("counted")
    sessions = (
        sa.select(
            ts.voucher_id.label("voucher_id"),
            _count_if(ts.status == SessionStatus.CONFIRMED.value).label("confirmed"),
            _count_if(ts.status == SessionStatus.RECORDED.value).label("awaiting"),
            _count_if(ts.status == SessionStatus.DISPUTED.value).label("disputed"),
            _count_if(ts.status == SessionStatus.LAPSED.value).label("lapsed"),
        )
        .join(counted, counted.c.voucher_id == ts.voucher_id)
        .where(counted.c.counted == 1)
        .group_by(ts.voucher_id)
        .subquery("sess")
    )
    switches = (
        sa.select(Booking.voucher_id.label("voucher_id"), sa.func.count().label("n"))
        .join(counted, counted.c.voucher_id == Booking.voucher_id)
        .where(counted.c.counted == 1, Booking.switched_from_id.is_not(None))
        .group_by(Booking.voucher_id)
        .subquery("sw")
    )
    paid_where = (
        ts.status == SessionStatus.CONFIRMED.value,
        Payout.status == PayoutStatus.PAID.value,
    )
    wait = dialect.days_between(Payout.paid_at, ts.confirmed_at)
    paid = (
        sa.select(
            ts.voucher_id.label("voucher_id"),
            sa.func.count().label("n"),
            sa.func.sum(wait).label("days_sum"),
            sa.func.max(wait).label("days_max"),
        )
        .join(Payout, Payout.id == ts.payout_id)
        .join(counted, counted.c.voucher_id == ts.voucher_id)
        .where(*paid_where, counted.c.counted == 1)
        .group_by(ts.voucher_id)
        .subquery("paid")
    )
    every = _SCOPE.alias("every")
    paid_firsts = (
        sa.select(sa.func.min(ts.voucher_id).label("id"))
        .join(Payout, Payout.id == ts.payout_id)
        .join(every, every.c.voucher_id == ts.voucher_id)
        .where(*paid_where)
        .group_by(ts.entrepreneur_id)
        .subquery("paid_firsts")
    )
    dims = [sc[d].label(d) for d in VOUCHER_DIMS]
    status = {s: _count_if(Voucher.status == s.value) for s in VoucherStatus}
    measures = [
        sa.func.count().label("vouchers"),
        sa.func.count(firsts.c.id).label("people"),
        whole_sum(Voucher.value_minor).label("value_issued"),
        whole_sum(_redeemed_minor()).label("value_redeemed"),
        sa.func.count(Voucher.booked_at).label("ever_booked"),
        status[VoucherStatus.ISSUED].label("status_issued"),
        status[VoucherStatus.BOOKED].label("status_booked"),
        status[VoucherStatus.IN_PROGRESS].label("status_in_progress"),
        status[VoucherStatus.COMPLETED].label("status_completed"),
        status[VoucherStatus.EXPIRED].label("status_expired"),
        status[VoucherStatus.REVOKED].label("status_revoked"),
        whole_sum(sessions.c.confirmed).label("sessions_confirmed"),
        whole_sum(sessions.c.awaiting).label("sessions_awaiting"),
        whole_sum(sessions.c.disputed).label("sessions_disputed"),
        whole_sum(sessions.c.lapsed).label("sessions_lapsed"),
        whole_sum(switches.c.n).label("switches"),
        whole_sum(paid.c.n).label("sessions_paid"),
        sa.func.count(paid_firsts.c.id).label("paid_people"),
        sa.cast(sa.func.coalesce(sa.func.sum(paid.c.days_sum), 0.0), sa.Float).label(
            "paid_days_sum"
        ),
        sa.cast(sa.func.max(paid.c.days_max), sa.Float).label("paid_days_max"),
        _count_if(sa.and_(Voucher.co_payment_minor > 0, Voucher.booked_at.is_not(None))).label(
            "co_payment_booked"
        ),
        _count_if(Voucher.co_payment_recorded_at.is_not(None)).label("co_payment_recorded"),
    ]
    select = (
        sa.select(sa.literal(pid).label("programme_id"), *dims, *measures)
        .select_from(_SCOPE)
        .join(Voucher, Voucher.id == sc.voucher_id)
        .outerjoin(firsts, firsts.c.id == sc.voucher_id)
        .outerjoin(sessions, sessions.c.voucher_id == sc.voucher_id)
        .outerjoin(switches, switches.c.voucher_id == sc.voucher_id)
        .outerjoin(paid, paid.c.voucher_id == sc.voucher_id)
        .outerjoin(paid_firsts, paid_firsts.c.id == sc.voucher_id)
        .where(sc.counted == 1)
        .group_by(*(sc[d] for d in VOUCHER_DIMS))
    )
    columns = ["programme_id", *(d.name for d in dims), *(m.name for m in measures)]
    db.session.execute(sa.insert(target).from_select(columns, select))


# Every subject the event cells count (filled as `_insert_events` counts them), so that a cell's
# rows are found through the table's key (programme, subject, region, ...).
SUBJECTS: set[str] = set()

VOUCHER_MEASURES = {
    c.name: ("max" if c.name == "paid_days_max" else "sum")
    for c in StatsVoucherCell.__table__.c
    if c.name != "programme_id" and c.name not in VOUCHER_DIMS
}
EVENT_MEASURES = {"n": "sum", "total": "sum", "people": "sum"}


# --------------------------------------------------------------------------- event cells


def _insert_events(
    programme_id: int, target: sa.Table, subject: str, events: Any, *, people: bool = True
) -> None:
    """One subject's counts per cell and key, for the counted vouchers, into `target`.

    `events` selects voucher_id, entrepreneur_id, key and total: one row per event of any voucher
    in the scope. People are counted once per entrepreneur and key, under the cell of their lowest
    voucher id with the event (found among all their vouchers in the scope).
    """
    SUBJECTS.add(subject)
    ev = events.subquery("ev")
    cells = _SCOPE.alias("cells")
    dims = [cells.c[d] for d in EVENT_DIMS]
    counted = (
        sa.select(
            *dims,
            ev.c.key,
            sa.func.count().label("n"),
            sa.func.coalesce(sa.func.sum(ev.c.total), 0).label("total"),
            sa.literal(0).label("people"),
        )
        .select_from(ev)
        .join(cells, cells.c.voucher_id == ev.c.voucher_id)
        .where(cells.c.counted == 1)
        .group_by(*dims, ev.c.key)
    )
    parts: list[sa.Select[Any]] = [counted]
    if people:
        firsts = (
            sa.select(sa.func.min(ev.c.voucher_id).label("voucher_id"), ev.c.key)
            .group_by(ev.c.entrepreneur_id, ev.c.key)
            .subquery("pf")
        )
        cells2 = _SCOPE.alias("cells2")
        dims2 = [cells2.c[d] for d in EVENT_DIMS]
        parts.append(
            sa.select(
                *dims2,
                firsts.c.key,
                sa.literal(0).label("n"),
                sa.literal(0).label("total"),
                sa.func.count().label("people"),
            )
            .select_from(firsts)
            .join(cells2, cells2.c.voucher_id == firsts.c.voucher_id)
            .where(cells2.c.counted == 1)
            .group_by(*dims2, firsts.c.key)
        )
    both = sa.union_all(*parts).subquery("both") if len(parts) > 1 else counted.subquery("both")
    select = sa.select(
        sa.literal(programme_id).label("programme_id"),
        sa.literal(subject).label("subject"),
        *(both.c[d] for d in EVENT_DIMS),
        both.c.key,
        whole_sum(both.c.n).label("n"),
        whole_sum(both.c.total).label("total"),
        whole_sum(both.c.people).label("people"),
    ).group_by(*(both.c[d] for d in EVENT_DIMS), both.c.key)
    columns = ["programme_id", "subject", *EVENT_DIMS, "key", "n", "total", "people"]
    db.session.execute(sa.insert(target).from_select(columns, select))


def _insert_event_cells(programme_id: int, target: sa.Table) -> None:
    """The finest event cells of the counted vouchers, into `target`.

    A new figure is one more `_insert_events` here (and its reading in `queries.stats`): the
    rebuild and the drain both count through this function, so the figure is kept live as soon
    as the events that move it name their cells (see `stats_log`)."""
    pid = programme_id
    ts = TrainingSession
    sc = _SCOPE.c
    zero = sa.literal(0).label("total")

    def add(subject: str, events: Any, *, people: bool = True) -> None:
        _insert_events(pid, target, subject, events, people=people)

    booking_rows = sa.select(
        Booking.voucher_id.label("voucher_id"), sc.entrepreneur_id.label("entrepreneur_id")
    ).join(_SCOPE, sc.voucher_id == Booking.voucher_id)
    paid_rows = (
        sa.select(ts.voucher_id.label("voucher_id"), ts.entrepreneur_id.label("entrepreneur_id"))
        .join(_SCOPE, sc.voucher_id == ts.voucher_id)
        .join(Payout, Payout.id == ts.payout_id)
        .where(
            ts.status == SessionStatus.CONFIRMED.value,
            Payout.status == PayoutStatus.PAID.value,
        )
    )
    vouchers = sa.select(
        sc.voucher_id.label("voucher_id"), sc.entrepreneur_id.label("entrepreneur_id")
    ).join(Voucher, Voucher.id == sc.voucher_id)
    confirmed = (
        sa.select(ts.voucher_id.label("voucher_id"), ts.entrepreneur_id.label("entrepreneur_id"))
        .join(_SCOPE, sc.voucher_id == ts.voucher_id)
        .where(ts.status == SessionStatus.CONFIRMED.value)
    )

    # The monthly trend: the month of each event.
    add("issued", vouchers.add_columns(dialect.month_of(Voucher.issued_at).label("key"), zero))
    add("booked", booking_rows.add_columns(dialect.month_of(Booking.created_at).label("key"), zero))
    add("confirmed", confirmed.add_columns(dialect.month_of(ts.confirmed_at).label("key"), zero))
    add(
        "paid",
        paid_rows.add_columns(
            dialect.month_of(Payout.paid_at).label("key"), ts.value_minor.label("total")
        ),
    )

    # Provider choice and ratings: by provider kind.
    by_kind = booking_rows.add_columns(Booking.provider_kind.label("key"), zero)
    add(BOOKING, by_kind)
    add(SWITCH, by_kind.where(Booking.switched_from_id.is_not(None)), people=False)
    first_voucher = (
        sa.select(
            sc.entrepreneur_id.label("entrepreneur_id"), sa.func.min(sc.voucher_id).label("id")
        )
        .group_by(sc.entrepreneur_id)
        .subquery("first_voucher")
    )
    add(
        IMPRESSION,
        sa.select(
            first_voucher.c.id.label("voucher_id"),
            Impression.entrepreneur_id.label("entrepreneur_id"),
            Impression.provider_kind.label("key"),
            zero,
        )
        .join(first_voucher, first_voucher.c.entrepreneur_id == Impression.entrepreneur_id)
        .where(Impression.programme_id == pid),
        people=False,
    )
    add(
        RATING,
        sa.select(
            Rating.voucher_id.label("voucher_id"),
            Rating.entrepreneur_id.label("entrepreneur_id"),
            Rating.provider_kind.label("key"),
            Rating.stars.label("total"),
        ).join(_SCOPE, sc.voucher_id == Rating.voucher_id),
    )

    # Redemption by provider kind: each confirmed session's value, by the kind of provider booked.
    add(
        REDEEMED,
        confirmed.add_columns(
            Booking.provider_kind.label("key"), ts.value_minor.label("total")
        ).join(Booking, Booking.id == ts.booking_id),
    )

    # Top providers: completed vouchers per provider.
    add(
        COMPLETED,
        booking_rows.add_columns(sa.cast(Booking.provider_id, sa.String).label("key"), zero).where(
            Booking.status == BookingStatus.COMPLETED.value
        ),
    )

    # Histograms for the medians: days rounded to a tenth.
    add(
        DAYS_TO_BOOKING,
        vouchers.add_columns(
            _tenths(dialect.days_between(Voucher.booked_at, Voucher.issued_at)).label("key"), zero
        ).where(Voucher.booked_at.is_not(None)),
        people=False,
    )
    add(
        DAYS_TO_COMPLETION,
        vouchers.add_columns(
            _tenths(dialect.days_between(Voucher.completed_at, Voucher.booked_at)).label("key"),
            zero,
        ).where(
            Voucher.status == VoucherStatus.COMPLETED.value,
            Voucher.booked_at.is_not(None),
            Voucher.completed_at.is_not(None),
        ),
        people=False,
    )
    add(
        PAYMENT_DAYS,
        paid_rows.add_columns(
            _tenths(dialect.days_between(Payout.paid_at, ts.confirmed_at)).label("key"), zero
        ),
        people=False,
    )


# --------------------------------------------------------------------------- wildcards


def _add_wildcards(
    model: Any,
    programme_id: int,
    dims: Sequence[str],
    keys: Sequence[str],
    measures: dict[str, str],
) -> None:
    """Add every combination of `*` dimensions, each summed from the finest cells."""
    grouping.insert_rollups(
        db.session(), model.__table__, ("programme_id", programme_id), dims, keys, measures, WILD
    )


# --------------------------------------------------------------------------- locks

_LOCKS = 7_202  # the statistics' advisory locks: this number in the high 32 bits


def _lock_key(*parts: object) -> int:
    return (_LOCKS << 32) | zlib.crc32(repr(parts).encode())


def _write_first() -> None:
    """SQLite: take the write lock before the first read, so that the transaction, which reads and
    then writes, waits its turn instead of finding another writer committed since its read.
    (A statement that writes nothing still takes the lock; PostgreSQL locks rows as it goes.)"""
    if not dialect.is_postgres():
        db.session.execute(sa.delete(_CHANGES).where(sa.false()))


def _rebuilding(programme_id: int) -> None:
    """A rebuild of the programme waits for its drains, and they for it."""
    tuning.transaction_lock(db.session(), _lock_key("programme", programme_id))


def _draining(programme_id: int, cells: Sequence[tuple[str, ...]]) -> None:
    """Drains of one programme run beside each other, one at a time per cell."""
    tuning.shared_transaction_lock(db.session(), _lock_key("programme", programme_id))
    tuning.transaction_locks(db.session(), [_lock_key("cell", programme_id, *c) for c in cells])


# --------------------------------------------------------------------------- refresh


def _rebuild(programme_id: int) -> None:
    """Count one programme's roll-ups afresh, in place (the caller holds `_rebuilding`)."""
    tuning.roomy_sorts(db.session())
    for model in (StatsVoucherCell, StatsEventCell):
        db.session.execute(sa.delete(model).where(model.programme_id == programme_id))
    _write_scope(programme_id, dirty=False)
    _insert_voucher_cells(programme_id, _VOUCHER_CELLS)
    _insert_event_cells(programme_id, _EVENT_CELLS)
    _add_wildcards(StatsVoucherCell, programme_id, VOUCHER_DIMS, (), VOUCHER_MEASURES)
    _add_wildcards(StatsEventCell, programme_id, EVENT_DIMS, ("subject", "key"), EVENT_MEASURES)
    _SCOPE.drop(db.session.connection())


def refresh(programme_id: int, now: datetime | None = None) -> float:
    """Rebuild one programme's roll-ups in one transaction; returns the seconds it took.

    The repair: whatever the maintained cells held, they now hold the raw rows' counts. A reader
    sees the old or the new rows; drains of the programme wait for it."""
    started = clock.perf_counter()
    when = now or datetime.now(UTC)
    _rebuilding(programme_id)
    _rebuild(programme_id)
    seconds = clock.perf_counter() - started
    db.session.execute(sa.delete(StatsRefresh).where(StatsRefresh.programme_id == programme_id))
    db.session.add(
        StatsRefresh(
            programme_id=programme_id,
            refreshed_at=when,
            seconds=round(seconds, 3),
            applied_at=when,
        )
    )
    db.session.commit()
    return seconds


def refresh_all(programme_id: int | None = None, now: datetime | None = None) -> dict[int, float]:
    """Refresh one programme, or every programme (one transaction each)."""
    return {pid: refresh(pid, now=now) for pid in _programmes(programme_id)}


def _programmes(programme_id: int | None) -> list[int]:
    if programme_id is not None:
        return [programme_id]
    ids = list(db.session.scalars(sa.select(Programme.id).order_by(Programme.id)))
    db.session.rollback()
    return ids


# --------------------------------------------------------------------------- drain

Key = tuple[Any, ...]


def _finest_rows(
    table: sa.Table, programme_id: int, dims: Sequence[str], measures: Sequence[str]
) -> dict[Key, Key]:
    """The finest rows of `table` (a roll-up table or its fresh copy) in the dirty cells:
    key -> measures."""
    keys = [c.name for c in table.primary_key.columns]
    d = _DIRTY.c
    rows = db.session.execute(
        sa.select(*(table.c[k] for k in keys), *(table.c[m] for m in measures))
        .join(_DIRTY, sa.and_(*(table.c[x] == d[x] for x in CELL_DIMS)))
        .where(
            table.c.programme_id == programme_id,
            *(table.c[x] != WILD for x in dims),
            *([table.c.subject.in_(sorted(SUBJECTS))] if "subject" in table.c else []),
        )
    ).all()
    return {tuple(r[: len(keys)]): tuple(r[len(keys) :]) for r in rows}


def _greater(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def _apply_table(
    model: Any, fresh: sa.Table, programme_id: int, dims: Sequence[str], measures: dict[str, str]
) -> int:
    """Replace the dirty cells' finest rows with the fresh counts, and add the differences to
    every combination of `*` dimensions that sums them. Returns the finest rows that changed."""
    table: sa.Table = model.__table__
    names = list(measures)
    keys = [c.name for c in table.primary_key.columns]
    old = _finest_rows(table, programme_id, dims, names)
    new = _finest_rows(fresh, programme_id, dims, names)
    changed = [k for k in set(old) | set(new) if old.get(k) != new.get(k)]
    if not changed:
        return 0
    d = _DIRTY.c
    in_dirty = sa.tuple_(*(table.c[x] for x in CELL_DIMS)).in_(
        sa.select(*(d[x] for x in CELL_DIMS))
    )
    db.session.execute(
        sa.delete(table).where(
            table.c.programme_id == programme_id, in_dirty, *(table.c[x] != WILD for x in dims)
        )
    )
    if new:
        db.session.execute(
            sa.insert(table), [dict(zip(keys + names, k + v, strict=True)) for k, v in new.items()]
        )

    # The differences, added to every combination of `*` dimensions of each changed cell.
    positions = [keys.index(x) for x in dims]
    summed: dict[Key, list[Any]] = {}
    lowered: set[Key] = set()  # combinations whose largest value may have gone down
    zero = tuple(0 if how == "sum" else None for how in measures.values())
    for k in changed:
        before, after = old.get(k, zero), new.get(k, zero)
        for size in range(1, len(dims) + 1):
            for wild in itertools.combinations(positions, size):
                w = tuple(WILD if i in wild else x for i, x in enumerate(k))
                acc = summed.setdefault(w, list(zero))
                for j, how in enumerate(measures.values()):
                    if how == "sum":
                        acc[j] += after[j] - before[j]
                    else:
                        acc[j] = _greater(acc[j], after[j])
                        if before[j] is not None and (after[j] is None or after[j] < before[j]):
                            lowered.add(w)
    stmt = dialect.insert(table)
    set_: dict[str, Any] = {}
    for name, how in measures.items():
        column, given = table.c[name], stmt.excluded[name]
        if how == "sum":
            set_[name] = column + given
        else:
            set_[name] = sa.case(
                (column.is_(None), given),
                (given.is_(None), column),
                (given > column, given),
                else_=column,
            )
    upsert = stmt.on_conflict_do_update(index_elements=keys, set_=set_)
    rows = [dict(zip(keys + names, (*w, *summed[w]), strict=True)) for w in sorted(summed)]
    db.session.execute(upsert, rows)
    first = names[0]  # vouchers, or n: a row counting nothing is no row, as in a rebuild
    key_params = [dict(zip(keys, w, strict=True)) for w in sorted(summed)]
    db.session.execute(
        sa.delete(table).where(
            *(table.c[k] == sa.bindparam(f"k_{k}") for k in keys), table.c[first] == 0
        ),
        [{f"k_{k}": v for k, v in p.items()} for p in key_params],
    )
    for name, how in measures.items():
        if how == "max":
            for w in sorted(lowered):
                _recount_largest(table, name, keys, dims, w)
    return len(changed)


def _recount_largest(
    table: sa.Table, name: str, keys: Sequence[str], dims: Sequence[str], w: Key
) -> None:
    """A largest value that went down: taken again from the finest rows the combination sums."""
    conditions = []
    for k, value in zip(keys, w, strict=True):
        if k in dims and value == WILD:
            conditions.append(table.c[k] != WILD)
        else:
            conditions.append(table.c[k] == value)
    finest = sa.select(sa.func.max(table.c[name])).where(*conditions).scalar_subquery()
    db.session.execute(
        sa.update(table)
        .where(*(table.c[k] == v for k, v in zip(keys, w, strict=True)))
        .values({name: finest})
    )


def _apply(programme_id: int, cells: Sequence[tuple[str, ...]]) -> int:
    """Recount the cells of one programme from the raw rows and apply the differences (the
    caller holds `_draining` for them). Returns the finest rows that changed."""
    _new_temporary(_DIRTY)
    db.session.execute(
        sa.insert(_DIRTY), [dict(zip(CELL_DIMS, c, strict=True)) for c in sorted(set(cells))]
    )
    tuning.analyze(db.session(), _DIRTY.name)
    _write_scope(programme_id, dirty=True)
    _new_temporary(_FRESH_VOUCHERS)
    _new_temporary(_FRESH_EVENTS)
    _insert_voucher_cells(programme_id, _FRESH_VOUCHERS)
    _insert_event_cells(programme_id, _FRESH_EVENTS)
    return _apply_table(
        StatsVoucherCell, _FRESH_VOUCHERS, programme_id, VOUCHER_DIMS, VOUCHER_MEASURES
    ) + _apply_table(StatsEventCell, _FRESH_EVENTS, programme_id, EVENT_DIMS, EVENT_MEASURES)


def drain(limit: int = 500, programme_id: int | None = None) -> int:
    """Apply up to `limit` waiting changes (oldest first) in one transaction; returns how many.

    Any number of drains may run at once: each takes changes no other holds (SKIP LOCKED, as
    the SMS worker takes its messages), and two drains that name the same cell take turns on it.
    A change committed while a drain counts is a row of its own, applied by the next drain."""
    changes = _CHANGES
    _write_first()
    query = sa.select(changes).order_by(changes.c.id).limit(limit)
    if programme_id is not None:
        query = query.where(changes.c.programme_id == programme_id)
    rows = db.session.execute(query.with_for_update(skip_locked=True)).all()
    if not rows:
        db.session.rollback()
        return 0
    by_programme: dict[int, set[tuple[str, ...]]] = {}
    latest: dict[int, datetime] = {}
    for row in rows:
        by_programme.setdefault(row.programme_id, set()).add(
            (row.issue_month, row.region_code, row.trade_code, row.gender)
        )
        when = row.changed_at
        latest[row.programme_id] = (
            when if row.programme_id not in latest else max(latest[row.programme_id], when)
        )
    for pid in sorted(by_programme):
        cells = sorted(by_programme[pid])
        _draining(pid, cells)
        _apply(pid, cells)
        refreshed = _REFRESHES
        db.session.execute(
            sa.update(refreshed)
            .where(
                refreshed.c.programme_id == pid,
                sa.or_(refreshed.c.applied_at.is_(None), refreshed.c.applied_at < latest[pid]),
            )
            .values(applied_at=latest[pid])
        )
    db.session.execute(sa.delete(changes).where(changes.c.id.in_([r.id for r in rows])))
    db.session.commit()
    return len(rows)


def drain_all(limit: int = 500, programme_id: int | None = None) -> int:
    """Drain until no change waits (that this drain can take); returns how many were applied."""
    total = 0
    while True:
        applied = drain(limit, programme_id)
        if not applied:
            return total
        total += applied


# --------------------------------------------------------------------------- check


def _differences(
    model: Any, kept: sa.Table, programme_id: int, measures: dict[str, str]
) -> list[str]:
    """Rows where the kept (maintained) copy and the rebuilt programme differ, as lines of text."""
    whole: sa.Table = model.__table__
    keys = [c.name for c in whole.primary_key.columns]
    table = sa.select(whole).where(whole.c.programme_id == programme_id).subquery(whole.name)

    def differs(a: Any, b: Any, name: str) -> ColumnElement[bool]:
        if isinstance(whole.c[name].type, sa.Float):
            return sa.or_(
                sa.and_(a.is_(None), b.is_not(None)),
                sa.and_(a.is_not(None), b.is_(None)),
                sa.func.abs(a - b) > 1e-6,
            )
        return a != b

    lines = []
    for left, right, label in ((table, kept, "rebuilt"), (kept, table, "maintained")):
        on = sa.and_(*(left.c[k] == right.c[k] for k in keys))
        missing = db.session.execute(
            sa.select(*(left.c[k] for k in keys))
            .outerjoin(right, on)
            .where(right.c[keys[0]].is_(None))
            .limit(50)
        ).all()
        lines += [f"{whole.name} {tuple(r)}: only {label}" for r in missing]
    on = sa.and_(*(table.c[k] == kept.c[k] for k in keys))
    unequal = db.session.execute(
        sa.select(
            *(table.c[k] for k in keys),
            *(table.c[m] for m in measures),
            *(kept.c[m] for m in measures),
        )
        .join(kept, on)
        .where(sa.or_(*(differs(kept.c[m], table.c[m], m) for m in measures)))
        .limit(50)
    ).all()
    n = len(keys)
    for r in unequal:
        rebuilt, maintained = r[n : n + len(measures)], r[n + len(measures) :]
        diffs = ", ".join(
            f"{m} {a} (rebuilt {b})"
            for m, a, b in zip(measures, maintained, rebuilt, strict=True)
            if a != b
        )
        lines.append(f"{whole.name} {tuple(r[:n])}: {diffs}")
    return lines


_KEPT_VOUCHERS = _temporary_copy(StatsVoucherCell, "stats_kept_voucher_cells")
_KEPT_EVENTS = _temporary_copy(StatsEventCell, "stats_kept_event_cells")


def check(programme_id: int, *, repair: bool = False, now: datetime | None = None) -> list[str]:
    """Compare the maintained cells of one programme with a fresh rebuild, cell by cell; returns
    the differences (none: the live figures are the raw rows' counts). The changes waiting are
    applied first, under the rebuild's lock, so the comparison is of the same moment. The
    maintained cells stay as they were unless `repair` (then the rebuild's stand)."""
    when = now or datetime.now(UTC)
    _rebuilding(programme_id)
    changes = _CHANGES
    _write_first()
    waiting = db.session.execute(
        sa.select(changes).where(changes.c.programme_id == programme_id).with_for_update()
    ).all()
    if waiting:
        _apply(
            programme_id,
            sorted({(r.issue_month, r.region_code, r.trade_code, r.gender) for r in waiting}),
        )
        db.session.execute(sa.delete(changes).where(changes.c.id.in_([r.id for r in waiting])))
    for model, kept in ((StatsVoucherCell, _KEPT_VOUCHERS), (StatsEventCell, _KEPT_EVENTS)):
        _new_temporary(kept)
        table = model.__table__
        db.session.execute(
            sa.insert(kept).from_select(
                [c.name for c in table.c],
                sa.select(table).where(table.c.programme_id == programme_id),
            )
        )
    _rebuild(programme_id)
    found = _differences(
        StatsVoucherCell, _KEPT_VOUCHERS, programme_id, VOUCHER_MEASURES
    ) + _differences(StatsEventCell, _KEPT_EVENTS, programme_id, EVENT_MEASURES)
    if repair:
        db.session.execute(
            sa.update(StatsRefresh)
            .where(StatsRefresh.programme_id == programme_id)
            .values(refreshed_at=when)
        )
        db.session.commit()
    else:
        db.session.rollback()
        if waiting:  # the waiting changes were applied: make that stand on its own
            drain_all(programme_id=programme_id)
    return found


def check_all(programme_id: int | None = None, *, repair: bool = False) -> dict[int, list[str]]:
    return {pid: check(pid, repair=repair) for pid in _programmes(programme_id)}


# --------------------------------------------------------------------------- commands


@click.command("refresh-stats")
@click.option("--programme", "programme_id", type=int, default=None, help="One programme only.")
def refresh_stats_command(programme_id: int | None) -> None:
    """Rebuild the funder statistics roll-ups whole (every programme unless --programme): the
    repair. The drainer keeps them live otherwise (`flask drain-stats`)."""
    if programme_id is not None and db.session.get(Programme, programme_id) is None:
        raise click.ClickException(f"No programme {programme_id}.")
    for pid, seconds in refresh_all(programme_id).items():
        click.echo(f"programme {pid}: statistics rebuilt in {seconds:.2f} s")


@click.command("drain-stats")
@click.option("--every", type=float, default=None, help="Look again every SECONDS until stopped.")
@click.option("--batch", type=int, default=500, show_default=True, help="Changes per transaction.")
def drain_stats_command(every: float | None, batch: int) -> None:
    """Apply the changes waiting to the funder statistics roll-ups (once, or every SECONDS)."""
    while True:
        try:
            applied = drain_all(batch)
        except sa.exc.DBAPIError as exc:  # the database away, a deadlock: the changes still wait
            db.session.rollback()
            if every is None:
                raise
            log.warning("statistics drain failed, trying again: %s", exc.__class__.__name__)
            applied = 0
        if every is None:
            click.echo(f"{applied} changes applied")
            return
        try:
            if not applied:
                clock.sleep(every)
        except KeyboardInterrupt:
            return


@click.command("check-stats")
@click.option("--programme", "programme_id", type=int, default=None, help="One programme only.")
@click.option("--repair", is_flag=True, help="Keep the rebuild where the cells differ.")
def check_stats_command(programme_id: int | None, repair: bool) -> None:
    """Compare the maintained roll-ups with a fresh rebuild, cell by cell; exit 1 on a
    difference (each one printed)."""
    if programme_id is not None and db.session.get(Programme, programme_id) is None:
        raise click.ClickException(f"No programme {programme_id}.")
    bad = False
    for pid, found in check_all(programme_id, repair=repair).items():
        for line in found:
            click.echo(f"programme {pid}: {line}")
        bad = bad or bool(found)
        click.echo(
            f"programme {pid}: {len(found)} differences"
            + (" (repaired)" if found and repair else "")
        )
    if bad:
        raise SystemExit(1)
