"""A mentor's SMS commands: TRAINEES, REC, CODE, SESSIONS, PAY, PAID, HELP (and LANG), each reply
in one SMS part, in the mentor's language.

A mentor names a trainee by the short number the TRAINEES list gives (stable per booking), never
by a phone number; every read goes through `queries.mentor` with the mentor's own provider, so
another provider's trainee number is unknown here. Recording and the trainee's code go through the
service the web page and the USSD menu use (`sessions.record_session`,
`sessions.confirm_with_code`, `co_payments.record_co_payment`): the same rules, the same double-send guard, the same flags, audit
and outbox, and the same attempt limits on codes whoever types them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from marketplace.domain import errors
from marketplace.domain.days import typed_day
from marketplace.domain.models import InboundSms
from marketplace.domain.money import format_minor
from marketplace.messages import outbound as texts
from marketplace.messages.gsm import gsm7_length, to_gsm7
from marketplace.queries import mentor as reads
from marketplace.queries.mentor import MentorCaller
from marketplace.services import co_payments, inbound_sms, mentor_auth, sessions, settings, unit

from .keywords import LANGUAGE_WORDS, Command
from .replies import SMS_PART, ErrorReply, context_params, one_part, short

NAME = 14  # a trainee's first name in a list line
YESTERDAY = frozenset({"JANA", "YESTERDAY", "YDAY"})
TODAY = frozenset({"LEO", "TODAY"})
_NUMBER = re.compile(r"^#?(\d{1,6})$")
_MINUTES = re.compile(r"^(\d{1,4})(?:MIN|MINS|MINUTES|M|DK|DAKIKA)?$")
CODE_MIN_DIGITS = 5  # a confirmation code has 6 digits; trainee numbers fewer


@dataclass
class MentorContext:
    """One inbound message from a mentor's phone being answered."""

    uow: unit.UnitOfWork
    inbound: InboundSms
    command: Command
    mentor: MentorCaller
    language: str

    @property
    def phone(self) -> str:
        return self.inbound.from_phone

    @property
    def now(self) -> datetime:
        return self.uow.now

    def say(self, key: str, **params: Any) -> None:
        self.send(texts.reply(key, self.language, **params), key)

    def send(self, body: str, kind: str) -> None:
        self.uow.sms_text(self.phone, body, "reply", at=self.now)
        inbound_sms.answered(self.inbound, kind)


def answer(ctx: MentorContext) -> None:
    HANDLERS.get(ctx.command.name, _help)(ctx)


def _help(ctx: MentorContext) -> None:
    ctx.say("mentor_help", ussd=settings.ussd_code())


# --------------------------------------------------------------------------- trainees


def trainees_text(lang: str, rows: list[reads.BookingRow], ussd: str) -> str:
    """The trainees by their short numbers, as many as one part holds, and how to see the rest."""
    head = texts.reply("mentor_trainees_header", lang)
    lines = [
        texts.reply(
            "mentor_trainee_line",
            lang,
            number=r.trainee_no,
            name=short(r.first_name, NAME),
            done=r.sessions_confirmed,
            total=r.sessions_total,
            date=r.expires_on.strftime("%d/%m"),
        )
        for r in rows
    ]
    return one_part(
        head, lines, lambda more: texts.reply("mentor_more", lang, count=more, ussd=ussd)
    )


def _trainees(ctx: MentorContext) -> None:
    rows = reads.trainees(ctx.mentor.provider_id, ctx.language)
    if not rows:
        ctx.say("mentor_trainees_none")
        return
    ctx.send(trainees_text(ctx.language, rows, settings.ussd_code()), "mentor_trainees")


# --------------------------------------------------------------------------- record a session


@dataclass(frozen=True)
class Rec:
    trainee_no: int
    minutes: int
    day: date
    topic: str


def read_rec(text: str, today: date) -> Rec | None:
    """`REC <trainee no.> <minutes> [topic]`, with JANA (yesterday) or a date (DDMM, D/M) among
    the words after the minutes; None when the trainee number or the minutes are missing. A
    date that is no date stays in the topic; the service says when a day is out of bounds."""
    words = text.split()[1:]
    if len(words) < 2:
        return None
    number, minutes = _NUMBER.match(words[0]), _MINUTES.match(words[1].upper())
    if number is None or minutes is None:
        return None
    rest = words[2:]
    day = today
    for i, word in enumerate(rest):
        upper = word.upper().strip(".,")
        typed = typed_day(upper, today)
        if upper in YESTERDAY or upper in TODAY or typed is not None:
            day = today - timedelta(days=1) if upper in YESTERDAY else typed or today
            del rest[i]
            break
    return Rec(int(number.group(1)), int(minutes.group(1)), day, " ".join(rest))


