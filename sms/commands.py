"""SMS keyword commands: what an entrepreneur can do by SMS alone.

Every inbound SMS is stored once in `sms_inbound`, keyed by the gateway's id: a re-delivery (the
gateway retries for minutes when it gets no 200, and sometimes when it did) hits the unique
constraint and changes nothing, sends nothing. The row is written in the same transaction as the
change the command makes and the reply it queues, so a reply never goes out without its change, nor
the change without its reply.

Commands (English and Kiswahili keywords, any case and punctuation; see `parse` for the small
misspellings tolerated):

    HELP / MSAADA                     the list of commands
    BAL / SALIO                       my vouchers
    FIND / TAFUTA <trade> [area|ALL]  bookable mentors with their numbers (recorded as impressions)
    MORE / ZAIDI                      the next page of the last list
    BOOK / CHAGUA / WEKA <no.> [voucher code]
    CANCEL / GHAIRI [mentor no.|voucher code]   cancel a booking before its first session
    YES / NDIO <ref>, NO / HAPANA <ref>   confirm or dispute a recorded session
    RATE / KADIRIA <ref> <1-5>
    STOP / ACHA, START / ANZA         reminders off / on (essential messages still come)
    LANG / LUGHA EN|SW

A list sent by FIND is remembered on the inbound row (`reply_kind = "find:<listing id>"`), so the
BOOK that follows records the pick against the list it came from.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from marketplace.domain import errors
from marketplace.domain.base import utcnow
from marketplace.domain.codes import format_voucher_code, normalise_voucher_code
from marketplace.domain.models import (
    ACTIVE_VOUCHER_STATUSES,
    Booking,
    BookingStatus,
    Entrepreneur,
    Impression,
    InboundSms,
    Programme,
    Provider,
    ProviderStaff,
    SessionStatus,
    TrainingSession,
    Voucher,
    VoucherStatus,
)
from marketplace.extensions import db
from marketplace.messages import outbound as texts
from marketplace.messages.gsm import cut, gsm7_length, to_gsm7
from marketplace.services import (
    bookings,
    entrepreneurs,
    outbox,
    ratings,
    reference,
    sessions,
    settings,
    unit,
)

log = logging.getLogger(__name__)

# More inbound SMS than this from one number within the hour are stored but not answered: a loop
# with another automatic responder must not cost us an SMS per message.
REPLY_LIMIT_PER_HOUR = 30
LISTING_MEMORY = timedelta(days=7)  # how long a BOOK still counts as a pick from an earlier FIND
BALANCE_NAME_MIN = 12  # a mentor's name on a line of BAL is cut to this to fit more lines
SMS_PART = 160  # septets in one SMS part
LIST_NAME_MAX = 18
REF_MIN_DIGITS = 4  # session refs have 4 to 6 digits; stars one
STARS = ("1", "2", "3", "4", "5")

# keyword -> (command, is Kiswahili)
KEYWORDS: dict[str, tuple[str, bool]] = {
    "HELP": ("help", False),
    "INFO": ("help", False),
    "MENU": ("help", False),
    "MSAADA": ("help", True),
    "SAIDIA": ("help", True),
    "BAL": ("bal", False),
    "BALANCE": ("bal", False),
    "VOUCHER": ("bal", False),
    "VOUCHERS": ("bal", False),
    "SALIO": ("bal", True),
    "VOCHA": ("bal", True),
    "FIND": ("find", False),
    "SEARCH": ("find", False),
    "LIST": ("find", False),
    "TAFUTA": ("find", True),
    "MORE": ("more", False),
    "NEXT": ("more", False),
    "ZAIDI": ("more", True),
    "BOOK": ("book", False),
    "CHOOSE": ("book", False),
    "PICK": ("book", False),
    "CHAGUA": ("book", True),
    "WEKA": ("book", True),
    "CANCEL": ("cancel", False),
    "GHAIRI": ("cancel", True),
    "SITISHA": ("cancel", True),
    "YES": ("yes", False),
    "Y": ("yes", False),
    "NDIO": ("yes", True),
    "NDIYO": ("yes", True),
    "NO": ("no", False),
    "N": ("no", False),
    "HAPANA": ("no", True),
    "RATE": ("rate", False),
    "RATING": ("rate", False),
    "KADIRIA": ("rate", True),
    "STOP": ("stop", False),
    "UNSUBSCRIBE": ("stop", False),
    "ACHA": ("stop", True),
    "START": ("start", False),
    "ANZA": ("start", True),
    "LANG": ("lang", False),
    "LANGUAGE": ("lang", False),
    "LUGHA": ("lang", True),
}
LANGUAGE_WORDS = {
    "EN": "en",
    "ENG": "en",
    "ENGLISH": "en",
    "KIINGEREZA": "en",
    "SW": "sw",
    "SWA": "sw",
    "SWAHILI": "sw",
    "KISWAHILI": "sw",
}
ALL_AREAS = {"ALL", "YOTE", "KOTE", "ANY"}
SLIP_MIN = 4  # keywords this long forgive one letter wrong, missing or swapped
# Commands that change something: never read from a longer word, nor from a misspelt keyword
# followed by more than their arguments.
CHANGES = frozenset({"book", "cancel", "yes", "no", "rate", "stop", "start", "lang"})
# Everyday words one slip from a keyword (Kiswahili, English, names): never read as commands.
NOT_KEYWORDS = frozenset(
    {
        # Kiswahili words and names
        "AHA", "ANA", "ANGA", "ANNA", "ASHA", "BEKA", "CHA", "HAWANA", "HELA", "LEKA", "NDIYE",
        "PEKA", "RATA", "SEKA", "TEKA", "WEMA", "WEZA", "YENU",
        # English words
        "BIND", "BOOM", "BOOT", "BORE", "CANCER", "CHOSE", "COOK", "CORE", "DATE", "FINE",
        "FIST", "FOND", "FUND", "GATE", "GIST", "HATE", "HEAP", "HELD", "HELL", "HOOK", "INTO",
        "KICK", "KIND", "LAND", "LANE", "LAST", "LATE", "LICK", "LONG", "LOOK", "LOST", "LUNG",
        "LUST", "MARE", "MATE", "MEND", "MIND", "MIST", "MODE", "MOVE", "NEST", "NICK", "PACK",
        "PECK", "PINK", "RACE", "RARE", "RATS", "SHOP", "SICK", "SLOP", "SMART", "SORE", "STAR",
        "STARE", "STARS", "STEP", "TART", "TEXT", "TOOK", "TOP", "WIND", "WORE",
    }
)  # fmt: skip
# Replies to a FIND (or MORE) that listed nobody: a MORE after one of them has nothing to continue.
FIND_EMPTY_REPLIES = ("find_none", "find_no_more", "unknown_trade", "unknown_area")


@dataclass(frozen=True)
class Command:
    name: str  # help, bal, find, more, book, cancel, yes, no, rate, stop, start, lang, unknown,
    # unsure (a word like a keyword: asked about, not acted on)
    words: list[str]  # what followed the keyword, as tokens (letters or digits)
    swahili: bool = False
    keyword: str = ""  # the keyword read (or meant, when unsure)

    @property
    def numbers(self) -> list[str]:
        return [w for w in self.words if w.isdigit()]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """Letters and digits, upper case: 'Yes,4821!' -> ['YES', '4821']."""
    return re.findall(r"[A-Z]+|[0-9]+", _fold(text).upper())


def parse(text: str) -> Command:
    """The command an SMS asks for. A keyword of four letters or more may have one letter
    wrong, missing or swapped with its neighbour ('stpo', 'FIMD', 'BOOL 25872'); short ones
    (Y, N, BAL) must be exact. A command that changes something is read from a misspelt keyword
    only when nothing but its arguments follow, and never from a longer word ('CANCELLED',
    'BOOKED'): those are asked about instead ('unsure')."""
    words = tokens(text)
    if not words:
        return Command("unknown", [])
    first, rest = words[0], words[1:]
    if first in KEYWORDS:
        name, swahili = KEYWORDS[first]
        return Command(name, rest, swahili, first)
    if first in NOT_KEYWORDS:
        return Command("unknown", words)
    slipped = _keyword_near(first, _one_slip)
    if slipped is not None:
        name, swahili = KEYWORDS[slipped]
        if name in CHANGES and not _only_arguments(name, rest):
            name = "unsure"
        return Command(name, rest, swahili, slipped)
    longer = _keyword_near(first, _extends)
    if longer is not None:
        name, swahili = KEYWORDS[longer]
        return Command("help" if name == "help" else "unsure", rest, swahili, longer)
    return Command("unknown", words)


def _keyword_near(word: str, near: Callable[[str, str], bool]) -> str | None:
    """The (longest) keyword `word` is near, when those it is near all mean one command."""
    found = [k for k in KEYWORDS if len(k) >= SLIP_MIN and near(word, k)]
    if len({KEYWORDS[k][0] for k in found}) != 1:
        return None
    return max(found, key=len)


def _one_slip(typed: str, keyword: str) -> bool:
    """One letter wrong, one missing, or two neighbours swapped."""
    if len(typed) == len(keyword) - 1:
        return any(keyword[:i] + keyword[i + 1 :] == typed for i in range(len(keyword)))
    if len(typed) != len(keyword):
        return False
    wrong = [i for i, (a, b) in enumerate(zip(typed, keyword, strict=True)) if a != b]
    if len(wrong) == 1:
        return True
    return (
        len(wrong) == 2
        and wrong[1] == wrong[0] + 1
        and typed[wrong[0]] == keyword[wrong[1]]
        and typed[wrong[1]] == keyword[wrong[0]]
    )


def _extends(typed: str, keyword: str) -> bool:
    """A longer word: the keyword with more after it ('CANCELLED') or a letter added."""
    if len(typed) <= len(keyword):
        return False
    return typed.startswith(keyword) or (
        len(typed) == len(keyword) + 1
        and any(typed[:i] + typed[i + 1 :] == keyword for i in range(len(typed)))
    )


def _only_arguments(name: str, rest: list[str]) -> bool:
    """Nothing follows but what the command takes: numbers, or a language for LANG."""
    if name == "lang":
        return bool(rest) and all(w in LANGUAGE_WORDS for w in rest)
    return all(w.isdigit() for w in rest)


# --------------------------------------------------------------------------- handling


@dataclass
class Context:
    """One inbound message being answered."""

    inbound: InboundSms
    phone: str
    command: Command
    now: datetime
    language: str
    person: Entrepreneur | None = None
    replies: list[str] = field(default_factory=list)
    ref: str | None = None  # the session the command is about, once known

    def say(self, key: str, *, delay: timedelta | None = None, **params: Any) -> None:
        self.send(texts.reply(key, self.language, **params), key, delay=delay)

    def send(self, body: str, kind: str, *, delay: timedelta | None = None) -> None:
        """Queue a reply in the current transaction; `delay` orders it after the service's own
        notification of the same change."""
        outbox.queue_text(self.phone, body, "reply", now=self.now + (delay or timedelta()))
        self.inbound.reply_kind = kind[:40]
        self.replies.append(body)


def handle_inbound(message: dict[str, Any]) -> None:
    """The inbound-SMS callback: store once, run the command, reply. Never raises."""
    try:
        _handle(message, utcnow())
    except Exception:
        log.exception("inbound SMS could not be handled; answering politely")
        try:
            unit.rollback()
            _store_and_reply(message, utcnow(), "failed", None)
        except Exception:
            log.exception("could not even store the inbound SMS")
            db.session.rollback()


def _new_row(message: dict[str, Any], now: datetime) -> InboundSms | None:
    """The inbound row, flushed; None when this gateway id was seen before."""
    row = InboundSms(
        gateway_id=str(message["id"])[:100],
        from_phone=str(message["from_"]),
        to_code=str(message.get("to") or "")[:20],
        text=str(message.get("text") or "")[:1000],
        received_at=now,
        reply_kind=None,
    )
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        unit.rollback()
        log.info("inbound SMS delivered again; ignored")
        return None
    return row


def _handle(message: dict[str, Any], now: datetime) -> None:
    row = _new_row(message, now)
    if row is None:
        return
    phone = row.from_phone
    command = parse(row.text)
    person = entrepreneurs.by_phone(phone)
    language = person.language if person else ("sw" if command.swahili else "en")
    ctx = Context(row, phone, command, now, language, person)
    if _too_many(phone, now):
        row.reply_kind = "throttled"
        unit.commit()
        log.warning("inbound SMS from a number over its hourly limit; not answered")
        return
    try:
        if person is None:
            _stranger(ctx)
        else:
            HANDLERS[command.name](ctx, person)
        unit.commit()
    except errors.DomainError as exc:
        unit.rollback()
        key, params = _error_reply(ctx, exc)
        # Still stored when a service committed it with a change it made before refusing (an
        # answer after the time to answer lapses the session, then is refused): reply on it.
        kept = row if sa.inspect(row).persistent else None
        _store_and_reply(message, now, key, language, row=kept, **params)


def _store_and_reply(
    message: dict[str, Any],
    now: datetime,
    key: str,
    language: str | None,
    *,
    row: InboundSms | None = None,
    **params: Any,
) -> None:
    """A fresh transaction: the inbound row (if still new, or the one given) and one reply."""
    row = row or _new_row(message, now)
    if row is None:
        return
    if language is None:
        person = entrepreneurs.by_phone(row.from_phone)
        language = person.language if person else "en"
    outbox.queue_text(row.from_phone, texts.reply(key, language, **params), "reply", now=now)
    row.reply_kind = key
    unit.commit()


def _too_many(phone: str, now: datetime) -> bool:
    recent = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(InboundSms)
        .where(InboundSms.from_phone == phone, InboundSms.received_at > now - timedelta(hours=1))
    )
    return (recent or 0) > REPLY_LIMIT_PER_HOUR


def _stranger(ctx: Context) -> None:
    if ctx.command.name == "stop":
        ctx.inbound.reply_kind = "none"  # someone who asks us to stop gets no SMS back
        return
    is_mentor = db.session.scalar(
        sa.select(sa.literal(1)).where(
            sa.or_(
                sa.exists().where(Provider.phone == ctx.phone),
                sa.exists().where(ProviderStaff.phone == ctx.phone),
            )
        )
    )
    if is_mentor:
        ctx.say("mentor_number")
    else:
        ctx.say("not_registered", ussd=settings.ussd_code())


# --------------------------------------------------------------------------- commands


def _help(ctx: Context, _person: Entrepreneur) -> None:
    ctx.say("help")


def _unsure(ctx: Context, _person: Entrepreneur) -> None:
    """A word like a keyword: what to send to do it (with only the arguments the command
    takes), and nothing done."""
    keyword, words = ctx.command.keyword, ctx.command.words
    if KEYWORDS[keyword][0] in CHANGES:
        words = [w for w in words if w.isdigit() or w in LANGUAGE_WORDS]
    else:
        words = [w.lower() for w in words]
    ctx.say("did_you_mean", keyword=keyword, example=" ".join([keyword, *words]))


def _unknown(ctx: Context, _person: Entrepreneur) -> None:
    shown = " ".join(ctx.inbound.text.split())
    if not shown:
        ctx.say("help")
        return
    ctx.say("not_understood", text=shown)


def _balance(ctx: Context, person: Entrepreneur) -> None:
    rows = db.session.execute(
        sa.select(Voucher, Provider.name)
        .outerjoin(
            Booking,
            sa.and_(Booking.voucher_id == Voucher.id, Booking.status == BookingStatus.ACTIVE),
        )
        .outerjoin(Provider, Provider.id == Booking.provider_id)
        .where(
            Voucher.entrepreneur_id == person.id,
            Voucher.status.in_(ACTIVE_VOUCHER_STATUSES),
            Voucher.expires_at > ctx.now,
        )
        .order_by(Voucher.expires_at, Voucher.id)
    ).all()
    if not rows:
        ctx.say("balance_none")
        return
    lang = ctx.language
    head = texts.reply("balance_header", lang)

    def lines(name_limit: int) -> list[str]:
        out = []
        for v, provider in rows:
            params: dict[str, Any] = {
                "code": format_voucher_code(v.code),
                "left": v.sessions_left,
                "total": v.sessions_total,
                "expiry": v.expires_at.strftime("%d/%m/%y"),
            }
            if v.status == VoucherStatus.ISSUED:
                out.append(texts.reply("balance_free", lang, **params))
            else:
                name = _short(provider or "?", name_limit)
                out.append(texts.reply("balance_booked", lang, provider=name, **params))
        return out

    # Mentors' names whole when every voucher fits, shorter to fit more of them.
    for limit in range(LIST_NAME_MAX, BALANCE_NAME_MIN - 1, -1):
        shown = lines(limit)
        if gsm7_length(to_gsm7("\n".join([head, *shown]))) <= SMS_PART:
            break
    ussd = settings.ussd_code()
    body = _one_part(
        head, shown, lambda more: texts.reply("balance_more", lang, count=more, ussd=ussd)
    )
    ctx.send(body, "balance")


def _one_part(head: str, lines: list[str], tail: Callable[[int], str]) -> str:
    """`head` and as many of `lines` as fit one SMS part, ended by `tail(how many were left
    out)` when not all of them fit."""
    for shown in range(len(lines), 0, -1):
        end = [tail(len(lines) - shown)] if shown < len(lines) else []
        body = "\n".join([head, *lines[:shown], *end])
        if gsm7_length(to_gsm7(body)) <= SMS_PART:
            return body
    return "\n".join([head, tail(len(lines))])


def _short(name: str, limit: int = LIST_NAME_MAX) -> str:
    """A name on one line in at most `limit` septets."""
    return cut(" ".join(to_gsm7(name).split()), limit).rstrip()


def _find(ctx: Context, person: Entrepreneur) -> None:
    words = ctx.command.words
    if not words:
        trade: str | None = person.trade_code
        region: str | None = person.region_code
    else:
        trade, region, problem = _trade_and_area(words)
        if problem is not None:
            key, params = problem
            ctx.say(key, **params)
            return
    assert trade is not None
    _list(ctx, person, trade, region, page=0, listing_id=uuid.uuid4().hex)


def _trade_and_area(
    words: list[str],
) -> tuple[str | None, str | None, tuple[str, dict[str, Any]] | None]:
    """Split 'motor mechanics uasin gishu' or 'nakuru welding' into a trade and an area (county),
    tolerating typos. Words that are neither the trade nor a known area are said back, never
    dropped: a search is not widened to all areas without the person knowing."""
    n = len(words)
    for j in range(1, n):  # the trade first, then the area: the longest area first
        trade = reference.match_trade(" ".join(words[:j]))
        if trade is not None:
            known, region = _area(words[j:])
            if known:
                return trade, region, None
    for j in range(n - 1, 0, -1):  # the area first, then the trade
        known, region = _area(words[:j])
        if known:
            trade = reference.match_trade(" ".join(words[j:]))
            if trade is not None:
                return trade, region, None
    trade = reference.match_trade(" ".join(words))
    if trade is None:
        return None, None, ("unknown_trade", {"text": " ".join(words).lower()})
    own = _trade_words(trade)
    rest = [w for w in words if w not in own and reference.match_trade(w) != trade]
    if rest:
        return trade, None, ("unknown_area", {"text": " ".join(rest).lower(), "tcode": trade})
    return trade, None, None


def _area(words: list[str]) -> tuple[bool, str | None]:
    """(known, region code): a county, or None for ALL."""
    if len(words) == 1 and words[0] in ALL_AREAS:
        return True, None
    region = reference.match_region(" ".join(words))
    return region is not None, region


def _trade_words(trade: str) -> set[str]:
    """Every word of a trade's code, names and aliases ('metalwork and welding')."""
    for code, en, sw, aliases in reference.trades():
        if code == trade:
            return set(tokens(f"{code} {en} {sw} {aliases}"))
    return set()


