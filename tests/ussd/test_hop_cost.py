"""What a hop costs the database: a read and a compare-and-set store, plus what its screen reads; no
transaction at all on PostgreSQL (autocommit); and what a list page records, with the hop's store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.db import reading
from marketplace.db.prepared import Prepared
from marketplace.domain.models import Booking, Entrepreneur, Impression
from marketplace.extensions import db
from marketplace.services import bookings, entrepreneurs, providers
from sms.ussd import engine, store

from .conftest import counts


@dataclass
class Seen:
    statements: list[str] = field(default_factory=list)
    commits: int = 0
    modes: set[str] = field(default_factory=set)  # isolation levels the statements ran under


@contextmanager
def watching() -> Iterator[Seen]:
    """The SQL statements and commits the app sends while the block runs."""
    seen = Seen()

    def statement(conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.statements.append(" ".join(sql.split())[:60])
        autocommit = getattr(conn.connection.dbapi_connection, "autocommit", False) is True
        seen.modes.add("AUTOCOMMIT" if autocommit else "transaction")

    def commit(_conn: Any) -> None:
        seen.commits += 1

    def prepared(self: Prepared, conn: sa.Connection, params: Any, **named: Any) -> Any:
        statement(conn, None, str(self.statement))  # sent past SQLAlchemy's events
        return real(self, conn, params, **named)

    real = Prepared.execute
    # Every engine: the hop's reads go through the read engine (reading.engine).
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", statement)
    sa.event.listen(sa.engine.Engine, "commit", commit)
    Prepared.execute = prepared  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Prepared.execute = real  # type: ignore[method-assign]
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", statement)
        sa.event.remove(sa.engine.Engine, "commit", commit)


def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def test_a_menu_hop_is_two_statements_and_no_transaction_on_postgresql(build, dialer, phone_of):
    phone = dialer(phone_of(build.voucher()))
    phone.dial()
    phone.press("1")  # my vouchers: read from the database, so the session is stored from here
    assert phone.press("0").startswith("Ujuzi: hello")
    with watching() as seen:
        assert phone.press("2").startswith("Mentors for which trade?")
    # who is dialling with their session row; the reply stored
    assert len(seen.statements) == 2, seen.statements
    if _postgres():
        assert (seen.commits, seen.modes) == (0, {"AUTOCOMMIT"})
    else:
        assert seen.commits == 1


def test_the_opening_menu_is_one_read_and_the_next_hop_starts_from_it(build, dialer, phone_of):
    phone = dialer(phone_of(build.voucher()))
    with watching() as seen:
        assert phone.dial().startswith("Ujuzi: hello")
        assert phone.repeat().startswith("Ujuzi: hello")  # the gateway sent it twice
    assert len(seen.statements) == 2, seen.statements  # who is dialling, once per request
    assert counts()["sessions"] == 0
    assert phone.press("1").startswith("Voucher")
    assert phone.press("0").startswith("Ujuzi: hello")
    assert counts()["sessions"] == 1


def test_static_menus_are_one_read_and_the_list_replays_them_from_the_text(build, dialer, phone_of):
    voucher = build.voucher()
    build.provider(name="Fundi Moja")
    phone = dialer(phone_of(voucher))
    phone.dial()
    with watching() as seen:
        assert phone.press("2").startswith("Mentors for which trade?")
        assert phone.repeat().startswith("Mentors for which trade?")  # sent twice: the same
        assert phone.press("1").startswith("Mentors in which area?")
    assert len(seen.statements) == 3, seen.statements  # who is dialling, once per request
    assert counts()["sessions"] == 0
    assert "1 Fundi Moja" in phone.press("1")  # the list: the whole text replayed, then stored
    assert counts()["sessions"] == 1
    # The way back is the one the person took, rebuilt by the replay.
    assert phone.press("0").startswith("Mentors in which area?")
    assert phone.press("0").startswith("Mentors for which trade?")
    assert phone.press("0").startswith("Ujuzi: hello")


def test_a_list_page_records_its_impressions_with_the_store_of_the_hop(build, dialer, phone_of):
    voucher = build.voucher()
    for n in range(4):
        build.provider(name=f"Fundi {n}")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1")
    with watching() as seen:
        assert "1 Fundi 0," in phone.press("1")
    # the caller and session; the page; the reply stored with the impressions and the cells of
    # the statistics they move (one statement on PostgreSQL, three in one transaction on SQLite)
    assert len(seen.statements) == (3 if _postgres() else 5), seen.statements
    assert seen.commits == (0 if _postgres() else 1)
    shown = db.session.scalars(sa.select(Impression).order_by(Impression.position)).all()
    assert [i.position for i in shown] == [0, 1, 2]
    assert {i.programme_id for i in shown} == {voucher.programme_id}
    assert len({i.listing_id for i in shown}) == 1

    with watching() as seen:
        assert "1 Fundi 3" in phone.press("9")
    assert counts()["impressions"] == 4
    assert db.session.scalar(sa.select(sa.func.max(Impression.position))) == 3


def test_a_list_page_whose_store_loses_records_no_impressions(build, dialer, phone_of):
    voucher = build.voucher()
    for n in range(4):
        build.provider(name=f"Fundi {n}")
    phone = dialer(phone_of(voucher))
    phone.dial("1*0*2*1")  # through my vouchers, so that the session row exists
    real = store.load

    def overtaken(s: Any, session_id: str, phone_number: str) -> Any:
        row = real(s, session_id, phone_number)
        if row is not None and row.hops:  # another hop of the session is stored meanwhile
            db.session.execute(
                sa.update(store.SESSIONS)
                .where(store.SESSIONS.c.session_id == session_id)
                .values(hops=store.SESSIONS.c.hops + 1, last_text="2*1*9")
            )
            db.session.commit()
        return row

    store.load = overtaken  # type: ignore[assignment]
    try:
        body = phone.press("1")
    finally:
        store.load = real  # type: ignore[assignment]
    assert body.startswith("Sorry, the service is busy."), body
    assert counts()["impressions"] == 0


def test_a_booking_whose_answer_was_lost_is_not_made_again_when_the_hop_is_repeated(
    build, dialer, phone_of, monkeypatch
):
    voucher = build.voucher()
    build.provider(name="Mama Zawadi Tailors")
    phone = dialer(phone_of(voucher))
    phone.dial("2*1*1*1*1")

    def lost(*_args: Any) -> None:
        raise RuntimeError("the connection dropped before the answer was stored")

    monkeypatch.setattr(store, "save", lost)
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
    listing = bookings.find_providers(voucher.entrepreneur_id, "tailoring", None, record=False)
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


def _through_the_session(entrepreneur_id: int) -> None:
    entrepreneurs.set_language(entrepreneur_id, "sw")  # commits


def _through_its_reads(entrepreneur_id: int) -> None:
    reading.connection().execute(
        sa.update(Entrepreneur).where(Entrepreneur.id == entrepreneur_id).values(language="sw")
    )


@pytest.mark.parametrize("change", [_through_the_session, _through_its_reads])
def test_a_screen_not_declared_writing_cannot_change_anything(
    build, dialer, phone_of, monkeypatch, change
):
    voucher = build.voucher()
    build.provider(name="Fundi")
    person = voucher.entrepreneur
    phone = dialer(phone_of(voucher))
    phone.dial("2*1")
    real = bookings.find_providers

    def changes_something(entrepreneur_id: int, *args: Any, **kwargs: Any) -> Any:
        change(entrepreneur_id)
        return real(entrepreneur_id, *args, **kwargs)

    monkeypatch.setattr(bookings, "find_providers", changes_something)
    reply = phone.press("1")
    # Refused at commit through the session; through the reads, before the statement runs on
    # PostgreSQL (the read connection commits every statement at once), while on SQLite the change
    # stays uncommitted and is dropped.
    refused = change is _through_the_session or _postgres()
    assert reply.startswith("Sorry, the service is busy.") == refused
    db.session.expire_all()
    assert db.session.get(Entrepreneur, person.id).language == "en"
    assert counts()["impressions"] == (0 if refused else 1)


def test_the_read_engine_plans_its_prepared_statements_once(build):
    if not _postgres():
        pytest.skip("the read engine is PostgreSQL's")
    with reading.engine().connect() as conn:
        assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_generic_plan"
    with db.engine.connect() as conn:  # the rest of the app keeps PostgreSQL's choice
        assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "auto"


def test_the_read_engine_refuses_changes_outside_a_hop(build):
    if not _postgres():
        pytest.skip("the read engine is PostgreSQL's")
    person = build.voucher().entrepreneur
    db.session.commit()
    with reading.engine().connect() as conn:
        with pytest.raises(reading.WriteRefused):
            conn.execute(
                sa.text("UPDATE entrepreneurs SET language = 'sw' WHERE id = :id"),
                {"id": person.id},
            )
        assert (
            conn.scalar(sa.select(Entrepreneur.language).where(Entrepreneur.id == person.id))
            == "en"
        )


def test_prepared_rows_of_both_kinds_take_turns_on_one_connection(build):
    if not _postgres():
        pytest.skip("prepared statements are PostgreSQL's")
    with reading.engine().connect() as conn:
        # A result whose columns cannot be attribute names ("async"), then named rows, then again.
        for _ in range(2):
            assert Prepared(sa.select(sa.literal(1).label("async"))).execute(conn, {}) == [(1,)]
            assert Prepared(sa.select(sa.literal(2).label("n"))).rows(conn, {})[0].n == 2


def test_prepared_statements_outlive_a_rollback_and_are_prepared_again_when_deallocated(build):
    if not _postgres():
        pytest.skip("prepared statements are PostgreSQL's")
    answer = Prepared(
        sa.select(sa.bindparam("n", type_=sa.Integer()).label("n"), sa.literal("50%").label("pct"))
    )
    build.voucher()
    db.session.commit()
    with reading.engine().connect() as conn:
        assert answer.execute(conn, {"n": 1}) == [(1, "50%")]
        # Rollbacks through the same connection leave it prepared (psycopg prepares nothing of
        # its own, so never deallocates everything after a rollback).
        for _ in range(6):
            conn.exec_driver_sql("SELECT count(*) FROM vouchers")
        conn.connection.driver_connection.execute("BEGIN")
        conn.connection.driver_connection.execute("ROLLBACK")
        assert answer.rows(conn, {"n": 2})[0].n == 2
        conn.exec_driver_sql("DEALLOCATE ALL")  # as a pooler may do between clients
        assert answer.execute(conn, {"n": 3}) == [(3, "50%")]
    # Inside a transaction the failure spoils it: raised, and prepared again on the next run.
    conn = db.session.connection()
    answer.execute(conn, {"n": 4})
    conn.exec_driver_sql("DEALLOCATE ALL")
    with pytest.raises(sa.exc.ProgrammingError):
        answer.execute(conn, {"n": 5})
    db.session.rollback()
    assert answer.execute(db.session.connection(), {"n": 6}) == [(6, "50%")]
    db.session.rollback()


def test_prepared_statements_raise_database_errors_as_sqlalchemy_does(build):
    if not _postgres():
        pytest.skip("prepared statements are PostgreSQL's")
    one = Prepared(sa.select((sa.bindparam("n", type_=sa.Integer()) / 0).label("x")))
    with reading.engine().connect() as conn:
        with pytest.raises(sa.exc.DataError, match="division by zero"):
            one.execute(conn, {"n": 1})
        assert Prepared(sa.select(sa.literal(7).label("x"))).execute(conn, {}) == [(7,)]


# --------------------------------------------------------------------------- the kept connection


def _backend(conn: sa.Connection) -> int:
    return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _loan(app: Any) -> int:
    """Lend this thread a read connection for one request, as a hop does; its backend's pid."""
    with app.test_request_context("/"):
        try:
            return _backend(reading.lend())
        finally:
            reading.give_back()


