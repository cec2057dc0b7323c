"""The USSD engine: one hop in, one `CON `/`END ` body out, always.

A hop loads the caller and the session row (`store.load`, one statement), takes the new input(s)
from what `text` adds to the previous hop's text, runs them through the screen registry (`0` back
and `00` home on menu screens), and stores the reply with the new state (`store.save`, one
compare-and-set statement that succeeds only when no other hop of the session was stored
meanwhile). A hop that loses starts again from the stored row, where a repeat of the same hop
finds the winner's answer and a later hop the state it needs; an earlier hop delivered late (its
text a prefix of the stored one) gets the latest answer and changes nothing. Nothing is locked
while screens read (see `store` for the statements and the connections they use).

Screens that change something (`writes`: book, cancel, answer, rate, language, a code) run inside
`with store.writing(hop):`: their service's transaction begins with the hop's "being answered"
mark, so the mark commits with the change, and a repeated hop then waits for the stored reply, or
finds the change was never made. Nothing happens twice. A mark still without its reply past a short
lease (`store.LEASE_SECONDS`) belongs to a hop whose worker died after the change committed: a
repeat takes the hop over (`store.take_over`, one compare-and-set, so only one does) and answers it
again from the committed state, where the service refuses to do twice what was done and says so.
Every other screen only reads (`store.screens_only_read`): a commit there is refused, and so is a
change sent through its reads on PostgreSQL, before it runs. A new session is not stored while it
only passes through static screens (the opening menu, choosing a trade and an area:
`Screen.static`): the next hop, finding no row, replays its whole text from the opening menu, as
shortcut dialling does.

A session cut off mid-menu (the gateway's end-of-session notice, or silence) and dialled again
within minutes opens with "Continue where you left off?" (`store.load` finds the phone's latest
session on a new session's first hop, in the same statement). Going on shows the screen it was
left on, loaded anew, with its way back: a question that asks for a yes asks again, showing what is
true now (or ends saying what changed), and nothing is done until it is answered.

Domain errors become a translated `END`; a connection the database closed is replaced before the
hop uses it (`reading`), and a hop that meets one that died without a word is answered again on a
fresh one; anything else unexpected is logged and answered with a polite `END`.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from flask import g

from marketplace.domain.base import utcnow
from marketplace.domain.errors import DomainError
from marketplace.domain.phones import try_normalise
from marketplace.messages.gsm import gsm7_length
from marketplace.messages.ussd import error_key, t
from marketplace.services import settings

from . import store
from .flow import SCREEN_LIMIT, Ctx, End, Go, Outcome, Reply, Retry
from .mentor import refusal_text
from .screens import HOME, HOMES, RESUME, SCREENS, render_end, start_of
from .store import Hop, Overtaken, Row, State

log = logging.getLogger(__name__)

STACK_LIMIT = 20
ATTEMPTS = 3  # hops of the same session stored first, before this one gives up
REPLAY_WAIT_SECONDS = 3.0
REPLAY_POLL_SECONDS = 0.05
FAILED_HOP = "_ussd_hop_failed"  # set in `flask.g` when a hop met an unexpected error


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
            store.close()
            return _answer(hop)
    except Exception:
        log.exception("USSD hop failed (session %s)", hop.get("sessionId"))
        g.setdefault(FAILED_HOP, True)  # for the hop's metrics
        body = polite_end(None)
        _remember_failure(hop, body)
        return body
    finally:
        store.close()


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
        row = store.load(store.read_connection(), session_id, phone, now)
        if row is None:
            return Reply(t("unknown_phone", "en"), end=True).body
        if row.phone not in (None, phone):
            log.warning("USSD session %s reused by another phone", session_id)
            return polite_end(None)
        again: Hop | None = None  # this hop, taken over from a request that died
        if row.hops and row.last_text == text:
            if row.last_reply:
                return row.last_reply  # the same hop again: the same answer, nothing done twice
            # The same hop is being answered by another request, whose change is committed (the
            # mark commits with it): wait for its reply, unless its lease ran out (looked at when
            # met and once more when the wait ends).
            late = time.monotonic() > deadline
            if not waited or late:
                taken = store.take_over(session_id, text, row.hops)
                if taken is not None:
                    log.warning("USSD session %s: a hop left unanswered taken over", session_id)
                    again = Hop(session_id, phone, text, taken, taken, now)
                    row = _before(row, text)
                elif late:
                    return polite_end(None)
            if again is None:
                waited = True
                store.close()  # no connection held while waiting
                time.sleep(REPLAY_POLL_SECONDS)
                continue
        elif row.hops and (text == "" or row.last_text.startswith(text + "*")):
            # An earlier hop, delivered again after later ones were answered: the phone has moved
            # on, and nothing is done again. It gets the session's latest answer.
            log.info("USSD session %s: an earlier hop delivered late", session_id)
            return row.last_reply or polite_end(row.language)
        try:
            return _try(again or Hop(session_id, phone, text, row.hops + 1, row.hops, now), row)
        except Overtaken:
            overtaken += 1
            if overtaken >= ATTEMPTS:
                log.warning("USSD session %s: overtaken %d times", session_id, overtaken)
                return polite_end(row.language)


def _try(hop: Hop, row: Row) -> str:
    """Answer the hop from the row as loaded; `Overtaken` when another hop was stored first."""
    fresh = row.hops == 0 or not row.state or bool(row.state.get("ended"))
    inputs = _new_inputs(row.last_text, hop.text, row.hops == 0)
    # The state came from this hop's own read of the row: it is ours to change in place.
    state: State = _fresh_state(start_of(row.caller)) if fresh or not row.state else row.state
    ctx = Ctx(row.caller, row.language, hop.now, phone=hop.phone, known_mentor=row.mentor)
    if row.caller.is_mentor and state["screen"].startswith(MENTOR_SCREENS):
        ctx.lang = ctx.mentor.language  # a phone that is both: the mentor menu in theirs
    # A session's opening hop, when the phone's last session was cut off mid-menu lately.
    left_off = _left_off(row.left_off) if row.phone is None and hop.text == "" else None
    try:
        with store.screens_only_read():
            reply, static = _run(ctx, state, inputs, fresh, hop, left_off)
    except Overtaken:
        store.close()
        raise
    except DomainError as exc:
        store.read_connection()  # what the refused change did is rolled back
        log.info("USSD hop refused: %s", exc.code)
        mentors = row.caller.is_mentor and state["screen"].startswith(MENTOR_SCREENS)
        body = (refusal_text(exc, ctx.lang) if mentors else None) or t(
            error_key(exc.code), ctx.lang
        )
        reply, static = Reply(body, end=True), False
        state["ended"] = True
        ctx.impressions.clear()
    if row.phone is None and static and not ctx.impressions and not reply.end:
        # A new session that has only passed through static screens (the opening menu, choosing
        # a trade and an area) follows from the caller and `text` alone: it is not stored. The
        # next hop finds no row and replays the whole text from the opening menu, as shortcut
        # dialling does; a repeat of this hop gets the same screen again.
        return reply.body
    if not store.save(hop, reply.body, state, ctx.impressions):
        raise Overtaken
    return reply.body


# --------------------------------------------------------------------------- service code


@lru_cache(maxsize=8)
def _service_codes(configured: str) -> frozenset[str]:
    return frozenset(c.replace(" ", "") for c in configured.split(",") if c.strip())


def _service_code_ok(code: str) -> bool:
    configured = str(settings.get("USSD_SERVICE_CODE", "") or "")
    return code.replace(" ", "") in _service_codes(configured)


# --------------------------------------------------------------------------- repeats and failures


def _before(row: Row, text: str) -> Row:
    """The row as the hop taken over found it: the mark kept its state and replaced only its
    text. A hop that made the row (no state) started the session; any other took one input, a
    choice with no '*' (the screens that change something are menus)."""
    if not row.state:
        return row._replace(hops=0, last_text="")
    return row._replace(last_text=text.rpartition("*")[0])


def _remember_failure(hop: dict[str, Any], body: str) -> None:
    """After an unexpected failure, make a repeat of this hop get the same polite answer."""
    try:
        session_id, text = str(hop.get("sessionId", "")), str(hop.get("text") or "")
        phone = str(hop.get("phoneNumber", ""))
        row = store.load(
            store.read_connection(), session_id, phone, utcnow()
        )  # answer_hop's `finally` lets go
        if row is None or row.phone not in (None, phone):
            return
        if row.hops and row.last_text == text and row.last_reply:
            return  # answered meanwhile
        # A mark this hop committed (same text) keeps its count; otherwise the hop is counted.
        hops = row.hops if row.hops and row.last_text == text else row.hops + 1
        failed = Hop(session_id, phone, text, hops, row.hops, utcnow())
        store.save(failed, body, {**(row.state or {}), "ended": True}, [])
    except Exception:
        log.exception("could not store the answer of a failed USSD hop")
        store.close()


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


MENTOR_SCREENS = "mentor."


def _left_off(session_id: str | None) -> State | None:
    """The screen state of the session the phone left mid-menu, when it is worth going on with:
    left waiting on a screen past the opening one (the entrepreneur's menu, the mentor's, or the
    choice between them; the offer itself, left unanswered, offers the same again). Nothing of it
    is acted on: going on shows its screen again, loaded anew."""
    if session_id is None:
        return None
    state = store.state_of(store.read_connection(), session_id)
    if state and state.get("screen") == RESUME:
        state = state.get("data", {}).get("state")
    if not state or state.get("ended") or state.get("screen") in (None, RESUME, *HOMES):
        return None
    return state if state["screen"] in SCREENS else None


def _fresh_state(home: str = HOME) -> State:
    """A session's first state; `home` is where `00` leads (the caller's first screen: the
    entrepreneur's menu, the mentor's, or the choice between them for a phone that is both)."""
    return {"screen": home, "data": {}, "params": {}, "stack": [], "home": home}


def _home(state: State) -> str:
    return str(state.get("home") or HOME)


def _enter(ctx: Ctx, state: State, screen_id: str, data: dict[str, Any]) -> None:
    data = dict(data)
    params = SCREENS[screen_id].load(ctx, data)  # may complete `data` (a list's listing id)
    state.update(screen=screen_id, data=data, params=params)


def _step(ctx: Ctx, state: State, entry: str, hop: Hop) -> Outcome:
    screen = SCREENS[state["screen"]]
    key = entry.strip()
    if screen.nav and key == "00":
        state["stack"] = []
        _enter(ctx, state, _home(state), {})
        return Go(_home(state))
    if screen.nav and key == "0":
        stack: list[dict[str, Any]] = state["stack"]
        back: dict[str, Any] = stack.pop() if stack else {"screen": _home(state), "data": {}}
        _enter(ctx, state, back["screen"], back["data"])
        return Go(back["screen"])
    if screen.writes:
        with store.writing(hop):
            outcome = screen.handle(ctx, state["data"], state["params"], entry)
    else:
        outcome = screen.handle(ctx, state["data"], state["params"], entry)
    if isinstance(outcome, Go):
        if outcome.screen not in screen.targets:
            raise LookupError(f"screen {screen.id} may not go to {outcome.screen}")
        if outcome.stack is not None:
            state["stack"] = list(outcome.stack)  # a way back taken up again (resuming)
        elif outcome.reset:
            state["stack"] = []
        elif outcome.push:
            here = {"screen": screen.id, "data": state["data"]}
            state["stack"] = [*state["stack"], here][-STACK_LIMIT:]
        _enter(ctx, state, outcome.screen, outcome.data)
    return outcome


def _run(
    ctx: Ctx,
    state: State,
    inputs: list[str],
    fresh: bool,
    hop: Hop,
    left_off: State | None = None,
) -> tuple[Reply, bool]:
    """The reply, and whether it is `static`: the hop started on a static screen and each of its
    inputs was a plain choice there that led to another one (no notice, nothing changed). A
    session whose phone left another mid-menu lately opens by offering to go on with it."""
    if fresh and left_off is not None:
        _enter(ctx, state, RESUME, {"state": left_off})
    elif fresh:
        _enter(ctx, state, _home(state), {})
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


def record_event(event: dict[str, Any]) -> None:
    """The gateway's end-of-session notification: status, cost and hops on the session row; the
    screen state stays (a session cut off mid-menu is offered to the phone's next one, and a late
    repeat of the last hop still gets its stored answer)."""
    try:
        session_id = str(event["sessionId"])
        # Used only when the session ended before reaching us (or failed at the operator).
        phone = try_normalise(str(event.get("phoneNumber") or ""), settings.phone_region()) or ""
        status = str(event.get("status") or "")[:20] or None
        cost = str(event.get("cost") or "")[:20] or None
        store.end(session_id, phone, status, cost, _int(event.get("hopsCount")), utcnow())
        log.info("USSD session %s ended: %s, cost %s", session_id, status, cost)
    except Exception:
        log.exception("USSD end-of-session notification not recorded")