def _list(
    ctx: Context,
    person: Entrepreneur,
    trade: str,
    region: str | None,
    *,
    page: int,
    listing_id: str,
) -> None:
    listing = bookings.find_providers(
        person.id, trade, region, page=page, channel="sms", listing_id=listing_id, now=ctx.now
    )
    lang = ctx.language
    trade_name = reference.trade_name(trade, lang)
    area = reference.region_name(region) if region else texts.reply("all_areas", lang)
    if not listing.providers:
        if page:
            ctx.say("find_no_more")
        else:
            ctx.say("find_none", trade=trade_name, area=area, tcode=trade)
        return
    body = listing_text(lang, trade_name, area, listing.providers, more=listing.has_more)
    ctx.send(body, f"find:{listing.listing_id}")


def listing_text(
    lang: str, trade: str, area: str, cards: list[bookings.ProviderCard], *, more: bool
) -> str:
    """A page of mentors in one SMS part, under the trade and the area it lists; mentors' names
    are cut shorter when the trade and area names are long."""
    head = texts.reply("find_header", lang, trade=trade, area=area)
    footer = texts.reply("find_footer", lang)
    if more:
        footer += texts.reply("find_more", lang)
    body = ""
    for limit in range(LIST_NAME_MAX, 0, -1):
        lines = [
            texts.reply(
                "find_line",
                lang,
                number=card.number,
                provider=_short(card.name, limit),
                kind=texts.reply(f"kind_{card.kind}", lang),
                rating=f", {card.rating:.1f}*" if card.rating is not None else "",
            )
            for card in cards
        ]
        body = "\n".join([head, *lines, footer])
        if gsm7_length(body) <= SMS_PART:
            break
    return body


