"""Redemption statistics for funders: SQL aggregates over one programme, never personal data.

Every figure is computed by the database (GROUP BY, COUNT, SUM, medians); Python only arranges the
few aggregated rows into tables. The dashboard page, its CSV files and the JSON endpoint all render
the same `Report`, and every figure passes through `suppress()` on its way in, so a group of fewer
than five entrepreneurs reads `<5` the same way everywhere.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ..domain.models import (
    Booking,
    BookingStatus,
    Entrepreneur,
    Gender,
    Impression,
    Payout,
    PayoutStatus,
    Programme,
    ProviderKind,
    Rating,
    SessionStatus,
    TrainingSession,
    Voucher,
    VoucherStatus,
)
from ..domain.models import Provider as ProviderRow
from ..extensions import db

SMALL_GROUP = 5
SUPPRESSED = "<5"
TOP_PROVIDERS = 10

# Age on the year the voucher was issued: (label, lowest age, highest age or None).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under 25", 0, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55 and over", 55, None),
)

Cell = int | float | str | None


def suppress(value: Cell, entrepreneurs: int) -> Cell:
    """The one privacy rule: a figure about 1-4 entrepreneurs is shown as `<5`.

    Used for every figure of the page, the CSV and the JSON, so they always agree. A group of nobody
    reveals nobody and keeps its value.
    """
    if 0 < entrepreneurs < SMALL_GROUP:
        return SUPPRESSED
    return value


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class StatsFilter:
    date_from: date | None = None
    date_to: date | None = None
    region: str | None = None
    trade: str | None = None
    gender: str | None = None

    @property
    def narrows_people(self) -> bool:
        return any((self.date_from, self.date_to, self.region, self.trade, self.gender))

    def as_dict(self) -> dict[str, str | None]:
        return {
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "region": self.region,
            "trade": self.trade,
            "gender": self.gender,
        }


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "count"  # count | money | percent | days | ratio | stars | text


@dataclass(frozen=True)
class Chart:
    type: str  # bar | line
    label_column: str
    series: tuple[str, ...]


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Cell]] = field(default_factory=list)
    chart: Chart | None = None
    note: str = ""

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


@dataclass
class Report:
    programme_id: int
    programme_name: str
    funder: str
    currency: str
    filters: StatsFilter
    generated_at: datetime
    headline: Table
    tables: list[Table]

    def table(self, key: str) -> Table:
        return next(t for t in [self.headline, *self.tables] if t.key == key)

    @property
    def all_tables(self) -> list[Table]:
        return [self.headline, *self.tables]


# --------------------------------------------------------------------------- SQL helpers


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _days(later: Any, earlier: Any) -> ColumnElement[Any]:
    if _is_postgres():
        return sa.extract("epoch", later - earlier) / 86400.0
    return sa.func.julianday(later) - sa.func.julianday(earlier)


def _month(column: Any) -> ColumnElement[str]:
    if _is_postgres():
        return sa.func.to_char(column, "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def _age_band(issued_at: Any, birth_year: Any) -> ColumnElement[str]:
    age = sa.extract("year", issued_at) - birth_year
    whens = []
    for label, low, high in AGE_BANDS:
        cond = age >= low if high is None else age.between(low, high)
        whens.append((cond, label))
    return sa.case(*whens, else_="unknown")


def _sum(expr: Any) -> ColumnElement[int]:
    """SUM as a whole number on every database (PostgreSQL widens bigint sums to numeric)."""
    return sa.cast(sa.func.coalesce(sa.func.sum(expr), 0), sa.BigInteger)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return _sum(sa.case((condition, 1), else_=0))


def _redeemed_minor() -> ColumnElement[int]:
    """Value released by a voucher's confirmed sessions (as `money.session_share` splits it)."""
    share = Voucher.value_minor // Voucher.sessions_total
    rest = Voucher.value_minor % Voucher.sessions_total
    return Voucher.sessions_confirmed * share + sa.case(
        (Voucher.sessions_confirmed == Voucher.sessions_total, rest), else_=0
    )


