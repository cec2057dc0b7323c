"""Statistics roll-ups: the funder figures pre-aggregated per programme, rebuilt by a command.

`refresh(programme_id)` rebuilds one programme's roll-ups in one transaction (DELETE, then
INSERT ... SELECT ... GROUP BY: set-based SQL, no Python loop over rows) and records when. The
dashboard (`queries.stats`) then sums a few rows instead of scanning millions.

Cells. Every roll-up row belongs to one cell: the issue month, region, trade and gender of the
vouchers it counts (the dashboard's filters), and for voucher counters also the age band. After the
finest cells are written, every combination with some dimensions replaced by `*` ("every value") is
added by summing the finest cells, so a filter (or none) reads only the rows of its own combination:
an unfiltered headline reads one row, a date range one row per month.

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
filed under the entrepreneur's first voucher in the programme.

On PostgreSQL the `*` combinations come from one GROUPING SETS statement, and the per-provider
counts (top providers) keep only the top `KEEP_PROVIDERS` of each combination, ranked as the
dashboard ranks them: exact for the top ten without a date range; with a date range the months'
own lists are summed, so a provider outside every month's top list of that cell cannot show.
"""

from __future__ import annotations

import time as clock
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
    Provider,
    Rating,
    SessionStatus,
    StatsEventCell,
    StatsRefresh,
    StatsVoucherCell,
    TrainingSession,
    Voucher,
    VoucherStatus,
)
from ..extensions import db

WILD = "*"
# Per-provider counts kept per combination of `*` dimensions (PostgreSQL): the dashboard shows 10.
KEEP_PROVIDERS = 50

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


# Each voucher of the programme being refreshed with its cell: written once per refresh into a
# temporary table (this connection only), then joined by every subject instead of the vouchers and
# entrepreneurs again.
_CELLS = sa.Table(
    "stats_refresh_cells",
    sa.MetaData(),
    sa.Column("voucher_id", sa.Integer, primary_key=True),
    sa.Column("issue_month", sa.String(7)),
    sa.Column("region_code", sa.String(40)),
    sa.Column("trade_code", sa.String(40)),
    sa.Column("gender", sa.String(10)),
    prefixes=["TEMPORARY"],
)


def _write_voucher_cells(programme_id: int) -> None:
    connection = db.session.connection()
    _CELLS.drop(connection, checkfirst=True)
    _CELLS.create(connection)
    db.session.execute(
        sa.insert(_CELLS).from_select(
            ["voucher_id", "issue_month", "region_code", "trade_code", "gender"],
            sa.select(
                Voucher.id,
                dialect.month_of(Voucher.issued_at),
                Entrepreneur.region_code,
                Entrepreneur.trade_code,
                Entrepreneur.gender,
            )
            .join(Entrepreneur, Entrepreneur.id == Voucher.entrepreneur_id)
            .where(Voucher.programme_id == programme_id),
        )
    )
    tuning.analyze(db.session(), _CELLS.name)


def _voucher_cells(programme_id: int) -> sa.Subquery:
    """Each voucher of the programme with the cell it belongs to."""
    return sa.select(_CELLS).subquery("cells")


# --------------------------------------------------------------------------- voucher cells


