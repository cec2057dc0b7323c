"""What a hop costs the database: one transaction, one commit, a handful of statements; and what a
list page records, in the hop's own commit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.domain.models import Booking, Impression
from marketplace.extensions import db
from marketplace.services import bookings
from sms.ussd import engine

from .conftest import counts


@dataclass
class Seen:
    statements: list[str] = field(default_factory=list)
    commits: int = 0


@contextmanager
def watching() -> Iterator[Seen]:
    """The SQL statements and commits the app sends while the block runs."""
    seen = Seen()

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.statements.append(" ".join(sql.split())[:60])

    def commit(_conn: Any) -> None:
        seen.commits += 1

    sa.event.listen(db.engine, "before_cursor_execute", statement)
    sa.event.listen(db.engine, "commit", commit)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", statement)
        sa.event.remove(db.engine, "commit", commit)


def test_a_menu_hop_is_one_transaction_of_at_most_three_statements(build, dialer, phone_of):
    phone = dialer(phone_of(build.voucher()))
    phone.dial()
    with watching() as seen:
        assert phone.press("2").startswith("Mentors for which trade?")
    # who is dialling, the session row claimed, the reply stored (the first two are one
    # statement on PostgreSQL)
    assert seen.commits == 1
    assert len(seen.statements) <= 3, seen.statements


def test_a_list_page_records_its_impressions_in_the_commit_of_the_hop(build, dialer, phone_of):
    voucher = build.voucher()
    for n in range(4):
        build.provider(name=f"Fundi {n}")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1")
    with watching() as seen:
        assert "1 Fundi 0," in phone.press("1")
    assert seen.commits == 1
    assert len(seen.statements) <= 5, seen.statements
    shown = db.session.scalars(sa.select(Impression).order_by(Impression.position)).all()
    assert [i.position for i in shown] == [0, 1, 2]
    assert {i.programme_id for i in shown} == {voucher.programme_id}

    with watching() as seen:
        assert "1 Fundi 3" in phone.press("9")
    assert seen.commits == 1
    assert counts()["impressions"] == 4


def test_a_booking_whose_answer_was_lost_is_not_made_again_when_the_hop_is_repeated(
    build, dialer, phone_of, monkeypatch
):
    voucher = build.voucher()
    build.provider(name="Mama Zawadi Tailors")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1*1*1")

    def lost(*_args: Any) -> None:
        raise RuntimeError("the connection dropped before the answer was stored")

    monkeypatch.setattr(engine, "_save", lost)
    monkeypatch.setattr(engine, "REPLAY_WAIT_SECONDS", 0.2)
    assert phone.press("1").startswith("Sorry, the service is busy.")
    monkeypatch.undo()
    monkeypatch.setattr(engine, "REPLAY_WAIT_SECONDS", 0.2)
    before = counts()

    # The booking committed with the mark of its hop: the repeat waits for an answer that never
    # comes and says sorry, rather than booking (and texting) a second time.
    assert phone.repeat().startswith("Sorry, the service is busy.")
    assert counts() == before
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1


def test_a_listing_says_which_programme_its_impressions_count_towards(build):
    soon = build.voucher(now=datetime.now(UTC) - timedelta(days=30))
    later = build.voucher(phone=soon.entrepreneur.phone)
    build.provider(name="Fundi")
    listing = bookings.find_providers(soon.entrepreneur_id, "tailoring", None)
    assert listing.programme_id == soon.programme_id != later.programme_id
    [shown] = db.session.scalars(sa.select(Impression)).all()
    assert shown.programme_id == soon.programme_id


def test_a_listing_left_uncommitted_is_not_recorded_when_the_caller_rolls_back(build):
    voucher = build.voucher()
    build.provider(name="Fundi")
    db.session.commit()
    listing = bookings.find_providers(voucher.entrepreneur_id, "tailoring", None, commit=False)
    assert [c.name for c in listing.providers] == ["Fundi"]
    db.session.rollback()
    assert counts()["impressions"] == 0


@pytest.mark.parametrize("region", [None, "nairobi"])
def test_a_listing_shows_cards_best_rated_first_with_room_and_rating(build, region):
    voucher = build.voucher()
    plain = build.provider(name="Plain")
    rated = build.provider(name="Rated")
    rated.rating_sum, rated.rating_count = 9, 2
    db.session.commit()
    listing = bookings.find_providers(voucher.entrepreneur_id, "tailoring", region)
    assert [(c.id, c.rating, c.has_room) for c in listing.providers] == [
        (rated.id, 4.5, True),
        (plain.id, None, True),
    ]
    assert not listing.has_more
