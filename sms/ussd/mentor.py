"""The mentor's USSD menus, beside the entrepreneur's: the same engine, the same registry rules.

A mentor's phone (a craft worker's own number, or an institute's staff member) dialling the
service code opens on `mentor.main`; a phone that is both a mentor and an entrepreneur first
chooses (`who`). Every read goes through `queries.mentor` with the mentor's own provider, so
another provider's trainee is never listed nor found; every change through the one service the
web page uses (`sessions.record_session`, `sessions.confirm_with_code`,
`co_payments.record_co_payment`), with the same rules; the refusals a mentor can act on end the
session with words of the mentor's own (`REFUSALS`).

A screen that asks for a yes acts, on the next hop, on what it showed, by id: the booking (record)
the session (code) and the booking (co-payment). The service refuses, with its own named error, when that is no longer
what it would act on, and nothing is done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from marketplace.domain import errors
from marketplace.domain.days import typed_day
from marketplace.domain.models.programmes import DEFAULT_TIME_ZONE
from marketplace.domain.money import format_minor
from marketplace.messages.gsm import gsm7_length
from marketplace.messages.ussd import t
from marketplace.queries import mentor as reads
from marketplace.services import co_payments, mentor_auth, sessions, settings

from .flow import (
    SCREEN_LIMIT,
    Caller,
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
    fit,
    footer,
    lines,
    menu,
)

HOME = "main"  # the entrepreneur's menu
MENTOR_HOME = "mentor.main"
WHO = "who"
NAME = 14  # a trainee's first name on a screen
TRADE = 14
TOPIC = 40
MINUTES = (30, 60, 90, 120, 180, 240)
TOPICS_SHOWN = 4
LONG = "Wanjiku-Nyambura Ochieng'-Kiprotich Mwangi Emmanuel"
LONG_TOPIC = "Cutting patterns for school uniforms, pricing, and keeping records of orders"

ENDINGS: dict[str, dict[str, int]] = {
    "mentor.rec.done": {"ref": 6, "name": NAME},
    "mentor.code.done": {"ref": 6, "name": NAME, "value": 20},
    "mentor.copay.done": {"name": NAME, "share": 20},
    "mentor.copay.due": {"share": 20},
    "mentor.copay.already": {},
    "mentor.copay.none": {},
    "mentor.booking_ended": {},
}

# A service's refusal a mentor can act on: the ending that says what to do, and its params.
REFUSALS: dict[type[errors.DomainError], tuple[str, tuple[str, ...]]] = {
    errors.CoPaymentDue: ("mentor.copay.due", ("share",)),
    errors.CoPaymentAlreadyRecorded: ("mentor.copay.already", ()),
    errors.NoCoPayment: ("mentor.copay.none", ()),
    errors.BookingNotActive: ("mentor.booking_ended", ()),
    errors.CodeInvalid: ("mentor.code.wrong", ()),
    errors.TooManyAttempts: ("mentor.code.locked", ()),
}


def refusal_text(exc: errors.DomainError, lang: str) -> str | None:
    """The mentor's own ending for a refusal listed in `REFUSALS` (the engine ends the session
    with it, having rolled back what the service began); None for any other."""
    found = errors.most_specific(REFUSALS, exc)
    if found is None:
        return None
    key, names = found
    return t(key, lang, **{name: str(exc.context.get(name, "")) for name in names})


def start_of(caller: Caller) -> str:
    """The first screen of a session: the entrepreneur's menu, the mentor's, or the choice."""
    if not caller.is_mentor:
        return HOME
    return MENTOR_HOME if caller.id == 0 else WHO


def _day(value: date) -> str:
    return value.strftime("%d/%m")


# --------------------------------------------------------------------------- who is dialling


def _as_mentor(ctx: Ctx, _data: Data, _p: Params) -> Outcome:
    ctx.lang = ctx.mentor.language  # the mentor menu in the mentor's own language
    return Go(MENTOR_HOME)


WHO_SCREEN = menu(
    WHO,
    lambda lang, p: t("who.title", lang),
    [Option("who.trainee", HOME), Option("who.mentor", act=_as_mentor)],
    show_nav=False,
    also=(MENTOR_HOME,),
    static=True,
)


# --------------------------------------------------------------------------- the mentor's menu


MAIN = menu(
    MENTOR_HOME,
    lambda lang, p: t("mentor.main.title", lang, name=fit(p.get("name", ""), 20)),
    [
        Option("mentor.main.trainees", "mentor.trainees"),
        Option("mentor.main.record", "mentor.rec"),
        Option("mentor.main.code", "mentor.code"),
        Option("mentor.main.sessions", "mentor.sessions"),
        Option("mentor.main.money", "mentor.money"),
        Option("mentor.main.language", "mentor.language"),
        Option("mentor.main.help", "mentor.help"),
    ],
    load=lambda ctx, data: {"name": ctx.mentor.first_name},
    show_nav=False,
    samples=({"name": LONG},),
    static=True,
)


# --------------------------------------------------------------------------- my trainees


def _trainee_item(row: reads.BookingRow) -> Params:
    return {
        "booking_id": row.id,
        "no": row.trainee_no,
        "name": row.first_name,
        "trade": row.trade,
        "trade_code": row.trade_code,
        "done": row.sessions_confirmed,
        "total": row.sessions_total,
        "left": row.sessions_left,
        "waiting": row.sessions_waiting,
        "date": row.expires_on.strftime("%d/%m/%y"),
        "can_record": row.can_record,
        "share": format_minor(row.co_payment_minor, row.currency) if row.co_payment_minor else "",
        "share_open": row.can_record_co_payment,
        "share_due": row.co_payment_due,
        "share_recorded": row.co_payment_recorded,
        "time_zone": row.time_zone,
    }


def _load_trainees(ctx: Ctx, _data: Data) -> Params:
    rows = reads.trainees(ctx.mentor.provider_id, ctx.lang)
    return {"items": [_trainee_item(r) for r in rows]}


_SAMPLE_TRAINEE = {
    "booking_id": 1,
    "no": 9999,
    "name": LONG,
    "trade": LONG,
    "trade_code": "tailoring",
    "done": 99,
    "total": 99,
    "left": 99,
    "waiting": 99,
    "date": "31/12/30",
    "can_record": True,
    "share": "KES 999,999.99",
    "share_open": True,
    "share_due": False,
    "share_recorded": False,
    "time_zone": DEFAULT_TIME_ZONE,
}

TRAINEES = choice_list(
    "mentor.trainees",
    "mentor.trainees.title",
    "mentor.trainees.none",
    load=_load_trainees,
    label=lambda lang, i: t(
        "mentor.trainees.item",
        lang,
        no=i["no"],
        name=fit(i["name"], NAME),
        trade=fit(i["trade"], 10),
        done=i["done"],
        total=i["total"],
        date=i["date"][:5],
    ),
    pick=lambda ctx, data, p, item: Go("mentor.trainee", {"booking_id": item["booking_id"]}),
    targets=("mentor.trainee",),
    samples=({"items": [_SAMPLE_TRAINEE] * 12, "_data": {"page": 1}}, {"items": []}),
)


_SAMPLE_CHOSEN = {
    "booking_id": 1,
    "no": 9999,
    "name": LONG,
    "trade_code": "tailoring",
    "time_zone": DEFAULT_TIME_ZONE,
}


def _load_trainee(ctx: Ctx, data: Data) -> Params:
    rows = reads.trainees(ctx.mentor.provider_id, ctx.lang)
    found = next((r for r in rows if r.id == int(data["booking_id"])), None)
    if found is None:
        raise errors.NotFound("No such trainee.")
    return _trainee_item(found)


COPAY_CHOICE = 2  # on the trainee screen, after "1 Record session"


def _trainee_view(lang: str, p: Params) -> str:
    if p["can_record"]:
        action = f"1 {t('mentor.main.record', lang)}"
    elif p["share_due"]:
        action = t("mentor.trainee.copay_first", lang)
    else:
        action = t("mentor.trainee.full", lang)
    share = ""
    if p["share_open"]:
        share = f"{COPAY_CHOICE} {t('mentor.trainee.copay', lang, share=p['share'])}"
    elif p["share_recorded"]:
        share = t("mentor.trainee.copay_recorded", lang, share=p["share"])
    body = ""
    for name, trade in (
        (NAME, 20),
        (NAME, 12),
        (10, 8),
        (8, 5),
        (6, 3),
    ):  # shorter when a line is added
        text = t(
            "mentor.trainee.text",
            lang,
            no=p["no"],
            name=fit(p["name"], name),
            trade=fit(p["trade"], trade),
            done=p["done"],
            left=p["left"],
            waiting=p["waiting"],
            date=p["date"],
        )
        body = lines(text, action, *([share] if share else []), footer(lang))
        if gsm7_length(body) <= SCREEN_LIMIT:
            break
    return body


def _trainee_handle(_ctx: Ctx, _data: Data, p: Params, text: str) -> Outcome:
    picked = choice(text, COPAY_CHOICE)
    if picked == 1 and p["can_record"]:
        return Go("mentor.rec.day", _chosen(p))
    if picked == COPAY_CHOICE and p["share_open"]:
        return Go("mentor.copay", {**_chosen(p), "share": p["share"]})
    return Retry()


TRAINEE = Screen(
    "mentor.trainee",
    _trainee_view,
    _load_trainee,
    _trainee_handle,
    targets=("mentor.rec.day", "mentor.copay"),
    samples=(
        _SAMPLE_TRAINEE,
        {**_SAMPLE_TRAINEE, "can_record": False},
        {**_SAMPLE_TRAINEE, "can_record": False, "share_due": True},
        {**_SAMPLE_TRAINEE, "share_open": False, "share_recorded": True},
        {**_SAMPLE_TRAINEE, "share": "", "share_open": False},
    ),
)


# --------------------------------------------------------------------------- the co-payment


def _copay_view(lang: str, p: Params) -> str:
    text = t(
        "mentor.copay.confirm.text", lang, no=p["no"], name=fit(p["name"], NAME), share=p["share"]
    )
    return lines(text, f"1 {t('mentor.copay.confirm.yes', lang)}", footer(lang))


def _copay_record(ctx: Ctx, data: Data) -> Outcome:
    voucher = co_payments.record_co_payment(ctx.mentor.id, int(data["booking_id"]), now=ctx.now)
    share = format_minor(voucher.co_payment_minor, voucher.currency)
    return End("mentor.copay.done", {"name": data["name"], "share": share})


def _copay_handle(ctx: Ctx, data: Data, _p: Params, text: str) -> Outcome:
    if choice(text, 1) is None:
        return Retry()
    return _copay_record(ctx, data)


COPAY = Screen(
    "mentor.copay",
    _copay_view,
    load=lambda ctx, data: dict(data),
    handle=_copay_handle,
    samples=({**_SAMPLE_CHOSEN, "share": "KES 999,999.99"},),
    writes=True,
)


# --------------------------------------------------------------------------- record a session


def _chosen(item: Params) -> Data:
    """What the record steps carry: the booking by id, and the trainee as shown."""
    return {k: item[k] for k in ("booking_id", "no", "name", "trade_code", "time_zone")}


def _today(ctx: Ctx, data: Data) -> date:
    """Today where the trainee's programme runs: the day the service judges the session by."""
    zone = str(data.get("time_zone") or DEFAULT_TIME_ZONE)
    return ctx.now.astimezone(ZoneInfo(zone)).date()


