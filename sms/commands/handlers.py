"""Answering an inbound SMS: store it once, read the command, run its handler, reply.

One unit of work holds the inbound row, the change the command's service makes (its own unit of
work joins this one) and the reply, so they commit together: a reply never goes out without its
change, nor the change without its reply. A re-delivery of the gateway's id changes nothing and
sends nothing. A service's refusal rolls all of it back and is answered, from the refusal's own
fields (`replies.ERROR_REPLIES`), in a fresh unit of work with the inbound row.

Each handler reads what it needs through `queries.sms`, calls at most one service that changes
something, and says its reply; it takes no lock and writes no row itself.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from marketplace.domain import errors
from marketplace.domain.base import utcnow
from marketplace.domain.codes import format_voucher_code, normalise_voucher_code
from marketplace.domain.models import Entrepreneur, InboundSms
from marketplace.queries import mentor as mentor_queries
from marketplace.queries import sms as queries
from marketplace.services import (
    bookings,
    entrepreneurs,
    inbound_sms,
    ratings,
    reference,
    sessions,
    settings,
    unit,
)

from . import mentor, replies
from .keywords import (
    CHANGES,
    KEYWORDS,
    LANGUAGE_WORDS,
    MENTOR_COMMANDS,
    Command,
    parse,
    trade_and_area,
)

log = logging.getLogger(__name__)

ACTOR = "sms"  # the unit of work's actor; each service records the person who acted
# More inbound SMS than this from one number within the hour are stored but not answered: a loop
# with another automatic responder must not cost us an SMS per message.
REPLY_LIMIT_PER_HOUR = 30
LISTING_MEMORY = timedelta(days=7)  # how long a BOOK still counts as a pick from an earlier FIND
REF_MIN_DIGITS = 4  # session refs have 4 to 6 digits; stars one
STARS = ("1", "2", "3", "4", "5")
# Replies to a FIND (or MORE) that listed nobody: a MORE after one of them has nothing to continue.
FIND_EMPTY_REPLIES = ("find_none", "find_no_more", "unknown_trade", "unknown_area")


@dataclass
class Context:
    """One inbound message being answered, by a person registered with us."""

    uow: unit.UnitOfWork
    inbound: InboundSms
    command: Command
    person: Entrepreneur
    language: str

    @property
    def phone(self) -> str:
        return self.inbound.from_phone

    @property
    def now(self) -> datetime:
        return self.uow.now

    def say(self, key: str, *, delay: timedelta | None = None, **params: Any) -> None:
        self.send(replies.reply(key, self.language, **params), key, delay=delay)

    def send(self, body: str, kind: str, *, delay: timedelta | None = None) -> None:
        """Queue a reply in the unit of work; `delay` orders it after the service's own
        notification of the same change."""
        self.uow.sms_text(self.phone, body, "reply", at=self.now + (delay or timedelta()))
        self.replied(kind)

    def replied(self, kind: str) -> None:
        """Name what answered the message (a reply, or the service's own SMS)."""
        inbound_sms.answered(self.inbound, kind)


def handle_inbound(message: dict[str, Any]) -> None:
    """The inbound-SMS callback: store once, run the command, reply. Never raises."""
    try:
        _handle(message, utcnow())
    except Exception:
        log.exception("inbound SMS could not be handled; answering politely")
        try:
            unit.rollback()
            _answer_alone(message, utcnow(), "failed", None)
        except Exception:
            log.exception("could not even store the inbound SMS")
            unit.rollback()


def _received(message: dict[str, Any], now: datetime) -> InboundSms | None:
    return inbound_sms.receive(
        gateway_id=str(message["id"]),
        from_phone=str(message["from_"]),
        to_code=str(message.get("to") or ""),
        text=str(message.get("text") or ""),
        now=now,
    )


def _handle(message: dict[str, Any], now: datetime) -> None:
    row: InboundSms | None = None
    language = "en"
    as_mentor = ""  # the command, when a mentor's phone sent it as a mentor
    try:
        with unit.of_work(ACTOR, now) as uow:
            row = _received(message, now)
            if row is None:
                return
            command = parse(row.text)
            person = entrepreneurs.by_phone(row.from_phone)
            language = person.language if person else ("sw" if command.swahili else "en")
            # A mentor's phone: its mentor commands, and every command when it is no trainee's.
            mentor_account = (
                mentor_queries.caller(row.from_phone)
                if person is None or command.name in MENTOR_COMMANDS
                else None
            )
            if queries.inbound_since(row.from_phone, now - timedelta(hours=1)) > (
                REPLY_LIMIT_PER_HOUR
            ):
                inbound_sms.answered(row, "throttled")
                log.warning("inbound SMS from a number over its hourly limit; not answered")
            elif mentor_account is not None and command.name != "stop":
                language, as_mentor = mentor_account.language, command.name
                mentor.answer(mentor.MentorContext(uow, row, command, mentor_account, language))
            elif person is None:
                _stranger(uow, row, command, language)
            else:
                HANDLERS[command.name](Context(uow, row, command, person, language))
    except errors.DomainError as exc:
        if as_mentor:
            found = mentor.refusal(exc, as_mentor)
            key, params = found.key, found.params(exc, language)
        else:
            key, params = replies.error_reply(exc, language)
        # Still stored when a service committed it with a change it made before refusing (an
        # answer after the time to answer lapses the session, then is refused): reply on it.
        kept = row if row is not None and inbound_sms.stored(row) else None
        _answer_alone(message, now, key, language, row=kept, **params)


def _answer_alone(
    message: dict[str, Any],
    now: datetime,
    key: str,
    language: str | None,
    *,
    row: InboundSms | None = None,
    **params: Any,
) -> None:
    """A unit of work of its own: the inbound row (if still new, or the one given) and one reply."""
    with unit.of_work(ACTOR, now) as uow:
        row = row or _received(message, now)
        if row is None:
            return
        if language is None:
            person = entrepreneurs.by_phone(row.from_phone)
            language = person.language if person else "en"
        uow.sms_text(row.from_phone, replies.reply(key, language, **params), "reply")
        inbound_sms.answered(row, key)


def _stranger(uow: unit.UnitOfWork, row: InboundSms, command: Command, language: str) -> None:
    if command.name == "stop":
        inbound_sms.answered(row, "none")  # someone who asks us to stop gets no SMS back
        return
    if queries.is_provider_phone(row.from_phone):
        key, params = "mentor_number", {}
    else:
        key, params = "not_registered", {"ussd": settings.ussd_code()}
    uow.sms_text(row.from_phone, replies.reply(key, language, **params), "reply")
    inbound_sms.answered(row, key)


# --------------------------------------------------------------------------- commands


def _help(ctx: Context) -> None:
    ctx.say("help")


def _unsure(ctx: Context) -> None:
    """A word like a keyword: what to send to do it (with only the arguments the command
    takes), and nothing done."""
    keyword, words = ctx.command.keyword, ctx.command.words
    if KEYWORDS[keyword][0] in CHANGES:
        words = [w for w in words if w.isdigit() or w in LANGUAGE_WORDS]
    else:
        words = [w.lower() for w in words]
    ctx.say("did_you_mean", keyword=keyword, example=" ".join([keyword, *words]))


def _unknown(ctx: Context) -> None:
    shown = " ".join(ctx.inbound.text.split())
    if not shown:
        ctx.say("help")
        return
    ctx.say("not_understood", text=shown)


def _balance(ctx: Context) -> None:
    held = queries.vouchers_held(ctx.person.id, ctx.now)
    if not held:
        ctx.say("balance_none")
        return
    ctx.send(replies.balance_text(ctx.language, held, settings.ussd_code()), "balance")


def _find(ctx: Context) -> None:
    words = ctx.command.words
    if not words:
        trade: str | None = ctx.person.trade_code
        region: str | None = ctx.person.region_code
    else:
        trade, region, problem = trade_and_area(words)
        if problem is not None:
            key, params = problem
            ctx.say(key, **params)
            return
    assert trade is not None
    _list(ctx, trade, region, page=0, listing_id=uuid.uuid4().hex)


def _more(ctx: Context) -> None:
    since = ctx.now - LISTING_MEMORY
    listing_id = queries.latest_listing(ctx.phone, since, FIND_EMPTY_REPLIES)
    end = queries.listing_end(listing_id) if listing_id is not None else None
    if listing_id is None or end is None:
        ctx.say("find_no_more")
        return
    page = end.last_position // bookings.PAGE_SIZE + 1
    _list(ctx, end.trade, end.region, page=page, listing_id=listing_id)


def _list(ctx: Context, trade: str, region: str | None, *, page: int, listing_id: str) -> None:
    listing = bookings.find_providers(
        ctx.person.id, trade, region, page=page, channel="sms", listing_id=listing_id, now=ctx.now
    )
    lang = ctx.language
    trade_name = reference.trade_name(trade, lang)
    area = reference.region_name(region) if region else replies.reply("all_areas", lang)
    if not listing.providers:
        if page:
            ctx.say("find_no_more")
        else:
            ctx.say("find_none", trade=trade_name, area=area, tcode=trade)
        return
    body = replies.listing_text(lang, trade_name, area, listing.providers, more=listing.has_more)
    ctx.send(body, f"{queries.FIND_PREFIX}{listing.listing_id}")


def _book(ctx: Context) -> None:
    numbers = ctx.command.numbers
    if not numbers:
        ctx.say("book_usage")
        return
    number = numbers[0]
    try:
        provider = bookings.provider_by_number(number)
    except errors.NotFound:
        ctx.say("unknown_provider", number=number)
        return
    named = "".join(numbers[1:])
    free: list[Any] = []
    if named:
        code = normalise_voucher_code(named)
        voucher_id = queries.own_voucher_id(ctx.person.id, code) if code else None
        if voucher_id is None:
            ctx.say("unknown_voucher", number=named)
            return
    else:
        free = bookings.bookable_vouchers(ctx.person.id, ctx.now)
        voucher_id = free[0].id if free else None  # none free: the service says so
    bookings.book_provider(
        ctx.person.id,
        provider.id,
        voucher_id,
        channel="sms",
        listing_id=queries.listing_showing(ctx.phone, provider.id, ctx.now - LISTING_MEMORY),
        now=ctx.now,
    )
    ctx.replied("booked")  # the service's booking message is the reply
    if len(free) > 1:
        ctx.say(
            "booked_which",
            delay=timedelta(seconds=1),
            code=format_voucher_code(free[0].code),
            expiry=free[0].expires_at.strftime("%d/%m/%Y"),
            number=provider.number,
        )


def _cancel(ctx: Context) -> None:
    """CANCEL <mentor number> or <voucher code> cancels that booking; a bare CANCEL the only
    booking that can be, and asks which when there are several."""
    active = queries.active_bookings(ctx.person.id)
    numbers = ctx.command.numbers
    if numbers:
        given = "".join(numbers)
        code = normalise_voucher_code(given)
        chosen = [b for b in active if (b.code == code if code else b.number == given)]
        if not chosen:
            ctx.say("cancel_no_match", text=format_voucher_code(code) if code else given)
            return
    else:
        # Sessions have started on the others: the service would refuse them.
        chosen = [b for b in active if not b.started]
        if not chosen:
            ctx.say("cannot_cancel")
            return
    if len(chosen) > 1:
        ctx.send(replies.which_booking_text(ctx.language, chosen), "cancel_which")
        return
    (booking,) = chosen
    # The booking read here: when it is no longer the voucher's (`BookingChanged`), or a session
    # waits for an answer, the service refuses and the reason is the reply.
    bookings.cancel_booking(
        ctx.person.id, booking.voucher_id, booking_id=booking.id, channel="sms", now=ctx.now
    )
    ctx.say("cancelled", provider=booking.name, code=format_voucher_code(booking.code))


def _answer(ctx: Context, accept: bool) -> None:
    """YES or NO <ref>, or bare for the only session waiting for the person's answer."""
    refs = [n for n in ctx.command.numbers if len(n) >= REF_MIN_DIGITS]
    ref = refs[0] if refs else queries.only_waiting_ref(ctx.person.id)
    if ref is None:
        ctx.say("answer_usage")
        return
    sessions.answer_session(ctx.person.id, ref, accept, via="sms", now=ctx.now)
    if accept:
        ctx.replied("confirmed")  # the service's confirmation is the reply
    else:
        ctx.say("disputed", ref=ref)


def _yes(ctx: Context) -> None:
    _answer(ctx, True)


def _no(ctx: Context) -> None:
    _answer(ctx, False)


def _rate(ctx: Context) -> None:
    """RATE <ref> <1-5>, or RATE <1-5> for the latest session. Anything else (a range copied
    from the prompt, extra numbers, stars out of 1..5) is explained, never guessed."""
    numbers = ctx.command.numbers
    refs = [n for n in numbers if len(n) >= REF_MIN_DIGITS]
    stars = [n for n in numbers if len(n) < REF_MIN_DIGITS]
    ref = refs[0] if refs else _latest_rateable(ctx.person)
    if len(refs) > 1 or len(stars) != 1 or stars[0] not in STARS or ref is None:
        ctx.say("rate_usage", ref=ref or replies.word("ref", ctx.language))
        return
    rating = ratings.rate(ctx.person.id, ref, int(stars[0]), "sms", now=ctx.now)
    ctx.say("rated", provider=queries.provider_name(rating.provider_id), stars=stars[0])


def _latest_rateable(person: Entrepreneur) -> str | None:
    latest = ratings.rateable_sessions(person.id, limit=1)
    return latest[0].ref if latest else None


def _stop(ctx: Context) -> None:
    entrepreneurs.set_sms_opt_out(ctx.person.id, True, now=ctx.now)
    ctx.say("stopped")


def _start(ctx: Context) -> None:
    entrepreneurs.set_sms_opt_out(ctx.person.id, False, now=ctx.now)
    ctx.say("started")


def _language(ctx: Context) -> None:
    wanted = next((LANGUAGE_WORDS[w] for w in ctx.command.words if w in LANGUAGE_WORDS), None)
    if wanted is None:
        wanted = "sw" if ctx.command.swahili else "en"
    if ctx.person.language != wanted:
        entrepreneurs.set_language(ctx.person.id, wanted, now=ctx.now)
    ctx.language = wanted
    ctx.say("language_set")


HANDLERS: dict[str, Callable[[Context], None]] = {
    "help": _help,
    "unknown": _unknown,
    "unsure": _unsure,
    "bal": _balance,
    "find": _find,
    "more": _more,
    "book": _book,
    "cancel": _cancel,
    "yes": _yes,
    "no": _no,
    "rate": _rate,
    "stop": _stop,
    "start": _start,
    "lang": _language,
    # A mentor's commands from a phone that is no mentor's: not understood.
    **{name: _unknown for name in MENTOR_COMMANDS},
}
