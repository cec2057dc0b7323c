"""The USSD engine: one hop in, one `CON `/`END ` body out, always.

A hop reads the caller and the session row (state per `sessionId`, shared by every app server) with
one statement, takes the new input(s) from what `text` adds to the previous hop's text, runs them
through the screen registry (`0` back and `00` home on menu screens), and stores the reply with the
new state by one compare-and-set statement: it succeeds only when no other hop of the session was
stored meanwhile. A hop that loses starts again from the stored row, where a repeat of the same hop
finds the winner's answer and a later hop the state it needs; an earlier hop delivered late (its
text a prefix of the stored one) gets the latest answer and changes nothing. Nothing is locked while
screens read.

Screens that change something (`writes`: book, cancel, answer, rate, language, a code) run their
service in a transaction, and the first commit there also writes the hop's "being answered" mark,
by the same compare-and-set: a repeated hop then waits for the stored reply, or finds the change was
never made. Nothing happens twice. A mark still without its reply past a short lease
(`LEASE_SECONDS` from the commit) belongs to a hop whose worker died after the change committed: a
repeat takes the hop over (one compare-and-set, so only one does) and answers it again from the
committed state, where the service refuses to do twice what was done and says so.

Every other hop only reads until its closing statement, which also records the impressions of a
list shown (only when it wins). On PostgreSQL those hops read through a connection of the read
engine (`reading.lend`), not the ORM session: autocommit, so no BEGIN or COMMIT round trips and no transaction to set up; the hop's own two statements go straight
through psycopg as prepared statements, and the closing one does not wait for the disk (screen
state and impressions; the services' commits do). A screen not declared `writes` that tries to
change something is refused: through its reads before the statement runs (PostgreSQL), through the
session at commit. A new session is not stored while it only passes through static screens (the
opening menu, choosing a trade and an area: `Screen.static`): the next hop, finding no row, replays
its whole text from the opening menu, as shortcut dialling does.

Domain errors become a translated `END`; a connection the database closed is replaced before the
hop uses it (`reading`), and a hop that meets one that died without a word is answered again on a
fresh one; anything else unexpected is logged and answered with a polite `END`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import g, has_app_context
from psycopg.types.json import Jsonb
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from marketplace.domain.base import utcnow
from marketplace.domain.errors import DomainError
from marketplace.domain.models import Impression, UssdSession, first_name
from marketplace.domain.phones import try_normalise
from marketplace.extensions import db
from marketplace.messages.gsm import gsm7_length
from marketplace.messages.ussd import error_key, t
from marketplace.services import bookings, reading, settings, unit
from marketplace.services.prepared import Prepared

from . import reads
from .flow import SCREEN_LIMIT, Caller, Ctx, End, Go, Outcome, Reply, Retry
from .screens import HOME, SCREENS, render_end

log = logging.getLogger(__name__)

STACK_LIMIT = 20
ATTEMPTS = 3  # hops of the same session stored first, before this one gives up
REPLAY_WAIT_SECONDS = 3.0
REPLAY_POLL_SECONDS = 0.05
# A hop's change committed this long ago and its reply still not stored: its worker is taken as
# dead (what is left after the commit, rendering and one store, takes milliseconds).
LEASE_SECONDS = REPLAY_WAIT_SECONDS

State = dict[str, Any]
SESSIONS: sa.Table = UssdSession.__table__  # type: ignore[assignment]
IMPRESSIONS: sa.Table = Impression.__table__  # type: ignore[assignment]
_HOP = "_ussd_hop"  # name in `flask.g` of the hop being answered
FAILED_HOP = "_ussd_hop_failed"  # set in `flask.g` when a hop met an unexpected error


class ReadOnlyScreen(reading.WriteRefused):
    """A screen not declared `writes` tried to commit a change."""


class _Overtaken(Exception):
    """Another hop of the session was stored first: start again from the stored row."""


def polite_end(language: str | None = None) -> str:
    """The answer when something went wrong that the person cannot fix (both languages)."""
    return Reply(t("polite_end", language or "en"), end=True).body


def answer_hop(hop: dict[str, Any]) -> str:
    """The body for one validated hop (`sessionId`, `serviceCode`, `phoneNumber` E.164, `text`)."""
    try:
        try:
            return _answer(hop)
        except sa.exc.DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # The database restarted since this connection was last used; nothing was stored.
            log.warning("USSD hop met a dead database connection: answered on a new one")
            _close()
            return _answer(hop)
    except Exception:
        log.exception("USSD hop failed (session %s)", hop.get("sessionId"))
        g.setdefault(FAILED_HOP, True)  # for the hop's metrics
        body = polite_end(None)
        _remember_failure(hop, body)
        return body
    finally:
        g.pop(_HOP, None)
        _close()


@dataclass
class _Hop:
    """This hop, as the statements that store it need it."""

    session_id: str
    phone: str
    text: str
    hops: int  # the session's hop count once this one is stored
    expected: int  # the count the stored row must still have for this hop to be stored
    now: datetime
    reading: bool = True  # no screen that changes something is running

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


def _answer(hop: dict[str, Any]) -> str:
    now = utcnow()
    session_id, phone = str(hop["sessionId"]), str(hop["phoneNumber"])
    text = str(hop.get("text") or "")
    if not _service_code_ok(str(hop.get("serviceCode", ""))):
        log.warning("USSD hop for an unknown service code %r", hop.get("serviceCode"))
        return Reply(t("wrong_service", "en"), end=True).body
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    overtaken = 0
    waited = False
    # Every return below leaves the connections to `answer_hop`'s `finally`.
    while True:
        row = _load(_reading(), session_id, phone)
        if row is None:
            return Reply(t("unknown_phone", "en"), end=True).body
        if row.phone not in (None, phone):
            log.warning("USSD session %s reused by another phone", session_id)
            return polite_end(None)
        again: _Hop | None = None  # this hop, taken over from a request that died
        if row.hops and row.last_text == text:
            if row.last_reply:
                return row.last_reply  # the same hop again: the same answer, nothing done twice
            # The same hop is being answered by another request, whose change is committed (the
            # mark commits with it): wait for its reply, unless its lease ran out (looked at when
            # met and once more when the wait ends).
            late = time.monotonic() > deadline
            if not waited or late:
                taken = _take_over(session_id, text, row.hops)
                if taken is not None:
                    log.warning("USSD session %s: a hop left unanswered taken over", session_id)
                    again = _Hop(session_id, phone, text, taken, taken, now)
                    row = _before(row, text)
                elif late:
                    return polite_end(None)
            if again is None:
                waited = True
                _close()  # no connection held while waiting
                time.sleep(REPLAY_POLL_SECONDS)
                continue
        elif row.hops and (text == "" or row.last_text.startswith(text + "*")):
            # An earlier hop, delivered again after later ones were answered: the phone has moved
            # on, and nothing is done again. It gets the session's latest answer.
            log.info("USSD session %s: an earlier hop delivered late", session_id)
            return row.last_reply or polite_end(row.language)
        try:
            return _try(again or _Hop(session_id, phone, text, row.hops + 1, row.hops, now), row)
        except _Overtaken:
            overtaken += 1
            if overtaken >= ATTEMPTS:
                log.warning("USSD session %s: overtaken %d times", session_id, overtaken)
                return polite_end(row.language)


def _try(hop: _Hop, row: _Row) -> str:
    """Answer the hop from the row as loaded; `_Overtaken` when another hop was stored first."""
    fresh = row.hops == 0 or not row.state or bool(row.state.get("ended"))
    inputs = _new_inputs(row.last_text, hop.text, row.hops == 0)
    # The state came from this hop's own read of the row: it is ours to change in place.
    state: State = _fresh_state() if fresh or not row.state else row.state
    ctx = Ctx(row.caller, row.language, hop.now)
    setattr(g, _HOP, hop)
    try:
        reply, static = _run(ctx, state, inputs, fresh, hop)
    except _Overtaken:
        g.pop(_HOP, None)
        _close()
        raise
    except DomainError as exc:
        _reading()  # what the refused change did is rolled back
        log.info("USSD hop refused: %s", exc.code)
        reply, static = Reply(t(error_key(exc.code), ctx.lang), end=True), False
        state["ended"] = True
        ctx.impressions.clear()
    if row.phone is None and static and not ctx.impressions and not reply.end:
        # A new session that has only passed through static screens (the opening menu, choosing
        # a trade and an area) follows from the caller and `text` alone: it is not stored. The
        # next hop finds no row and replays the whole text from the opening menu, as shortcut
        # dialling does; a repeat of this hop gets the same screen again.
        return reply.body
    if not _store(hop, reply.body, state, ctx.impressions):
        raise _Overtaken
    return reply.body


# --------------------------------------------------------------------------- connection modes


def _dialect() -> str:
    return db.engine.dialect.name


def _reading() -> sa.Connection:
    """From here the hop only reads until it stores its reply. Whatever a screen that changes
    something left uncommitted is dropped; on PostgreSQL the reads (`reading.connection()`) go through
    the read engine's autocommit connection (one round trip per statement, none to begin or end
    a transaction), and a hop that only reads never makes a database session."""
    hop: _Hop | None = g.get(_HOP)
    if hop is not None:
        hop.reading = True
    _end_session()
    if _dialect() == "postgresql":
        return reading.lend()
    return db.session.connection()


def _writing(hop: _Hop) -> None:
    """A screen that changes something runs next: its service opens a transaction of its own."""
    _close()
    hop.reading = False


def _close() -> None:
    """End the hop's use of its connections (no round trip after reads on autocommit)."""
    reading.give_back()
    _end_session()


