"""`make messages`: keep the PO files in step with the English, then check every language.

The English file (`locale/en/LC_MESSAGES/messages.po`) is where texts are written: a new text is
a new entry there (its key as `msgctxt`, its English as `msgid`). From it this writes

- the English file again, each `msgstr` the `msgid` (English is a complete language like any other);
- `messages.pot`, the template a translator starts a new language from (empty `msgstr`s);
- every other language's file, in the English order: a new key comes in untranslated, a key whose
  English changed keeps its old text marked fuzzy until a translator checks it (the catalogue shows
  the English meanwhile), a key gone from the English goes.

Then it checks what `tests/test_messages.py` checks: every key in every language, nothing fuzzy,
the same `{placeholders}` as the English. `--check` writes nothing and fails when a file is not
as it would write it. Keys are not extracted from the code (it asks for them by name); pybabel's
extract has nothing to find, and this does what its update does, keyed by `msgctxt`.
"""

from __future__ import annotations

import argparse
import io
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import write_po

from .catalogue import LOCALE_DIR, SOURCE_LANGUAGE, po_path, read_catalog

TEMPLATE = LOCALE_DIR.parent / "messages.pot"
BRACE_FORMAT = "python-brace-format"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r}: the catalogue has no plural forms")
    return value


def _entries(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def _refill(catalog: Catalog, messages: list[Message]) -> Catalog:
    """`catalog` (its header kept) holding `messages`, in that order."""
    for message in _entries(catalog):
        catalog.delete(message.id, message.context)
    for message in messages:
        catalog[message.id] = message  # keyed by (msgid, msgctxt) when there is a context
    return catalog


def _flags(english: str, fuzzy: bool = False) -> list[str]:
    flags = [BRACE_FORMAT] if placeholders(english) else []
    return [*flags, "fuzzy"] if fuzzy else flags


def updated(language: str | None) -> Catalog:
    """The catalogue of `language` (None: the template) as `make messages` writes it."""
    source = _entries(read_catalog(po_path(SOURCE_LANGUAGE), SOURCE_LANGUAGE))
    if language is None:
        target = read_catalog(TEMPLATE)
    else:
        target = read_catalog(po_path(language), language)
    own = {message.context: message for message in _entries(target)}
    messages = []
    for english in source:
        key, text = english.context, _text(english.id)
        if language is None:
            translation, fuzzy = "", False
        elif language == SOURCE_LANGUAGE:
            translation, fuzzy = text, False
        elif key not in own:
            translation, fuzzy = "", False
        else:  # fuzzy when the English changed since this was translated
            translation, fuzzy = _text(own[key].string), own[key].fuzzy or own[key].id != text
        messages.append(
            Message(
                text,
                translation,
                flags=_flags(text, fuzzy),
                auto_comments=english.auto_comments,
                user_comments=own[key].user_comments if key in own else (),
                context=key,
            )
        )
    return _refill(target, messages)


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=76)
    return out.getvalue()


def languages() -> list[str]:
    return sorted(p.name for p in LOCALE_DIR.iterdir() if po_path(p.name).is_file())


def files() -> dict[Path, bytes]:
    """Every file `make messages` writes, with its content."""
    written = {TEMPLATE: po_bytes(updated(None))}
    for language in languages():
        written[po_path(language)] = po_bytes(updated(language))
    return written


def problems(source: Catalog, other: Catalog) -> list[str]:
    """What `other` lacks against the English `source`: keys, texts, placeholders."""
    language = str(other.locale)
    found = []
    theirs = {message.context: message for message in _entries(other)}
    for english in _entries(source):
        key = english.context
        if not key:
            found.append(f"{SOURCE_LANGUAGE}: {english.id!r} has no msgctxt (its key)")
            continue
        message = theirs.get(key)
        if message is None or not message.string:
            found.append(f"{language}: {key} has no text")
        elif message.fuzzy:
            found.append(f"{language}: {key} is fuzzy (its English changed): check the text")
        elif placeholders(_text(message.string)) != placeholders(_text(english.id)):
            found.append(
                f"{language}: {key} has {sorted(placeholders(_text(message.string)))}, "
                f"the English {sorted(placeholders(_text(english.id)))}"
            )
    keys = [english.context for english in _entries(source)]
    found += [f"{SOURCE_LANGUAGE}: {key} is defined twice" for key in keys if keys.count(key) > 1]
    return found


def all_problems() -> list[str]:
    source = read_catalog(po_path(SOURCE_LANGUAGE), SOURCE_LANGUAGE)
    found = []
    for language in languages():
        found += problems(source, read_catalog(po_path(language), language))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make messages", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; fail if out of step")
    args = parser.parse_args(argv)
    stale = []
    for path, content in files().items():
        if path.read_bytes() != content:
            stale.append(path)
            if not args.check:
                path.write_bytes(content)
    for path in stale:
        print(f"{'out of step' if args.check else 'updated'}: {path}")
    found = all_problems()
    print(*found, sep="\n", file=sys.stderr) if found else print("every language complete")
    return 1 if found or (args.check and stale) else 0
