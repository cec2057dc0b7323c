"""The message catalogue: gettext PO files read once into dicts, and `t()` to look a text up.

Each entry of `locale/<language>/LC_MESSAGES/messages.po` has the key the code asks for as its
`msgctxt` ("ussd.main.title": section, a dot, then the key within the section), the English as its
`msgid` (what a translator's tool shows as the source) and the language's text as its `msgstr`.
A text missing in a language, or marked fuzzy (its English changed since it was translated), is
shown in English. A language is a folder under `locale/`: adding one is adding its PO file.

Texts are `str.format` templates: `t("ussd.rate.done", "sw", provider="Amina", stars=4)`.
Looking up is two dict lookups and a format, the same as the dicts the channels kept before: the
USSD hop renders several texts per request.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "en"

Texts = dict[str, str]


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


def read_catalog(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=language, abort_invalid=True)


def _texts(catalog: Catalog) -> Texts:
    """key -> text for the entries this catalogue translates (not fuzzy, not empty)."""
    texts: Texts = {}
    for message in catalog:
        if not message.id:
            continue  # the header
        if not message.context:
            raise ValueError(f"{catalog.locale}: {message.id!r} has no msgctxt (its key)")
        if message.fuzzy or not message.string:
            continue
        texts[str(message.context)] = str(message.string)
    return texts


def own_texts(language: str) -> Texts:
    """The texts this language's PO file has itself (no English in their place), read anew."""
    return _texts(read_catalog(po_path(language), language))


def _load() -> dict[str, Texts]:
    """language -> key -> text, every language complete (English where it has no text)."""
    languages = sorted(p.name for p in LOCALE_DIR.iterdir() if po_path(p.name).is_file())
    source = own_texts(SOURCE_LANGUAGE)
    loaded = {SOURCE_LANGUAGE: source}
    for language in languages:
        if language != SOURCE_LANGUAGE:
            own = own_texts(language)
            loaded[language] = {key: own.get(key, text) for key, text in source.items()}
    return loaded


_CATALOGUE = _load()

# The languages people can choose, English first.
LANGUAGES: tuple[str, ...] = tuple(_CATALOGUE)


class Scope:
    """The texts of some sections, by their keys within the section: `Scope("ussd")("main.title",
    "sw")` is `t("ussd.main.title", "sw")`. Several sections make one scope (a page set and the
    words every page shares), and a key they both define is refused."""

    def __init__(self, *sections: str) -> None:
        self.sections = sections
        self._texts: dict[str, Texts] = {}
        for language, texts in _CATALOGUE.items():
            scoped: Texts = {}
            for section in sections:
                prefix = f"{section}." if section else ""
                part = {k.removeprefix(prefix): v for k, v in texts.items() if k.startswith(prefix)}
                twice = scoped.keys() & part.keys()
                if twice:
                    raise ValueError(f"{sections}: keys defined twice: {', '.join(sorted(twice))}")
                scoped.update(part)
            self._texts[language] = scoped
        self._source = self._texts[SOURCE_LANGUAGE]

    def __call__(self, key: str, language: str, **params: Any) -> str:
        """The text for `key` in `language` (English for a language we do not have), formatted."""
        template = self._texts.get(language, self._source)[key]
        return template.format(**params) if params else template

    def __contains__(self, key: str) -> bool:
        return key in self._source

    def __iter__(self) -> Iterator[str]:
        return iter(self._source)


def sections() -> list[str]:
    """Every section of the catalogue, in the order of the English file."""
    return list(dict.fromkeys(key.split(".", 1)[0] for key in _CATALOGUE[SOURCE_LANGUAGE]))


_ALL = Scope("")


def t(key: str, language: str, **params: Any) -> str:
    """The text for the full `key` ("web.sign_out", "ussd.main.title", "sms.voucher_issued") in
    `language` (English for a language we do not have), formatted with `params`."""
    return _ALL(key, language, **params)


def keys() -> list[str]:
    """Every full key, in the order of the English file."""
    return list(_ALL)