def test_a_thread_keeps_its_read_connection_from_one_request_to_the_next(app):
    if not _postgres():
        pytest.skip("the read engine is PostgreSQL's")
    pool = reading.engine().pool
    first = _loan(app)
    assert _loan(app) == first  # no checkout and checkin between the two
    assert pool.checkedout() == 1  # kept by this thread, not returned


def test_a_kept_connection_goes_back_to_the_pool_when_its_thread_ends(app):
    if not _postgres():
        pytest.skip("the read engine is PostgreSQL's")
    reading.dispose_engines()  # this thread keeps none either
    pool = reading.engine().pool
    pids: list[int] = []
    worker = threading.Thread(target=lambda: pids.extend([_loan(app), _loan(app)]))
    worker.start()
    worker.join()
    assert pids[0] == pids[1]
    assert pool.checkedout() == 0
    assert _loan(app) == pids[0]  # the pool's idle connection, now this thread's


def test_threads_keep_no_more_connections_than_the_pool_holds(app):
    if not _postgres():
        pytest.skip("the read engine is PostgreSQL's")
    reading.dispose_engines()
    pool = reading.engine().pool
    assert isinstance(pool, sa.pool.QueuePool)
    threads = pool.size() + 3
    # The threads and this one meet at each step: all lent, counted, all given back, counted.
    steps = [threading.Barrier(threads + 1, timeout=30) for _ in range(4)]

    def hop() -> None:
        with app.test_request_context("/"):
            reading.lend()
            steps[0].wait()  # every thread holds one at once: the overflow is in use
            steps[1].wait()
            reading.give_back()
        steps[2].wait()
        steps[3].wait()  # still alive, keeping what it kept

    workers = [threading.Thread(target=hop) for _ in range(threads)]
    for w in workers:
        w.start()
    counted = []
    try:
        for step in steps:
            step.wait()
            counted.append(pool.checkedout())
    except BaseException:
        for step in steps:
            step.abort()  # the threads stop at once
        raise
    finally:
        for w in workers:
            w.join()
    assert counted[0] == threads
    assert counted[2] == pool.size()  # the overflow went back; the rest are kept
    assert pool.checkedout() == 0  # the threads ended: what they kept is back in the pool