def _load_recordable(ctx: Ctx, _data: Data) -> Params:
    """The trainees a session can be recorded for, and those it could once their co-payment is
    recorded (picking one shows their screen, which says so and offers it)."""
    rows = reads.trainees(ctx.mentor.provider_id, ctx.lang)
    return {
        "items": [
            _trainee_item(r)
            for r in rows
            if r.can_record
            or (r.co_payment_due and replace(r, co_payment_required=False).can_record)
        ]
    }


def _pick_recordable(_ctx: Ctx, _data: Data, _p: Params, item: Params) -> Outcome:
    if item["share_due"]:
        return Go("mentor.trainee", {"booking_id": item["booking_id"]})
    return Go("mentor.rec.day", _chosen(item))


RECORD = choice_list(
    "mentor.rec",
    "mentor.rec.title",
    "mentor.rec.none",
    load=_load_recordable,
    label=lambda lang, i: t(
        "mentor.rec.item", lang, no=i["no"], name=fit(i["name"], NAME), trade=fit(i["trade"], 14)
    ),
    pick=_pick_recordable,
    targets=("mentor.rec.day", "mentor.trainee"),
    samples=({"items": [_SAMPLE_TRAINEE] * 12, "_data": {"page": 1}}, {"items": []}),
)


def _on(days_ago: int) -> Any:
    def act(ctx: Ctx, data: Data, _p: Params) -> Outcome:
        day = _today(ctx, data) - timedelta(days=days_ago)
        return Go("mentor.rec.minutes", {**data, "day": day.isoformat()})

    return act


