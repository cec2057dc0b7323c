"""The USSD engine: one hop in, one `CON `/`END ` body out, always.

Per hop: check the service code, find the entrepreneur, lock the session row (state per `sessionId`,
shared by every app server), replay the stored answer when the gateway repeats a hop, take the new
input(s) from what `text` adds to the previous hop's text, run them through the screen registry
(`0` back and `00` home on menu screens), store the reply, answer. Domain errors become a translated
`END`; anything unexpected is logged and answered with a polite `END`.

A hop that changes something (a booking, an answer) writes its "being answered" mark on the session
row in the same transaction as the change, so a repeated hop either waits for the stored reply or
finds the change was never made: nothing happens twice.
"""

from __future__ import annotations

import copy
import logging
import time
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from marketplace.domain.base import utcnow
from marketplace.domain.errors import DomainError
from marketplace.domain.models import UssdSession
from marketplace.domain.phones import try_normalise
from marketplace.extensions import db
from marketplace.services import entrepreneurs, settings, unit

from ..gsm import gsm7_length
from .flow import SCREEN_LIMIT, Caller, Ctx, End, Go, Outcome, Reply, Retry
from .screens import HOME, SCREENS, render_end
from .texts import error_key, t

log = logging.getLogger(__name__)

STACK_LIMIT = 20
REPLAY_WAIT_SECONDS = 3.0
REPLAY_POLL_SECONDS = 0.05

State = dict[str, Any]


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


def _answer(hop: dict[str, Any]) -> str:
    now = utcnow()
    session_id, phone = str(hop["sessionId"]), str(hop["phoneNumber"])
    text = str(hop.get("text") or "")
    if not _service_code_ok(str(hop.get("serviceCode", ""))):
        log.warning("USSD hop for an unknown service code %r", hop.get("serviceCode"))
        return Reply(t("wrong_service", "en"), end=True).body
    person = entrepreneurs.by_phone(phone)
    if person is None:
        db.session.rollback()
        return Reply(t("unknown_phone", "en"), end=True).body

    claimed = _claim(session_id, phone, text, now)
    if isinstance(claimed, str):
        return claimed  # the same hop again: the same answer, nothing done twice
    row = claimed
    hops = row.hops + 1
    fresh = row.hops == 0 or not row.state or bool(row.state.get("ended"))
    inputs = _new_inputs(row.last_text, text, row.hops == 0)
    state: State = _fresh_state() if fresh else copy.deepcopy(row.state)
    # The mark that this hop is being answered; it commits with whatever the hop changes.
    row.last_text, row.last_reply, row.hops, row.updated_at = text, "", hops, now

    ctx = Ctx(Caller.of(person), person.language, now)
    held: UssdSession | None = row
    try:
        reply = _run(ctx, state, inputs, fresh)
    except DomainError as exc:
        unit.rollback()
        log.info("USSD hop refused: %s", exc.code)
        reply = Reply(t(error_key(exc.code), ctx.lang), end=True)
        state["ended"] = True
        held = None
    _save(held, session_id, phone, text, reply, state, hops, now)
    return reply.body


# --------------------------------------------------------------------------- the session row


def _service_code_ok(code: str) -> bool:
    configured = str(settings.get("USSD_SERVICE_CODE", "") or "")
    allowed = {c.replace(" ", "") for c in configured.split(",") if c.strip()}
    return code.replace(" ", "") in allowed


def _lock(session_id: str) -> UssdSession | None:
    return db.session.scalar(
        sa.select(UssdSession)
        .where(UssdSession.session_id == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _insert_if_missing(session_id: str, phone: str, now: datetime) -> None:
    values = {
        "session_id": session_id,
        "phone": phone,
        "state": {},
        "last_text": "",
        "last_reply": "",
        "hops": 0,
        "created_at": now,
        "updated_at": now,
    }
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            postgresql.insert(UssdSession)
            .values(values)
            .on_conflict_do_nothing(index_elements=["session_id"])
        )
    else:
        db.session.execute(
            sqlite.insert(UssdSession)
            .values(values)
            .on_conflict_do_nothing(index_elements=["session_id"])
        )


def _locked_row(session_id: str, phone: str, now: datetime) -> UssdSession:
    row = _lock(session_id)
    if row is None:
        _insert_if_missing(session_id, phone, now)
        row = _lock(session_id)
    assert row is not None
    return row


def _claim(session_id: str, phone: str, text: str, now: datetime) -> UssdSession | str:
    """The locked session row to answer this hop, or the body to repeat for a repeated hop."""
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    while True:
        row = _locked_row(session_id, phone, now)
        if row.phone != phone:
            db.session.rollback()
            log.warning("USSD session %s reused by another phone", session_id)
            return polite_end(None)
        if row.hops == 0 or row.last_text != text:
            return row
        body = row.last_reply
        db.session.rollback()
        if body:
            return body
        # The same hop is being answered right now by another request: wait for its reply.
        if time.monotonic() > deadline:
            return polite_end(None)
        time.sleep(REPLAY_POLL_SECONDS)


def _save(
    row: UssdSession | None,
    session_id: str,
    phone: str,
    text: str,
    reply: Reply,
    state: State,
    hops: int,
    now: datetime,
) -> None:
    if row is None or sa.inspect(row).expired_attributes:
        # A change committed (or rolled back) during the hop, which let the row lock go.
        row = _locked_row(session_id, phone, now)
    row.state = state
    row.last_text, row.last_reply, row.hops, row.updated_at = text, reply.body, hops, now
    if db.session.get_bind().dialect.name == "postgresql":
        # Screen state is short-lived: it need not wait for the disk. Changes the hop made through
        # a service (bookings, answers, impressions) were committed durably by that service.
        db.session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
    unit.commit()


def _remember_failure(hop: dict[str, Any], body: str) -> None:
    """After an unexpected failure, make a repeat of this hop get the same polite answer."""
    try:
        db.session.rollback()
        session_id, text = str(hop.get("sessionId", "")), str(hop.get("text") or "")
        row = _locked_row(session_id, str(hop.get("phoneNumber", "")), utcnow())
        if row.hops and row.last_text == text and row.last_reply:
            db.session.rollback()  # answered meanwhile
            return
        row.last_text, row.last_reply, row.hops = text, body, row.hops + 1
        row.state = {**(row.state or {}), "ended": True}
        unit.commit()
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
        row = _lock(session_id)
        if row is None:  # it ended before reaching us (or failed at the operator)
            phone = (
                try_normalise(
                    str(event.get("phoneNumber") or ""),
                    str(settings.get("DEFAULT_PHONE_REGION", "KE")),
                )
                or ""
            )
            row = _locked_row(session_id, phone, now)
        row.ended_status = str(event.get("status") or "")[:20] or None
        row.cost = str(event.get("cost") or "")[:20] or None
        row.hops = max(row.hops, _int(event.get("hopsCount")))
        row.state = {}
        row.updated_at = now
        unit.commit()
        log.info(
            "USSD session %s ended: %s, %s hops, cost %s",
            session_id,
            row.ended_status,
            row.hops,
            row.cost,
        )
    except Exception:
        log.exception("USSD end-of-session notification not recorded")
        db.session.rollback()