def test_a_kept_connection_found_broken_is_replaced_and_the_hop_answered(
    app, build, dialer, phone_of
):
    if not _postgres():
        pytest.skip("the read engine is PostgreSQL's")
    kept = _loan(app)
    with db.engine.connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": kept})
    phone = dialer(phone_of(build.voucher()))
    assert phone.dial("1").startswith("Voucher ")  # answered again on a fresh connection
    assert _loan(app) != kept


def test_after_the_pools_are_disposed_no_thread_reuses_its_kept_connection(app):
    if not _postgres():
        pytest.skip("the read engine is PostgreSQL's")
    kept = _loan(app)
    pids: list[int] = []
    ready, disposed = threading.Barrier(2), threading.Barrier(2)

    def other_thread() -> None:
        pids.append(_loan(app))
        ready.wait()
        disposed.wait()
        pids.append(_loan(app))

    worker = threading.Thread(target=other_thread)
    worker.start()
    ready.wait()
    reading.dispose_engines()  # (as after the database restarted)
    disposed.wait()
    worker.join()
    assert pids[1] != pids[0]
    assert _loan(app) not in (kept, pids[0])


def test_a_mentor_hop_is_the_two_loads_its_screens_read_and_the_store(build, dialer):
    provider = build.provider()
    for name in ("Amina Wanjiru", "Baraka Otieno"):
        build.booking(build.voucher(name=name), provider)
    phone = dialer(provider.phone)
    phone.dial("1")  # the trainees: read from the database, so the session is stored from here
    assert phone.press("0").startswith("Ujuzi mentor: hello")
    with watching() as seen:
        assert phone.press("1").startswith("Trainees")
    # no trainee of that number, the mentor with their session row, the trainees, the reply stored
    assert len(seen.statements) == 4, seen.statements
    with watching() as seen:
        assert phone.press("00").startswith("Ujuzi mentor: hello")
    assert len(seen.statements) == 3, seen.statements  # the menu reads nothing more
    if _postgres():
        assert (seen.commits, seen.modes) == (0, {"AUTOCOMMIT"})


def test_a_phone_that_is_both_pays_one_read_for_the_mentors_account(build, dialer):
    voucher = build.voucher(name="Juma Mwangi")
    provider = build.provider()
    build.booking(build.voucher(name="Amina Wanjiru"), provider)
    providers.add_staff(provider.id, "Juma Mwangi", voucher.entrepreneur.phone, "test")
    phone = dialer(voucher.entrepreneur.phone)
    phone.dial("2*1")  # the mentor menu, then the trainees
    with watching() as seen:
        assert phone.press("0").startswith("Ujuzi mentor: hello")
    # who is dialling with the row (and that the phone is a mentor's), the mentor, the store
    assert len(seen.statements) == 3, seen.statements
    with watching() as seen:
        phone.dial()
        assert phone.press("1").startswith("Ujuzi: hello Juma")  # as a trainee: no mentor read
    assert len(seen.statements) == 2, seen.statements  # who is dialling, once per request