def _recent_listings(phone: str, now: datetime) -> list[str]:
    kinds = db.session.scalars(
        sa.select(InboundSms.reply_kind)
        .where(
            InboundSms.from_phone == phone,
            InboundSms.reply_kind.like("find:%"),
            InboundSms.received_at > now - LISTING_MEMORY,
        )
        .order_by(InboundSms.id.desc())
        .limit(10)
    ).all()
    return list(dict.fromkeys(k.split(":", 1)[1] for k in kinds if k))


def _more(ctx: Context, person: Entrepreneur) -> None:
    listing_id = _latest_find(ctx.phone, ctx.now)
    last = None
    if listing_id is not None:
        last = db.session.execute(
            sa.select(
                Impression.trade_code, Impression.region_code, sa.func.max(Impression.position)
            )
            .where(Impression.listing_id == listing_id)
            .group_by(Impression.trade_code, Impression.region_code)
        ).first()
    if listing_id is None or last is None:
        ctx.say("find_no_more")
        return
    trade, region, position = last
    page = position // bookings.PAGE_SIZE + 1
    _list(ctx, person, trade, region, page=page, listing_id=listing_id)


def _latest_find(phone: str, now: datetime) -> str | None:
    """The list the person's latest FIND (or MORE) sent; None when that one listed nobody."""
    kind = db.session.scalar(
        sa.select(InboundSms.reply_kind)
        .where(
            InboundSms.from_phone == phone,
            sa.or_(
                InboundSms.reply_kind.like("find:%"),
                InboundSms.reply_kind.in_(FIND_EMPTY_REPLIES),
            ),
            InboundSms.received_at > now - LISTING_MEMORY,
        )
        .order_by(InboundSms.id.desc())
        .limit(1)
    )
    if kind is None or not kind.startswith("find:"):
        return None
    return kind.split(":", 1)[1]