def _end_session() -> None:
    """Roll back the request's database session, if a screen made one and left it in a
    transaction."""
    if db.session.registry.has():
        s = db.session()
        if s.in_transaction():
            s.rollback()


# --------------------------------------------------------------------------- the session row


@lru_cache(maxsize=8)
def _service_codes(configured: str) -> frozenset[str]:
    return frozenset(c.replace(" ", "") for c in configured.split(",") if c.strip())


def _service_code_ok(code: str) -> bool:
    configured = str(settings.get("USSD_SERVICE_CODE", "") or "")
    return code.replace(" ", "") in _service_codes(configured)


class _Row(NamedTuple):
    """The caller and their session row as a hop finds them (`phone` None: no row yet)."""

    caller: Caller
    language: str
    phone: str | None
    state: State | None
    last_text: str
    last_reply: str
    hops: int


_LOAD = reads.CALLER.add_columns(
    SESSIONS.c.phone.label("session_phone"),
    SESSIONS.c.state,
    SESSIONS.c.last_text,
    SESSIONS.c.last_reply,
    SESSIONS.c.hops,
).outerjoin(SESSIONS, SESSIONS.c.session_id == sa.bindparam("sid"))


_PG_LOAD = Prepared(_LOAD)


def _load(conn: sa.Connection, session_id: str, phone: str) -> _Row | None:
    """Who is dialling, in which language, and their session row; None for a phone we do not
    know (and then no row is ever made)."""
    params = {"sid": session_id, "phone": phone}
    if conn.dialect.name == "postgresql":
        found = next(iter(_PG_LOAD.execute(conn, params)), None)
    else:
        found = conn.execute(_LOAD, params).first()
    if found is None:
        return None
    person_id, name, language, trade, region, row_phone, state, last_text, last_reply, hops = found
    caller = Caller(person_id, first_name(name), trade, region)
    if row_phone is None:
        return _Row(caller, language, None, None, "", "", 0)
    return _Row(caller, language, row_phone, state, last_text, last_reply, hops)


