"""What the SMS commands answer: the texts of one SMS part each (lists, balances, choices), and the
one table that turns a service's refusal into a reply.

Each reply fits one SMS part (160 GSM-7 characters): names are cut, and lines left out with a
count of them, rather than send a second part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marketplace.domain import errors
from marketplace.domain.codes import format_voucher_code
from marketplace.domain.money import format_minor
from marketplace.messages import outbound as texts
from marketplace.messages.gsm import cut, gsm7_length, to_gsm7
from marketplace.queries.sms import ActiveBooking, HeldVoucher
from marketplace.services.bookings import ProviderCard

SMS_PART = 160  # septets in one SMS part
LIST_NAME_MAX = 18
BALANCE_NAME_MIN = 12  # a mentor's name on a line of BAL is cut to this to fit more lines


def reply(key: str, lang: str, **params: Any) -> str:
    return texts.reply(key, lang, **params)


def word(key: str, lang: str) -> str:
    return texts.word(key, lang)


def short(name: str, limit: int = LIST_NAME_MAX) -> str:
    """A name on one line in at most `limit` septets."""
    return cut(" ".join(to_gsm7(name).split()), limit).rstrip()


def one_part(head: str, lines: list[str], tail: Callable[[int], str]) -> str:
    """`head` and as many of `lines` as fit one SMS part, ended by `tail(how many were left
    out)` when not all of them fit."""
    for shown in range(len(lines), 0, -1):
        end = [tail(len(lines) - shown)] if shown < len(lines) else []
        body = "\n".join([head, *lines[:shown], *end])
        if gsm7_length(to_gsm7(body)) <= SMS_PART:
            return body
    return "\n".join([head, tail(len(lines))])


def listing_text(lang: str, trade: str, area: str, cards: list[ProviderCard], *, more: bool) -> str:
    """A page of mentors in one SMS part, under the trade and the area it lists; mentors' names
    are cut shorter when the trade and area names are long."""
    head = reply("find_header", lang, trade=trade, area=area)
    footer = reply("find_footer", lang)
    if more:
        footer += reply("find_more", lang)
    body = ""
    for limit in range(LIST_NAME_MAX, 0, -1):
        lines = [
            reply(
                "find_line",
                lang,
                number=card.number,
                provider=short(card.name, limit),
                kind=reply(f"kind_{card.kind}", lang),
                rating=f", {card.rating:.1f}*" if card.rating is not None else "",
            )
            for card in cards
        ]
        body = "\n".join([head, *lines, footer])
        if gsm7_length(body) <= SMS_PART:
            break
    return body


def balance_text(lang: str, held: list[HeldVoucher], ussd: str) -> str:
    """The person's vouchers, each with its mentor: names whole when every voucher fits, cut
    shorter to fit more of them, and a count of those left out."""
    head = reply("balance_header", lang)

    def lines(name_limit: int) -> list[str]:
        out = []
        for v in held:
            params: dict[str, Any] = {
                "code": format_voucher_code(v.code),
                "left": v.sessions_left,
                "total": v.sessions_total,
                "expiry": v.expires_at.strftime("%d/%m/%y"),
            }
            if v.free:
                line = reply("balance_free", lang, **params)
            else:
                name = short(v.provider or "?", name_limit)
                line = reply("balance_booked", lang, provider=name, **params)
            out.append(line + _share(lang, v))
        return out

    for limit in range(LIST_NAME_MAX, BALANCE_NAME_MIN - 1, -1):
        shown = lines(limit)
        if gsm7_length(to_gsm7("\n".join([head, *shown]))) <= SMS_PART:
            break
    return one_part(head, shown, lambda more: reply("balance_more", lang, count=more, ussd=ussd))


def _share(lang: str, v: HeldVoucher) -> str:
    """The entrepreneur's co-payment after a voucher's line: to pay, or recorded paid."""
    if not v.co_payment_minor:
        return ""
    share = format_minor(v.co_payment_minor, v.currency)
    return reply(
        "balance_share_paid" if v.co_payment_recorded else "balance_share_due", lang, share=share
    )


def which_booking_text(lang: str, chosen: list[ActiveBooking]) -> str:
    """The bookings to choose from, each with the number to send after CANCEL: the mentor's,
    or the voucher's when one mentor has two of them."""
    shared = {b.number for b in chosen if sum(c.number == b.number for c in chosen) > 1}
    numbers = [format_voucher_code(b.code) if b.number in shared else b.number for b in chosen]
    lines = [
        reply("cancel_line", lang, number=number, provider=short(b.name))
        for number, b in zip(numbers, chosen, strict=True)
    ]
    head = reply("cancel_which", lang, number=numbers[-1])
    return one_part(head, lines, lambda more: reply("cancel_more", lang, count=more))


# --------------------------------------------------------------------------- refusals


Params = Callable[[errors.DomainError, str], dict[str, Any]]  # (the error, the language)


def _nothing(_exc: errors.DomainError, _lang: str) -> dict[str, Any]:
    return {}


def context_params(*names: str) -> Params:
    """Params read from the error's own fields."""
    return lambda exc, _lang: {name: exc.context.get(name, "") for name in names}


_context = context_params


def _reason(word: str) -> Params:
    return lambda _exc, lang: {"reason": texts.word(word, lang)}


def _answered(exc: errors.DomainError, lang: str) -> dict[str, Any]:
    return {
        "ref": exc.context.get("ref", ""),
        "status": texts.word(str(exc.context["status"]), lang),
    }


@dataclass(frozen=True)
class ErrorReply:
    key: str
    params: Params = _nothing


# A service's refusal as a reply the person can act on: the most specific class listed wins;
# anything not listed is answered with the polite "failed".
ERROR_REPLIES: dict[type[errors.DomainError], ErrorReply] = {
    errors.ProviderNotBookable: ErrorReply("provider_not_bookable", _context("provider")),
    errors.ProviderFull: ErrorReply("provider_full", _context("provider")),
    errors.VoucherNotUsable: ErrorReply("no_free_voucher"),
    errors.VoucherExpired: ErrorReply("voucher_expired"),
    errors.VoucherRevoked: ErrorReply("voucher_not_usable", _reason("revoked")),
    errors.VoucherFullyUsed: ErrorReply("voucher_not_usable", _reason("completed")),
    errors.VoucherAlreadyBooked: ErrorReply("voucher_not_usable", _reason("booked")),
    errors.CannotCancel: ErrorReply("cannot_cancel"),
    errors.SessionAwaitsAnswer: ErrorReply("cancel_answer_first", _context("provider", "ref")),
    errors.BookingChanged: ErrorReply("booking_changed"),
    errors.UnknownSession: ErrorReply("unknown_session", _context("ref")),
    errors.BookingNotActive: ErrorReply("session_booking_cancelled", _context("ref")),
    errors.SessionLapsed: ErrorReply("session_lapsed", _context("ref")),
    errors.SessionAlreadyAnswered: ErrorReply("already_answered", _answered),
    errors.SessionNotRateable: ErrorReply("not_rateable", _context("ref")),
    errors.AlreadyRated: ErrorReply("already_rated"),
}
FAILED = ErrorReply("failed")


def error_reply(exc: errors.DomainError, lang: str) -> tuple[str, dict[str, Any]]:
    """The reply key for a refusal, and its params (from the error's own fields)."""
    found = errors.most_specific(ERROR_REPLIES, exc) or FAILED
    return found.key, found.params(exc, lang)