def _median(expr: ColumnElement[Any], base: sa.Select[Any]) -> float | None:
    """Median of `expr` over the rows `base` selects (a SELECT with FROM and WHERE set)."""
    if _is_postgres():
        value = db.session.scalar(
            base.with_only_columns(sa.func.percentile_cont(0.5).within_group(expr))
        )
        return float(value) if value is not None else None
    values = base.with_only_columns(expr.label("x")).where(expr.is_not(None)).subquery()
    n = db.session.scalar(sa.select(sa.func.count()).select_from(values)) or 0
    if not n:
        return None
    middle = db.session.scalars(
        sa.select(values.c.x).order_by(values.c.x).offset((n - 1) // 2).limit(2 - n % 2)
    ).all()
    return float(sum(middle) / len(middle))


class _Scope:
    """The vouchers a report covers: one programme, narrowed by the filters."""

    def __init__(self, programme_id: int, filters: StatsFilter) -> None:
        self.programme_id = programme_id
        self.filters = filters

    def voucher_conditions(self) -> list[ColumnElement[bool]]:
        f = self.filters
        conds: list[ColumnElement[bool]] = [Voucher.programme_id == self.programme_id]
        if f.date_from:
            conds.append(Voucher.issued_at >= datetime.combine(f.date_from, time(), UTC))
        if f.date_to:
            end = datetime.combine(f.date_to + timedelta(days=1), time(), UTC)
            conds.append(Voucher.issued_at < end)
        if f.region:
            conds.append(Entrepreneur.region_code == f.region)
        if f.trade:
            conds.append(Entrepreneur.trade_code == f.trade)
        if f.gender:
            conds.append(Entrepreneur.gender == f.gender)
        return conds

    def vouchers(self, *columns: Any) -> sa.Select[Any]:
        """SELECT over the covered vouchers joined to their entrepreneurs."""
        return (
            sa.select(*columns)
            .select_from(Voucher)
            .join(Entrepreneur, Entrepreneur.id == Voucher.entrepreneur_id)
            .where(*self.voucher_conditions())
        )

    def voucher_ids(self) -> sa.Select[Any]:
        return self.vouchers(Voucher.id)

    def of_vouchers(self, voucher_id: Any, programme_id: Any) -> list[ColumnElement[bool]]:
        """Conditions limiting a table that refers to vouchers to the covered ones."""
        conds: list[ColumnElement[bool]] = [programme_id == self.programme_id]
        if self.filters.narrows_people:
            conds.append(voucher_id.in_(self.voucher_ids()))
        return conds


# --------------------------------------------------------------------------- figures


def _percent(part: int | float | None, whole: int | float | None) -> float | None:
    if not whole or part is None:
        return None
    return round(100.0 * part / whole, 1)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _voucher_measures() -> list[Any]:
    return [
        sa.func.count().label("vouchers"),
        sa.func.count(sa.distinct(Voucher.entrepreneur_id)).label("entrepreneurs"),
        _sum(Voucher.value_minor).label("value_issued"),
        _sum(_redeemed_minor()).label("value_redeemed"),
        sa.func.count(Voucher.booked_at).label("ever_booked"),
        *(_count_if(Voucher.status == s.value).label(s.value) for s in VoucherStatus),
    ]


def _headline(scope: _Scope) -> tuple[Table, int]:
    row = db.session.execute(scope.vouchers(*_voucher_measures())).one()._mapping
    people = int(row["entrepreneurs"])
    sessions = dict(
        db.session.execute(
            sa.select(TrainingSession.status, sa.func.count())
            .where(*scope.of_vouchers(TrainingSession.voucher_id, TrainingSession.programme_id))
            .group_by(TrainingSession.status)
        ).all()
    )
    switches = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Booking)
        .where(
            *scope.of_vouchers(Booking.voucher_id, Booking.programme_id),
            Booking.switched_from_id.is_not(None),
        )
    )
    to_booking = _median(
        _days(Voucher.booked_at, Voucher.issued_at),
        scope.vouchers(Voucher.id).where(Voucher.booked_at.is_not(None)),
    )
    to_completion = _median(
        _days(Voucher.completed_at, Voucher.booked_at),
        scope.vouchers(Voucher.id).where(
            Voucher.status == VoucherStatus.COMPLETED, Voucher.booked_at.is_not(None)
        ),
    )
    issued = int(row["vouchers"])
    figures: list[tuple[str, str, str, Cell]] = [
        ("entrepreneurs", "Entrepreneurs", "count", people),
        ("issued", "Vouchers issued", "count", issued),
        ("not_yet_booked", "Not yet booked", "count", row[VoucherStatus.ISSUED.value]),
        ("booked", "Booked", "count", row[VoucherStatus.BOOKED.value]),
        ("in_progress", "In progress", "count", row[VoucherStatus.IN_PROGRESS.value]),
        ("completed", "Completed", "count", row[VoucherStatus.COMPLETED.value]),
        ("expired", "Expired", "count", row[VoucherStatus.EXPIRED.value]),
        ("revoked", "Revoked", "count", row[VoucherStatus.REVOKED.value]),
        ("value_issued_minor", "Value issued", "money", row["value_issued"]),
        ("value_redeemed_minor", "Value redeemed", "money", row["value_redeemed"]),
        (
            "redemption_rate_pct",
            "Redemption rate (value of confirmed sessions / value issued)",
            "percent",
            _percent(row["value_redeemed"], row["value_issued"]),
        ),
        (
            "completion_rate_pct",
            "Completion rate (completed / issued)",
            "percent",
            _percent(row[VoucherStatus.COMPLETED.value], issued),
        ),
        ("median_days_to_booking", "Median days from issue to booking", "days", _round(to_booking)),
        (
            "median_days_to_completion",
            "Median days from booking to completion",
            "days",
            _round(to_completion),
        ),
        (
            "sessions_confirmed",
            "Sessions confirmed",
            "count",
            sessions.get(SessionStatus.CONFIRMED.value, 0),
        ),
        (
            "sessions_awaiting",
            "Sessions awaiting the entrepreneur's answer",
            "count",
            sessions.get(SessionStatus.RECORDED.value, 0),
        ),
        ("disputes", "Sessions disputed", "count", sessions.get(SessionStatus.DISPUTED.value, 0)),
        (
            "lapsed",
            "Sessions lapsed (no answer in time)",
            "count",
            sessions.get(SessionStatus.LAPSED.value, 0),
        ),
        ("switches", "Switches (cancelled and booked another mentor)", "count", switches or 0),
    ]
    table = Table(
        "headline",
        "Headline figures",
        [Column("figure", "Figure", "text"), Column("value", "Value", "count")],
        note="Shown as <5 for every figure when fewer than 5 entrepreneurs are covered.",
    )
    for key, label, kind, value in figures:
        table.rows.append(
            {"key": key, "figure": label, "kind": kind, "value": suppress(value, people)}
        )
    return table, people