def _insert_voucher_cells(programme_id: int) -> None:
    pid = programme_id
    firsts = (
        sa.select(sa.func.min(Voucher.id).label("id"))
        .where(Voucher.programme_id == pid)
        .group_by(Voucher.entrepreneur_id)
        .subquery("firsts")
    )
    ts = TrainingSession
    sessions = (
        sa.select(
            ts.voucher_id.label("voucher_id"),
            _count_if(ts.status == SessionStatus.CONFIRMED.value).label("confirmed"),
            _count_if(ts.status == SessionStatus.RECORDED.value).label("awaiting"),
            _count_if(ts.status == SessionStatus.DISPUTED.value).label("disputed"),
            _count_if(ts.status == SessionStatus.LAPSED.value).label("lapsed"),
        )
        .where(ts.programme_id == pid)
        .group_by(ts.voucher_id)
        .subquery("sess")
    )
    switches = (
        sa.select(Booking.voucher_id.label("voucher_id"), sa.func.count().label("n"))
        .where(Booking.programme_id == pid, Booking.switched_from_id.is_not(None))
        .group_by(Booking.voucher_id)
        .subquery("sw")
    )
    paid_where = (
        ts.programme_id == pid,
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
        .where(*paid_where)
        .group_by(ts.voucher_id)
        .subquery("paid")
    )
    paid_firsts = (
        sa.select(sa.func.min(ts.voucher_id).label("id"))
        .join(Payout, Payout.id == ts.payout_id)
        .where(*paid_where)
        .group_by(ts.entrepreneur_id)
        .subquery("paid_firsts")
    )
    dims = [
        dialect.month_of(Voucher.issued_at).label("issue_month"),
        Entrepreneur.region_code.label("region_code"),
        Entrepreneur.trade_code.label("trade_code"),
        Entrepreneur.gender.label("gender"),
        age_band(Voucher.issued_at, Entrepreneur.birth_year).label("age_band"),
    ]
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
    ]
    select = (
        sa.select(sa.literal(pid).label("programme_id"), *dims, *measures)
        .select_from(Voucher)
        .join(Entrepreneur, Entrepreneur.id == Voucher.entrepreneur_id)
        .outerjoin(firsts, firsts.c.id == Voucher.id)
        .outerjoin(sessions, sessions.c.voucher_id == Voucher.id)
        .outerjoin(switches, switches.c.voucher_id == Voucher.id)
        .outerjoin(paid, paid.c.voucher_id == Voucher.id)
        .outerjoin(paid_firsts, paid_firsts.c.id == Voucher.id)
        .where(Voucher.programme_id == pid)
        .group_by(*dims)
    )
    columns = ["programme_id", *(d.name for d in dims), *(m.name for m in measures)]
    db.session.execute(sa.insert(StatsVoucherCell).from_select(columns, select))
    _add_wildcards(
        StatsVoucherCell,
        pid,
        VOUCHER_DIMS,
        (),
        {m.name: ("max" if m.name == "paid_days_max" else "sum") for m in measures},
    )


# --------------------------------------------------------------------------- event cells


def _insert_events(programme_id: int, subject: str, events: Any, *, people: bool = True) -> None:
    """One subject's counts per cell and key.

    `events` selects voucher_id, entrepreneur_id, key and total: one row per event. People are
    counted once per entrepreneur and key, under the cell of their lowest voucher id with the event.
    """
    ev = events.subquery("ev")
    cells = _voucher_cells(programme_id)
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
        .group_by(*dims, ev.c.key)
    )
    parts: list[sa.Select[Any]] = [counted]
    if people:
        firsts = (
            sa.select(sa.func.min(ev.c.voucher_id).label("voucher_id"), ev.c.key)
            .group_by(ev.c.entrepreneur_id, ev.c.key)
            .subquery("pf")
        )
        cells2 = _voucher_cells(programme_id)
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
    db.session.execute(sa.insert(StatsEventCell).from_select(columns, select))


