"""The USSD menus as data: one registry keyed by screen id, decisions as small functions.

Views are pure (language and loaded values to text) so a test can render every screen with long
values; loaders read through `reads` and the services (a provider list records its impressions);
decisions call one service each. Names and topics are made GSM-7 and cut to fit here, in the views.

A screen that asks for a yes acts, on the next hop, on what it showed, by id: the mentor and the
voucher (book), the booking (cancel), the session's ref (answer, rate; a ref names one session of
the person for good). The service refuses, with its own named error, when that is no longer what it
would act on (cancelled, answered, rated or booked since, on another channel), and nothing is done.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from marketplace.domain import errors
from marketplace.domain.codes import format_voucher_code
from marketplace.domain.models import ACTIVE_VOUCHER_STATUSES, Channel, VoucherStatus
from marketplace.messages.gsm import gsm7_length
from marketplace.messages.ussd import t
from marketplace.queries import ussd as reads
from marketplace.services import bookings, entrepreneurs, ratings, reference, sessions, settings

from .flow import (
    MORE,
    SCREEN_LIMIT,
    Ctx,
    Data,
    End,
    Go,
    Option,
    Outcome,
    Params,
    Retry,
    Screen,
    choice,
    choice_list,
    distinct_names,
    fit,
    footer,
    lines,
    menu,
    numbered,
)

HOME = "main"
NAME = 28  # a person's or provider's name on a detail screen
SHORT_NAME = 17  # a provider's name in a list of three
ALIKE_NAME = 26  # the most a name and its town take in that list, when two names are the same
TOPIC = 40
LONG = "Wanjiku-Nyambura Ochieng'-Kiprotich Mwangi Ëmmanuel Institute of Technology"
LONG_TOPIC = "Cutting patterns for school uniforms, pricing, and keeping records of orders " * 2

# END messages: text key -> the values it takes and how long each may be once fitted.
ENDINGS: dict[str, dict[str, int]] = {
    "book.done": {"name": NAME, "number": 8},
    "cancel.done": {"name": NAME, "code": 12},
    "confirm.code": {"code": 6, "minutes": 3},
    "confirm.yes": {"ref": 6, "left": 3, "n": 3},
    "confirm.completed": {"ref": 6},
    "confirm.no": {"ref": 6},
    "rate.done": {"provider": NAME, "stars": 1},
}


def render_end(key: str, lang: str, params: Params) -> str:
    limits = ENDINGS.get(key, {})
    return t(key, lang, **{k: fit(v, limits.get(k, 20)) for k, v in params.items()})


# --------------------------------------------------------------------------- main menu


def _main_title(lang: str, p: Params) -> str:
    return t("main.title", lang, name=fit(p.get("name", ""), 20))


def _load_main(ctx: Ctx, _data: Data) -> Params:
    return {"name": ctx.person.first_name}


MAIN = menu(
    HOME,
    _main_title,
    [
        Option("main.vouchers", "vouchers"),
        Option("main.find", "find.trade"),
        Option("main.confirm", "confirm"),
        Option("main.rate", "rate"),
        Option("main.cancel", "cancel"),
        Option("main.language", "language"),
        Option("main.help", "help"),
    ],
    load=_load_main,
    show_nav=False,
    samples=({"name": LONG},),
    static=True,
)


# --------------------------------------------------------------------------- my vouchers


def _load_vouchers(ctx: Ctx, data: Data) -> Params:
    return {"items": reads.vouchers_of(ctx.person.id, ctx.now), "page": int(data.get("page", 0))}


def _voucher_status(lang: str, v: Params, width: int = 24) -> str:
    return t(f"vstatus.{v['status']}", lang, provider=fit(v["provider"] or "-", width))


def _share_line(lang: str, v: Params) -> str:
    """The entrepreneur's co-payment, while the voucher is in use: to pay, or recorded paid."""
    if not v.get("share") or v["status"] not in ACTIVE_VOUCHER_STATUSES:
        return ""
    return t(
        "vouchers.share_paid" if v.get("share_paid") else "vouchers.share_due",
        lang,
        share=v["share"],
    )