def _rec(ctx: MentorContext) -> None:
    rec = read_rec(ctx.inbound.text, ctx.now.date())
    if rec is None:
        ctx.say("rec_usage")
        return
    trainee = reads.trainee(ctx.mentor.provider_id, rec.trainee_no, ctx.language)
    if trainee is None:  # another provider's number is unknown here, as a number never given
        ctx.say("unknown_trainee", number=rec.trainee_no)
        return
    # Today, JANA and a typed date are the trainee's programme's days, as the service judges them.
    rec = read_rec(ctx.inbound.text, trainee.today(ctx.now)) or rec
    topic = rec.topic or texts.word("default_topic", ctx.language)
    recorded = sessions.record_session(
        ctx.mentor.id,
        sessions.NewSession(
            booking_id=trainee.id,
            delivered_on=rec.day,
            duration_minutes=rec.minutes,
            topic=topic,
        ),
        now=ctx.now,
    )
    ctx.say(
        "recorded",
        number=trainee.trainee_no,
        name=short(trainee.first_name, NAME),
        date=recorded.delivered_on.strftime("%d/%m"),
        minutes=recorded.duration_minutes,
        ref=recorded.ref,
    )


# --------------------------------------------------------------------------- the trainee's code


def which_trainee_text(lang: str, waiting: list[reads.PhoneSession]) -> str:
    """Several trainees' sessions wait: CODE <trainee no.> <code>, and who they are."""
    numbers = list(dict.fromkeys(s.trainee_no for s in waiting))
    firsts = [next(s for s in waiting if s.trainee_no == n) for n in numbers]
    head = texts.reply("code_which", lang, number=numbers[0])
    lines = [
        texts.reply(
            "code_which_line",
            lang,
            number=s.trainee_no,
            name=short(s.first_name, NAME),
            date=s.delivered_on.strftime("%d/%m"),
        )
        for s in firsts
    ]
    return one_part(head, lines, lambda more: texts.reply("mentor_more_short", lang, count=more))


def _code(ctx: MentorContext) -> None:
    numbers = ctx.command.numbers
    codes = [n for n in numbers if len(n) >= CODE_MIN_DIGITS]
    named = [n for n in numbers if len(n) < CODE_MIN_DIGITS]
    if len(codes) != 1 or len(named) > 1:
        ctx.say("code_usage")
        return
    trainee_no = int(named[0]) if named else None
    waiting = reads.waiting_sessions(ctx.mentor.provider_id, trainee_no)
    if not waiting:
        if trainee_no is not None and reads.trainee(ctx.mentor.provider_id, trainee_no) is None:
            ctx.say("unknown_trainee", number=trainee_no)
        else:
            ctx.say("code_none_waiting")
        return
    if len({s.trainee_no for s in waiting}) > 1:
        ctx.send(which_trainee_text(ctx.language, waiting), "code_which")
        return
    session = waiting[0]  # the trainee's oldest session waiting for an answer
    confirmed = sessions.confirm_with_code(ctx.mentor.id, session.id, codes[0], now=ctx.now)
    if ctx.mentor.answers_provider_phone:
        inbound_sms.answered(ctx.inbound, "confirmed")  # the service's SMS to this phone says it
        return
    ctx.say(
        "code_confirmed",
        ref=confirmed.ref,
        name=short(session.first_name, NAME),
        value=format_minor(confirmed.value_minor, confirmed.currency),
    )


# --------------------------------------------------------------------------- the co-payment


def _paid(ctx: MentorContext) -> None:
    """`PAID <trainee no.>`: the trainee paid their co-payment (their share of the voucher)."""
    numbers = ctx.command.numbers
    if len(numbers) != 1 or _NUMBER.match(numbers[0]) is None:
        ctx.say("paid_usage")
        return
    trainee = reads.trainee(ctx.mentor.provider_id, int(numbers[0]), ctx.language)
    if trainee is None:
        ctx.say("unknown_trainee", number=int(numbers[0]))
        return
    voucher = co_payments.record_co_payment(ctx.mentor.id, trainee.id, now=ctx.now)
    ctx.say(
        "paid_recorded",
        number=trainee.trainee_no,
        name=short(trainee.first_name, NAME),
        share=format_minor(voucher.co_payment_minor, voucher.currency),
    )


# --------------------------------------------------------------------------- sessions and pay


def sessions_text(lang: str, counts: reads.SessionCounts, ussd: str) -> str:
    head = texts.reply(
        "mentor_sessions_header",
        lang,
        waiting=counts.waiting,
        confirmed=counts.confirmed,
        disputed=counts.disputed,
        lapsed=counts.lapsed,
    )
    lines = [
        texts.reply(
            "mentor_session_line",
            lang,
            number=s.trainee_no,
            name=short(s.first_name, NAME),
            date=s.delivered_on.strftime("%d/%m"),
            status=texts.word(f"mentor_{s.status}", lang),
        )
        for s in counts.recent
    ]
    return one_part(
        head, lines, lambda more: texts.reply("mentor_more", lang, count=more, ussd=ussd)
    )