def _upsert(dialect: str, reply: Any, changed: tuple[str, ...]) -> Any:
    """Insert the session row with this hop, or update its `changed` columns when it still has
    the expected hop count: the compare-and-set every stored hop goes through."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(SESSIONS).values(
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
def _store_statement(dialect: str, with_impressions: bool = False) -> sa.Executable:
    stored = _upsert(
        dialect, sa.bindparam("reply"), ("state", "last_text", "last_reply", "hops", "updated_at")
    )
    if dialect != "postgresql":
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
    return sa.select(sa.func.count()).select_from(saved).add_cte(shown.cte("shown"))


def _unnest(name: str, item: sa.types.TypeEngine[Any]) -> sa.ColumnElement[Any]:
    return sa.func.unnest(sa.bindparam(name, type_=postgresql.ARRAY(item)))


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


_PG_STORE = Prepared(_store_statement("postgresql"))
_PG_STORE_SHOWN = Prepared(_store_statement("postgresql", with_impressions=True))


def _store(hop: _Hop, reply: str, state: State, shown: list[dict[str, Any]]) -> bool:
    """Store the reply and the state (and the impressions of a list shown) if no other hop of
    the session was stored since this one read the row; end the hop's transaction."""
    g.pop(_HOP, None)  # the reply replaces the mark
    params = hop.params(reply, state)
    if _dialect() == "postgresql":
        conn = _reading()  # the hop's own autocommit connection: the store commits at once
        # As psycopg takes them: the state as JSONB, the time as naive UTC (see UTCDateTime).
        params.update(state=Jsonb(state), now=hop.now.astimezone(UTC).replace(tzinfo=None))
        if shown:
            found = _PG_STORE_SHOWN.execute(conn, {**params, **_impression_params(shown)})
            stored = bool(found[0][0])
        else:
            stored = bool(_PG_STORE.execute(conn, params))
        _close()
        return stored
    # SQLite: the store opens its own transaction with a write, rather than upgrading the reads'
    # (which another writer may make impossible); the compare-and-set keeps it right.
    _close()
    stored = db.session.execute(_store_statement("sqlite"), params).first() is not None
    if stored:
        bookings.record_impressions(shown)
        unit.commit()
    else:
        _close()
    return stored