def _breakdown(
    scope: _Scope,
    key: str,
    title: str,
    label: str,
    dimension: Any,
    order: Sequence[str] | None = None,
) -> Table:
    dim = dimension.label("grp")
    rows = db.session.execute(
        scope.vouchers(dim, *_voucher_measures()).group_by(dim).order_by(dim)
    ).all()
    table = Table(
        key,
        title,
        [
            Column("group", label, "text"),
            Column("entrepreneurs", "Entrepreneurs"),
            Column("issued", "Issued"),
            Column("booked", "Booked"),
            Column("completed", "Completed"),
            Column("value_issued_minor", "Value issued", "money"),
            Column("value_redeemed_minor", "Value redeemed", "money"),
            Column("redemption_rate_pct", "Redemption rate", "percent"),
            Column("completion_rate_pct", "Completion rate", "percent"),
        ],
        chart=Chart("bar", "group", ("issued", "completed")),
    )
    found = {r._mapping["grp"]: r._mapping for r in rows}
    keys = list(found)
    if order:
        keys = [k for k in order if k in found] + [k for k in found if k not in order]
    for group in keys:
        r = found[group]
        people = int(r["entrepreneurs"])
        figures: dict[str, Cell] = {
            "entrepreneurs": people,
            "issued": r["vouchers"],
            "booked": r["ever_booked"],
            "completed": r[VoucherStatus.COMPLETED.value],
            "value_issued_minor": r["value_issued"],
            "value_redeemed_minor": r["value_redeemed"],
            "redemption_rate_pct": _percent(r["value_redeemed"], r["value_issued"]),
            "completion_rate_pct": _percent(r[VoucherStatus.COMPLETED.value], r["vouchers"]),
        }
        table.rows.append({"group": group, **{k: suppress(v, people) for k, v in figures.items()}})
    return table


