"""The message catalogue: gettext PO files read once into dicts, and `t()` to look a text up.

Each entry of `locale/<language>/LC_MESSAGES/messages.po` has the key the code asks for as its
`msgctxt` ("ussd.main.title": section, a dot, then the key within the section), the English as its
`msgid` (what a translator's tool shows as the source) and the language's text as its `msgstr`.
A text missing in a language, or marked fuzzy (its English changed since it was translated), is
shown in English. A language is a folder under `locale/`: adding one is adding its PO file.

Texts are `str.format` templates: `t("ussd.rate.done", "sw", provider="Amina", stars=4)`. A text
that counts something has plural forms (gettext's `msgid_plural` and `msgstr[i]`, chosen by the
file's `Plural-Forms` expression, as `ngettext` does) and counts with the value `n`:
`t("ussd.rating.some", "en", rating=4.5, n=1)` is "4.5/5, 1 rating".
Looking up is two dict lookups and a format, the same as the dicts the channels kept before: the
USSD hop renders several texts per request.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "en"

Texts = dict[str, str]
Forms = dict[str, tuple[str, ...]]  # key -> the plural forms of a text that counts
Plural = Callable[[int], int]  # n -> the index of its form


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


def read_catalog(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=language, abort_invalid=True)


def _texts(catalog: Catalog) -> tuple[Texts, Forms]:
    """key -> text for the entries this catalogue translates (not fuzzy, not empty); a text with
    plural forms is there as its last (most general) form, and its forms apart."""
    texts: Texts = {}
    forms: Forms = {}
    for message in catalog:
        if not message.id:
            continue  # the header
        if not message.context:
            raise ValueError(f"{catalog.locale}: {message.id!r} has no msgctxt (its key)")
        if message.fuzzy or not message.string:
            continue
        key = str(message.context)
        if message.pluralizable:
            strings = tuple(str(s) for s in message.string)
            if not all(strings):
                continue
            forms[key] = strings
            texts[key] = strings[-1]
        else:
            texts[key] = str(message.string)
    return texts, forms


def own_texts(language: str) -> Texts:
    """The texts this language's PO file has itself (no English in their place), read anew."""
    return _texts(read_catalog(po_path(language), language))[0]


def _load() -> tuple[dict[str, Texts], dict[str, Forms], dict[str, Plural]]:
    """language -> key -> text, every language complete (English where it has no text); the
    plural forms of each language (English's where it has none) and its rule choosing one."""
    languages = sorted(p.name for p in LOCALE_DIR.iterdir() if po_path(p.name).is_file())
    english = read_catalog(po_path(SOURCE_LANGUAGE), SOURCE_LANGUAGE)
    source, source_forms = _texts(english)
    loaded = {SOURCE_LANGUAGE: source}
    forms = {SOURCE_LANGUAGE: source_forms}
    rules: dict[str, Plural] = {SOURCE_LANGUAGE: gettext.c2py(english.plural_expr)}
    for language in languages:
        if language != SOURCE_LANGUAGE:
            catalog = read_catalog(po_path(language), language)
            own, own_forms = _texts(catalog)
            loaded[language] = {key: own.get(key, text) for key, text in source.items()}
            if all(key in own_forms for key in source_forms):
                forms[language] = {key: own_forms[key] for key in source_forms}
                rules[language] = gettext.c2py(catalog.plural_expr)
            else:  # a text that counts, untranslated: the language counts in English meanwhile
                forms[language] = {k: own_forms.get(k, f) for k, f in source_forms.items()}
                rules[language] = rules[SOURCE_LANGUAGE]
    return loaded, forms, rules


_CATALOGUE, _FORMS, _RULES = _load()

# The languages people can choose, English first.
LANGUAGES: tuple[str, ...] = tuple(_CATALOGUE)


class Scope:
    """The texts of some sections, by their keys within the section: `Scope("ussd")("main.title",
    "sw")` is `t("ussd.main.title", "sw")`. Several sections make one scope (a page set and the
    words every page shares), and a key they both define is refused."""

    def __init__(self, *sections: str) -> None:
        self.sections = sections
        self._texts: dict[str, Texts] = {}
        self._forms: dict[str, Forms] = {}
        for language, texts in _CATALOGUE.items():
            scoped: Texts = {}
            for section in sections:
                prefix = f"{section}." if section else ""
                part = {k.removeprefix(prefix): v for k, v in texts.items() if k.startswith(prefix)}
                twice = scoped.keys() & part.keys()
                if twice:
                    raise ValueError(f"{sections}: keys defined twice: {', '.join(sorted(twice))}")
                scoped.update(part)
                self._forms.setdefault(language, {}).update(
                    {
                        k.removeprefix(prefix): v
                        for k, v in _FORMS[language].items()
                        if k.startswith(prefix)
                    }
                )
            self._texts[language] = scoped
        self._source = self._texts[SOURCE_LANGUAGE]

    def __call__(self, key: str, language: str, **params: Any) -> str:
        """The text for `key` in `language` (English for a language we do not have), formatted;
        a text that counts in the form for `n`."""
        if "n" in params and language not in self._texts:
            language = SOURCE_LANGUAGE
        forms = self._forms.get(language, {}).get(key) if "n" in params else None
        if forms is not None:
            template = forms[min(_RULES[language](int(params["n"])), len(forms) - 1)]
        else:
            template = self._texts.get(language, self._source)[key]
        return template.format(**params) if params else template

    def counts(self, key: str) -> bool:
        """Whether the text has plural forms (chosen by the value `n`)."""
        return key in self._forms[SOURCE_LANGUAGE]

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
