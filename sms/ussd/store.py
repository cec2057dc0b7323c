"""The USSD session store: the session row of each `sessionId` (state shared by every app server),
the impressions a list records with it, the "being answered" mark of a hop that changes something,
and the end of a session.

A hop loads the caller and their session row with one statement (`load`) and stores its reply with
the new state by one compare-and-set statement (`save`): it succeeds only when no other hop of the
session was stored since the row was loaded (the hop count is still `Hop.expected`). The impressions
of a list shown are stored with it, only when it wins. Nothing is locked while screens read.

A screen that changes something runs inside `with writing(hop):`. Its service commits in the
request's database session, and that transaction begins with the hop's mark, written by the same
compare-and-set (the reply left empty, the state as it was): the change and the mark commit
together, or neither does. A repeat of the hop then waits for the stored reply instead of changing
anything again, and a hop overtaken by another one of its session changes nothing (`Overtaken`,
before its screen runs). A mark still without its reply past a short lease (`LEASE_SECONDS`) belongs
to a hop whose worker died after the change committed: a repeat takes the hop over (`take_over`, one
compare-and-set, so only one does). Outside `writing`, screens only read (`screens_only_read`): the
database session refuses to commit.

How a hop uses its connections: it reads through `read_connection()`. On PostgreSQL that is a
connection of the read engine (`reading.lend`): autocommit, so no BEGIN or COMMIT round trips, and a
change sent through it is refused before it runs; the hop's own two statements go straight through
libpq as prepared statements (`marketplace/db/prepared.py`), and the closing one does not wait for
the disk (screen state and impressions; the services' commits do). On SQLite the hop reads through
the database session, and the store opens a transaction of its own with a write (rather than
upgrading the reads', which another writer may make impossible).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa

from marketplace.db import dialect, prepared, reading
from marketplace.db.prepared import Prepared
from marketplace.db.session import commits_allowed, commits_refused
from marketplace.domain.base import utcnow
from marketplace.domain.models import Impression, UssdSession, first_name
from marketplace.extensions import db
from marketplace.queries import mentor as mentor_reads
from marketplace.queries import ussd as reads
from marketplace.queries.mentor import MentorCaller
from marketplace.services import stats_log

from .flow import Caller
from .mentor import HOMES

# A hop's mark written this long ago and its reply still not stored: its worker is taken as dead
# (what is left after the commit, rendering and one store, takes milliseconds).
LEASE_SECONDS = 3.0
# A session cut off mid-menu (the gateway's end-of-session notice, or silence) is offered again
# to the same phone dialling within this time of its start (a session lasts 180 s at most).
RESUME_SECONDS = 8 * 60

State = dict[str, Any]
SESSIONS: sa.Table = UssdSession.__table__  # type: ignore[assignment]
IMPRESSIONS: sa.Table = Impression.__table__  # type: ignore[assignment]


class Overtaken(Exception):
    """Another hop of the session was stored first: start again from the stored row."""


@dataclass
class Hop:
    """One hop, as the statements that store it need it."""

    session_id: str
    phone: str
    text: str
    hops: int  # the session's hop count once this one is stored
    expected: int  # the count the stored row must still have for this hop to be stored
    now: datetime

    @property
    def marked(self) -> bool:
        """Its "being answered" mark is committed (its count is the row's by now)."""
        return self.expected == self.hops

    def params(self, reply: str, state: State) -> dict[str, Any]:
        return {
            "sid": self.session_id,
            "phone": self.phone,
            "state": state,
            "text": self.text,
            "reply": reply,
            "hops": self.hops,
            "expected": self.expected,
            "now": self.now,
        }


class Row(NamedTuple):
    """The caller and their session row as a hop finds them (`phone` None: no row yet; then
    `left_off`: the phone's latest session, when it started lately and was left waiting for an
    input)."""

    caller: Caller
    language: str
    phone: str | None
    state: State | None
    last_text: str
    last_reply: str
    hops: int
    mentor: MentorCaller | None = None  # when the phone is only a mentor's
    left_off: str | None = None


# --------------------------------------------------------------------------- connections


def read_connection() -> sa.Connection:
    """From here the hop only reads until it stores its reply. Whatever a screen left uncommitted
    is dropped; on PostgreSQL the reads (`reading.connection()`) go through the read engine's
    autocommit connection, and a hop that only reads never makes a database session."""
    _end_transaction()
    if dialect.is_postgres():
        return reading.lend()
    return db.session.connection()


def close() -> None:
    """End the hop's use of its connections (no round trip after reads on autocommit)."""
    reading.give_back()
    _end_transaction()


def _end_transaction() -> None:
    """Roll back the request's database session, if a screen made one and left it in a
    transaction."""
    if db.session.registry.has():
        s = db.session()
        if s.in_transaction():
            s.rollback()


# --------------------------------------------------------------------------- load


_EARLIER = SESSIONS.alias("earlier")
# Only for a session not stored yet (an index lookup that its first hops alone make): the phone's
# latest session, if it started lately and its last answer waited for an input on a screen past
# a first one (one left on the entrepreneur's menu, the mentor's or the choice is not offered).
_LEFT_OFF = sa.case(
    (
        SESSIONS.c.session_id.is_(None),
        sa.select(
            sa.case(
                (
                    sa.and_(
                        _EARLIER.c.last_reply.startswith("CON "),
                        _EARLIER.c.state["screen"]
                        .as_string()
                        .not_in([sa.literal_column(f"'{home}'") for home in HOMES]),
                    ),
                    _EARLIER.c.session_id,
                )
            )
        )
        .where(
            _EARLIER.c.phone == sa.bindparam("phone"),
            _EARLIER.c.created_at > sa.bindparam("since", type_=SESSIONS.c.created_at.type),
        )
        .order_by(_EARLIER.c.created_at.desc())
        .limit(1)
        .scalar_subquery(),
    )
)
_LOAD = Prepared(
    reads.CALLER.add_columns(
        SESSIONS.c.phone.label("session_phone"),
        SESSIONS.c.state,
        SESSIONS.c.last_text,
        SESSIONS.c.last_reply,
        SESSIONS.c.hops,
        _LEFT_OFF.label("left_off"),
    ).outerjoin(SESSIONS, SESSIONS.c.session_id == sa.bindparam("sid"))
)


_LOAD_MENTOR = Prepared(
    mentor_reads.MENTOR_CALLER.add_columns(
        SESSIONS.c.phone.label("session_phone"),
        SESSIONS.c.state,
        SESSIONS.c.last_text,
        SESSIONS.c.last_reply,
        SESSIONS.c.hops,
        _LEFT_OFF.label("left_off"),
    ).outerjoin(SESSIONS, SESSIONS.c.session_id == sa.bindparam("sid"))
)


def load(conn: sa.Connection, session_id: str, phone: str, now: datetime) -> Row | None:
    """Who is dialling, in which language, and their session row; None for a phone we do not
    know (and then no row is ever made). An entrepreneur's phone is one statement; a phone that
    is only a mentor's a second one, which reads the mentor's account with the row. Either
    statement also finds, for a session not stored yet, the phone's session left off lately."""
    since = now - timedelta(seconds=RESUME_SECONDS)
    params: dict[str, Any] = {"sid": session_id, "phone": phone, "since": since}
    if dialect.is_postgres():
        params["since"] = prepared.utc(since)
    found = next(iter(_LOAD.rows(conn, params)), None)
    if found is None:
        return _load_mentor(conn, params)
    (person_id, name, language, trade, region, is_mentor, row_phone, state, last_text) = found[:9]
    last_reply, hops, left_off = found[9:12]
    caller = Caller(person_id, first_name(name), trade, region, bool(is_mentor))
    if row_phone is None:
        return Row(caller, language, None, None, "", "", 0, left_off=left_off)
    return Row(caller, language, row_phone, state, last_text, last_reply, hops)


def _load_mentor(conn: sa.Connection, params: dict[str, Any]) -> Row | None:
    found = next(iter(_LOAD_MENTOR.rows(conn, params)), None)
    if found is None:
        return None
    staff_id, provider_id, name, language, row_phone, state, last_text, last_reply = found[:8]
    hops, left_off = found[8:10]
    mentor = MentorCaller(staff_id, provider_id, first_name(name), language)
    caller = Caller(0, mentor.first_name, "", "", is_mentor=True)
    if row_phone is None:
        return Row(caller, language, None, None, "", "", 0, mentor, left_off)
    return Row(caller, language, row_phone, state, last_text, last_reply, hops, mentor)


_STATE_OF = sa.select(SESSIONS.c.state).where(SESSIONS.c.session_id == sa.bindparam("sid"))


def state_of(conn: sa.Connection, session_id: str) -> State | None:
    """The screen state of a session (the one a new session of the phone may take up)."""
    state = conn.execute(_STATE_OF, {"sid": session_id}).scalar()
    return state if isinstance(state, dict) else None


# --------------------------------------------------------------------------- save


def _upsert(database: str, reply: Any, changed: tuple[str, ...]) -> Any:
    """Insert the session row with this hop, or update its `changed` columns when it still has
    the expected hop count: the compare-and-set every stored hop goes through."""
    stmt = dialect.insert(SESSIONS, database).values(
        session_id=sa.bindparam("sid"),
        phone=sa.bindparam("phone"),
        state=sa.bindparam("state", type_=SESSIONS.c.state.type),
        last_text=sa.bindparam("text"),
        last_reply=reply,
        hops=sa.bindparam("hops"),
        created_at=sa.bindparam("now", type_=SESSIONS.c.created_at.type),
        updated_at=sa.bindparam("now", type_=SESSIONS.c.updated_at.type),
    )
    return stmt.on_conflict_do_update(
        index_elements=[SESSIONS.c.session_id],
        set_={name: stmt.excluded[name] for name in changed},
        where=SESSIONS.c.hops == sa.bindparam("expected"),
    )


@lru_cache(maxsize=4)
def _save_statement(database: str, with_impressions: bool = False) -> sa.Executable:
    stored = _upsert(
        database, sa.bindparam("reply"), ("state", "last_text", "last_reply", "hops", "updated_at")
    )
    if database != dialect.POSTGRESQL:
        return stored.returning(SESSIONS.c.hops)
    # The screen state (and the impressions) need not wait for the disk.
    no_wait = sa.func.set_config("synchronous_commit", "off", sa.true()).label("async")
    if not with_impressions:
        return stored.returning(no_wait)
    # One statement: the row, and the impressions of the list shown when the row was stored.
    saved = stored.returning(no_wait).cte("saved")
    shown = sa.insert(IMPRESSIONS).from_select(
        [
            "listing_id",
            "entrepreneur_id",
            "programme_id",
            "provider_id",
            "provider_kind",
            "trade_code",
            "region_code",
            "position",
            "channel",
            "shown_at",
        ],
        sa.select(
            sa.bindparam("listing_id", type_=IMPRESSIONS.c.listing_id.type),
            sa.bindparam("entrepreneur_id", type_=IMPRESSIONS.c.entrepreneur_id.type),
            sa.bindparam("programme_id", type_=IMPRESSIONS.c.programme_id.type),
            _unnest("provider_ids", sa.Integer()),
            _unnest("provider_kinds", sa.String()),
            sa.bindparam("trade_code", type_=IMPRESSIONS.c.trade_code.type),
            sa.bindparam("region_code", type_=IMPRESSIONS.c.region_code.type),
            _unnest("positions", sa.Integer()),
            sa.bindparam("channel", type_=IMPRESSIONS.c.channel.type),
            sa.bindparam("now", type_=IMPRESSIONS.c.shown_at.type),
        ).where(sa.exists(saved.select())),
    )
    # ... and the cells of the funder statistics those impressions move.
    cells = stats_log.people_cells(
        sa.bindparam("programme_id", type_=IMPRESSIONS.c.programme_id.type),
        sa.bindparam("entrepreneur_id", type_=IMPRESSIONS.c.entrepreneur_id.type),
        sa.bindparam("now", type_=IMPRESSIONS.c.shown_at.type),
        database,
    )
    moved = sa.insert(stats_log.CHANGES).from_select(
        stats_log.COLUMNS, cells.where(sa.exists(saved.select()))
    )
    return (
        sa.select(sa.func.count())
        .select_from(saved)
        .add_cte(shown.cte("shown"))
        .add_cte(moved.cte("moved"))
    )


def _unnest(name: str, item: sa.types.TypeEngine[Any]) -> sa.ColumnElement[Any]:
    return sa.func.unnest(sa.bindparam(name, type_=sa.ARRAY(item)))


def _impression_params(shown: list[dict[str, Any]]) -> dict[str, Any]:
    """The impressions of one listing page as the columns the PostgreSQL statement unnests."""
    first = shown[0]
    if any(s["listing_id"] != first["listing_id"] for s in shown):
        raise ValueError("a hop shows one list at most")
    return {
        **{k: first[k] for k in ("listing_id", "entrepreneur_id", "programme_id", "channel")},
        "trade_code": first["trade_code"],
        "region_code": first["region_code"],
        "provider_ids": [s["provider_id"] for s in shown],
        "provider_kinds": [s["provider_kind"] for s in shown],
        "positions": [s["position"] for s in shown],
    }


_PG_SAVE = Prepared(_save_statement(dialect.POSTGRESQL))
_PG_SAVE_SHOWN = Prepared(_save_statement(dialect.POSTGRESQL, with_impressions=True))
_RECORD_IMPRESSIONS = sa.insert(IMPRESSIONS)  # one row per parameter set


def save(hop: Hop, reply: str, state: State, shown: list[dict[str, Any]]) -> bool:
    """Store the reply and the state (and the impressions of a list shown) if no other hop of
    the session was stored since this one loaded the row; end the hop's transaction."""
    params = hop.params(reply, state)
    if dialect.is_postgres():
        conn = read_connection()  # the hop's own autocommit connection: the store commits at once
        params.update(state=prepared.json(state), now=prepared.utc(hop.now))
        if shown:
            found = _PG_SAVE_SHOWN.execute(conn, {**params, **_impression_params(shown)})
            stored = bool(found[0][0])
        else:
            stored = bool(_PG_SAVE.execute(conn, params))
        close()
        return stored
    close()
    s = db.session()
    try:
        stored = s.execute(_save_statement(dialect.name()), params).first() is not None
        if stored:
            if shown:
                s.execute(_RECORD_IMPRESSIONS, shown)
                stats_log.mark_people(
                    s,
                    ((r["programme_id"], r["entrepreneur_id"]) for r in shown if r["programme_id"]),
                    hop.now,
                )
            s.commit()
    finally:
        if s.in_transaction():
            s.rollback()
    return stored


# --------------------------------------------------------------------------- mark


@lru_cache(maxsize=4)
def _mark_statement(database: str) -> sa.Executable:
    # The state stays as the hop found it until the hop stores its own.
    marked = ("last_text", "last_reply", "hops", "updated_at")
    return _upsert(database, sa.literal(""), marked).returning(SESSIONS.c.hops)


@contextmanager
def screens_only_read() -> Iterator[None]:
    """The block runs screens that only read: a commit in it is refused (a screen's mistake, a
    service called where only reads belong), except inside `writing`. (Changes sent through the
    read connection are refused before they run, on PostgreSQL.)"""
    with commits_refused("a USSD screen not declared `writes` tried to commit a change"):
        yield


@contextmanager
def writing(hop: Hop) -> Iterator[None]:
    """The block runs a screen that changes something, through a service that commits in the
    request's database session once, or raises. Its transaction begins with the hop's mark, so
    the mark commits with the change; `Overtaken` (before the block runs) when another hop of the
    session was stored first. Whatever the block leaves uncommitted, an unused mark included, is
    rolled back as it ends, and the hop reads again from there (`read_connection`).

    A service may commit and then refuse (a wrong confirmation code counts, though it is
    refused): the mark committed with the count, and the hop is stored as this hop's own answer,
    never run again as a hop another request left unanswered."""
    close()  # the screen's service opens a transaction of its own
    s = db.session()
    marking = None
    if not hop.marked:
        params = {**hop.params("", {}), "now": utcnow()}  # the lease runs from here
        if s.execute(_mark_statement(dialect.name()), params).first() is None:
            s.rollback()
            raise Overtaken
        marking = s.get_transaction()
    try:
        with commits_allowed():
            yield
    except BaseException:
        if marking is not None and s.get_transaction() is not marking and _mark_stored(hop):
            hop.expected = hop.hops
        raise
    # The transaction the mark began has ended without an error: the service committed it.
    if marking is not None and s.get_transaction() is not marking:
        hop.expected = hop.hops
    read_connection()


_MARK_STORED = sa.select(SESSIONS.c.hops).where(
    SESSIONS.c.session_id == sa.bindparam("sid"),
    SESSIONS.c.hops == sa.bindparam("hops"),
    SESSIONS.c.last_text == sa.bindparam("text"),
    SESSIONS.c.last_reply == "",
)


def _mark_stored(hop: Hop) -> bool:
    """Whether this hop's mark is committed (read after a refusal, whose change may have been
    committed before it was refused)."""
    s = db.session()
    try:
        params = {"sid": hop.session_id, "hops": hop.hops, "text": hop.text}
        return s.execute(_MARK_STORED, params).first() is not None
    finally:
        s.rollback()


# --------------------------------------------------------------------------- take over


_TAKE_OVER = (
    sa.update(SESSIONS)
    .where(
        SESSIONS.c.session_id == sa.bindparam("sid"),
        SESSIONS.c.hops == sa.bindparam("hops"),
        SESSIONS.c.last_text == sa.bindparam("text"),
        SESSIONS.c.last_reply == "",
        SESSIONS.c.updated_at < sa.bindparam("stale_before", type_=SESSIONS.c.updated_at.type),
    )
    .values(hops=SESSIONS.c.hops + 1, updated_at=sa.bindparam("now"))
    .returning(SESSIONS.c.hops)
)


def take_over(session_id: str, text: str, hops: int) -> int | None:
    """Take over a hop marked "being answered" whose lease ran out: the count this request then
    stores it under (one more, so the hop it replaces can no longer store its own), or None while
    the lease holds or when another request took it first."""
    close()
    now = utcnow()
    params = {
        "sid": session_id,
        "hops": hops,
        "text": text,
        "stale_before": now - timedelta(seconds=LEASE_SECONDS),
        "now": now,
    }
    taken = db.session.execute(_TAKE_OVER, params).scalar()
    db.session.commit()
    return taken


# --------------------------------------------------------------------------- end of session


@lru_cache(maxsize=4)
def _end_statement(database: str) -> sa.Executable:
    stmt = dialect.insert(SESSIONS, database).values(
        session_id=sa.bindparam("sid"),
        phone=sa.bindparam("phone"),
        state=sa.bindparam("state", type_=SESSIONS.c.state.type),
        last_text="",
        last_reply="",
        hops=sa.bindparam("hops"),
        created_at=sa.bindparam("now", type_=SESSIONS.c.created_at.type),
        updated_at=sa.bindparam("now", type_=SESSIONS.c.updated_at.type),
        ended_status=sa.bindparam("status"),
        cost=sa.bindparam("cost"),
    )
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[SESSIONS.c.session_id],
        set_={
            "ended_status": new.ended_status,
            "cost": new.cost,
            "hops": sa.case((SESSIONS.c.hops > new.hops, SESSIONS.c.hops), else_=new.hops),
            "updated_at": new.updated_at,
        },
    )


def end(
    session_id: str, phone: str, status: str | None, cost: str | None, hops: int, now: datetime
) -> None:
    """The session ended: its status, cost and hops on the row (made for a session that ended
    before reaching us). Its screen state and the stored answer of its last hop stay: a late
    repeat of that hop gets its answer, and a session cut off mid-menu is offered to the phone's
    next session (`load`'s `left_off`)."""
    params = {
        "sid": session_id,
        "phone": phone,
        "state": {},
        "hops": hops,
        "now": now,
        "status": status,
        "cost": cost,
    }
    s = db.session()
    try:
        s.execute(_end_statement(dialect.name()), params)
        s.commit()
    except BaseException:
        s.rollback()
        raise