def _listing_for(phone: str, provider_id: int, now: datetime) -> str | None:
    """The most recent list sent by SMS that showed this provider."""
    for listing_id in _recent_listings(phone, now):
        shown = db.session.scalar(
            sa.select(Impression.id)
            .where(Impression.listing_id == listing_id, Impression.provider_id == provider_id)
            .limit(1)
        )
        if shown is not None:
            return listing_id
    return None


def _book(ctx: Context, person: Entrepreneur) -> None:
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
    if named:
        code = normalise_voucher_code(named)
        voucher = (
            db.session.scalar(sa.select(Voucher).where(Voucher.code == code)) if code else None
        )
        if voucher is None or voucher.entrepreneur_id != person.id:
            ctx.say("unknown_voucher", number=named)
            return
        voucher_id = voucher.id
    else:
        free = bookings.bookable_vouchers(person.id, ctx.now)
        if not free:
            raise errors.VoucherNotUsable("You have no voucher free to book with.")
        voucher_id = free[0].id
        if len(free) > 1:
            ctx.say(
                "booked_which",
                delay=timedelta(seconds=1),
                code=format_voucher_code(free[0].code),
                expiry=free[0].expires_at.strftime("%d/%m/%Y"),
                number=provider.number,
            )
    ctx.inbound.reply_kind = "booked"
    bookings.book_provider(
        person.id,
        provider.id,
        voucher_id,
        channel="sms",
        listing_id=_listing_for(ctx.phone, provider.id, ctx.now),
        now=ctx.now,
    )