@lru_cache(maxsize=4)
def _mark_statement(dialect: str) -> sa.Executable:
    # The state stays as the hop found it until the hop stores its own.
    marked = ("last_text", "last_reply", "hops", "updated_at")
    return _upsert(dialect, sa.literal(""), marked).returning(SESSIONS.c.hops)


@sa.event.listens_for(Session, "before_commit")
def _mark_before_a_change(session: Session) -> None:
    """A service committing in the middle of a hop commits the hop's mark with its change, if no
    other hop of the session was stored first (else nothing is committed)."""
    hop: _Hop | None = g.get(_HOP) if has_app_context() else None
    if hop is None:
        return
    if hop.reading:
        raise ReadOnlyScreen("a USSD screen not declared `writes` tried to commit a change")
    if hop.expected == hop.hops:
        return  # marked by an earlier commit of this hop
    params = {**hop.params("", {}), "now": utcnow()}  # the lease runs from the commit
    found = session.connection().execute(_mark_statement(_dialect()), params).first()
    if found is None:
        raise _Overtaken
    hop.expected = hop.hops


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


def _take_over(session_id: str, text: str, hops: int) -> int | None:
    """Take over a hop marked "being answered" whose lease ran out: the count this request then
    stores it under (one more, so the hop it replaces can no longer store its own), or None while
    the lease holds or when another request took it first."""
    _close()
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


def _before(row: _Row, text: str) -> _Row:
    """The row as the hop taken over found it: the mark kept its state and replaced only its
    text. A hop that made the row (no state) started the session; any other took one input, a
    choice with no '*' (the screens that change something are menus)."""
    if not row.state:
        return row._replace(hops=0, last_text="")
    return row._replace(last_text=text.rpartition("*")[0])


def _remember_failure(hop: dict[str, Any], body: str) -> None:
    """After an unexpected failure, make a repeat of this hop get the same polite answer."""
    try:
        g.pop(_HOP, None)
        session_id, text = str(hop.get("sessionId", "")), str(hop.get("text") or "")
        phone = str(hop.get("phoneNumber", ""))
        row = _load(_reading(), session_id, phone)  # answer_hop's `finally` lets go of it
        if row is None or row.phone not in (None, phone):
            return
        if row.hops and row.last_text == text and row.last_reply:
            return  # answered meanwhile
        # A mark this hop committed (same text) keeps its count; otherwise the hop is counted.
        hops = row.hops if row.hops and row.last_text == text else row.hops + 1
        failed = _Hop(session_id, phone, text, hops, row.hops, utcnow())
        _store(failed, body, {**(row.state or {}), "ended": True}, [])
    except Exception:
        log.exception("could not store the answer of a failed USSD hop")
        db.session.rollback()


# --------------------------------------------------------------------------- input and screens


def _new_inputs(previous: str, text: str, first: bool) -> list[str]:
    """What this hop adds. The first hop may carry several (shortcut dialling `*384*1234*3*1#`)."""
    if first:
        # (Also the second hop of a session whose opening menu was not stored.) Text made only of
        # separators is one input that fits no screen, not none.
        return [part for part in text.split("*") if part != ""] or ([text] if text else [])
    if previous == "":
        return [text]
    if text.startswith(previous + "*"):
        return [text[len(previous) + 1 :]]
    return [text.rsplit("*", 1)[-1]]  # the gateway did not accumulate: take the last segment


def _fresh_state() -> State:
    return {"screen": HOME, "data": {}, "params": {}, "stack": []}