def _sessions(ctx: MentorContext) -> None:
    counts = reads.session_counts(ctx.mentor.provider_id)
    ctx.send(sessions_text(ctx.language, counts, settings.ussd_code()), "mentor_sessions")


def _amount(minor: int, currency: str) -> str:
    """An amount without its currency (the statement names it once)."""
    return format_minor(minor, currency).partition(" ")[2]


def _flag_words(flags: list[str], lang: str) -> str:
    words: list[str] = []
    for flag in flags:
        key = f"flag_{flag}"
        word = texts.word(key, lang)
        word = texts.word("flag_other", lang) if word == key else word
        if word not in words:
            words.append(word)
    return ", ".join(words)


def pay_text(lang: str, m: reads.Money) -> str:
    """The statement in one part: earned, paid, due, what is held and why, the last payment.
    Why and the reference are cut shorter until it fits."""
    cur = m.currency
    body = ""
    for limit in range(40, 3, -1):
        parts = [
            texts.reply(
                "pay",
                lang,
                currency=cur,
                earned=_amount(m.earned_minor, cur),
                paid=_amount(m.paid_minor, cur),
                pending=_amount(m.pending_minor, cur),
            )
        ]
        if m.held_minor:
            why = short(_flag_words(m.held_why, lang), limit)
            parts.append(texts.reply("pay_held", lang, held=_amount(m.held_minor, cur), why=why))
        if m.last_paid_minor is not None:
            parts.append(
                texts.reply(
                    "pay_last",
                    lang,
                    amount=_amount(m.last_paid_minor, cur),
                    date=m.last_paid_at.strftime("%d/%m") if m.last_paid_at else "-",
                    ref=short(m.last_reference or "-", min(limit, 20)),
                )
            )
        else:
            parts.append(texts.reply("pay_none", lang))
        body = " ".join(parts)
        if gsm7_length(to_gsm7(body)) <= SMS_PART:
            break
    return body


def _pay(ctx: MentorContext) -> None:
    ctx.send(pay_text(ctx.language, reads.money(ctx.mentor.provider_id)), "pay")


def _language(ctx: MentorContext) -> None:
    wanted = next((LANGUAGE_WORDS[w] for w in ctx.command.words if w in LANGUAGE_WORDS), None)
    if wanted is None:
        wanted = "sw" if ctx.command.swahili else "en"
    mentor_auth.set_language(ctx.mentor.id, wanted, now=ctx.now)
    ctx.language = wanted
    ctx.say("language_set")


HANDLERS: dict[str, Callable[[MentorContext], None]] = {
    "help": _help,
    "trainees": _trainees,
    "rec": _rec,
    "code": _code,
    "sessions": _sessions,
    "pay": _pay,
    "paid": _paid,
    "lang": _language,
}


# --------------------------------------------------------------------------- refusals


def refusal(exc: errors.DomainError, command: str) -> ErrorReply:
    """A service's refusal as a reply a mentor can act on."""
    if isinstance(exc, errors.InvalidInput):
        field = str(exc.context.get("field") or "")
        keys = {"delivered_on": "rec_bad_date", "duration_minutes": "rec_bad_minutes"}
        return ErrorReply(keys.get(field, "rec_bad_topic"))
    if command == "code" and type(exc) is errors.IllegalTransition:
        return ErrorReply("code_answered")  # answered meanwhile (the trainee's YES or NO)
    return errors.most_specific(ERROR_REPLIES, exc) or ErrorReply("failed")


ERROR_REPLIES: dict[type[errors.DomainError], ErrorReply] = {
    errors.CodeInvalid: ErrorReply("code_wrong"),
    errors.TooManyAttempts: ErrorReply("code_locked"),
    errors.SessionLapsed: ErrorReply("mentor_session_lapsed"),
    errors.IllegalTransition: ErrorReply("rec_not_active"),  # the booking ended
    errors.VoucherFullyUsed: ErrorReply("rec_all_recorded"),
    errors.VoucherNotUsable: ErrorReply("trainee_voucher_ended"),
    errors.BookingNotActive: ErrorReply("mentor_booking_not_active"),
    errors.CoPaymentDue: ErrorReply("rec_co_payment_due", context_params("share")),
    errors.CoPaymentAlreadyRecorded: ErrorReply("paid_already"),
    errors.NoCoPayment: ErrorReply("paid_none"),
}