def _cancel(ctx: Context, person: Entrepreneur) -> None:
    """CANCEL <mentor number> or <voucher code> cancels that booking; a bare CANCEL the only
    booking that can be, and asks which when there are several."""
    active = db.session.execute(
        sa.select(
            Booking.id,
            Booking.voucher_id,
            Voucher.code,
            Voucher.status,
            Provider.number,
            Provider.name,
        )
        .join(Voucher, Voucher.id == Booking.voucher_id)
        .join(Provider, Provider.id == Booking.provider_id)
        .where(Voucher.entrepreneur_id == person.id, Booking.status == BookingStatus.ACTIVE)
        .order_by(Booking.created_at, Booking.id)
    ).all()
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
        chosen = [b for b in active if b.status == VoucherStatus.BOOKED]
        if not chosen:
            ctx.say("cannot_cancel")
            return
    if len(chosen) > 1:
        _which_booking(ctx, chosen)
        return
    booking = chosen[0]
    # Queued in the service's transaction: a refusal (a session waiting for an answer, sessions
    # started, or the booking read here no longer the voucher's: `BookingChanged`) rolls it back
    # and the reason is sent instead. So the reply names the booking cancelled.
    ctx.say("cancelled", provider=booking.name, code=format_voucher_code(booking.code))
    bookings.cancel_booking(
        person.id, booking.voucher_id, booking_id=booking.id, channel="sms", now=ctx.now
    )