def _vouchers_view(lang: str, p: Params) -> str:
    items = p["items"]
    if not items:
        return lines(t("vouchers.none", lang), footer(lang))
    page = min(p["page"], len(items) - 1)
    v = items[page]
    ended = v["status"] in (VoucherStatus.EXPIRED, VoucherStatus.REVOKED, VoucherStatus.COMPLETED)
    dates = (
        t("vouchers.ended", lang, date=v["ended"])
        if ended and v["ended"]
        else t("vouchers.valid_to", lang, date=v["expires"])
    )
    share = _share_line(lang, v)
    # With a co-payment to state, the sessions are said shorter, and the mentor's name gives way
    # to it when both do not fit on one screen.
    for width in (24, 20, 16, 12, 8):
        text = t(
            "vouchers.item_share" if share else "vouchers.item",
            lang,
            code=v["code"],
            n=page + 1,
            of=len(items),
            status=_voucher_status(lang, v, width),
            value=v["value"],
            used=v["used"],
            total=v["total"],
            left=v["left"],
            dates=dates,
            share=share,
        )
        screen = lines(text, footer(lang, more=page < len(items) - 1))
        if gsm7_length(screen) <= SCREEN_LIMIT:
            break
    return screen


def _vouchers_handle(_ctx: Ctx, data: Data, p: Params, text: str) -> Outcome:
    page = int(data.get("page", 0))
    if text.strip() == MORE and page < len(p["items"]) - 1:
        return Go("vouchers", {"page": page + 1})
    return Retry()


_SAMPLE_VOUCHER = {
    "code": "123 456 7890",
    "status": "in_progress",
    "value": "KES 1,000,000.50",
    "used": 99,
    "total": 100,
    "left": 1,
    "expires": "31/12/2030",
    "ended": "31/12/2030",
    "provider": LONG,
    "share": "KES 1,000,000.50",  # a programme may ask the whole value
    "share_paid": False,
}

VOUCHERS = Screen(
    "vouchers",
    _vouchers_view,
    _load_vouchers,
    _vouchers_handle,
    targets=("vouchers",),
    samples=(
        {"items": [], "page": 0},
        *({"items": [{**_SAMPLE_VOUCHER, "status": s}] * 12, "page": 3} for s in VoucherStatus),
        {"items": [{**_SAMPLE_VOUCHER, "share_paid": True}] * 12, "page": 3},
        {"items": [{**_SAMPLE_VOUCHER, "share": ""}] * 12, "page": 3},
    ),
)


# --------------------------------------------------------------------------- find a mentor


def _load_trades(ctx: Ctx, _data: Data) -> Params:
    own = ctx.person.trade_code
    items = [{"code": c, "en": en, "sw": sw} for c, en, sw, _ in reference.trades()]
    items.sort(key=lambda i: (i["code"] != own, i["en"]))
    return {"items": items}


def _pick_trade(_ctx: Ctx, _data: Data, _p: Params, item: Params) -> Outcome:
    return Go("find.area", {"trade": item["code"]})


FIND_TRADE = choice_list(
    "find.trade",
    "find.trade.title",
    "find.list.empty",
    load=_load_trades,
    label=lambda lang, i: fit(i.get(lang) or i["en"], 34),
    pick=_pick_trade,
    targets=("find.area",),
    samples=(
        {"items": [{"code": "x", "en": LONG, "sw": LONG}] * 15, "_data": {"page": 1}},
        {"items": []},
    ),
    static=True,
)


def _load_area(ctx: Ctx, _data: Data) -> Params:
    return {
        "region": ctx.person.region_code,
        "region_name": reference.region_name(ctx.person.region_code),
    }


def _area(region: str | None) -> Any:
    def act(_ctx: Ctx, data: Data, p: Params) -> Outcome:
        return Go("find.list", {"trade": data["trade"], "region": p["region"] if region else None})

    return act


FIND_AREA = menu(
    "find.area",
    lambda lang, p: t("find.area.title", lang),
    [
        Option(
            "find.area.own",
            act=_area("own"),
            label_params=lambda p: {"region": fit(p["region_name"], 30)},
        ),
        Option("find.area.any", act=_area(None)),
        Option("find.area.type", "find.area_name", pass_data=True),
    ],
    load=_load_area,
    also=("find.list",),
    samples=({"region": "x", "region_name": LONG},),
    static=True,
)


def _area_name_handle(_ctx: Ctx, data: Data, _p: Params, text: str) -> Outcome:
    region = reference.match_region(text) if len(text) <= 60 else None
    if region is None:
        return Retry("find.area_name.unknown")
    return Go("find.list", {"trade": data["trade"], "region": region})


