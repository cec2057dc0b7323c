"""Reference data: trades and regions, loaded from marketplace/data for the configured country."""

from __future__ import annotations

import difflib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..domain.models import Region, Trade
from ..extensions import db
from . import settings, unit

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def load_reference_data(country: str | None = None) -> tuple[int, int]:
    """Insert or update trades and the country's regions. Returns (trades, regions)."""
    country = (country or settings.get("COUNTRY", "KE")).upper()
    trades = json.loads((DATA_DIR / "trades.json").read_text())["trades"]
    regions_file = DATA_DIR / f"regions_{country}.json"
    if not regions_file.exists():
        raise FileNotFoundError(f"no region list for country {country}: add {regions_file.name}")
    regions = json.loads(regions_file.read_text())["regions"]
    with unit.of_work("system"):
        for t in trades:
            db.session.merge(
                Trade(
                    code=t["code"],
                    name_en=t["name_en"],
                    name_sw=t["name_sw"],
                    aliases=t.get("aliases", ""),
                )
            )
        for r in regions:
            db.session.merge(Region(code=r["code"], name=r["name"], country=country))
    current_app.extensions.pop(_CACHE, None)
    return len(trades), len(regions)


REFRESH_SECONDS = 300.0  # another process (`flask load-reference-data`) may change the lists
_CACHE = "ujuzi.reference"  # key in `app.extensions`: {name: (loaded at, rows)}
Trades = tuple[tuple[str, str, str, str], ...]
Regions = tuple[tuple[str, str], ...]


def _cached(name: str, load: Callable[[], tuple[Any, ...]]) -> tuple[Any, ...]:
    """The app's copy of a reference list, read again when it is older than `REFRESH_SECONDS`
    (an empty list is not kept: the data may not be loaded yet)."""
    cache: dict[str, tuple[float, tuple[Any, ...]]] = current_app.extensions.setdefault(_CACHE, {})
    now = time.monotonic()
    kept = cache.get(name)
    if kept is not None and now - kept[0] < REFRESH_SECONDS:
        return kept[1]
    rows = load()
    if rows:
        cache[name] = (now, rows)
    return rows


def _load_trades() -> Trades:
    rows = db.session.execute(
        sa.select(Trade.code, Trade.name_en, Trade.name_sw, Trade.aliases).order_by(Trade.name_en)
    ).all()
    return tuple((r[0], r[1], r[2], r[3]) for r in rows)


def _load_regions() -> Regions:
    rows = db.session.execute(sa.select(Region.code, Region.name).order_by(Region.name)).all()
    return tuple((r[0], r[1]) for r in rows)


def trades() -> Trades:
    """(code, English name, Kiswahili name, aliases), sorted by English name. Cached."""
    return _cached("trades", _load_trades)


def regions() -> Regions:
    """(code, name), sorted by name. Cached."""
    return _cached("regions", _load_regions)


def trade_codes() -> set[str]:
    return {t[0] for t in trades()}


def region_codes() -> set[str]:
    return {r[0] for r in regions()}


def trade_name(code: str, language: str = "en") -> str:
    for c, en, sw, _ in trades():
        if c == code:
            return sw if language == "sw" else en
    return code


def region_name(code: str) -> str:
    for c, name in regions():
        if c == code:
            return name
    return code


def _words(text: str) -> list[str]:
    return [w for w in "".join(ch.lower() if ch.isalnum() else " " for ch in text).split() if w]


def match_trade(text: str) -> str | None:
    """A trade code for what someone typed: exact code, name or alias, then the closest spelling."""
    words = _words(text)
    if not words:
        return None
    # A whole name ("ushonaji viatu") first; then codes and aliases, which name one trade each,
    # win over single words of names that several trades share ("ushonaji" is tailoring).
    phrase = " ".join(words)
    for code, en, sw, _aliases in trades():
        if phrase in (code, " ".join(_words(en)), " ".join(_words(sw))):
            return code
    vocabulary: dict[str, str] = {}
    for code, _en, _sw, aliases in trades():
        for term in [code, *aliases.lower().split()]:
            vocabulary.setdefault(term, code)
    for code, en, sw, _aliases in trades():
        for term in [*_words(en), *_words(sw)]:
            vocabulary.setdefault(term, code)
    for w in words:
        if w in vocabulary:
            return vocabulary[w]
    for w in words:
        if len(w) >= 3:
            close = difflib.get_close_matches(w, vocabulary.keys(), n=1, cutoff=0.75)
            if close:
                return vocabulary[close[0]]
    return None


def match_region(text: str) -> str | None:
    """A region code for what someone typed (county name, tolerant of spelling)."""
    wanted = " ".join(_words(text))
    if not wanted:
        return None
    names = {" ".join(_words(name)): code for code, name in regions()}
    names.update({code.replace("-", " "): code for code, _ in regions()})
    if wanted in names:
        return names[wanted]
    close = difflib.get_close_matches(wanted, names.keys(), n=1, cutoff=0.75)
    return names[close[0]] if close else None
