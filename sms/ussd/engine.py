"""The USSD engine: one hop in, one `CON `/`END ` body out, always.

Per hop, in one transaction with one commit: check the service code, read the caller (a few columns),
claim the session row (state per `sessionId`, shared by every app server) with one statement that
inserts or locks it, replay the stored answer when the gateway repeats a hop, take the new input(s)
from what `text` adds to the previous hop's text, run them through the screen registry (`0` back and
`00` home on menu screens), store the reply with one UPDATE, commit, answer. Domain errors become a
translated `END`; anything unexpected is logged and answered with a polite `END`.

The row lock is held until the hop's commit, so a repeated hop waits and then gets the stored reply.
A hop that changes something (a booking, an answer) does it through a service that commits on its
own: the first commit during a hop first writes the hop's "being answered" mark on the session row,
so a repeated hop either waits for the stored reply or finds the change was never made: nothing
happens twice. On PostgreSQL the closing commit of a hop (screen state, and the impressions of a
list shown) does not wait for the disk; the services' commits (bookings, answers) do.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from marketplace.domain.base import utcnow
from marketplace.domain.errors import DomainError
from marketplace.domain.models import UssdSession
from marketplace.domain.phones import try_normalise
from marketplace.extensions import db
from marketplace.services import settings, unit

from ..gsm import gsm7_length
from . import reads
from .flow import SCREEN_LIMIT, Caller, Ctx, End, Go, Outcome, Reply, Retry
from .screens import HOME, SCREENS, render_end
from .texts import error_key, t

log = logging.getLogger(__name__)

STACK_LIMIT = 20
REPLAY_WAIT_SECONDS = 3.0
REPLAY_POLL_SECONDS = 0.05

State = dict[str, Any]
SESSIONS: sa.Table = UssdSession.__table__  # type: ignore[assignment]
_MARK = "ussd.hop_mark"  # key in the database session's `info` while a hop runs


def polite_end(language: str | None = None) -> str:
    """The answer when something went wrong that the person cannot fix (both languages)."""
    return Reply(t("polite_end", language or "en"), end=True).body


def answer_hop(hop: dict[str, Any]) -> str:
    """The body for one validated hop (`sessionId`, `serviceCode`, `phoneNumber` E.164, `text`)."""
    try:
        return _answer(hop)
    except Exception:
        log.exception("USSD hop failed (session %s)", hop.get("sessionId"))
        body = polite_end(None)
        _remember_failure(hop, body)
        return body
    finally:
        db.session.info.pop(_MARK, None)


def _answer(hop: dict[str, Any]) -> str:
    now = utcnow()
    session_id, phone = str(hop["sessionId"]), str(hop["phoneNumber"])
    text = str(hop.get("text") or "")
    if not _service_code_ok(str(hop.get("serviceCode", ""))):
        log.warning("USSD hop for an unknown service code %r", hop.get("serviceCode"))
        return Reply(t("wrong_service", "en"), end=True).body
    claimed = _claim(session_id, phone, text, now)
    if isinstance(claimed, str):
        return claimed  # the same hop again (the same answer, nothing done twice), or a refusal
    person, language, row = claimed
    hops = row.hops + 1
    fresh = row.hops == 0 or not row.state or bool(row.state.get("ended"))
    inputs = _new_inputs(row.last_text, text, row.hops == 0)
    # The state came from this hop's own read of the row: it is ours to change in place.
    state: State = _fresh_state() if fresh or not row.state else row.state
    # The mark that this hop is being answered, written by the first commit inside the hop.
    db.session.info[_MARK] = {"sid": session_id, "text": text, "hops": hops, "now": now}

    ctx = Ctx(person, language, now)
    try:
        reply = _run(ctx, state, inputs, fresh)
    except DomainError as exc:
        unit.rollback()
        log.info("USSD hop refused: %s", exc.code)
        reply = Reply(t(error_key(exc.code), ctx.lang), end=True)
        state["ended"] = True
    _save(session_id, phone, text, reply.body, state, hops, now)
    return reply.body


# --------------------------------------------------------------------------- the session row


@lru_cache(maxsize=8)
def _service_codes(configured: str) -> frozenset[str]:
    return frozenset(c.replace(" ", "") for c in configured.split(",") if c.strip())


def _service_code_ok(code: str) -> bool:
    configured = str(settings.get("USSD_SERVICE_CODE", "") or "")
    return code.replace(" ", "") in _service_codes(configured)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


class _Session(NamedTuple):
    """The session row as a hop finds it."""

    phone: str
    state: State | None
    last_text: str
    last_reply: str
    hops: int


_CLAIMED = (
    SESSIONS.c.phone,
    SESSIONS.c.state,
    SESSIONS.c.last_text,
    SESSIONS.c.last_reply,
    SESSIONS.c.hops,
)


@lru_cache(maxsize=4)
def _claim_statement(dialect: str) -> sa.Executable:
    """Insert the session row, or lock it when it exists (an update that changes nothing), and
    give back what the hop needs: one statement, one round trip."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(SESSIONS)
        .values(
            session_id=sa.bindparam("sid"),
            phone=sa.bindparam("phone"),
            state=sa.bindparam("state", type_=SESSIONS.c.state.type),
            last_text="",
            last_reply="",
            hops=0,
            created_at=sa.bindparam("now", type_=SESSIONS.c.created_at.type),
            updated_at=sa.bindparam("now", type_=SESSIONS.c.updated_at.type),
        )
        .on_conflict_do_update(
            index_elements=[SESSIONS.c.session_id], set_={"phone": SESSIONS.c.phone}
        )
        .returning(*_CLAIMED)
    )