def _provider_choice(scope: _Scope) -> Table:
    bookings = db.session.execute(
        sa.select(
            Booking.provider_kind,
            sa.func.count(),
            sa.func.count(sa.distinct(Voucher.entrepreneur_id)),
            sa.func.count(Booking.switched_from_id),
        )
        .join(Voucher, Voucher.id == Booking.voucher_id)
        .where(*scope.of_vouchers(Booking.voucher_id, Booking.programme_id))
        .group_by(Booking.provider_kind)
    ).all()
    impressions_stmt = sa.select(Impression.provider_kind, sa.func.count()).where(
        Impression.programme_id == scope.programme_id
    )
    if scope.filters.narrows_people:
        impressions_stmt = impressions_stmt.where(
            Impression.entrepreneur_id.in_(scope.vouchers(Voucher.entrepreneur_id))
        )
    impressions = dict(
        db.session.execute(impressions_stmt.group_by(Impression.provider_kind)).all()
    )
    by_kind = {kind: (n, people, switched) for kind, n, people, switched in bookings}
    total_bookings = sum(n for n, _p, _s in by_kind.values())
    total_impressions = sum(impressions.values())
    table = Table(
        "provider_choice",
        "Provider choice",
        [
            Column("kind", "Provider kind", "text"),
            Column("entrepreneurs", "Entrepreneurs"),
            Column("bookings", "Bookings"),
            Column("booking_share_pct", "Share of bookings", "percent"),
            Column("impressions", "Times shown"),
            Column("impression_share_pct", "Share of times shown", "percent"),
            Column("preference_index", "Preference index", "ratio"),
            Column("switched_to", "Switches to this kind"),
        ],
        chart=Chart("bar", "kind", ("booking_share_pct", "impression_share_pct")),
        note="Preference index = share of bookings / share of times shown; above 1 means picked "
        "more often than shown. Every booking counts, including those later switched.",
    )
    for kind in ProviderKind:
        n, people, switched = by_kind.get(kind.value, (0, 0, 0))
        shown = int(impressions.get(kind.value, 0))
        booking_share = n / total_bookings if total_bookings else None
        shown_share = shown / total_impressions if total_impressions else None
        index = (
            round(booking_share / shown_share, 2)
            if booking_share is not None and shown_share
            else None
        )
        figures: dict[str, Cell] = {
            "entrepreneurs": people,
            "bookings": n,
            "booking_share_pct": _percent(n, total_bookings),
            "impressions": shown,
            "impression_share_pct": _percent(shown, total_impressions),
            "preference_index": index,
            "switched_to": switched,
        }
        table.rows.append(
            {"kind": kind.value, **{k: suppress(v, people) for k, v in figures.items()}}
        )
    return table


def _monthly(scope: _Scope) -> Table:
    def grouped(stmt: Any) -> dict[str, tuple[Any, ...]]:
        return {r[0]: tuple(r[1:]) for r in db.session.execute(stmt).all()}

    v_month = _month(Voucher.issued_at).label("m")
    issued = grouped(
        scope.vouchers(
            v_month, sa.func.count(), sa.func.count(sa.distinct(Voucher.entrepreneur_id))
        ).group_by(v_month)
    )
    b_month = _month(Booking.created_at).label("m")
    booked = grouped(
        sa.select(b_month, sa.func.count(), sa.func.count(sa.distinct(Voucher.entrepreneur_id)))
        .join(Voucher, Voucher.id == Booking.voucher_id)
        .where(*scope.of_vouchers(Booking.voucher_id, Booking.programme_id))
        .group_by(b_month)
    )
    s_month = _month(TrainingSession.confirmed_at).label("m")
    confirmed = grouped(
        sa.select(
            s_month, sa.func.count(), sa.func.count(sa.distinct(TrainingSession.entrepreneur_id))
        )
        .where(
            *scope.of_vouchers(TrainingSession.voucher_id, TrainingSession.programme_id),
            TrainingSession.status == SessionStatus.CONFIRMED,
        )
        .group_by(s_month)
    )
    p_month = _month(Payout.paid_at).label("m")
    paid = grouped(
        sa.select(
            p_month,
            _sum(TrainingSession.value_minor),
            sa.func.count(sa.distinct(TrainingSession.entrepreneur_id)),
        )
        .join(Payout, Payout.id == TrainingSession.payout_id)
        .where(
            *scope.of_vouchers(TrainingSession.voucher_id, TrainingSession.programme_id),
            TrainingSession.status == SessionStatus.CONFIRMED,
            Payout.status == PayoutStatus.PAID,
        )
        .group_by(p_month)
    )
    table = Table(
        "monthly",
        "Monthly trend",
        [
            Column("month", "Month", "text"),
            Column("issued", "Vouchers issued"),
            Column("booked", "Bookings made"),
            Column("sessions_confirmed", "Sessions confirmed"),
            Column("value_paid_minor", "Value paid to providers", "money"),
        ],
        chart=Chart("line", "month", ("issued", "booked", "sessions_confirmed")),
        note="Each figure is shown as <5 when it concerns fewer than 5 entrepreneurs.",
    )
    months = sorted(set(issued) | set(booked) | set(confirmed) | set(paid))
    for month in months:
        i_n, i_p = issued.get(month, (0, 0))
        b_n, b_p = booked.get(month, (0, 0))
        c_n, c_p = confirmed.get(month, (0, 0))
        p_v, p_p = paid.get(month, (0, 0))
        table.rows.append(
            {
                "month": month,
                "issued": suppress(i_n, i_p),
                "booked": suppress(b_n, b_p),
                "sessions_confirmed": suppress(c_n, c_p),
                "value_paid_minor": suppress(int(p_v or 0), p_p),
            }
        )
    return table