FIND_AREA_NAME = Screen(
    "find.area_name",
    lambda lang, p: lines(t("find.area_name.prompt", lang), footer(lang)),
    handle=_area_name_handle,
    targets=("find.list",),
)  # not static: what is typed here may hold a '*', which only the stored path reads as typed


def _load_list(ctx: Ctx, data: Data) -> Params:
    listing = bookings.find_providers(
        ctx.person.id,
        data["trade"],
        data.get("region"),
        page=int(data.get("page", 0)),
        channel=Channel.USSD,
        listing_id=data.get("listing_id"),
        programme_id=data.get("programme_id"),
        now=ctx.now,
        record=False,  # the engine stores the impressions with the hop's reply
    )
    ctx.impressions += bookings.impressions(listing, ctx.person.id, Channel.USSD, ctx.now)
    # Every page of this list is one listing, counted towards one programme (read once).
    data["listing_id"], data["programme_id"] = listing.listing_id, listing.programme_id
    return {
        "cards": [
            {"id": c.id, "name": c.name, "kind": c.kind, "rating": c.rating, "town": c.town}
            for c in listing.providers
        ],
        "more": listing.has_more,
        "region": data.get("region"),
    }


def _card_label(lang: str, c: Params, name: str) -> str:
    rating = f"{c['rating']:.1f}*" if c["rating"] is not None else t("rating.new", lang)
    return f"{name}, {t('kind.' + c['kind'], lang)}, {rating}"


def _list_view(lang: str, p: Params) -> str:
    if not p["cards"]:
        anywhere = numbered([t("find.list.anywhere", lang)]) if p["region"] else ""
        return lines(t("find.list.empty", lang), anywhere, footer(lang))
    cards = p["cards"]
    names = [c["name"] for c in cards]
    towns = [c.get("town") or "" for c in cards]
    # Never two mentors shown alike: names that cut the same keep what tells them apart, and
    # the town is added to the same names (with room for it: the names are cut as the screen needs).
    alike = distinct_names(names, SHORT_NAME, towns) != distinct_names(names, SHORT_NAME)
    body = ""
    for limit in range(ALIKE_NAME if alike else SHORT_NAME, 5, -1):
        shown = distinct_names(names, limit, towns)
        body = lines(
            t("find.list.title", lang),
            numbered([_card_label(lang, c, n) for c, n in zip(cards, shown, strict=True)]),
            footer(lang, p["more"]),
        )
        if gsm7_length(body) <= SCREEN_LIMIT:
            break
    return body


def _list_handle(_ctx: Ctx, data: Data, p: Params, text: str) -> Outcome:
    if not p["cards"]:
        if p["region"] and choice(text, 1):
            return Go("find.list", {"trade": data["trade"], "region": None})
        return Retry()
    if text.strip() == MORE and p["more"]:
        return Go("find.list", {**data, "page": int(data.get("page", 0)) + 1})
    picked = choice(text, len(p["cards"]))
    if picked is None:
        return Retry()
    return Go(
        "find.details",
        {"provider_id": p["cards"][picked - 1]["id"], "listing_id": data["listing_id"]},
    )


_SAMPLE_CARD = {"id": 1, "name": LONG, "kind": "craft_worker", "rating": 4.5, "town": LONG}
FIND_LIST = Screen(
    "find.list",
    _list_view,
    _load_list,
    _list_handle,
    targets=("find.list", "find.details"),
    samples=(
        {"cards": [_SAMPLE_CARD] * 3, "more": True, "region": "x"},
        {
            "cards": [{**_SAMPLE_CARD, "kind": "institute", "rating": None}] * 3,
            "more": False,
            "region": None,
        },
        {"cards": [], "more": False, "region": "x"},
        {  # the same long names in long-named towns
            "cards": [{**_SAMPLE_CARD, "town": f"{n} {LONG}"} for n in range(3)],
            "more": True,
            "region": None,
        },
        {  # long names alike but for their last word
            "cards": [{**_SAMPLE_CARD, "name": f"{LONG} {n}", "town": LONG} for n in range(3)],
            "more": True,
            "region": None,
        },
    ),
)