DAY = menu(
    "mentor.rec.day",
    lambda lang, p: t("mentor.rec.day.title", lang, name=fit(p["name"], NAME)),
    [
        Option("mentor.rec.day.today", act=_on(0)),
        Option("mentor.rec.day.yesterday", act=_on(1)),
        Option("mentor.rec.day.other", "mentor.rec.date", pass_data=True),
    ],
    load=lambda ctx, data: dict(data),
    also=("mentor.rec.minutes",),
    samples=(_SAMPLE_CHOSEN,),
)


def _date_handle(ctx: Ctx, data: Data, _p: Params, text: str) -> Outcome:
    today = _today(ctx, data)
    day = typed_day(text, today)
    # The service holds the rule (not in the future, within 30 days); said here before the
    # next steps are asked for.
    if day is None or day > today or day < today - timedelta(days=30):
        return Retry("mentor.rec.date.bad")
    return Go("mentor.rec.minutes", {**data, "day": day.isoformat()})


DATE = Screen(
    "mentor.rec.date",
    lambda lang, p: lines(t("mentor.rec.date.prompt", lang), footer(lang)),
    load=lambda ctx, data: dict(data),
    handle=_date_handle,
    targets=("mentor.rec.minutes",),
    samples=(_SAMPLE_CHOSEN,),
)