def _payment_speed(scope: _Scope) -> Table:
    base = (
        sa.select(TrainingSession.id)
        .join(Payout, Payout.id == TrainingSession.payout_id)
        .where(
            *scope.of_vouchers(TrainingSession.voucher_id, TrainingSession.programme_id),
            TrainingSession.status == SessionStatus.CONFIRMED,
            Payout.status == PayoutStatus.PAID,
        )
    )
    days = _days(Payout.paid_at, TrainingSession.confirmed_at)
    n, people, mean, longest = db.session.execute(
        base.with_only_columns(
            sa.func.count(),
            sa.func.count(sa.distinct(TrainingSession.entrepreneur_id)),
            sa.func.avg(days),
            sa.func.max(days),
        )
    ).one()
    median = _median(days, base) if n else None
    table = Table(
        "payment_speed",
        "Payment speed (days from a confirmed session to its payout being paid)",
        [
            Column("sessions_paid", "Sessions paid"),
            Column("median_days", "Median days", "days"),
            Column("mean_days", "Average days", "days"),
            Column("max_days", "Longest wait (days)", "days"),
        ],
    )
    table.rows.append(
        {
            "sessions_paid": suppress(n, people),
            "median_days": suppress(_round(median), people),
            "mean_days": suppress(_round(float(mean)) if mean is not None else None, people),
            "max_days": suppress(_round(float(longest)) if longest is not None else None, people),
        }
    )
    return table


def _ratings(scope: _Scope) -> Table:
    rows = db.session.execute(
        sa.select(
            Rating.provider_kind,
            sa.func.count(),
            sa.func.avg(Rating.stars),
            sa.func.count(sa.distinct(Rating.entrepreneur_id)),
        )
        .where(*scope.of_vouchers(Rating.voucher_id, Rating.programme_id))
        .group_by(Rating.provider_kind)
    ).all()
    found = {kind: (n, avg, people) for kind, n, avg, people in rows}
    table = Table(
        "ratings",
        "Average rating by provider kind",
        [
            Column("kind", "Provider kind", "text"),
            Column("ratings", "Ratings"),
            Column("average_stars", "Average (1-5)", "stars"),
        ],
        chart=Chart("bar", "kind", ("average_stars",)),
    )
    for kind in ProviderKind:
        n, avg, people = found.get(kind.value, (0, None, 0))
        table.rows.append(
            {
                "kind": kind.value,
                "ratings": suppress(n, people),
                "average_stars": suppress(
                    _round(float(avg), 2) if avg is not None else None, people
                ),
            }
        )
    return table