def _load_details(ctx: Ctx, data: Data) -> Params:
    p = reads.provider_details(int(data["provider_id"]))
    if p is None:
        raise errors.NotFound("No such provider.")
    p["own_trade"] = ctx.person.trade_code in p.pop("trades")
    free = bookings.bookable_vouchers(ctx.person.id, ctx.now)
    region = p.pop("region_code")
    # The free vouchers whose programme takes a mentor in this region.
    p["vouchers"] = [v.id for v in free if v.programme.accepts(ctx.person.trade_code, region)]
    p["no_voucher"] = not free
    return p


def _bookable(p: Params) -> bool:
    return bool(p["approved"] and p["has_room"] and p["own_trade"] and p.get("vouchers"))


def _details_view(lang: str, p: Params) -> str:
    rating = (
        t("rating.some", lang, rating=p["rating"], n=p["rating_count"])
        if p["rating"] is not None
        else t("rating.none", lang)
    )
    place = fit(", ".join(x for x in (p["town"], p["region"]) if x), 22)
    text = t(
        "find.details.text",
        lang,
        name=fit(p["name"], NAME),
        kind_in=t("kind_in." + p["kind"], lang),
        place=place,
        rating=rating,
        number=p["number"],
    )
    if _bookable(p):
        note = numbered([t("find.details.book", lang)])
    elif not p["own_trade"]:
        note = t("find.details.other_trade", lang)
    elif not p["approved"] or not p["has_room"]:
        note = t("find.details.full", lang)
    elif p.get("no_voucher"):
        note = t("find.details.no_voucher", lang)
    else:
        note = t("find.details.outside", lang)
    return lines(text, note, footer(lang))


def _details_handle(ctx: Ctx, data: Data, p: Params, text: str) -> Outcome:
    if not _bookable(p) or choice(text, 1) is None:
        return Retry()
    chosen = {"provider_id": p["id"], "listing_id": data.get("listing_id")}
    if len(p["vouchers"]) == 1:
        return Go("book.confirm", {**chosen, "voucher_id": p["vouchers"][0]})
    return Go("book.voucher", {**chosen, "vouchers": p["vouchers"]})


_SAMPLE_DETAILS = {
    "id": 1,
    "name": LONG,
    "kind": "craft_worker",
    "number": "12345678",
    "town": LONG,
    "region": LONG,
    "rating": 4.5,
    "rating_count": 123456,
    "has_room": True,
    "approved": True,
    "own_trade": True,
    "vouchers": [1],
    "no_voucher": False,
}
FIND_DETAILS = Screen(
    "find.details",
    _details_view,
    _load_details,
    _details_handle,
    targets=("book.confirm", "book.voucher"),
    samples=(
        _SAMPLE_DETAILS,
        {**_SAMPLE_DETAILS, "own_trade": False},
        {**_SAMPLE_DETAILS, "has_room": False, "kind": "institute"},
        {**_SAMPLE_DETAILS, "vouchers": [], "no_voucher": True},
        {**_SAMPLE_DETAILS, "vouchers": []},
    ),
)


# --------------------------------------------------------------------------- booking


def _load_free_vouchers(ctx: Ctx, data: Data) -> Params:
    """The free vouchers that can book the mentor chosen (those whose programme covers them)."""
    covering = data.get("vouchers")
    return {
        "items": [
            {"id": v.id, "code": format_voucher_code(v.code), "date": reads.day(v.expires_at)}
            for v in bookings.bookable_vouchers(ctx.person.id, ctx.now)
            if covering is None or v.id in covering
        ]
    }


def _pick_voucher(_ctx: Ctx, data: Data, _p: Params, item: Params) -> Outcome:
    return Go("book.confirm", {**data, "voucher_id": item["id"], "page": 0})


BOOK_VOUCHER = choice_list(
    "book.voucher",
    "book.voucher.title",
    "error.voucher_not_usable",
    load=_load_free_vouchers,
    label=lambda lang, i: t("book.voucher.item", lang, code=i["code"], date=i["date"]),
    pick=_pick_voucher,
    targets=("book.confirm",),
    samples=(
        {
            "items": [{"id": 1, "code": "123 456 7890", "date": "31/12/2030"}] * 12,
            "_data": {"page": 0},
        },
        {"items": []},
    ),
)


def _load_book_confirm(ctx: Ctx, data: Data) -> Params:
    p = reads.provider_details(int(data["provider_id"]))
    free = {v.id: v for v in bookings.bookable_vouchers(ctx.person.id, ctx.now)}
    voucher = free.get(int(data["voucher_id"]))
    if p is None or voucher is None:
        raise errors.VoucherNotUsable()
    return {
        "name": p["name"],
        "number": p["number"],
        "code": format_voucher_code(voucher.code),
        "sessions": voucher.sessions_total,
    }