def _for(minutes: int) -> Any:
    def act(_ctx: Ctx, data: Data, _p: Params) -> Outcome:
        return Go("mentor.rec.topic", {**data, "minutes": minutes})

    return act


def _minutes(minutes: int) -> Callable[[Params], dict[str, Any]]:
    return lambda _p: {"minutes": minutes}


DURATION = menu(
    "mentor.rec.minutes",
    lambda lang, p: t("mentor.rec.minutes.title", lang),
    [Option("mentor.rec.minutes.item", act=_for(m), label_params=_minutes(m)) for m in MINUTES],
    load=lambda ctx, data: dict(data),
    also=("mentor.rec.topic",),
    samples=(_SAMPLE_CHOSEN,),
)


def topics(trade_code: str, lang: str) -> list[str]:
    """The short list of topics offered for a trade (the catalogue's, else the general one)."""
    key = f"topics.{trade_code}"
    listed = t(key, lang) if key in t else t("topics.other", lang)
    return [topic.strip() for topic in listed.split("|") if topic.strip()][:TOPICS_SHOWN]


def _topic_view(lang: str, p: Params) -> str:
    shown = [*topics(p["trade_code"], lang), t("mentor.rec.topic.type", lang)]
    numbered_lines = "\n".join(f"{i} {fit(x, 34)}" for i, x in enumerate(shown, start=1))
    return lines(t("mentor.rec.topic.title", lang), numbered_lines, footer(lang))