def _which_booking(ctx: Context, chosen: list[Any]) -> None:
    """The bookings to choose from, each with the number to send after CANCEL: the mentor's,
    or the voucher's when one mentor has two of them."""
    shared = {b.number for b in chosen if sum(c.number == b.number for c in chosen) > 1}
    numbers = [format_voucher_code(b.code) if b.number in shared else b.number for b in chosen]
    lang = ctx.language
    lines = [
        texts.reply("cancel_line", lang, number=number, provider=_short(b.name))
        for number, b in zip(numbers, chosen, strict=True)
    ]
    head = texts.reply("cancel_which", lang, number=numbers[-1])
    body = _one_part(head, lines, lambda more: texts.reply("cancel_more", lang, count=more))
    ctx.send(body, "cancel_which")


def _session_ref(ctx: Context, person: Entrepreneur) -> str | None:
    """The ref the person gave, or the only session waiting for their answer."""
    refs = [n for n in ctx.command.numbers if len(n) >= 4]
    if refs:
        return refs[0]
    waiting = db.session.scalars(
        sa.select(TrainingSession.ref)
        .where(
            TrainingSession.entrepreneur_id == person.id,
            TrainingSession.status == SessionStatus.RECORDED,
        )
        .limit(2)
    ).all()
    return waiting[0] if len(waiting) == 1 else None