def _enter(ctx: Ctx, state: State, screen_id: str, data: dict[str, Any]) -> None:
    data = dict(data)
    params = SCREENS[screen_id].load(ctx, data)  # may complete `data` (a list's listing id)
    state.update(screen=screen_id, data=data, params=params)


def _step(ctx: Ctx, state: State, entry: str, hop: _Hop) -> Outcome:
    screen = SCREENS[state["screen"]]
    key = entry.strip()
    if screen.nav and key == "00":
        state["stack"] = []
        _enter(ctx, state, HOME, {})
        return Go(HOME)
    if screen.nav and key == "0":
        stack: list[dict[str, Any]] = state["stack"]
        back: dict[str, Any] = stack.pop() if stack else {"screen": HOME, "data": {}}
        _enter(ctx, state, back["screen"], back["data"])
        return Go(back["screen"])
    if screen.writes:
        _writing(hop)
        outcome = screen.handle(ctx, state["data"], state["params"], entry)
        _reading()
    else:
        outcome = screen.handle(ctx, state["data"], state["params"], entry)
    if isinstance(outcome, Go):
        if outcome.screen not in screen.targets:
            raise LookupError(f"screen {screen.id} may not go to {outcome.screen}")
        if outcome.reset:
            state["stack"] = []
        elif outcome.push:
            here = {"screen": screen.id, "data": state["data"]}
            state["stack"] = [*state["stack"], here][-STACK_LIMIT:]
        _enter(ctx, state, outcome.screen, outcome.data)
    return outcome


def _run(ctx: Ctx, state: State, inputs: list[str], fresh: bool, hop: _Hop) -> tuple[Reply, bool]:
    """The reply, and whether it is `static`: the hop started on a static screen and each of its
    inputs was a plain choice there that led to another one (no notice, nothing changed)."""
    if fresh:
        _enter(ctx, state, HOME, {})
    static = SCREENS[state["screen"]].static
    notice: str | None = None
    for entry in inputs:
        handler = SCREENS[state["screen"]]
        outcome = _step(ctx, state, entry, hop)
        if isinstance(outcome, End):
            state["ended"] = True
            return Reply(render_end(outcome.key, ctx.lang, outcome.params), end=True), False
        notice = outcome.notice
        static = (
            static
            and isinstance(outcome, Go)
            and notice is None
            and not handler.writes
            and SCREENS[state["screen"]].static
        )
        if isinstance(outcome, Retry):
            break  # the rest of a shortcut cannot apply to a screen it did not reach
    screen = SCREENS[state["screen"]]
    body = screen.view(ctx.lang, state["params"])
    if notice:
        body = _with_notice(t(notice, ctx.lang), body)
    if gsm7_length(body) > SCREEN_LIMIT:
        log.error("USSD screen %s is %d characters long", screen.id, gsm7_length(body))
    return Reply(body), static


def _with_notice(notice: str, body: str) -> str:
    """The notice above the screen; in place of the screen's title when both do not fit."""
    for candidate in (f"{notice}\n{body}", f"{notice}\n{body.partition(chr(10))[2]}"):
        if gsm7_length(candidate) <= SCREEN_LIMIT:
            return candidate
    return body


# --------------------------------------------------------------------------- end of session


def _int(raw: object) -> int:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and len(text) < 9 else 0


@lru_cache(maxsize=4)
def _ended_statement(dialect: str) -> sa.Executable:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(SESSIONS).values(
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
            "state": new.state,
            "updated_at": new.updated_at,
        },
    )


def record_event(event: dict[str, Any]) -> None:
    """The gateway's end-of-session notification: status, cost and hops on the session row; the
    screen state is dropped (a late repeat of the last hop still gets its stored answer)."""
    try:
        session_id = str(event["sessionId"])
        # Used only when the session ended before reaching us (or failed at the operator).
        phone = try_normalise(str(event.get("phoneNumber") or ""), settings.phone_region()) or ""
        status = str(event.get("status") or "")[:20] or None
        cost = str(event.get("cost") or "")[:20] or None
        hops = _int(event.get("hopsCount"))
        params = {
            "sid": session_id,
            "phone": phone,
            "state": {},
            "hops": hops,
            "now": utcnow(),
            "status": status,
            "cost": cost,
        }
        db.session.execute(_ended_statement(_dialect()), params)
        unit.commit()
        log.info("USSD session %s ended: %s, cost %s", session_id, status, cost)
    except Exception:
        log.exception("USSD end-of-session notification not recorded")
        db.session.rollback()