def _topic_handle(ctx: Ctx, data: Data, p: Params, text: str) -> Outcome:
    offered = topics(p["trade_code"], ctx.lang)
    picked = choice(text, len(offered) + 1)
    if picked is None:
        return Retry()
    if picked == len(offered) + 1:
        return Go("mentor.rec.topic_text", dict(data))
    return Go("mentor.rec.confirm", {**data, "topic": offered[picked - 1]})


TOPIC_SCREEN = Screen(
    "mentor.rec.topic",
    _topic_view,
    load=lambda ctx, data: dict(data),
    handle=_topic_handle,
    targets=("mentor.rec.topic_text", "mentor.rec.confirm"),
    samples=(
        {**_SAMPLE_CHOSEN, "trade_code": "tailoring"},
        {**_SAMPLE_CHOSEN, "trade_code": "no-such-trade"},
    ),
)


def _topic_text_handle(_ctx: Ctx, data: Data, _p: Params, text: str) -> Outcome:
    topic = " ".join(text.split())
    if len(topic) < 2 or len(topic) > 120:
        return Retry("mentor.rec.topic_text.bad")
    return Go("mentor.rec.confirm", {**data, "topic": topic})


TOPIC_TEXT = Screen(
    "mentor.rec.topic_text",
    lambda lang, p: t("mentor.rec.topic_text.prompt", lang),
    load=lambda ctx, data: dict(data),
    handle=_topic_text_handle,
    nav=False,  # a topic is typed: "0" is a word here, not "back"
    targets=("mentor.rec.confirm",),
    samples=(_SAMPLE_CHOSEN,),
)


def _record(ctx: Ctx, data: Data, _p: Params) -> Outcome:
    recorded = sessions.record_session(
        ctx.mentor.id,
        sessions.NewSession(
            booking_id=int(data["booking_id"]),
            delivered_on=date.fromisoformat(data["day"]),
            duration_minutes=int(data["minutes"]),
            topic=str(data["topic"]),
        ),
        now=ctx.now,
    )
    return End("mentor.rec.done", {"ref": recorded.ref, "name": data["name"]})


def _confirm_view(lang: str, p: Params) -> str:
    text = t(
        "mentor.rec.confirm.text",
        lang,
        no=p["no"],
        name=fit(p["name"], NAME),
        date=_day(date.fromisoformat(p["day"])),
        minutes=p["minutes"],
        topic=fit(p["topic"], TOPIC),
    )
    return lines(text, f"1 {t('mentor.rec.confirm.yes', lang)}", footer(lang))


def _confirm_handle(ctx: Ctx, data: Data, p: Params, text: str) -> Outcome:
    if choice(text, 1) is None:
        return Retry()
    return _record(ctx, data, p)


CONFIRM = Screen(
    "mentor.rec.confirm",
    _confirm_view,
    load=lambda ctx, data: dict(data),
    handle=_confirm_handle,
    samples=({**_SAMPLE_CHOSEN, "day": "2030-12-31", "minutes": 240, "topic": LONG_TOPIC},),
    writes=True,
)


# --------------------------------------------------------------------------- the trainee's code


def _waiting_item(s: reads.PhoneSession) -> Params:
    return {
        "session_id": s.id,
        "ref": s.ref,
        "no": s.trainee_no,
        "name": s.first_name,
        "date": _day(s.delivered_on),
    }


CODE = choice_list(
    "mentor.code",
    "mentor.code.title",
    "mentor.code.none",
    load=lambda ctx, data: {
        "items": [_waiting_item(s) for s in reads.waiting_sessions(ctx.mentor.provider_id)]
    },
    label=lambda lang, i: t(
        "mentor.code.item", lang, no=i["no"], name=fit(i["name"], NAME), date=i["date"]
    ),
    pick=lambda ctx, data, p, item: Go("mentor.code.enter", dict(item)),
    targets=("mentor.code.enter",),
    samples=(
        {
            "items": [{"session_id": 1, "ref": "123456", "no": 9999, "name": LONG, "date": "31/12"}]
            * 12,
            "_data": {"page": 1},
        },
        {"items": []},
    ),
)