def _top_providers(scope: _Scope) -> Table:
    completed = sa.func.count().label("completed")
    rows = db.session.execute(
        sa.select(
            ProviderRow.number,
            ProviderRow.name,
            ProviderRow.kind,
            completed,
            sa.func.count(sa.distinct(Voucher.entrepreneur_id)),
        )
        .select_from(Booking)
        .join(Voucher, Voucher.id == Booking.voucher_id)
        .join(ProviderRow, ProviderRow.id == Booking.provider_id)
        .where(
            *scope.of_vouchers(Booking.voucher_id, Booking.programme_id),
            Booking.status == BookingStatus.COMPLETED,
        )
        .group_by(ProviderRow.id, ProviderRow.number, ProviderRow.name, ProviderRow.kind)
        .order_by(completed.desc(), ProviderRow.number)
        .limit(TOP_PROVIDERS)
    ).all()
    table = Table(
        "top_providers",
        f"Top {TOP_PROVIDERS} providers by completed vouchers",
        [
            Column("provider_number", "Provider number", "text"),
            Column("provider", "Provider", "text"),
            Column("kind", "Kind", "text"),
            Column("completed", "Completed vouchers"),
        ],
        chart=Chart("bar", "provider", ("completed",)),
    )
    for number, name, kind, n, people in rows:
        table.rows.append(
            {
                "provider_number": number,
                "provider": name,
                "kind": kind,
                "completed": suppress(n, people),
            }
        )
    return table


def programme_stats(
    programme: Programme, filters: StatsFilter | None = None, now: datetime | None = None
) -> Report:
    """Every statistic of one programme for the funder's dashboard, CSV and JSON."""
    filters = filters or StatsFilter()
    scope = _Scope(programme.id, filters)
    headline, _people = _headline(scope)
    age = _age_band(Voucher.issued_at, Entrepreneur.birth_year)
    tables = [
        _provider_choice(scope),
        _monthly(scope),
        _breakdown(scope, "by_trade", "By trade", "Trade", Entrepreneur.trade_code),
        _breakdown(scope, "by_region", "By region", "Region", Entrepreneur.region_code),
        _breakdown(
            scope,
            "by_gender",
            "By gender",
            "Gender",
            Entrepreneur.gender,
            [g.value for g in Gender],
        ),
        _breakdown(
            scope,
            "by_age_band",
            "By age band (age in the year of issue)",
            "Age band",
            age,
            [label for label, _lo, _hi in AGE_BANDS],
        ),
        _payment_speed(scope),
        _ratings(scope),
        _top_providers(scope),
    ]
    return Report(
        programme.id,
        programme.name,
        programme.funder,
        programme.currency,
        filters,
        now or datetime.now(UTC),
        headline,
        tables,
    )


# --------------------------------------------------------------------------- renderings


def headline_dict(report: Report) -> dict[str, Cell]:
    return {str(r["key"]): r["value"] for r in report.headline.rows}


def table_rows(table: Table) -> list[dict[str, Cell]]:
    """The rows as the outside world sees them: only the declared columns."""
    keys = [c.key for c in table.columns] if table.key != "headline" else ["key", "figure", "value"]
    return [{k: row.get(k) for k in keys} for row in table.rows]


def to_json(report: Report) -> dict[str, Any]:
    return {
        "programme": {
            "id": report.programme_id,
            "name": report.programme_name,
            "funder": report.funder,
            "currency": report.currency,
        },
        "filters": report.filters.as_dict(),
        "generated_at": report.generated_at.isoformat(),
        "suppressed_below": SMALL_GROUP,
        "headline": headline_dict(report),
        "tables": {
            t.key: {
                "title": t.title,
                "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in t.columns],
                "rows": table_rows(t),
            }
            for t in report.tables
        },
    }


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    if table.key == "headline":
        writer.writerow(["key", "figure", "value"])
    else:
        writer.writerow([c.key for c in table.columns])
    for row in table_rows(table):
        writer.writerow([_csv_cell(v) for v in row.values()])
    return out.getvalue()


def report_csv(report: Report) -> str:
    """Every table in one file, long form: table, row, column, value."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["programme_id", "table", "row", "column", "value"])
    for table in report.all_tables:
        label_key = "key" if table.key == "headline" else table.columns[0].key
        for row in table_rows(table):
            for key, value in row.items():
                if key in (label_key, "figure"):
                    continue
                writer.writerow(
                    [
                        report.programme_id,
                        table.key,
                        _csv_cell(row[label_key]),
                        key,
                        _csv_cell(value),
                    ]
                )
    return out.getvalue()


def table_keys(report: Report) -> Iterable[str]:
    return (t.key for t in report.all_tables)
