"""The roll-ups give the same figures as a plain count over the raw rows.

A seeded random programme (entrepreneurs across regions, trades, genders and ages; bookings of both
provider kinds with the lists shown before them, switches, confirmed, disputed, lapsed and
unanswered sessions, completions, expiries, revocations, ratings, one paid payout run and one still
pending) is built through the services. Every figure of `programme_stats`, without a filter and
with each single filter, is then worked out again here in plain Python from the rows of vouchers,
entrepreneurs, bookings, sessions, payouts, impressions and ratings, and the two must agree,
`<5` included.

The rules the figures follow (`queries.stats`): dates filter by issue month; bookings, sessions and
ratings count under the voucher they belong to, impressions under the entrepreneur's voucher in the
programme; medians are of days rounded to a tenth (half up), the precision the page shows; a
figure about 1-4 entrepreneurs reads `<5`; in each breakdown (and each column of the monthly
trend), while the `<5` rows cover fewer than five entrepreneurs together, the smallest row still
shown reads `hidden` too.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.domain.models import (
    Booking,
    Entrepreneur,
    Impression,
    Payout,
    Programme,
    Provider,
    Rating,
    StatsEventCell,
    StatsVoucherCell,
    TrainingSession,
    Voucher,
)
from marketplace.extensions import db
from marketplace.queries import stats
from marketplace.services import (
    bookings,
    co_payments,
    issuance,
    payouts,
    ratings,
    sessions,
    stats_rollup,
    vouchers,
)
from tests.builders import Builders

SEED = 20250611
PEOPLE = 48
REGIONS = ("nairobi", "mombasa", "kisumu")
TRADES = ("tailoring", "carpentry", "hairdressing")
GENDERS = ("female", "male", "other")
START = datetime(2025, 1, 2, tzinfo=UTC)
EARLY = datetime(2024, 10, 1, tzinfo=UTC)  # vouchers left to expire
FIRST_RUN_END = datetime(2025, 4, 1, tzinfo=UTC)
FIRST_RUN_PAID = datetime(2025, 4, 9, 13, 17, 23, tzinfo=UTC)
SECOND_RUN_END = datetime(2025, 6, 1, tzinfo=UTC)


@dataclass
class World:
    programme: Programme
    other: Programme


def _jitter(rng: random.Random, days_low: float, days_high: float) -> timedelta:
    """A random span with odd seconds, so no wait falls exactly between two tenths of a day."""
    return timedelta(seconds=rng.randint(int(days_low * 86400), int(days_high * 86400)) | 1)


def _build(
    build: Builders,
    seed: int = SEED,
    *,
    people: int = PEOPLE,
    live: Callable[[], object] | None = None,
) -> World:
    """The random programme. `live`: the roll-ups start empty and are kept only by applying the
    changes as they come (`live` is called after each person's events, and may drain), never by
    a rebuild of the finished programme."""
    rng = random.Random(seed)
    payers = random.Random(seed + 1)  # its own stream: the rest of the world stays as it was
    programme = build.programme(
        name="Randomised Skills",
        voucher_value_minor=250_003,  # 4 sessions: shares of 62,500 and 3 left for the last
        validity_days=180,
        confirmation_window_hours=72,
    )
    other = build.programme(name="Elsewhere", funder="Other Fund")
    if live is not None:
        stats_rollup.refresh_all(now=EARLY - timedelta(days=1))  # nothing to count yet
    providers: list[Provider] = []
    for i in range(6):
        providers.append(
            build.provider(
                kind="craft_worker" if i % 2 == 0 else "institute",
                name=f"Mentor {i}",
                trades=list(TRADES) if i < 4 else [TRADES[i % 3]],
                region=REGIONS[i % 3],
                capacity=100,
            )
        )
    unanswered: list[tuple[Any, datetime]] = []  # (booking, when) to record after lapsing
    for n in range(people):
        if live is not None and n:
            live()
        fate = rng.choices(
            ("idle", "expire", "revoke", "partial", "complete"), weights=(2, 2, 2, 4, 4)
        )[0]
        trade = rng.choice(TRADES)
        issued = (EARLY if fate == "expire" else START) + _jitter(
            rng, 0, 20 if fate == "expire" else 110
        )
        person = build.person(
            name=f"Person {n}",
            gender=rng.choices(GENDERS, weights=(5, 4, 1))[0],
            region=rng.choices(REGIONS, weights=(5, 3, 2))[0],
            trade=trade,
            birth_year=rng.randint(1958, 2006),
        )
        voucher = issuance.issue_voucher(programme.id, person, "test", now=issued)
        now = issued
        for _ in range(rng.choice((0, 1, 1, 2))):  # lists shown before picking
            now += _jitter(rng, 0.01, 1.5)
            bookings.find_providers(
                voucher.entrepreneur_id, trade, None, programme_id=programme.id, now=now
            )
        if fate == "idle" or (fate in ("expire", "revoke") and rng.random() < 0.4):
            if fate == "revoke":
                vouchers.revoke_voucher(voucher.code, "test", "left", now=now + _jitter(rng, 1, 9))
            continue
        choices = [p for p in providers if trade in [t.code for t in p.trades]]
        now += _jitter(rng, 0.2, 12)
        booking = build.booking(voucher, rng.choice(choices), now=now)
        if rng.random() < 0.2:  # cancels and picks another mentor
            now += _jitter(rng, 0.5, 3)
            bookings.cancel_booking(voucher.entrepreneur_id, voucher.id, now=now)
            now += _jitter(rng, 0.1, 2)
            booking = build.booking(voucher, rng.choice(choices), now=now)
        if payers.random() < 0.6:  # the trainee paid their share, and the mentor recorded it
            mentor = db.session.get(Provider, booking.provider_id).staff[0]  # type: ignore[union-attr]
            co_payments.record_co_payment(mentor.id, booking.id, now=now + timedelta(minutes=7))
        wanted = {"complete": 4, "partial": rng.randint(0, 3)}.get(fate, rng.randint(0, 2))
        confirmed = 0
        last = None
        while confirmed < wanted:
            now += _jitter(rng, 2, 9)
            s = build.recorded_session(booking, now=now)
            answer = now + _jitter(rng, 0.01, 2.5)
            roll = rng.random()
            if fate != "complete" and roll < 0.15:
                sessions.answer_session(s.entrepreneur_id, s.ref, False, "sms", now=answer)
                wanted -= 1
                continue
            if fate == "partial" and roll < 0.3:
                wanted -= 1  # left unanswered: lapses
                continue
            last = sessions.answer_session(s.entrepreneur_id, s.ref, True, "sms", now=answer)
            confirmed += 1
            now = answer
        if last is not None and rng.random() < 0.6:
            ratings.rate(
                voucher.entrepreneur_id,
                last.ref,
                rng.randint(1, 5),
                "sms",
                now=now + _jitter(rng, 0.1, 2),
            )
        if fate == "revoke":
            vouchers.revoke_voucher(voucher.code, "test", "left", now=now + _jitter(rng, 1, 5))
        elif fate == "partial" and rng.random() < 0.4:
            unanswered.append((booking, now + _jitter(rng, 2, 6)))

    expired = vouchers.expire_vouchers(now=datetime(2025, 5, 1, tzinfo=UTC))
    lapsed = sessions.lapse_sessions(now=datetime(2025, 12, 1, tzinfo=UTC))
    assert people < PEOPLE or (expired > 0 and lapsed > 0)
    for booking, when in unanswered:  # recorded, not yet answered: awaiting
        build.recorded_session(booking, now=when)
    first = payouts.run_payout("KES", FIRST_RUN_END, "test", now=FIRST_RUN_END + timedelta(hours=2))
    assert people < PEOPLE or first is not None
    if first is not None:
        payouts.mark_run_paid(first.id, "MPESA", "test", now=FIRST_RUN_PAID)
    second = payouts.run_payout("KES", SECOND_RUN_END, "test", now=SECOND_RUN_END)
    assert people < PEOPLE or second is not None

    # Another programme's figures must stay out of this one's.
    stranger = build.voucher(other, now=START + timedelta(days=3), name="Someone Else")
    b = build.booking(stranger, providers[0], now=START + timedelta(days=4))
    build.confirmed_session(b, now=START + timedelta(days=6))
    bookings.find_providers(
        stranger.entrepreneur_id, "tailoring", None, programme_id=other.id, now=START
    )
    if live is None:
        stats_rollup.refresh_all()
    else:
        live()
        stats_rollup.drain_all()
    return World(programme, other)


# --------------------------------------------------------------------------- the raw rows


@dataclass
class Raw:
    vouchers: list[Voucher]
    people: dict[int, Entrepreneur]
    bookings: list[Booking]
    sessions: list[TrainingSession]
    payouts: dict[int, Payout]
    impressions: list[Impression]
    ratings: list[Rating]
    providers: dict[int, Provider]


def _raw(programme_id: int) -> Raw:
    q = db.session.scalars
    return Raw(
        vouchers=list(q(sa.select(Voucher).where(Voucher.programme_id == programme_id))),
        people={e.id: e for e in q(sa.select(Entrepreneur))},
        bookings=list(q(sa.select(Booking).where(Booking.programme_id == programme_id))),
        sessions=list(
            q(sa.select(TrainingSession).where(TrainingSession.programme_id == programme_id))
        ),
        payouts={p.id: p for p in q(sa.select(Payout))},
        impressions=list(q(sa.select(Impression).where(Impression.programme_id == programme_id))),
        ratings=list(q(sa.select(Rating).where(Rating.programme_id == programme_id))),
        providers={p.id: p for p in q(sa.select(Provider))},
    )


def _days(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 86400


def _wait(raw: Raw, s: TrainingSession) -> float:
    """Days from a session's confirmation to its payout being paid."""
    assert s.payout_id is not None and s.confirmed_at is not None
    paid_at = raw.payouts[s.payout_id].paid_at
    assert paid_at is not None
    return _days(paid_at, s.confirmed_at)


def _median_tenths(days: list[float]) -> float | None:
    if not days:
        return None
    tenths = [math.floor(d * 10 + 0.5) for d in days]
    return round(statistics.median(tenths) / 10, 1)


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _hide(value: Any, people: int) -> Any:
    return "<5" if 0 < people < 5 else value


def _hide_complements(rows: list[dict[str, Any]], people: list[int], columns: list[str]) -> None:
    """While the `<5` rows cover fewer than five people together, hide the smallest row shown."""
    hidden = [i for i, n in enumerate(people) if 0 < n < 5]
    while hidden and sum(people[i] for i in hidden) < 5:
        shown = [i for i, n in enumerate(people) if n >= 5 and i not in hidden]
        if not shown:
            return
        smallest = min(shown, key=lambda i: (people[i], i))
        hidden.append(smallest)
        for column in columns:
            rows[smallest][column] = "hidden"


def _age_band(issued: datetime, birth_year: int) -> str:
    age = issued.year - birth_year
    for label, low, high in stats_rollup.AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return label
    return "unknown"


def _expected(raw: Raw, f: stats.StatsFilter) -> dict[str, Any]:
    """Every figure of the report, counted afresh from the raw rows."""
    first_month, last_month = f.months

    def chosen(v: Voucher) -> bool:
        e = raw.people[v.entrepreneur_id]
        month = v.issued_at.strftime("%Y-%m")
        return (
            (first_month is None or month >= first_month)
            and (last_month is None or month <= last_month)
            and (f.region is None or e.region_code == f.region)
            and (f.trade is None or e.trade_code == f.trade)
            and (f.gender is None or e.gender == f.gender)
        )

    vs = [v for v in raw.vouchers if chosen(v)]
    ids = {v.id for v in vs}
    by_person = {v.entrepreneur_id: v for v in raw.vouchers}  # one voucher each
    bks = [b for b in raw.bookings if b.voucher_id in ids]
    sess = [s for s in raw.sessions if s.voucher_id in ids]
    confirmed = [s for s in sess if s.status == "confirmed"]
    paid = [
        s
        for s in confirmed
        if s.payout_id is not None and raw.payouts[s.payout_id].status == "paid"
    ]
    shown = [i for i in raw.impressions if by_person[i.entrepreneur_id].id in ids]
    rated = [r for r in raw.ratings if r.voucher_id in ids]
    voucher_of = {v.id: v for v in raw.vouchers}

    def owners(items: Iterable[Any], voucher: Callable[[Any], int]) -> int:
        return len({voucher_of[voucher(x)].entrepreneur_id for x in items})

    people = len({v.entrepreneur_id for v in vs})
    status = {s: sum(1 for v in vs if v.status == s) for s in (
        "issued", "booked", "in_progress", "completed", "expired", "revoked"
    )}  # fmt: skip
    value_issued = sum(v.value_minor for v in vs)
    value_redeemed = sum(s.value_minor for s in confirmed)
    booked = [v for v in vs if v.booked_at is not None]
    completed = [
        v for v in vs if v.status == "completed" and v.booked_at and v.completed_at is not None
    ]
    headline = {
        "entrepreneurs": people,
        "issued": len(vs),
        "not_yet_booked": status["issued"],
        "booked": status["booked"],
        "in_progress": status["in_progress"],
        "completed": status["completed"],
        "expired": status["expired"],
        "revoked": status["revoked"],
        "value_issued_minor": value_issued,
        "value_redeemed_minor": value_redeemed,
        "redemption_rate_pct": _pct(value_redeemed, value_issued),
        "completion_rate_pct": _pct(status["completed"], len(vs)),
        "median_days_to_booking": _median_tenths(
            [_days(v.booked_at, v.issued_at) for v in booked if v.booked_at]
        ),
        "median_days_to_completion": _median_tenths(
            [
                _days(v.completed_at, v.booked_at)
                for v in completed
                if v.completed_at and v.booked_at
            ]
        ),
        "sessions_confirmed": len(confirmed),
        "sessions_awaiting": sum(1 for s in sess if s.status == "recorded"),
        "disputes": sum(1 for s in sess if s.status == "disputed"),
        "lapsed": sum(1 for s in sess if s.status == "lapsed"),
        "switches": sum(1 for b in bks if b.switched_from_id is not None),
        "co_payments_recorded": sum(1 for v in vs if v.co_payment_recorded_at is not None),
        "co_payment_recorded_pct": _pct(
            sum(1 for v in vs if v.co_payment_recorded_at is not None),
            sum(1 for v in vs if v.co_payment_minor > 0 and v.booked_at is not None),
        ),
    }
    tables: dict[str, list[dict[str, Any]]] = {}

    # Provider choice, by the kind of the provider booked or shown.
    choice = []
    choosers = []
    kind_of = {pid: p.kind for pid, p in raw.providers.items()}
    for kind in ("craft_worker", "institute"):
        mine = [b for b in bks if kind_of[b.provider_id] == kind]
        seen = sum(1 for i in shown if kind_of[i.provider_id] == kind)
        n = len(mine)
        index = None
        if bks and shown and seen:
            index = round((n / len(bks)) / (seen / len(shown)), 2)
        who = owners(mine, lambda b: b.voucher_id)
        row = {
            "entrepreneurs": who,
            "bookings": n,
            "booking_share_pct": _pct(n, len(bks)),
            "impressions": seen,
            "impression_share_pct": _pct(seen, len(shown)),
            "preference_index": index,
            "switched_to": sum(1 for b in mine if b.switched_from_id is not None),
        }
        choice.append({"kind": kind, **{k: _hide(v, who) for k, v in row.items()}})
        choosers.append(who)
    _hide_complements(choice, choosers, list(row))
    tables["provider_choice"] = choice

    # Redemption by the kind of provider each confirmed session was booked with.
    kind_booked = {b.id: b.provider_kind for b in raw.bookings}
    redeemed_value = sum(s.value_minor for s in confirmed)
    redeemed, redeemers = [], []
    for kind in ("craft_worker", "institute"):
        mine = [s for s in confirmed if kind_booked[s.booking_id] == kind]
        who = owners(mine, lambda s: s.voucher_id)
        row = {
            "entrepreneurs": who,
            "sessions_confirmed": len(mine),
            "value_redeemed_minor": sum(s.value_minor for s in mine),
            "redeemed_share_pct": _pct(sum(s.value_minor for s in mine), redeemed_value),
        }
        redeemed.append({"kind": kind, **{k: _hide(v, who) for k, v in row.items()}})
        redeemers.append(who)
    _hide_complements(redeemed, redeemers, list(row))
    tables["redemption_by_kind"] = redeemed

    # Monthly trend: the month each thing happened.
    def per_month(items: list[Any], when: Callable[[Any], Any]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = defaultdict(list)
        for x in items:
            out[when(x).strftime("%Y-%m")].append(x)
        return out

    issued_m = per_month(vs, lambda v: v.issued_at)
    booked_m = per_month(bks, lambda b: b.created_at)
    confirmed_m = per_month(confirmed, lambda s: s.confirmed_at)
    paid_m = per_month(paid, lambda s: raw.payouts[s.payout_id].paid_at)
    monthly = []
    month_people: dict[str, list[int]] = defaultdict(list)
    for month in sorted(set(issued_m) | set(booked_m) | set(confirmed_m) | set(paid_m)):
        i, b, c, p = (m.get(month, []) for m in (issued_m, booked_m, confirmed_m, paid_m))
        who_m = {
            "issued": owners(i, lambda v: v.id),
            "bookings": owners(b, lambda x: x.voucher_id),
            "sessions_confirmed": owners(c, lambda s: s.voucher_id),
            "value_paid_minor": owners(p, lambda s: s.voucher_id),
        }
        for column, n in who_m.items():
            month_people[column].append(n)
        monthly.append(
            {
                "month": month,
                "issued": _hide(len(i), who_m["issued"]),
                "bookings": _hide(len(b), who_m["bookings"]),
                "sessions_confirmed": _hide(len(c), who_m["sessions_confirmed"]),
                "value_paid_minor": _hide(sum(s.value_minor for s in p), who_m["value_paid_minor"]),
            }
        )
    for column, by_month in month_people.items():  # each column on its own
        _hide_complements(monthly, by_month, [column])
    tables["monthly"] = monthly

    # Breakdowns of the vouchers.
    def breakdown(group_of: Callable[[Voucher], str], order: list[str] | None) -> list[Any]:
        groups: dict[str, list[Voucher]] = defaultdict(list)
        for v in vs:
            groups[group_of(v)].append(v)
        keys = sorted(groups)
        if order:
            keys = [k for k in order if k in groups] + [k for k in keys if k not in order]
        rows = []
        group_people = []
        for key in keys:
            g = groups[key]
            gid = {v.id for v in g}
            issued_value = sum(v.value_minor for v in g)
            redeemed = sum(s.value_minor for s in confirmed if s.voucher_id in gid)
            done = sum(1 for v in g if v.status == "completed")
            who = len({v.entrepreneur_id for v in g})
            row = {
                "entrepreneurs": who,
                "issued": len(g),
                "ever_booked": sum(1 for v in g if v.booked_at is not None),
                "completed": done,
                "value_issued_minor": issued_value,
                "value_redeemed_minor": redeemed,
                "redemption_rate_pct": _pct(redeemed, issued_value),
                "completion_rate_pct": _pct(done, len(g)),
            }
            rows.append({"group": key, **{k: _hide(x, who) for k, x in row.items()}})
            group_people.append(who)
        _hide_complements(rows, group_people, [c for c in rows[0] if c != "group"] if rows else [])
        return rows

    person = raw.people
    tables["by_trade"] = breakdown(lambda v: person[v.entrepreneur_id].trade_code, None)
    tables["by_region"] = breakdown(lambda v: person[v.entrepreneur_id].region_code, None)
    tables["by_gender"] = breakdown(lambda v: person[v.entrepreneur_id].gender, list(GENDERS))
    tables["by_age_band"] = breakdown(
        lambda v: _age_band(v.issued_at, person[v.entrepreneur_id].birth_year),
        [label for label, _lo, _hi in stats_rollup.AGE_BANDS],
    )

    # Payment speed: confirmed session to its payout paid.
    waits = [_wait(raw, s) for s in paid]
    payers = owners(paid, lambda s: s.voucher_id)
    tables["payment_speed"] = [
        {
            "sessions_paid": _hide(len(waits), payers),
            "median_days": _hide(_median_tenths(waits), payers),
            "mean_days": _hide(round(statistics.fmean(waits), 1) if waits else None, payers),
            "max_days": _hide(round(max(waits), 1) if waits else None, payers),
        }
    ]

    rating_rows = []
    raters = []
    for kind in ("craft_worker", "institute"):
        mine_r = [r for r in rated if kind_of[r.provider_id] == kind]
        who = owners(mine_r, lambda r: r.voucher_id)
        average = round(sum(r.stars for r in mine_r) / len(mine_r), 2) if mine_r else None
        rating_rows.append(
            {"kind": kind, "ratings": _hide(len(mine_r), who), "average_stars": _hide(average, who)}
        )
        raters.append(who)
    _hide_complements(rating_rows, raters, ["ratings", "average_stars"])
    tables["ratings"] = rating_rows

    done_by: dict[int, list[Booking]] = defaultdict(list)
    for bk in bks:
        if bk.status == "completed":
            done_by[bk.provider_id].append(bk)
    top = sorted(done_by, key=lambda pid: (-len(done_by[pid]), raw.providers[pid].number))
    leaders = top[: stats.TOP_PROVIDERS]
    trained = [owners(done_by[pid], lambda b: b.voucher_id) for pid in leaders]
    tables["top_providers"] = [
        {
            "provider_number": raw.providers[pid].number,
            "provider": raw.providers[pid].name,
            "kind": raw.providers[pid].kind,
            "completed": _hide(len(done_by[pid]), who),
        }
        for pid, who in zip(leaders, trained, strict=True)
    ]
    _hide_complements(tables["top_providers"], trained, ["completed"])
    return {
        "headline": {k: _hide(v, people) for k, v in headline.items()},
        "tables": tables,
    }


def _reported(programme: Programme, f: stats.StatsFilter) -> dict[str, Any]:
    report = stats.programme_stats(programme, f)
    body = stats.to_json(report)
    return {
        "headline": body["headline"],
        "tables": {t.key: stats.table_rows(t) for t in report.tables},
    }


FILTERS = [
    stats.StatsFilter(),
    *(stats.StatsFilter(region=r) for r in REGIONS),
    *(stats.StatsFilter(trade=t) for t in TRADES),
    *(stats.StatsFilter(gender=g) for g in GENDERS),
    stats.StatsFilter(date_from=date(2025, 2, 17)),
    stats.StatsFilter(date_to=date(2025, 2, 3)),
    stats.StatsFilter(date_from=date(2025, 3, 31), date_to=date(2025, 4, 1)),
]


@pytest.fixture
def world(build: Builders) -> World:
    return _build(build)


def test_every_figure_agrees_with_a_count_of_the_raw_rows(world: World) -> None:
    raw = _raw(world.programme.id)
    # The programme has every kind of event the figures count.
    statuses = {s.status for s in raw.sessions}
    assert statuses == {"confirmed", "disputed", "lapsed", "recorded"}
    assert {v.status for v in raw.vouchers} >= {"issued", "completed", "expired", "revoked"}
    assert any(b.switched_from_id for b in raw.bookings) and raw.ratings and raw.impressions
    assert {p.status for p in raw.payouts.values()} == {"paid", "pending"}
    assert {raw.providers[b.provider_id].kind for b in raw.bookings} == {
        "craft_worker",
        "institute",
    }
    hidden = complements = 0
    for f in FILTERS:
        expected = _expected(raw, f)
        got = _reported(world.programme, f)
        assert got["headline"] == expected["headline"], f
        for key, rows in expected["tables"].items():
            assert got["tables"][key] == rows, (f, key)
        hidden += str(expected).count("'<5'")
        complements += str(expected).count("'hidden'")
    assert hidden > 20  # small groups were there to hide, and they were hidden
    assert complements > 20  # and rows that would give them away were hidden with them
    unfiltered = _reported(world.programme, stats.StatsFilter())["headline"]
    assert unfiltered["issued"] == PEOPLE
    assert isinstance(unfiltered["median_days_to_completion"], float)


def _rollup_rows(programme_id: int) -> set[tuple[Any, ...]]:
    rows: set[tuple[Any, ...]] = set()
    for model in (StatsVoucherCell, StatsEventCell):
        table = model.__table__
        for row in db.session.execute(sa.select(table).where(table.c.programme_id == programme_id)):
            rows.add(
                (
                    model.__name__,
                    *(round(x, 9) if isinstance(x, float) else x for x in row),
                )
            )
    return rows


def test_refreshing_twice_gives_the_same_rows_and_a_later_change_shows_after_the_next(
    world: World, build: Builders
) -> None:
    pid = world.programme.id
    before = _rollup_rows(pid)
    assert len(before) > 100
    stats_rollup.refresh(pid)
    assert _rollup_rows(pid) == before
    shown = stats.programme_stats(world.programme).headline
    issued = next(r["value"] for r in shown.rows if r["key"] == "issued")

    late = build.voucher(world.programme, now=datetime(2025, 5, 20, 10, tzinfo=UTC))
    vouchers.revoke_voucher(late.code, "test", "duplicate", now=datetime(2025, 5, 21, tzinfo=UTC))
    stale = stats.to_json(stats.programme_stats(world.programme))
    assert stale["headline"]["issued"] == issued  # still the last refresh's figures

    stats_rollup.refresh(pid)
    after = _rollup_rows(pid)
    assert after != before
    fresh = _reported(world.programme, stats.StatsFilter())
    assert fresh == _expected(_raw(pid), stats.StatsFilter())
    assert fresh["headline"]["issued"] == PEOPLE + 1
    stats_rollup.refresh(pid)
    assert _rollup_rows(pid) == after