def _claim_row(session_id: str, phone: str, now: datetime) -> _Session:
    """The session row, locked until the transaction ends (created on the first hop)."""
    params = {"sid": session_id, "phone": phone, "state": {}, "now": now}
    row = db.session.connection().execute(_claim_statement(_dialect()), params).one()
    return _Session(*row)


@lru_cache(maxsize=1)
def _caller_and_claim_statement() -> sa.Executable:
    """PostgreSQL: read the caller and claim the session row in one round trip. The row is
    inserted only for a phone we know (the insert selects from the caller)."""
    person = reads.CALLER.cte("person")
    now = sa.bindparam("now", type_=SESSIONS.c.created_at.type)
    claim = (
        postgresql.insert(SESSIONS)
        .from_select(
            [c.name for c in (*SESSIONS.primary_key, *_CLAIMED)] + ["created_at", "updated_at"],
            sa.select(
                sa.bindparam("sid", type_=SESSIONS.c.session_id.type),
                sa.bindparam("phone", type_=SESSIONS.c.phone.type),
                sa.bindparam("state", type_=SESSIONS.c.state.type),
                sa.literal(""),
                sa.literal(""),
                sa.literal(0),
                now,
                now,
            ).select_from(person),
        )
        .on_conflict_do_update(
            index_elements=[SESSIONS.c.session_id], set_={"phone": SESSIONS.c.phone}
        )
        .returning(*_CLAIMED)
        .cte("claimed")
    )
    session = (claim.c[c.name].label(f"session_{c.name}") for c in _CLAIMED)
    return sa.select(person, *session).select_from(person.join(claim, sa.true()))


def _caller_and_claim(
    session_id: str, phone: str, now: datetime
) -> tuple[Caller, str, _Session] | None:
    """Who is dialling, in which language, and their locked session row; None for a phone we
    do not know (and then no row is made)."""
    if _dialect() != "postgresql":
        found = reads.caller(phone)
        return None if found is None else (*found, _claim_row(session_id, phone, now))
    params = {"sid": session_id, "phone": phone, "state": {}, "now": now}
    row = db.session.connection().execute(_caller_and_claim_statement(), params).first()
    if row is None:
        return None
    n = len(_CLAIMED)
    return Caller.of(row), row.language, _Session(*row[-n:])


def _claim(
    session_id: str, phone: str, text: str, now: datetime
) -> tuple[Caller, str, _Session] | str:
    """The caller and the locked session row to answer this hop, or the body to answer at once:
    the stored reply of a repeated hop, or a refusal."""
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    while True:
        claimed = _caller_and_claim(session_id, phone, now)
        if claimed is None:
            db.session.rollback()
            return Reply(t("unknown_phone", "en"), end=True).body
        row = claimed[2]
        if row.phone != phone:
            db.session.rollback()
            log.warning("USSD session %s reused by another phone", session_id)
            return polite_end(None)
        if row.hops == 0 or row.last_text != text:
            return claimed
        body = str(row.last_reply)
        db.session.rollback()
        if body:
            return body
        # The same hop is being answered right now by another request: wait for its reply.
        if time.monotonic() > deadline:
            return polite_end(None)
        time.sleep(REPLAY_POLL_SECONDS)


_MARK_STATEMENT = (
    sa.update(SESSIONS)
    .where(SESSIONS.c.session_id == sa.bindparam("sid"))
    .values(
        last_text=sa.bindparam("text"),
        last_reply="",
        hops=sa.bindparam("hops"),
        updated_at=sa.bindparam("now", type_=SESSIONS.c.updated_at.type),
    )
)


@sa.event.listens_for(Session, "before_commit")
def _mark_before_a_change(session: Session) -> None:
    """A service committing in the middle of a hop commits the hop's mark with its change."""
    mark = session.info.pop(_MARK, None)
    if mark is not None:
        session.connection().execute(_MARK_STATEMENT, mark)