def _insert_event_cells(programme_id: int) -> None:
    pid = programme_id
    ts = TrainingSession
    zero = sa.literal(0).label("total")
    booking_rows = sa.select(
        Booking.voucher_id.label("voucher_id"),
        Voucher.entrepreneur_id.label("entrepreneur_id"),
    ).join(Voucher, Voucher.id == Booking.voucher_id)
    paid_rows = (
        sa.select(ts.voucher_id.label("voucher_id"), ts.entrepreneur_id.label("entrepreneur_id"))
        .join(Payout, Payout.id == ts.payout_id)
        .where(
            ts.programme_id == pid,
            ts.status == SessionStatus.CONFIRMED.value,
            Payout.status == PayoutStatus.PAID.value,
        )
    )
    vouchers = sa.select(
        Voucher.id.label("voucher_id"), Voucher.entrepreneur_id.label("entrepreneur_id")
    ).where(Voucher.programme_id == pid)
    confirmed = sa.select(
        ts.voucher_id.label("voucher_id"), ts.entrepreneur_id.label("entrepreneur_id")
    ).where(ts.programme_id == pid, ts.status == SessionStatus.CONFIRMED.value)

    # The monthly trend: the month of each event.
    _insert_events(
        pid, "issued", vouchers.add_columns(dialect.month_of(Voucher.issued_at).label("key"), zero)
    )
    _insert_events(
        pid,
        "booked",
        booking_rows.add_columns(dialect.month_of(Booking.created_at).label("key"), zero).where(
            Booking.programme_id == pid
        ),
    )
    _insert_events(
        pid,
        "confirmed",
        confirmed.add_columns(dialect.month_of(ts.confirmed_at).label("key"), zero),
    )
    _insert_events(
        pid,
        "paid",
        paid_rows.add_columns(
            dialect.month_of(Payout.paid_at).label("key"), ts.value_minor.label("total")
        ),
    )

    # Provider choice and ratings: by provider kind.
    by_kind = booking_rows.add_columns(Booking.provider_kind.label("key"), zero)
    _insert_events(pid, BOOKING, by_kind.where(Booking.programme_id == pid))
    _insert_events(
        pid,
        SWITCH,
        by_kind.where(Booking.programme_id == pid, Booking.switched_from_id.is_not(None)),
        people=False,
    )
    first_voucher = (
        sa.select(
            Voucher.entrepreneur_id.label("entrepreneur_id"), sa.func.min(Voucher.id).label("id")
        )
        .where(Voucher.programme_id == pid)
        .group_by(Voucher.entrepreneur_id)
        .subquery("first_voucher")
    )
    _insert_events(
        pid,
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
    _insert_events(
        pid,
        RATING,
        sa.select(
            Rating.voucher_id.label("voucher_id"),
            Rating.entrepreneur_id.label("entrepreneur_id"),
            Rating.provider_kind.label("key"),
            Rating.stars.label("total"),
        ).where(Rating.programme_id == pid),
    )

    # Redemption by provider kind: each confirmed session's value, by the kind of provider booked.
    _insert_events(
        pid,
        REDEEMED,
        confirmed.add_columns(
            Booking.provider_kind.label("key"), ts.value_minor.label("total")
        ).join(Booking, Booking.id == ts.booking_id),
    )

    # Top providers: completed vouchers per provider.
    _insert_events(
        pid,
        COMPLETED,
        booking_rows.add_columns(sa.cast(Booking.provider_id, sa.String).label("key"), zero).where(
            Booking.programme_id == pid, Booking.status == BookingStatus.COMPLETED.value
        ),
    )

    # Histograms for the medians: days rounded to a tenth.
    _insert_events(
        pid,
        DAYS_TO_BOOKING,
        vouchers.add_columns(
            _tenths(dialect.days_between(Voucher.booked_at, Voucher.issued_at)).label("key"), zero
        ).where(Voucher.booked_at.is_not(None)),
        people=False,
    )
    _insert_events(
        pid,
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
    _insert_events(
        pid,
        PAYMENT_DAYS,
        paid_rows.add_columns(
            _tenths(dialect.days_between(Payout.paid_at, ts.confirmed_at)).label("key"), zero
        ),
        people=False,
    )
    _add_wildcards(
        StatsEventCell,
        pid,
        EVENT_DIMS,
        ("subject", "key"),
        {"n": "sum", "total": "sum", "people": "sum"},
    )


# --------------------------------------------------------------------------- wildcards


def _add_wildcards(
    model: Any,
    programme_id: int,
    dims: Sequence[str],
    keys: Sequence[str],
    measures: dict[str, str],
) -> None:
    """Add every combination of `*` dimensions, each summed from the finest cells.

    Where the database makes them all in one statement (PostgreSQL), per-provider counts
    ("completed") keep only each combination's top `KEEP_PROVIDERS`, ranked as the dashboard ranks
    them (most completed, then provider number): a dashboard shows ten.
    """
    columns = ["programme_id", *dims, *keys, *measures]

    def leading_providers(grouped: sa.Subquery) -> sa.Select[Any]:
        g = grouped
        numbers = sa.select(
            sa.cast(Provider.id, sa.String).label("key"), Provider.number.label("number")
        ).subquery("numbers")
        rank = (
            sa.func.row_number()
            .over(
                partition_by=[g.c.subject, *(g.c[d] for d in dims)],
                order_by=[g.c.n.desc(), numbers.c.number],
            )
            .label("rank")
        )
        ranked = (
            sa.select(*(g.c[c] for c in columns), rank)
            .select_from(g)
            .outerjoin(numbers, sa.and_(g.c.subject == COMPLETED, numbers.c.key == g.c.key))
            .subquery("ranked")
        )
        return sa.select(*(ranked.c[c] for c in columns)).where(
            sa.or_(ranked.c.subject != COMPLETED, ranked.c.rank <= KEEP_PROVIDERS)
        )

    grouping.insert_rollups(
        db.session(),
        model.__table__,
        ("programme_id", programme_id),
        dims,
        keys,
        measures,
        WILD,
        trim=leading_providers if "subject" in keys else None,
    )


# --------------------------------------------------------------------------- refresh


def refresh(programme_id: int, now: datetime | None = None) -> float:
    """Rebuild one programme's roll-ups in one transaction; returns the seconds it took."""
    started = clock.perf_counter()
    # Refreshes of one programme take turns (PostgreSQL); a reader sees the old or the new rows.
    db.session.execute(
        sa.select(Programme.id).where(Programme.id == programme_id).with_for_update()
    )
    tuning.roomy_sorts(db.session())
    for model in (StatsVoucherCell, StatsEventCell, StatsRefresh):
        db.session.execute(sa.delete(model).where(model.programme_id == programme_id))
    _insert_voucher_cells(programme_id)
    _write_voucher_cells(programme_id)
    _insert_event_cells(programme_id)
    _CELLS.drop(db.session.connection())
    seconds = clock.perf_counter() - started
    db.session.add(
        StatsRefresh(
            programme_id=programme_id,
            refreshed_at=now or datetime.now(UTC),
            seconds=round(seconds, 3),
        )
    )
    db.session.commit()
    return seconds


def refresh_all(programme_id: int | None = None, now: datetime | None = None) -> dict[int, float]:
    """Refresh one programme, or every programme (one transaction each)."""
    if programme_id is not None:
        ids = [programme_id]
    else:
        ids = list(db.session.scalars(sa.select(Programme.id).order_by(Programme.id)))
        db.session.rollback()
    return {pid: refresh(pid, now=now) for pid in ids}


@click.command("refresh-stats")
@click.option("--programme", "programme_id", type=int, default=None, help="One programme only.")
@click.option(
    "--every", type=float, default=None, help="Refresh again every SECONDS until stopped."
)
def refresh_stats_command(programme_id: int | None, every: float | None) -> None:
    """Rebuild the funder statistics roll-ups (every programme unless --programme)."""
    if programme_id is not None and db.session.get(Programme, programme_id) is None:
        raise click.ClickException(f"No programme {programme_id}.")
    while True:
        started = clock.monotonic()
        for pid, seconds in refresh_all(programme_id).items():
            click.echo(f"programme {pid}: statistics refreshed in {seconds:.2f} s")
        if every is None:
            return
        try:
            clock.sleep(max(0.0, every - (clock.monotonic() - started)))
        except KeyboardInterrupt:
            return