def _code_handle(ctx: Ctx, data: Data, _p: Params, text: str) -> Outcome:
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return Retry("mentor.code.digits")
    # The session shown, by its id; wrong codes count against the code and the session
    # whoever types them (the service's limits), and a refusal ends the session with its reason.
    confirmed = sessions.confirm_with_code(
        ctx.mentor.id, int(data["session_id"]), digits, now=ctx.now
    )
    value = format_minor(confirmed.value_minor, confirmed.currency)
    return End("mentor.code.done", {"ref": confirmed.ref, "name": data["name"], "value": value})


CODE_ENTER = Screen(
    "mentor.code.enter",
    lambda lang, p: t(
        "mentor.code.prompt", lang, name=fit(p["name"], NAME), date=p["date"], ref=p["ref"]
    ),
    load=lambda ctx, data: dict(data),
    handle=_code_handle,
    nav=False,  # digits are typed here
    samples=({"session_id": 1, "ref": "123456", "no": 9999, "name": LONG, "date": "31/12"},),
    writes=True,
)


# --------------------------------------------------------------------------- my sessions


STATUS_KEYS = ("recorded", "confirmed", "disputed", "lapsed")


def _load_sessions(ctx: Ctx, _data: Data) -> Params:
    counts = reads.session_counts(ctx.mentor.provider_id)
    return {
        "waiting": counts.waiting,
        "confirmed": counts.confirmed,
        "disputed": counts.disputed,
        "lapsed": counts.lapsed,
        "recent": [
            {
                "no": s.trainee_no,
                "name": s.first_name,
                "date": _day(s.delivered_on),
                "status": s.status,
            }
            for s in counts.recent
        ],
    }


def _sessions_view(lang: str, p: Params) -> str:
    head = t(
        "mentor.sessions.text",
        lang,
        waiting=p["waiting"],
        confirmed=p["confirmed"],
        disputed=p["disputed"],
        lapsed=p["lapsed"],
    )
    shown: list[str] = []
    for s in p["recent"]:
        line = t(
            "mentor.sessions.item",
            lang,
            no=s["no"],
            name=fit(s["name"], 10),
            date=s["date"],
            status=t(f"mentor.status.{s['status']}", lang),
        )
        if gsm7_length(lines(head, *shown, line, footer(lang))) > SCREEN_LIMIT:
            break
        shown.append(line)
    return lines(head, *shown, footer(lang))


SESSIONS = Screen(
    "mentor.sessions",
    _sessions_view,
    _load_sessions,
    samples=(
        {
            "waiting": 99999,
            "confirmed": 99999,
            "disputed": 99999,
            "lapsed": 99999,
            "recent": [
                {"no": 9999, "name": LONG, "date": "31/12", "status": status}
                for status in STATUS_KEYS
            ]
            * 3,
        },
        {"waiting": 0, "confirmed": 0, "disputed": 0, "lapsed": 0, "recent": []},
    ),
)


# --------------------------------------------------------------------------- my money


def flag_words(flags: list[str], lang: str) -> str:
    """Why sessions are held, in words (a flag without its own words gets the general ones)."""
    words = []
    for flag in flags:
        key = f"mentor.flag.{flag}"
        word = t(key, lang) if key in t else t("mentor.flag.other", lang)
        if word not in words:
            words.append(word)
    return ", ".join(words)


def _load_money(ctx: Ctx, _data: Data) -> Params:
    m = reads.money(ctx.mentor.provider_id)
    return {
        "earned": format_minor(m.earned_minor, m.currency),
        "paid": format_minor(m.paid_minor, m.currency),
        "pending": format_minor(m.pending_minor, m.currency),
        "held": format_minor(m.held_minor, m.currency) if m.held_minor else "",
        "why": m.held_why,
        "last": format_minor(m.last_paid_minor, m.currency)
        if m.last_paid_minor is not None
        else "",
        "last_date": m.last_paid_at.strftime("%d/%m") if m.last_paid_at else "",
        "reference": m.last_reference or "",
    }