def _find_session(person: Entrepreneur, ref: str) -> TrainingSession | None:
    return db.session.scalar(
        sa.select(TrainingSession).where(
            TrainingSession.entrepreneur_id == person.id, TrainingSession.ref == ref
        )
    )


def _answer(ctx: Context, person: Entrepreneur, accept: bool) -> None:
    ref = _session_ref(ctx, person)
    if ref is None:
        ctx.say("answer_usage")
        return
    ctx.ref = ref
    session = _find_session(person, ref)
    if session is None:
        ctx.say("unknown_session", ref=ref)
        return
    if session.status != SessionStatus.RECORDED:
        ctx.say("already_answered", ref=ref, status=texts.word(session.status, ctx.language))
        return
    if _too_late(session, ctx.now):
        # The service lapses the session and refuses; the reply says so (`_error_reply`).
        # Nothing is queued before: the service commits the lapse, and with it what is queued.
        sessions.answer_session(person.id, ref, accept, via="sms", now=ctx.now)
        return
    if not accept:
        ctx.say("disputed", ref=ref)
    else:
        ctx.inbound.reply_kind = "confirmed"  # the service's confirmation is the reply
    sessions.answer_session(person.id, ref, accept, via="sms", now=ctx.now)


def _too_late(session: TrainingSession, now: datetime) -> bool:
    """Past the programme's window for answers (the rule `sessions.answer_session` applies)."""
    hours = db.session.scalar(
        sa.select(Programme.confirmation_window_hours).where(Programme.id == session.programme_id)
    )
    return hours is not None and session.recorded_at + timedelta(hours=hours) <= now


def _yes(ctx: Context, person: Entrepreneur) -> None:
    _answer(ctx, person, True)


def _no(ctx: Context, person: Entrepreneur) -> None:
    _answer(ctx, person, False)


def _rate(ctx: Context, person: Entrepreneur) -> None:
    """RATE <ref> <1-5>, or RATE <1-5> for the latest session. Anything else (a range copied
    from the prompt, extra numbers, stars out of 1..5) is explained, never guessed."""
    numbers = ctx.command.numbers
    refs = [n for n in numbers if len(n) >= REF_MIN_DIGITS]
    stars = [n for n in numbers if len(n) < REF_MIN_DIGITS]
    ref = refs[0] if refs else _latest_rateable(person)
    if len(refs) > 1 or len(stars) != 1 or stars[0] not in STARS or ref is None:
        ctx.say("rate_usage", ref=ref or texts.word("ref", ctx.language))
        return
    session = _find_session(person, ref)
    if session is None:
        ctx.say("unknown_session", ref=ref)
        return
    if session.status != SessionStatus.CONFIRMED:
        ctx.say("not_rateable", ref=ref)
        return
    ctx.say("rated", provider=session.provider.name, stars=stars[0])
    ratings.rate(person.id, ref, int(stars[0]), "sms", now=ctx.now)


