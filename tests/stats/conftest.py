"""A known programme built through the services, with every figure computable by hand.

T0 is the issue date. Fifteen entrepreneurs in programme "Skills Fund":
- A: six women born 1994, Nairobi, book the craft worker on day 1+i and finish all four sessions
  (one each 7, 14, 21 and 28 days after booking); they rate the whole training.
- B: five men born 1980, Nairobi, book the first institute on day 10 and confirm one session
  (7 days later); B0 had booked the craft worker on day 8 and switched; B1 lets a second session
  lapse; B0-B3 rate their session.
- C: two women born 2003 in Mombasa: C0 books the first institute on day 3 and disputes a session;
  C1 never books.
- D: one man born 1994 in Kisumu, revoked on day 2.
- E: one woman born 1960, issued 100 days before T0, expired.
A, B list tailoring mentors once each (1 craft worker + 2 institutes shown: 11 and 22 impressions).
Sessions confirmed before 1 April are paid on 10 April. Another funder has its own programme.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from marketplace.db import reading
from marketplace.domain.models import Programme, Provider
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

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
PAID_AT = datetime(2025, 4, 10, 9, 0, tzinfo=UTC)
PERIOD_END = datetime(2025, 4, 1, 0, 0, tzinfo=UTC)
REFRESHED_AT = datetime(2025, 5, 1, 6, 0, tzinfo=UTC)


@dataclass
class Dataset:
    programme: Programme
    other: Programme
    craft_worker: Provider
    institute: Provider
    second_institute: Provider
    confirmed_at: list[datetime] = field(default_factory=list)  # every confirmed session
    phones: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def _day(n: float) -> datetime:
    return T0 + timedelta(days=n)


@pytest.fixture(scope="session", autouse=True)
def _close_pooled_connections(_app: Flask) -> Iterator[None]:
    """Close the pool's connections when the run ends, rather than leave them to the garbage
    collector (psycopg warns about that, and warnings are errors)."""
    yield
    with _app.app_context():
        reading.dispose_engines()


@pytest.fixture
def dataset(build: Builders) -> Dataset:
    programme = build.programme(name="Jua Kali Skills", funder="Skills Fund")
    other = build.programme(name="Coast Crafts", funder="Other Fund")
    cw = build.provider(kind="craft_worker", name="Mama Wanjiku Tailors", capacity=20)
    inst = build.provider(kind="institute", name="Nairobi Tailoring Institute", capacity=20)
    inst2 = build.provider(kind="institute", name="Eastlands Fashion College", capacity=20)
    data = Dataset(programme, other, cw, inst, inst2)

    def issue(name: str, when: datetime, **person: object) -> object:
        p = build.person(name=name, **person)
        data.phones.append(p.phone)
        data.names.append(name)
        return issuance.issue_voucher(programme.id, p, "test", now=when)

    def session(booking: object, when: datetime, *, confirm: bool = True) -> object:
        s = build.recorded_session(booking, now=when)  # type: ignore[arg-type]
        if confirm:
            data.confirmed_at.append(when + timedelta(minutes=5))
            return sessions.answer_session(
                s.entrepreneur_id, s.ref, True, "sms", now=when + timedelta(minutes=5)
            )
        return s

    # E first: issued long ago and expired before anyone else was issued.
    issue("Esther Kamau", _day(-100), gender="female", birth_year=1960)
    assert vouchers.expire_vouchers(now=_day(-9)) == 1

    a_stars = [5, 5, 4, 4, 5, 3]
    for i in range(6):
        v = issue(f"Achieng Otieno {i}", T0, gender="female", birth_year=1994)
        bookings.find_providers(
            v.entrepreneur_id,
            "tailoring",
            None,  # type: ignore[attr-defined]
            programme_id=programme.id,
            now=_day(0.5),
        )
        b = build.booking(v, cw, now=_day(1 + i))  # type: ignore[arg-type]
        if i < 4:  # four of them paid their share, and the mentor recorded it
            co_payments.record_co_payment(cw.staff[0].id, b.id, now=_day(1.5 + i))
        last = None
        for k in (7, 14, 21, 28):
            last = session(b, _day(1 + i + k))
        ratings.rate(
            v.entrepreneur_id,
            last.ref,
            a_stars[i],
            "sms",  # type: ignore[attr-defined]
            now=_day(1 + i + 29),
        )

    b_stars = [3, 4, 2, 3]
    for i in range(5):
        v = issue(f"Baraka Mwangi {i}", T0, gender="male", birth_year=1980)
        bookings.find_providers(
            v.entrepreneur_id,
            "tailoring",
            None,  # type: ignore[attr-defined]
            programme_id=programme.id,
            now=_day(0.5),
        )
        if i == 0:
            build.booking(v, cw, now=_day(8))  # type: ignore[arg-type]
            bookings.cancel_booking(v.entrepreneur_id, v.id, now=_day(9))  # type: ignore[attr-defined]
        b = build.booking(v, inst, now=_day(10))  # type: ignore[arg-type]
        s = session(b, _day(17))
        if i < 4:
            ratings.rate(
                v.entrepreneur_id,
                s.ref,
                b_stars[i],
                "sms",  # type: ignore[attr-defined]
                now=_day(18),
            )
        if i == 1:
            session(b, _day(24), confirm=False)  # never answered: lapses

    c0 = issue("Chebet Njeri", T0, gender="female", birth_year=2003, region="mombasa")
    b = build.booking(c0, inst, now=_day(3))  # type: ignore[arg-type]
    disputed = build.recorded_session(b, now=_day(5))
    sessions.answer_session(disputed.entrepreneur_id, disputed.ref, False, "sms", now=_day(5.1))
    issue("Cherono Njeri", T0, gender="female", birth_year=2003, region="mombasa")

    d = issue("Daudi Kiprop", T0, gender="male", birth_year=1994, region="kisumu")
    vouchers.revoke_voucher(d.code, "test", "left the programme", now=_day(2))  # type: ignore[attr-defined]

    assert sessions.lapse_sessions(now=_day(24 + 4)) == 1
    run = payouts.run_payout("KES", PERIOD_END, "test", now=PERIOD_END + timedelta(hours=1))
    assert run is not None
    payouts.mark_run_paid(run.id, "MPESA", "test", now=PAID_AT)

    # The other funder's programme has a voucher of its own.
    build.voucher(other, now=T0, name="Zuhura Ali")
    # The dashboard reads the roll-ups: rebuild them as the refresh command does.
    stats_rollup.refresh_all(now=REFRESHED_AT)
    return data
