"""The pieces USSD screens are made of: replies, outcomes, screens, menus and paged lists.

A screen is data: an id, a pure `view` (language and parameters to text), an optional `load` that reads
what the view needs (and may record things, such as the impressions of a list), and a `handle` that turns
one input into an outcome. Menus and paged lists are built from declarations by `menu()` and
`choice_list()`. The engine does the shared work (session, input, back, home, replay, errors).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from marketplace.domain import errors
from marketplace.messages.gsm import gsm7_length, to_gsm7
from marketplace.messages.ussd import t
from marketplace.queries import mentor as mentor_reads
from marketplace.queries.mentor import MentorCaller

SCREEN_LIMIT = 160  # characters after the CON/END prefix, in every language
LABEL_LIMIT = 36  # one option line of a list, before its number
MAX_OPTIONS = 8  # 9 is "more", 0 and 00 navigate
MORE = "9"

Params = dict[str, Any]
Data = dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """What the gateway shows: `CON` waits for input, `END` closes the session."""

    text: str
    end: bool = False

    @property
    def body(self) -> str:
        return ("END " if self.end else "CON ") + self.text


@dataclass(frozen=True)
class Caller:
    """The entrepreneur dialling, read once per hop (a change committed mid-hop costs no reload).
    `id` is 0 when the phone is only a mentor's: the session then opens on the mentor menu and
    never reaches an entrepreneur's screen. `is_mentor`: the phone is also a mentor's."""

    id: int
    first_name: str
    trade_code: str
    region_code: str
    is_mentor: bool = False


@dataclass
class Ctx:
    """Who is dialling, in which language, and when; and the impressions of the lists shown, which
    the engine stores with the hop's reply. A mentor's account is read when a mentor screen first
    asks for it (`mentor`), or comes with the caller when the phone is only a mentor's."""

    person: Caller
    lang: str
    now: datetime
    impressions: list[dict[str, Any]] = field(default_factory=list)
    phone: str = ""
    known_mentor: MentorCaller | None = None

    @property
    def mentor(self) -> MentorCaller:
        if self.known_mentor is None:
            self.known_mentor = mentor_reads.caller(self.phone) if self.person.is_mentor else None
            if self.known_mentor is None:
                raise errors.Forbidden()  # deactivated since the session began
        return self.known_mentor


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Go:
    """Show another screen; `0` comes back here unless `push` is false."""

    screen: str
    data: Data = field(default_factory=dict)
    push: bool = True
    notice: str | None = None
    reset: bool = False  # forget the way back (after a change such as the language)
    stack: tuple[Data, ...] | None = None  # this way back instead (a session taken up again)


@dataclass(frozen=True)
class Retry:
    """The input does not fit this screen: show it again with a short notice."""

    notice: str = "retry"


@dataclass(frozen=True)
class End:
    """Close the session with a message (text key and its values)."""

    key: str
    params: Params = field(default_factory=dict)


Outcome = Go | Retry | End
Loader = Callable[[Ctx, Data], Params]
Handler = Callable[[Ctx, Data, Params, str], Outcome]
View = Callable[[str, Params], str]


def _no_load(_ctx: Ctx, _data: Data) -> Params:
    return {}


def _no_input(_ctx: Ctx, _data: Data, _params: Params, _text: str) -> Outcome:
    return Retry()


@dataclass(frozen=True)
class Screen:
    id: str
    view: View
    load: Loader = _no_load
    handle: Handler = _no_input
    nav: bool = True  # 0 goes back and 00 home; False where people type names or numbers
    targets: tuple[str, ...] = ()  # every screen `handle` may go to
    samples: tuple[Params, ...] = ({},)  # loaded parameters with long values, for the length test
    writes: bool = False  # `handle` may change something (through a service, in a transaction)
    # `load` reads only the caller and reference data, and the input is a choice, never free
    # text (which may hold a '*'): a session that has only passed through static screens follows
    # from its `text` alone, and the engine does not store its hops.
    static: bool = False


# --------------------------------------------------------------------------- text helpers


def fit(value: object, limit: int) -> str:
    """User-supplied text made GSM-7, on one line, at most `limit` septets."""
    return _fit(str(value), limit)


