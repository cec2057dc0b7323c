"""Redemption statistics for funders: aggregates of one programme, never personal data.

Every figure is summed by the database from the programme's roll-ups (`services.stats_rollup`,
kept live by `flask drain-stats` as changes happen), so a report reads a few rows whatever the
programme's size; a report says the time of the latest change it holds (`as_of`). Date filters work by issue month. Python only
arranges the few aggregated rows into tables. The dashboard page, its CSV files and the JSON endpoint all render
the same `Report`, and every figure passes through `suppress()` on its way in, so a group of fewer
than five entrepreneurs reads `<5` the same way everywhere.

Privacy, in two steps applied to every table the funder sees:

1. `suppress()`: every figure about 1-4 entrepreneurs reads `<5`.
2. `complementary()`: in a breakdown (rows that add up to a total: by trade, region, gender, age
   band, provider kind (choice and redemption), month, provider; ratings too, though no total of them is shown today), a
   hidden row could be worked out by subtraction, the total less the rows shown. So while the hidden rows of a breakdown cover
   fewer than five entrepreneurs together (one hidden row always does), the smallest row still
   shown is hidden too, every figure of it, and reads `hidden`. Whatever is subtracted then
   describes five or more people at once and no single row. In the monthly trend each column
   counts different events, so each column is a breakdown of its own.

What this does not prevent: differencing across filters. Two filtered views (all regions and all
but one, two date ranges a month apart) can still be compared to learn about a small group.
Suppressing for that would mean tracking what each funder has already seen; this module applies
the standard per-table rule only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ..domain.models import (
    Gender,
    Programme,
    ProviderKind,
    StatsEventCell,
    StatsRefresh,
    StatsVoucherCell,
)
from ..domain.models import Provider as ProviderRow
from ..domain.spreadsheet import csv_text
from ..extensions import db
from ..services import stats_rollup as rollup
from ..services.stats_rollup import AGE_BANDS

SMALL_GROUP = 5
SUPPRESSED = "<5"
HIDDEN = "hidden"  # withheld so that a `<5` row of the same breakdown cannot be worked out
MARKERS = {
    SUPPRESSED: f"a figure about fewer than {SMALL_GROUP} entrepreneurs",
    HIDDEN: "withheld so that a <5 figure of the same table cannot be worked out from the totals",
}
TOP_PROVIDERS = 10
Cell = int | float | str | None


def suppress(value: Cell, entrepreneurs: int) -> Cell:
    """The first privacy rule: a figure about 1-4 entrepreneurs is shown as `<5`.

    Used for every figure of the page, the CSV and the JSON, so they always agree. A group of nobody
    reveals nobody and keeps its value. Breakdowns then apply `complementary()`.
    """
    if 0 < entrepreneurs < SMALL_GROUP:
        return SUPPRESSED
    return value


def complementary(people: Sequence[int]) -> set[int]:
    """The rows of a breakdown to hide, given how many entrepreneurs each row covers.

    The rows about 1-4 entrepreneurs (those `suppress()` hides), then, while the hidden rows cover
    fewer than five together, the smallest row still shown (ties: the first in the table). Rows
    about nobody reveal nobody and are never needed as a complement.
    """
    hidden = {i for i, n in enumerate(people) if 0 < n < SMALL_GROUP}
    shown = sorted((n, i) for i, n in enumerate(people) if n >= SMALL_GROUP)
    while hidden and sum(people[i] for i in hidden) < SMALL_GROUP and shown:
        hidden.add(shown.pop(0)[1])
    return hidden


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

    @property
    def months(self) -> tuple[str | None, str | None]:
        """The first and last issue month the dates cover (the roll-ups count by month)."""
        first = self.date_from.strftime("%Y-%m") if self.date_from else None
        last = self.date_to.strftime("%Y-%m") if self.date_to else None
        return first, last

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
    as_of: datetime | None = None  # when the roll-ups read were refreshed

    def table(self, key: str) -> Table:
        return next(t for t in [self.headline, *self.tables] if t.key == key)

    @property
    def all_tables(self) -> list[Table]:
        return [self.headline, *self.tables]


# --------------------------------------------------------------------------- reading the roll-ups

_V = StatsVoucherCell.__table__
_E = StatsEventCell.__table__


class _Scope:
    """The cells a report reads: one programme, the combination of `*` its filters select."""

    def __init__(self, programme_id: int, filters: StatsFilter) -> None:
        self.programme_id = programme_id
        self.filters = filters

    def conditions(self, table: Any, by: str | None = None) -> list[ColumnElement[bool]]:
        """Rows of `table` for these filters, one row per value of `by` when broken down."""
        f = self.filters
        conds: list[ColumnElement[bool]] = [table.c.programme_id == self.programme_id]
        wanted: dict[str, str | None] = {
            "region_code": f.region,
            "trade_code": f.trade,
            "gender": f.gender,
        }
        if "age_band" in table.c:
            wanted["age_band"] = None
        for dim, value in wanted.items():
            column = table.c[dim]
            if value:
                conds.append(column == value)
            elif dim == by:
                conds.append(column != rollup.WILD)
            else:
                conds.append(column == rollup.WILD)
        first, last = f.months
        month = table.c.issue_month
        if first is None and last is None:
            conds.append(month == rollup.WILD)
        else:
            conds.append(month != rollup.WILD)
            if first:
                conds.append(month >= first)
            if last:
                conds.append(month <= last)
        return conds

    def events(self, subject: str) -> dict[str, tuple[int, int, int]]:
        """key -> (count, total, people) of one subject."""
        rows = db.session.execute(
            sa.select(
                _E.c.key,
                rollup.whole_sum(_E.c.n),
                rollup.whole_sum(_E.c.total),
                rollup.whole_sum(_E.c.people),
            )
            .where(*self.conditions(_E), _E.c.subject == subject)
            .group_by(_E.c.key)
        ).all()
        return {key: (int(n), int(total), int(people)) for key, n, total, people in rows}

    def median_days(self, subject: str) -> float | None:
        """The median of a histogram of days in tenths, summed over the selected cells."""
        counts = sorted((int(key), n) for key, (n, _t, _p) in self.events(subject).items())
        total = sum(n for _k, n in counts)
        if not total:
            return None
        wanted = {(total - 1) // 2, total // 2}
        found: list[int] = []
        seen = 0
        for tenths, n in counts:
            for position in sorted(wanted):
                if seen <= position < seen + n:
                    found.append(tenths)
            seen += n
        return sum(found) / len(found) / 10


_SUMMED = [c.name for c in StatsVoucherCell.__table__.c if c.name not in rollup.VOUCHER_DIMS]
_SUMMED.remove("programme_id")


def _voucher_sums(scope: _Scope, by: str | None = None) -> list[dict[str, Any]]:
    measures: list[Any] = []
    for name in _SUMMED:
        if name == "paid_days_max":
            measures.append(sa.func.max(_V.c[name]).label(name))
        elif name == "paid_days_sum":
            measures.append(sa.func.coalesce(sa.func.sum(_V.c[name]), 0.0).label(name))
        else:
            measures.append(rollup.whole_sum(_V.c[name]).label(name))
    stmt = sa.select(*measures).where(*scope.conditions(_V, by))
    if by is not None:
        stmt = stmt.add_columns(_V.c[by].label("grp")).group_by(_V.c[by]).order_by(_V.c[by])
    return [dict(r._mapping) for r in db.session.execute(stmt).all()]


# --------------------------------------------------------------------------- figures


def _percent(part: int | float | None, whole: int | float | None) -> float | None:
    if not whole or part is None:
        return None
    return round(100.0 * part / whole, 1)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _hide_complements(
    table: Table, people: Sequence[int], columns: Iterable[str] | None = None
) -> None:
    """Hide the figures of the rows `complementary()` adds to the `<5` ones: every figure of the
    row, or only `columns` when each column is a breakdown of its own."""
    keys = list(columns) if columns is not None else [c.key for c in table.columns]
    labels = {c.key for c in table.columns if c.kind == "text"}
    for i in complementary(people):
        row = table.rows[i]
        for key in keys:
            if key not in labels and row[key] != SUPPRESSED:
                row[key] = HIDDEN


def _headline(scope: _Scope, sums: dict[str, Any]) -> Table:
    people = int(sums["people"])
    issued = int(sums["vouchers"])
    figures: list[tuple[str, str, str, Cell]] = [
        ("entrepreneurs", "Entrepreneurs", "count", people),
        ("issued", "Vouchers issued", "count", issued),
        ("not_yet_booked", "Not yet booked", "count", sums["status_issued"]),
        (
            "booked",
            "Booked now, no session confirmed yet",
            "count",
            sums["status_booked"],
        ),
        ("in_progress", "In progress", "count", sums["status_in_progress"]),
        ("completed", "Completed", "count", sums["status_completed"]),
        ("expired", "Expired", "count", sums["status_expired"]),
        ("revoked", "Revoked", "count", sums["status_revoked"]),
        ("value_issued_minor", "Value issued", "money", sums["value_issued"]),
        ("value_redeemed_minor", "Value redeemed", "money", sums["value_redeemed"]),
        (
            "redemption_rate_pct",
            "Redemption rate (value of confirmed sessions / value issued)",
            "percent",
            _percent(sums["value_redeemed"], sums["value_issued"]),
        ),
        (
            "completion_rate_pct",
            "Completion rate (completed / issued)",
            "percent",
            _percent(sums["status_completed"], issued),
        ),
        (
            "median_days_to_booking",
            "Median days from issue to booking",
            "days",
            _round(scope.median_days(rollup.DAYS_TO_BOOKING)),
        ),
        (
            "median_days_to_completion",
            "Median days from booking to completion",
            "days",
            _round(scope.median_days(rollup.DAYS_TO_COMPLETION)),
        ),
        ("sessions_confirmed", "Sessions confirmed", "count", sums["sessions_confirmed"]),
        (
            "sessions_awaiting",
            "Sessions awaiting the entrepreneur's answer",
            "count",
            sums["sessions_awaiting"],
        ),
        ("disputes", "Sessions disputed", "count", sums["sessions_disputed"]),
        ("lapsed", "Sessions lapsed (no answer in time)", "count", sums["sessions_lapsed"]),
        ("switches", "Switches (cancelled and booked another mentor)", "count", sums["switches"]),
        (
            "co_payments_recorded",
            "Co-payments recorded received by the mentor",
            "count",
            sums["co_payment_recorded"],
        ),
        (
            "co_payment_recorded_pct",
            "Co-payment recorded (of vouchers booked with a co-payment)",
            "percent",
            _percent(sums["co_payment_recorded"], sums["co_payment_booked"]),
        ),
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
    return table


def _breakdown(
    scope: _Scope,
    key: str,
    title: str,
    label: str,
    dimension: str,
    order: Sequence[str] | None = None,
) -> Table:
    table = Table(
        key,
        title,
        [
            Column("group", label, "text"),
            Column("entrepreneurs", "Entrepreneurs"),
            Column("issued", "Issued"),
            Column("ever_booked", "Ever booked"),
            Column("completed", "Completed"),
            Column("value_issued_minor", "Value issued", "money"),
            Column("value_redeemed_minor", "Value redeemed", "money"),
            Column("redemption_rate_pct", "Redemption rate", "percent"),
            Column("completion_rate_pct", "Completion rate", "percent"),
        ],
        chart=Chart("bar", "group", ("issued", "completed")),
        note="Ever booked: vouchers booked at some time, whatever they are now (in progress, "
        "completed, expired...); the headline's 'Booked now' counts only those still waiting "
        "for their first confirmed session.",
    )
    found = {r["grp"]: r for r in _voucher_sums(scope, dimension) if r["vouchers"]}
    keys = list(found)
    if order:
        keys = [k for k in order if k in found] + [k for k in found if k not in order]
    people_by_row: list[int] = []
    for group in keys:
        r = found[group]
        people = int(r["people"])
        people_by_row.append(people)
        figures: dict[str, Cell] = {
            "entrepreneurs": people,
            "issued": r["vouchers"],
            "ever_booked": r["ever_booked"],
            "completed": r["status_completed"],
            "value_issued_minor": r["value_issued"],
            "value_redeemed_minor": r["value_redeemed"],
            "redemption_rate_pct": _percent(r["value_redeemed"], r["value_issued"]),
            "completion_rate_pct": _percent(r["status_completed"], r["vouchers"]),
        }
        table.rows.append({"group": group, **{k: suppress(v, people) for k, v in figures.items()}})
    _hide_complements(table, people_by_row)
    return table


def _provider_choice(scope: _Scope) -> Table:
    bookings = scope.events(rollup.BOOKING)
    switches = scope.events(rollup.SWITCH)
    impressions = scope.events(rollup.IMPRESSION)
    total_bookings = sum(n for n, _t, _p in bookings.values())
    total_impressions = sum(n for n, _t, _p in impressions.values())
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
    people_by_row: list[int] = []
    for kind in ProviderKind:
        n, _total, people = bookings.get(kind.value, (0, 0, 0))
        people_by_row.append(people)
        switched = switches.get(kind.value, (0, 0, 0))[0]
        shown = impressions.get(kind.value, (0, 0, 0))[0]
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
    _hide_complements(table, people_by_row)
    return table


def _redemption_by_kind(scope: _Scope) -> Table:
    found = scope.events(rollup.REDEEMED)
    total_value = sum(total for _n, total, _p in found.values())
    table = Table(
        "redemption_by_kind",
        "Redemption by provider kind",
        [
            Column("kind", "Provider kind", "text"),
            Column("entrepreneurs", "Entrepreneurs"),
            Column("sessions_confirmed", "Sessions confirmed"),
            Column("value_redeemed_minor", "Value redeemed", "money"),
            Column("redeemed_share_pct", "Share of value redeemed", "percent"),
        ],
        chart=Chart("bar", "kind", ("redeemed_share_pct",)),
        note="The value of the sessions confirmed with each kind of provider (the kind booked).",
    )
    people_by_row: list[int] = []
    for kind in ProviderKind:
        n, value, people = found.get(kind.value, (0, 0, 0))
        people_by_row.append(people)
        figures: dict[str, Cell] = {
            "entrepreneurs": people,
            "sessions_confirmed": n,
            "value_redeemed_minor": value,
            "redeemed_share_pct": _percent(value, total_value),
        }
        table.rows.append(
            {"kind": kind.value, **{k: suppress(v, people) for k, v in figures.items()}}
        )
    _hide_complements(table, people_by_row)
    return table


def _monthly(scope: _Scope) -> Table:
    issued, booked, confirmed, paid = (scope.events(s) for s in rollup.MONTHLY)
    table = Table(
        "monthly",
        "Monthly trend",
        [
            Column("month", "Month", "text"),
            Column("issued", "Vouchers issued"),
            Column("bookings", "Bookings made"),
            Column("sessions_confirmed", "Sessions confirmed"),
            Column("value_paid_minor", "Value paid to providers", "money"),
        ],
        chart=Chart("line", "month", ("issued", "bookings", "sessions_confirmed")),
        note="Each figure is shown as <5 when it concerns fewer than 5 entrepreneurs, and the "
        "next-smallest month of that column as hidden when the <5 months could otherwise be "
        "worked out from the totals.",
    )
    months = sorted(set(issued) | set(booked) | set(confirmed) | set(paid))
    none = (0, 0, 0)
    people: dict[str, list[int]] = {c.key: [] for c in table.columns[1:]}
    for month in months:
        i_n, _it, i_p = issued.get(month, none)
        b_n, _bt, b_p = booked.get(month, none)
        c_n, _ct, c_p = confirmed.get(month, none)
        _pn, p_v, p_p = paid.get(month, none)
        for key, who in zip(people, (i_p, b_p, c_p, p_p), strict=True):
            people[key].append(who)
        table.rows.append(
            {
                "month": month,
                "issued": suppress(i_n, i_p),
                "bookings": suppress(b_n, b_p),
                "sessions_confirmed": suppress(c_n, c_p),
                "value_paid_minor": suppress(p_v, p_p),
            }
        )
    for key, who_by_month in people.items():  # each column counts events of its own
        _hide_complements(table, who_by_month, [key])
    return table


def _payment_speed(scope: _Scope, sums: dict[str, Any]) -> Table:
    n = int(sums["sessions_paid"])
    people = int(sums["paid_people"])
    mean = float(sums["paid_days_sum"]) / n if n else None
    longest = sums["paid_days_max"]
    median = scope.median_days(rollup.PAYMENT_DAYS) if n else None
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
            "mean_days": suppress(_round(mean), people),
            "max_days": suppress(
                _round(float(longest)) if longest is not None and n else None, people
            ),
        }
    )
    return table


def _ratings(scope: _Scope) -> Table:
    found = scope.events(rollup.RATING)
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
    people_by_row: list[int] = []
    for kind in ProviderKind:
        n, stars, people = found.get(kind.value, (0, 0, 0))
        people_by_row.append(people)
        table.rows.append(
            {
                "kind": kind.value,
                "ratings": suppress(n, people),
                "average_stars": suppress(round(stars / n, 2) if n else None, people),
            }
        )
    _hide_complements(table, people_by_row)
    return table


def _top_providers(scope: _Scope) -> Table:
    per_provider = (
        sa.select(
            _E.c.key.label("key"),
            rollup.whole_sum(_E.c.n).label("completed"),
            rollup.whole_sum(_E.c.people).label("people"),
        )
        .where(*scope.conditions(_E), _E.c.subject == rollup.COMPLETED)
        .group_by(_E.c.key)
        .subquery("per_provider")
    )
    rows = db.session.execute(
        sa.select(
            ProviderRow.number,
            ProviderRow.name,
            ProviderRow.kind,
            per_provider.c.completed,
            per_provider.c.people,
        )
        .join(ProviderRow, ProviderRow.id == sa.cast(per_provider.c.key, sa.Integer))
        .where(per_provider.c.completed > 0)
        .order_by(per_provider.c.completed.desc(), ProviderRow.number)
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
                "completed": suppress(int(n), int(people)),
            }
        )
    _hide_complements(table, [int(people) for *_row, people in rows])
    return table


def programme_stats(
    programme: Programme, filters: StatsFilter | None = None, now: datetime | None = None
) -> Report:
    """Every statistic of one programme for the funder's dashboard, CSV and JSON.

    Read from the roll-ups as of the latest change applied to them (`as_of`); a programme never
    rolled up (one from before the roll-ups were kept live) is rolled up on the spot first, so the
    figures always come from the same place.
    """
    filters = filters or StatsFilter()
    refreshed = db.session.get(StatsRefresh, programme.id)
    if refreshed is None:
        rollup.refresh(programme.id, now=now)
        refreshed = db.session.get(StatsRefresh, programme.id)
        assert refreshed is not None
    scope = _Scope(programme.id, filters)
    sums = _voucher_sums(scope)[0]
    tables = [
        _provider_choice(scope),
        _redemption_by_kind(scope),
        _monthly(scope),
        _breakdown(scope, "by_trade", "By trade", "Trade", "trade_code"),
        _breakdown(scope, "by_region", "By region", "Region", "region_code"),
        _breakdown(scope, "by_gender", "By gender", "Gender", "gender", [g.value for g in Gender]),
        _breakdown(
            scope,
            "by_age_band",
            "By age band (age in the year of issue)",
            "Age band",
            "age_band",
            [label for label, _lo, _hi in AGE_BANDS],
        ),
        _payment_speed(scope, sums),
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
        _headline(scope, sums),
        tables,
        as_of=refreshed.applied_at or refreshed.refreshed_at,
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
        "as_of": as_of_text(report) or None,
        "issue_months": dict(zip(("from", "to"), report.filters.months, strict=True)),
        "suppressed_below": SMALL_GROUP,
        "markers": MARKERS,
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


def as_of_text(report: Report) -> str:
    """When the figures were rolled up (UTC, to the second): the same text in the CSV and JSON."""
    return report.as_of.astimezone(UTC).isoformat(timespec="seconds") if report.as_of else ""


def issue_months_text(filters: StatsFilter) -> str:
    """What the date filter covers, in words: it works by whole issue months."""
    first, last = filters.months
    if first and last:
        return f"issued from {first} to {last}"
    if first:
        return f"issued from {first} on"
    if last:
        return f"issued up to {last}"
    return "issued in any month"


def csv_context(report: Report) -> dict[str, str]:
    """What every CSV row says about its figures: when they were rolled up (`as_of`, UTC), the
    issue months the dates cover (the filter works by whole months) and the region, trade and
    gender filters; an empty cell means any."""
    first, last = report.filters.months
    f = report.filters
    context = {
        "as_of": as_of_text(report),
        "issue_month_from": first,
        "issue_month_to": last,
        "region_filter": f.region,
        "trade_filter": f.trade,
        "gender_filter": f.gender,
    }
    return {key: "" if value is None else str(value) for key, value in context.items()}


def table_csv(report: Report, table: Table) -> str:
    """One table, a row per row; each row ends with `csv_context()` (when, which period, which
    filters), so a file read on its own, or several files joined, still says what it counts."""
    context = csv_context(report)
    if table.key == "headline":
        header = ["key", "figure", "value", *context]
    else:
        header = [*(c.key for c in table.columns), *context]
    rows = ([*row.values(), *context.values()] for row in table_rows(table))
    return csv_text([header, *rows])


def report_csv(report: Report) -> str:
    """Every table in one file, long form: table, row, column, value, then `csv_context()`."""
    context = csv_context(report)
    rows: list[list[object]] = [["programme_id", "table", "row", "column", "value", *context]]
    for table in report.all_tables:
        label_key = "key" if table.key == "headline" else table.columns[0].key
        for row in table_rows(table):
            for key, value in row.items():
                if key in (label_key, "figure"):
                    continue
                rows.append(
                    [report.programme_id, table.key, row[label_key], key, value, *context.values()]
                )
    return csv_text(rows)


def table_keys(report: Report) -> Iterable[str]:
    return (t.key for t in report.all_tables)