def _book(ctx: Ctx, data: Data, p: Params) -> Outcome:
    bookings.book_provider(
        ctx.person.id,
        int(data["provider_id"]),
        int(data["voucher_id"]),
        channel=Channel.USSD,
        listing_id=data.get("listing_id"),
        now=ctx.now,
    )
    return End("book.done", {"name": p["name"], "number": p["number"]})


BOOK_CONFIRM = menu(
    "book.confirm",
    lambda lang, p: t(
        "book.confirm.text", lang, name=fit(p["name"], NAME), code=p["code"], n=p["sessions"]
    ),
    [Option("book.confirm.yes", act=_book)],
    load=_load_book_confirm,
    samples=({"name": LONG, "number": "12345678", "code": "123 456 7890", "sessions": 100},),
    writes=True,
)


# --------------------------------------------------------------------------- cancel a booking


def _pick_booking(_ctx: Ctx, _data: Data, _p: Params, item: Params) -> Outcome:
    return Go("cancel.confirm", dict(item))


CANCEL = choice_list(
    "cancel",
    "cancel.pick.title",
    "cancel.none",
    load=lambda ctx, data: {"items": reads.cancellable_bookings(ctx.person.id)},
    label=lambda lang, i: t("cancel.pick.item", lang, name=fit(i["name"], 20), code=i["code"]),
    pick=_pick_booking,
    targets=("cancel.confirm",),
    samples=(
        {
            "items": [{"booking_id": 1, "voucher_id": 1, "code": "123 456 7890", "name": LONG}] * 5,
            "_data": {"page": 0},
        },
        {"items": []},
    ),
)


def _load_cancel_confirm(ctx: Ctx, data: Data) -> Params:
    """The booking picked, still cancellable (shown again, on a session taken up again, only as
    it is now)."""
    ids = {b["booking_id"] for b in reads.cancellable_bookings(ctx.person.id)}
    if int(data["booking_id"]) not in ids:
        raise errors.BookingChanged()
    return {"name": data["name"], "code": data["code"]}


def _cancel(ctx: Ctx, data: Data, p: Params) -> Outcome:
    # The booking shown, by its id: refused if the voucher's booking is another one by now.
    bookings.cancel_booking(
        ctx.person.id,
        int(data["voucher_id"]),
        booking_id=int(data["booking_id"]),
        channel=Channel.USSD,
        now=ctx.now,
    )
    return End("cancel.done", {"name": data["name"], "code": data["code"]})


CANCEL_CONFIRM = menu(
    "cancel.confirm",
    lambda lang, p: t("cancel.confirm.text", lang, name=fit(p["name"], NAME), code=p["code"]),
    [Option("cancel.confirm.yes", act=_cancel)],
    load=_load_cancel_confirm,
    samples=({"name": LONG, "code": "123 456 7890"},),
    writes=True,
)


# --------------------------------------------------------------------------- confirm a session


def _show_code(ctx: Ctx, _data: Data, _p: Params) -> Outcome:
    code = sessions.issue_confirmation_code(ctx.person.id, now=ctx.now)
    return End(
        "confirm.code", {"code": code, "minutes": settings.get("CONFIRMATION_CODE_TTL_MINUTES", 15)}
    )


CONFIRM = menu(
    "confirm",
    lambda lang, p: t("confirm.title", lang),
    [
        # A code for the mentor is of use only to someone with a mentor booked.
        Option("confirm.code_option", act=_show_code, when=lambda p: p["booked"]),
        Option("confirm.list_option", "confirm.list", label_params=lambda p: {"count": p["count"]}),
    ],
    load=lambda ctx, data: reads.confirm_menu(ctx.person.id),
    samples=({"count": 999, "booked": True}, {"count": 0, "booked": False}),
    writes=True,
)


def _pick_session(_ctx: Ctx, _data: Data, _p: Params, item: Params) -> Outcome:
    return Go("confirm.answer", dict(item))