@lru_cache(maxsize=8192)
def _fit(value: str, limit: int) -> str:
    # Cached: the same names and labels come back hop after hop.
    text = " ".join(to_gsm7(value).split())
    if gsm7_length(text) <= limit:
        return text
    out = ""
    for ch in text:
        if gsm7_length(out + ch) > limit - 2:
            break
        out += ch
    return out.rstrip() + ".."


def distinct_names(names: list[str], limit: int, towns: list[str] | None = None) -> list[str]:
    """Names fitted to `limit` as `fit` does, never two alike unless the names are: where two cut
    the same, each keeps the words that tell it apart ("Fundi..Kamau Workshop"); where the names
    themselves are the same, the town is added ("Fundi Kipchoge, Gikomba"), cutting the name."""
    labels = [fit(name, limit) for name in names]
    for group in _alike(labels):
        whole = [" ".join(to_gsm7(names[i]).split()) for i in group]
        if len(set(whole)) == len(whole):
            told = _telling(whole, limit)
            for i, label in zip(group, told, strict=True):
                labels[i] = label
    if towns is not None:
        for group in _alike(labels):
            places = [" ".join(to_gsm7(towns[i]).split()) for i in group]
            if len(set(places)) < 2:
                continue  # the same town too: nothing more the list can tell
            room = min(12, max(limit // 2, 4))
            shown = distinct_names(places, room)
            for i, town in zip(group, shown, strict=True):
                name = fit(names[i], max(limit - gsm7_length(town) - 2, 3))
                labels[i] = f"{name}, {town}" if town else name
    return labels


def _alike(labels: list[str]) -> list[list[int]]:
    """The indices of the labels shown more than once, label by label."""
    where: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        where.setdefault(label.casefold(), []).append(i)
    return [group for group in where.values() if len(group) > 1]


def _telling(names: list[str], limit: int) -> list[str]:
    """Different names that cut alike, each as its beginning and, after "..", the words from the
    first that differs (each name alone: the part others share is left out)."""
    told = []
    for name in names:
        others = [other for other in names if other is not name]
        shared = max(len(_common_prefix(name, other)) for other in others)
        start = name.rfind(" ", 0, shared + 1) + 1  # the word where it differs
        tail = name[start:]
        room = limit - 2 - gsm7_length(tail)
        if room >= 3:
            told.append(name[:room].rstrip() + ".." + tail)
        else:  # the first word's beginning, and the differing words cut
            head = name.split(" ", 1)[0][: max(3, limit // 3)]
            told.append(head + ".." + fit(tail, limit - len(head) - 2))
    return told


def _common_prefix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(a.casefold(), b.casefold(), strict=False):
        if x != y:
            break
        n += 1
    return a[:n]


def lines(*parts: str) -> str:
    return "\n".join(p for p in parts if p)


def numbered(labels: list[str]) -> str:
    return "\n".join(f"{i} {label}" for i, label in enumerate(labels, start=1))


def footer(lang: str, more: bool = False) -> str:
    return f"{t('more', lang)} {t('nav', lang)}" if more else t("nav", lang)


def choice(text: str, count: int) -> int | None:
    """1-based option number typed, or None."""
    text = text.strip()
    if text.isascii() and text.isdigit() and not text.startswith("0") and 1 <= int(text) <= count:
        return int(text)
    return None


# --------------------------------------------------------------------------- menus


@dataclass(frozen=True)
class Option:
    label: str  # text key
    target: str | None = None  # screen to show
    act: Callable[[Ctx, Data, Params], Outcome] | None = None  # or a decision to take
    when: Callable[[Params], bool] | None = None  # shown only when this holds
    label_params: Callable[[Params], Mapping[str, Any]] | None = None
    pass_data: bool = False  # the target screen gets this screen's data


def menu(
    screen_id: str,
    title: Callable[[str, Params], str],
    options: list[Option],
    *,
    load: Loader = _no_load,
    show_nav: bool = True,
    also: tuple[str, ...] = (),
    samples: tuple[Params, ...] = ({},),
    writes: bool = False,
    static: bool = False,
) -> Screen:
    """A title and numbered options; each option shows a screen or takes a decision (`writes`:
    some decision changes something; `static`: see `Screen`)."""

    def visible(p: Params) -> list[Option]:
        return [o for o in options if o.when is None or o.when(p)]

    def view(lang: str, p: Params) -> str:
        labels = [
            t(o.label, lang, **(o.label_params(p) if o.label_params else {})) for o in visible(p)
        ]
        return lines(title(lang, p), numbered(labels), footer(lang) if show_nav else "")

    def handle(ctx: Ctx, data: Data, p: Params, text: str) -> Outcome:
        shown = visible(p)
        picked = choice(text, len(shown))
        if picked is None:
            return Retry()
        option = shown[picked - 1]
        if option.act is not None:
            return option.act(ctx, data, p)
        assert option.target is not None
        return Go(option.target, dict(data) if option.pass_data else {})

    targets = tuple(o.target for o in options if o.target) + also  # `also`: where acts go
    return Screen(screen_id, view, load, handle, True, targets, samples, writes, static)


# --------------------------------------------------------------------------- paged lists


def pages(lang: str, title: str, labels: list[str]) -> list[list[int]]:
    """Split labels into pages that fit one screen each (with '9 More' and navigation)."""
    return [list(page) for page in _pages(lang, title, tuple(labels))]


@lru_cache(maxsize=1024)
def _pages(lang: str, title: str, labels: tuple[str, ...]) -> tuple[tuple[int, ...], ...]:
    # A page is the title, its numbered labels and the footer, one per line; each label's length
    # is counted once (the page numbers stay below 10: at most MAX_OPTIONS + 1 are tried).
    frame = gsm7_length(title) + 1 + gsm7_length(footer(lang, more=True))
    result: list[tuple[int, ...]] = []
    current: list[int] = []
    used = frame
    for i, label in enumerate(labels):
        line = 2 + gsm7_length(label) + 1  # "n label" and its newline
        if current and (len(current) + 1 > MAX_OPTIONS or used + line > SCREEN_LIMIT):
            result.append(tuple(current))
            current, used = [], frame
        current.append(i)
        used += line
    if current or not result:
        result.append(tuple(current))
    return tuple(result)


def choice_list(
    screen_id: str,
    title_key: str,
    empty_key: str,
    *,
    load: Loader,
    label: Callable[[str, Params], str],
    pick: Callable[[Ctx, Data, Params, Params], Outcome],
    targets: tuple[str, ...],
    samples: tuple[Params, ...],
    static: bool = False,
) -> Screen:
    """A list loaded as `{"items": [...]}`, shown a screen at a time; `pick` decides on an item.

    The screen's data carries `page`; '9' shows the next page and '0' the previous one.
    """

    def page_of(lang: str, data: Data, p: Params) -> tuple[list[int], bool]:
        split = pages(lang, t(title_key, lang), [label(lang, item) for item in p["items"]])
        page = min(max(int(data.get("page", 0)), 0), len(split) - 1)
        return split[page], page < len(split) - 1

    def view(lang: str, p: Params) -> str:
        if not p["items"]:
            return lines(t(empty_key, lang), footer(lang))
        shown, more = page_of(lang, p.get("_data", {}), p)
        return lines(
            t(title_key, lang),
            numbered([label(lang, p["items"][i]) for i in shown]),
            footer(lang, more),
        )

    def handle(ctx: Ctx, data: Data, p: Params, text: str) -> Outcome:
        if not p["items"]:
            return Retry()
        shown, more = page_of(ctx.lang, data, p)
        if text.strip() == MORE and more:
            return Go(screen_id, {**data, "page": int(data.get("page", 0)) + 1})
        picked = choice(text, len(shown))
        if picked is None:
            return Retry()
        return pick(ctx, data, p, p["items"][shown[picked - 1]])

    def load_with_page(ctx: Ctx, data: Data) -> Params:
        p = load(ctx, data)
        p["_data"] = {"page": int(data.get("page", 0))}
        return p

    targets = (screen_id, *targets)
    return Screen(screen_id, view, load_with_page, handle, True, targets, samples, static=static)