def _latest_rateable(person: Entrepreneur) -> str | None:
    latest = ratings.rateable_sessions(person.id, limit=1)
    return latest[0].ref if latest else None


def _stop(ctx: Context, person: Entrepreneur) -> None:
    ctx.say("stopped")
    entrepreneurs.set_sms_opt_out(person.id, True, now=ctx.now)


def _start(ctx: Context, person: Entrepreneur) -> None:
    ctx.say("started")
    entrepreneurs.set_sms_opt_out(person.id, False, now=ctx.now)


def _language(ctx: Context, person: Entrepreneur) -> None:
    wanted = next((LANGUAGE_WORDS[w] for w in ctx.command.words if w in LANGUAGE_WORDS), None)
    if wanted is None:
        wanted = "sw" if ctx.command.swahili else "en"
    ctx.language = wanted
    ctx.say("language_set")
    if person.language != wanted:
        entrepreneurs.set_language(person.id, wanted, now=ctx.now)


HANDLERS = {
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
}


# --------------------------------------------------------------------------- errors


def _error_reply(ctx: Context, exc: errors.DomainError) -> tuple[str, dict[str, Any]]:
    """A domain error as a reply the person can act on."""
    command = ctx.command.name
    numbers = ctx.command.numbers
    first = numbers[0] if numbers else ""
    if isinstance(exc, errors.ProviderFull | errors.ProviderNotBookable):
        name = db.session.scalar(sa.select(Provider.name).where(Provider.number == first))
        key = "provider_full" if isinstance(exc, errors.ProviderFull) else "provider_not_bookable"
        return key, {"provider": name or first}
    if isinstance(exc, errors.VoucherExpired):
        return "voucher_expired", {}
    if isinstance(exc, errors.VoucherRevoked | errors.VoucherFullyUsed):
        reason = "revoked" if isinstance(exc, errors.VoucherRevoked) else "completed"
        return "voucher_not_usable", {"reason": texts.word(reason, ctx.language)}
    if isinstance(exc, errors.VoucherAlreadyBooked):
        return "voucher_not_usable", {"reason": texts.word("booked", ctx.language)}
    if isinstance(exc, errors.VoucherNotUsable):
        return "no_free_voucher", {}
    if isinstance(exc, errors.SessionAwaitsAnswer):
        return "cancel_answer_first", {
            "provider": exc.context.get("provider", ""),
            "ref": exc.context.get("ref", ""),
        }
    if isinstance(exc, errors.CannotCancel):
        return "cannot_cancel", {}
    if isinstance(exc, errors.BookingChanged):
        return "booking_changed", {}
    if isinstance(exc, errors.BookingNotActive):
        return "session_booking_cancelled", {"ref": exc.context.get("ref") or ctx.ref or first}
    if isinstance(exc, errors.AlreadyExists) and command == "rate":
        return "already_rated", {}
    if isinstance(exc, errors.SessionLapsed):
        return "session_lapsed", {"ref": exc.context.get("ref") or ctx.ref or first}
    if isinstance(exc, errors.IllegalTransition) and command in ("yes", "no"):
        return _answered_reply(ctx)
    if isinstance(exc, errors.NotFound) and command in ("yes", "no", "rate"):
        ref = ctx.ref or first
        return ("unknown_session", {"ref": ref}) if ref else ("answer_usage", {})
    log.info("SMS %s refused: %s", command, exc.code)
    return "failed", {}


def _answered_reply(ctx: Context) -> tuple[str, dict[str, Any]]:
    """A YES or NO refused because the session changed meanwhile: how it stands now."""
    session = _find_session(ctx.person, ctx.ref) if ctx.person and ctx.ref else None
    if session is None:
        return "answer_usage", {}
    if session.status == SessionStatus.RECORDED:
        return "failed", {}
    status = texts.word(session.status, ctx.language)
    return "already_answered", {"ref": session.ref, "status": status}