_SAMPLE_SESSION = {
    "ref": "123456",
    "date": "31/12",
    "minutes": 720,
    "topic": LONG_TOPIC,
    "provider": LONG,
}
CONFIRM_LIST = choice_list(
    "confirm.list",
    "confirm.list.title",
    "confirm.none",
    load=lambda ctx, data: {"items": reads.sessions_to_answer(ctx.person.id)},
    label=lambda lang, i: t("confirm.list.item", lang, date=i["date"], topic=fit(i["topic"], 28)),
    pick=_pick_session,
    targets=("confirm.answer",),
    samples=({"items": [_SAMPLE_SESSION] * 12, "_data": {"page": 1}}, {"items": []}),
)


def _load_answer(ctx: Ctx, data: Data) -> Params:
    """The session picked, still waiting for an answer, as it is now."""
    found = reads.sessions_to_answer(ctx.person.id, ref=str(data["ref"]))
    if not found:
        raise errors.SessionAlreadyAnswered()
    return found[0]


def _answer(accept: bool) -> Any:
    def act(ctx: Ctx, data: Data, _p: Params) -> Outcome:
        session = sessions.answer_session(
            ctx.person.id, data["ref"], accept, Channel.USSD, now=ctx.now
        )
        if not accept:
            return End("confirm.no", {"ref": session.ref})
        voucher = session.voucher
        if voucher.status == VoucherStatus.COMPLETED:
            return End("confirm.completed", {"ref": session.ref})
        return End(
            "confirm.yes",
            {"ref": session.ref, "left": voucher.sessions_left, "n": voucher.sessions_total},
        )

    return act


CONFIRM_ANSWER = menu(
    "confirm.answer",
    lambda lang, p: t(
        "confirm.answer.text",
        lang,
        provider=fit(p["provider"], 24),
        date=p["date"],
        minutes=p["minutes"],
        topic=fit(p["topic"], TOPIC),
    ),
    [
        Option("confirm.answer.yes", act=_answer(True)),
        Option("confirm.answer.no", act=_answer(False)),
    ],
    load=_load_answer,
    samples=(_SAMPLE_SESSION,),
    writes=True,
)


# --------------------------------------------------------------------------- rate a mentor


RATE_NAME = 26  # a mentor's name in the list of sessions to rate
RATE_TOPIC = 20  # a session's topic there, where it tells two sessions apart


def _load_rateable(ctx: Ctx, _data: Data) -> Params:
    rateable = ratings.rateable_sessions(ctx.person.id, limit=reads.LIST_LIMIT)
    items = [
        {
            "ref": s.ref,
            "provider": s.provider.name,
            "date": s.delivered_on.strftime("%d/%m"),
            "topic": s.topic,
        }
        for s in rateable
    ]
    _tell_sessions_apart(items)
    return {"items": items}


def _tell_sessions_apart(items: list[Params]) -> None:
    """Each item's `name` (its mentor's, never alike another's unless the names are) and, where
    two items would read the same (a date and a mentor), `which` session: its topic, or its ref
    when the topics are the same too."""
    names = distinct_names([i["provider"] for i in items], RATE_NAME)
    alike: dict[tuple[str, str], list[Params]] = {}
    for item, name in zip(items, names, strict=True):
        item["name"], item["which"] = name, ""
        alike.setdefault((item["date"], name.casefold()), []).append(item)
    for group in alike.values():
        topics = distinct_names([i["topic"] for i in group], RATE_TOPIC)
        told = len({topic.casefold() for topic in topics}) == len(group)
        for item, topic in zip(group, topics, strict=True):
            item["topic"] = topic
            if len(group) > 1:
                item["which"] = "topic" if told else "ref"


def _rateable_label(lang: str, i: Params) -> str:
    which = i.get("which")
    key = f"rate.pick.item_{which}" if which else "rate.pick.item"
    name = i.get("name") or fit(i["provider"], RATE_NAME)
    return t(key, lang, date=i["date"], provider=name, topic=i.get("topic", ""), ref=i["ref"])


def _pick_rateable(_ctx: Ctx, _data: Data, _p: Params, item: Params) -> Outcome:
    return Go("rate.stars", dict(item))


RATE = choice_list(
    "rate",
    "rate.pick.title",
    "rate.none",
    load=_load_rateable,
    label=_rateable_label,
    pick=_pick_rateable,
    targets=("rate.stars",),
    samples=(
        {"items": [{"ref": "1234", "provider": LONG, "date": "31/12"}] * 12, "_data": {"page": 2}},
        *(
            {
                "items": [
                    {
                        "ref": "123456",
                        "provider": LONG,
                        "name": fit(LONG, RATE_NAME),
                        "date": "31/12",
                        "topic": fit(LONG_TOPIC, RATE_TOPIC),
                        "which": which,
                    }
                ]
                * 12,
                "_data": {"page": 1},
            }
            for which in ("topic", "ref")
        ),
        {"items": []},
    ),
)