@lru_cache(maxsize=4)
def _save_statement(dialect: str) -> sa.Executable:
    stmt = (
        sa.update(SESSIONS)
        .where(SESSIONS.c.session_id == sa.bindparam("sid"))
        .values(
            state=sa.bindparam("state", type_=SESSIONS.c.state.type),
            last_text=sa.bindparam("text"),
            last_reply=sa.bindparam("reply"),
            hops=sa.bindparam("hops"),
            updated_at=sa.bindparam("now", type_=SESSIONS.c.updated_at.type),
        )
    )
    if dialect == "postgresql":
        # Screen state (and the impressions of a list) need not wait for the disk: this makes
        # the commit that follows asynchronous, without a round trip of its own.
        return stmt.returning(sa.func.set_config("synchronous_commit", "off", sa.true()))
    return stmt.returning(SESSIONS.c.hops)


def _save(
    session_id: str,
    phone: str,
    text: str,
    reply: str,
    state: State,
    hops: int,
    now: datetime,
) -> None:
    """Store the reply and the state with one UPDATE and commit the hop."""
    db.session.info.pop(_MARK, None)  # the reply replaces the mark
    params = {
        "sid": session_id,
        "state": state,
        "text": text,
        "reply": reply,
        "hops": hops,
        "now": now,
    }
    conn = db.session.connection()
    if conn.execute(_save_statement(_dialect()), params).first() is None:
        # The first hop's row went with a rollback during the hop: claim it again.
        _claim_row(session_id, phone, now)
        conn.execute(_save_statement(_dialect()), params)
    unit.commit()


def _remember_failure(hop: dict[str, Any], body: str) -> None:
    """After an unexpected failure, make a repeat of this hop get the same polite answer."""
    try:
        db.session.info.pop(_MARK, None)
        db.session.rollback()
        session_id, text = str(hop.get("sessionId", "")), str(hop.get("text") or "")
        now = utcnow()
        phone = str(hop.get("phoneNumber", ""))
        row = _claim_row(session_id, phone, now)
        if row.hops and row.last_text == text and row.last_reply:
            db.session.rollback()  # answered meanwhile
            return
        state = {**(row.state or {}), "ended": True}
        _save(session_id, phone, text, body, state, row.hops + 1, now)
    except Exception:
        log.exception("could not store the answer of a failed USSD hop")
        db.session.rollback()


# --------------------------------------------------------------------------- input and screens


def _new_inputs(previous: str, text: str, first: bool) -> list[str]:
    """What this hop adds. The first hop may carry several (shortcut dialling `*384*1234*3*1#`)."""
    if first:
        return [part for part in text.split("*") if part != ""]
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


def _step(ctx: Ctx, state: State, entry: str) -> Outcome:
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


def _run(ctx: Ctx, state: State, inputs: list[str], fresh: bool) -> Reply:
    if fresh:
        _enter(ctx, state, HOME, {})
    notice: str | None = None
    for entry in inputs:
        outcome = _step(ctx, state, entry)
        if isinstance(outcome, End):
            state["ended"] = True
            return Reply(render_end(outcome.key, ctx.lang, outcome.params), end=True)
        notice = outcome.notice
        if isinstance(outcome, Retry):
            break  # the rest of a shortcut cannot apply to a screen it did not reach
    screen = SCREENS[state["screen"]]
    body = screen.view(ctx.lang, state["params"])
    if notice:
        body = _with_notice(t(notice, ctx.lang), body)
    if gsm7_length(body) > SCREEN_LIMIT:
        log.error("USSD screen %s is %d characters long", screen.id, gsm7_length(body))
    return Reply(body)


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


def record_event(event: dict[str, Any]) -> None:
    """The gateway's end-of-session notification: status, cost and hops on the session row; the
    screen state is dropped (a late repeat of the last hop still gets its stored answer)."""
    try:
        now = utcnow()
        session_id = str(event["sessionId"])
        # Used only when the session ended before reaching us (or failed at the operator).
        phone = try_normalise(str(event.get("phoneNumber") or ""), settings.phone_region()) or ""
        row = _claim_row(session_id, phone, now)
        status = str(event.get("status") or "")[:20] or None
        cost = str(event.get("cost") or "")[:20] or None
        hops = max(row.hops, _int(event.get("hopsCount")))
        db.session.execute(
            sa.update(SESSIONS)
            .where(SESSIONS.c.session_id == session_id)
            .values(ended_status=status, cost=cost, hops=hops, state={}, updated_at=now)
        )
        unit.commit()
        log.info("USSD session %s ended: %s, %s hops, cost %s", session_id, status, hops, cost)
    except Exception:
        log.exception("USSD end-of-session notification not recorded")
        db.session.rollback()