def money_lines(lang: str, p: Params, why_limit: int = 30) -> list[str]:
    """Earned, paid, to be paid, and what is held for review and why."""
    out = [t("mentor.money.text", lang, earned=p["earned"], paid=p["paid"], pending=p["pending"])]
    if p["held"]:
        why = fit(flag_words(p["why"], lang), why_limit)
        out.append(t("mentor.money.held", lang, held=p["held"], why=why))
    return out


def last_payment(lang: str, p: Params) -> str:
    if not p["last"]:
        return t("mentor.money.none_paid", lang)
    return t(
        "mentor.money.last",
        lang,
        amount=p["last"],
        date=p["last_date"],
        ref=fit(p["reference"] or "-", 20),
    )


def _money_view(lang: str, p: Params) -> str:
    more = f"1 {t('mentor.money.last_option', lang)}" if p["last"] else last_payment(lang, p)
    text = ""
    for why_limit in range(30, 5, -1):  # why sessions are held, as long as the screen allows
        text = lines(*money_lines(lang, p, why_limit), more, footer(lang))
        if gsm7_length(text) <= SCREEN_LIMIT:
            break
    return text


def _money_handle(_ctx: Ctx, _data: Data, p: Params, text: str) -> Outcome:
    if not p["last"] or choice(text, 1) is None:
        return Retry()
    return Go("mentor.money.last")


_SAMPLE_MONEY = {
    "earned": "KES 10,000,000.50",
    "paid": "KES 10,000,000.50",
    "pending": "KES 10,000,000.50",
    "held": "KES 10,000,000.50",
    "why": ["shared_phone", "too_many_in_a_day", "burst_confirmation", "over_capacity", "new"],
    "last": "KES 10,000,000.50",
    "last_date": "31/12",
    "reference": "QKX1234567890ABCDEFGHIJ",
}

MONEY = Screen(
    "mentor.money",
    _money_view,
    _load_money,
    _money_handle,
    targets=("mentor.money.last",),
    samples=(
        _SAMPLE_MONEY,
        {**_SAMPLE_MONEY, "held": "", "why": [], "last": "", "reference": ""},
    ),
)

MONEY_LAST = Screen(
    "mentor.money.last",
    lambda lang, p: lines(last_payment(lang, p), footer(lang)),
    _load_money,
    samples=(_SAMPLE_MONEY, {**_SAMPLE_MONEY, "last": "", "reference": ""}),
)


# --------------------------------------------------------------------------- language and help


def _language(code: str) -> Any:
    def act(ctx: Ctx, _data: Data, _p: Params) -> Outcome:
        mentor_auth.set_language(ctx.mentor.id, code, now=ctx.now)
        ctx.lang = code
        return Go(MENTOR_HOME, reset=True, notice="main.language_set")

    return act


LANGUAGE = menu(
    "mentor.language",
    lambda lang, p: t("language.title", lang),
    [Option("language.en", act=_language("en")), Option("language.sw", act=_language("sw"))],
    also=(MENTOR_HOME,),
    writes=True,
)

HELP = Screen(
    "mentor.help",
    lambda lang, p: lines(t("mentor.help.text", lang, short=fit(p["short"], 11)), footer(lang)),
    load=lambda ctx, data: {"short": settings.short_code()},
    samples=({"short": "123456789012345"},),
)


SCREENS: dict[str, Screen] = {
    s.id: s
    for s in (
        WHO_SCREEN,
        MAIN,
        TRAINEES,
        TRAINEE,
        COPAY,
        RECORD,
        DAY,
        DATE,
        DURATION,
        TOPIC_SCREEN,
        TOPIC_TEXT,
        CONFIRM,
        CODE,
        CODE_ENTER,
        SESSIONS,
        MONEY,
        MONEY_LAST,
        LANGUAGE,
        HELP,
    )
}
HOMES = (HOME, MENTOR_HOME, WHO)