def _load_stars(ctx: Ctx, data: Data) -> Params:
    """The session picked, still to be rated."""
    if not ratings.rateable_sessions(ctx.person.id, limit=1, ref=str(data["ref"])):
        raise errors.AlreadyRated()
    return dict(data)


def _stars(n: int) -> Any:
    def act(ctx: Ctx, data: Data, _p: Params) -> Outcome:
        ratings.rate(ctx.person.id, data["ref"], n, Channel.USSD, now=ctx.now)
        return End("rate.done", {"provider": data["provider"], "stars": n})

    return act


RATE_STARS = menu(
    "rate.stars",
    lambda lang, p: t("rate.stars.title", lang, provider=fit(p["provider"], NAME)),
    [Option(f"rate.stars.{n}", act=_stars(n)) for n in range(1, 6)],
    load=_load_stars,
    samples=({"ref": "1234", "provider": LONG, "date": "31/12"},),
    writes=True,
)


# --------------------------------------------------------------------------- language and help


def _language(code: str) -> Any:
    def act(ctx: Ctx, _data: Data, _p: Params) -> Outcome:
        entrepreneurs.set_language(ctx.person.id, code, now=ctx.now)
        ctx.lang = code
        return Go(HOME, reset=True, notice="main.language_set")

    return act


LANGUAGE = menu(
    "language",
    lambda lang, p: t("language.title", lang),
    [
        Option("language.en", act=_language("en")),
        Option("language.sw", act=_language("sw")),
    ],
    also=(HOME,),
    writes=True,
    static=True,  # choosing a language changes something; showing the choice does not
)

HELP = Screen(
    "help",
    lambda lang, p: lines(t("help.text", lang, short=fit(p["short"], 11)), footer(lang)),
    load=lambda ctx, data: {"short": settings.short_code()},
    samples=({"short": "123456789012345"},),
)


# --------------------------------------------------------------------------- a session cut off

RESUME = "resume"


def _go_on(ctx: Ctx, data: Data, _p: Params) -> Outcome:
    """The screen the session was left on, loaded anew (a question asks again, showing what is
    true now), with its way back."""
    left = data["state"]
    if ctx.person.is_mentor and str(left["screen"]).startswith("mentor."):
        ctx.lang = ctx.mentor.language  # the mentor menu in the mentor's own language
    return Go(left["screen"], dict(left.get("data") or {}), stack=tuple(left.get("stack") or ()))


def _start_over(ctx: Ctx, _data: Data, _p: Params) -> Outcome:
    """The caller's first screen (the entrepreneur's menu, the mentor's, or the choice)."""
    return Go(start_of(ctx.person), reset=True)


# Shown by the engine, not reached from a menu: a session's opening screen when the phone's last
# session was cut off mid-menu lately. Its targets (every screen) are added below.
_RESUME = menu(
    RESUME,
    lambda lang, p: t("resume.title", lang),
    [Option("resume.yes", act=_go_on), Option("resume.no", act=_start_over)],
    show_nav=False,
    samples=({},),
)

SCREENS: dict[str, Screen] = {
    s.id: s
    for s in (
        MAIN,
        VOUCHERS,
        FIND_TRADE,
        FIND_AREA,
        FIND_AREA_NAME,
        FIND_LIST,
        FIND_DETAILS,
        BOOK_VOUCHER,
        BOOK_CONFIRM,
        CANCEL,
        CANCEL_CONFIRM,
        CONFIRM,
        CONFIRM_LIST,
        CONFIRM_ANSWER,
        RATE,
        RATE_STARS,
        LANGUAGE,
        HELP,
        _RESUME,
    )
}


# The mentor's menus live beside these (`mentor.py`), in the one registry.
from . import mentor as _mentor  # noqa: E402

SCREENS.update(_mentor.SCREENS)
ENDINGS.update(_mentor.ENDINGS)
HOMES = _mentor.HOMES
start_of = _mentor.start_of
SCREENS[RESUME] = replace(_RESUME, targets=tuple(SCREENS))
# Where the engine starts a session: a first screen, or the offer to go on with one cut off.
ENTRIES = (*HOMES, RESUME)
