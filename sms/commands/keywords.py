"""Reading an SMS as a command: keywords in English and Kiswahili, any case and punctuation, a
small slip forgiven in longer keywords; and the trade and area a FIND names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marketplace.services import reference

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
    # A mentor's commands (a phone that is a mentor's: `handlers` sends these to `mentor.py`).
    "TRAINEES": ("trainees", False),
    "TRAINEE": ("trainees", False),
    "WANAFUNZI": ("trainees", True),
    "REC": ("rec", False),
    "RECORD": ("rec", False),
    "REKODI": ("rec", True),
    "CODE": ("code", False),
    "MSIMBO": ("code", True),
    "SESSIONS": ("sessions", False),
    "VIPINDI": ("sessions", True),
    "PAY": ("pay", False),
    "PAYMENTS": ("pay", False),
    "STATEMENT": ("pay", False),
    "MALIPO": ("pay", True),
    "PAID": ("paid", False),  # the trainee paid their co-payment
    "AMELIPA": ("paid", True),
}
MENTOR_COMMANDS = frozenset({"trainees", "rec", "code", "sessions", "pay", "paid"})
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
CHANGES = frozenset(
    {"book", "cancel", "yes", "no", "rate", "stop", "start", "lang", "rec", "code", "paid"}
)
# Everyday words one slip from a keyword (Kiswahili, English, names): never read as commands.
NOT_KEYWORDS = frozenset(
    {
        # Kiswahili words and names
        "AHA", "ANA", "ANGA", "ANNA", "ASHA", "BEKA", "CHA", "HAWANA", "HELA", "LEKA", "NDIYE",
        "PEKA", "RATA", "SEKA", "TEKA", "WEMA", "WEZA", "YENU", "AMELIMA",
        # English words
        "AID", "BIND", "BOOM", "BOOT", "BORE", "CANCER", "CHOSE", "COOK", "CORE", "DATE", "FINE",
        "FIST", "FOND", "FUND", "GATE", "GIST", "HATE", "HEAP", "HELD", "HELL", "HOOK", "INTO",
        "KICK", "KIND", "LAND", "LANE", "LAST", "LATE", "LICK", "LONG", "LOOK", "LOST", "LUNG",
        "LAID", "LUST", "MAID", "MARE", "MATE", "MEND", "MIND", "MIST", "MODE", "MOVE", "NEST", "NICK", "PACK", "PAD", "PAIL", "PAIN", "PAIR", "RAID", "SAID",
        "PECK", "PINK", "RACE", "RARE", "RATS", "SHOP", "SICK", "SLOP", "SMART", "SORE", "STAR",
        "STARE", "STARS", "STEP", "TART", "TEXT", "TOOK", "TOP", "WIND", "WORE",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Command:
    name: str  # help, bal, find, more, book, cancel, yes, no, rate, stop, start, lang, unknown,
    # unsure (a word like a keyword: asked about, not acted on); a mentor's trainees, rec, code,
    # sessions, pay, paid
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


def trade_and_area(
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
