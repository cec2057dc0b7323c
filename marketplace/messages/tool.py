"""`make messages`: keep the PO files in step with the English, then check every language.

The English file (`locale/en/LC_MESSAGES/messages.po`) is where texts are written: a new text is
a new entry there (its key as `msgctxt`, its English as `msgid`). From it this writes

- the English file again, each `msgstr` the `msgid` (English is a complete language like any other);
- `messages.pot`, the template a translator starts a new language from (empty `msgstr`s);
- every other language's file, in the English order: a new key comes in untranslated, a key whose
  English changed keeps its old text marked fuzzy until a translator checks it (the catalogue shows
  the English meanwhile), a key gone from the English goes.

Then it checks what `tests/test_messages.py` checks: every key in every language, nothing fuzzy,
the same `{placeholders}` as the English. A text that counts has plural forms (`msgid_plural`,
one `msgstr[i]` per form of the language's `Plural-Forms`), each form checked the same way. `--check` writes nothing and fails when a file is not
as it would write it. Keys are not extracted from the code (it asks for them by name); pybabel's
extract has nothing to find, and this does what its update does, keyed by `msgctxt`.
"""

from __future__ import annotations

import argparse
import io
import string
import sys
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import write_po

from .catalogue import LOCALE_DIR, SOURCE_LANGUAGE, po_path, read_catalog

TEMPLATE = LOCALE_DIR.parent / "messages.pot"
BRACE_FORMAT = "python-brace-format"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _text(value: object) -> str:
    """A text, or the plural forms of a text joined (what its placeholders are read from)."""
    if isinstance(value, (tuple, list)):
        return "\n".join(str(v) for v in value)
    return str(value)


def _forms(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, (tuple, list)) else (str(value),)


def _translation(english: Message, own: Message | None, forms: int) -> tuple[Any, bool]:
    """The text a language's file keeps for `english` (its forms for a text that counts), and
    whether it is fuzzy (the English changed since it was translated)."""
    if own is None:
        return (("",) * forms if english.pluralizable else ""), False
    fuzzy = own.fuzzy or own.id != english.id
    if not english.pluralizable:
        return (_forms(own.string)[-1] if own.pluralizable else own.string), fuzzy
    if own.pluralizable and len(_forms(own.string)) == forms:
        return _forms(own.string), fuzzy
    return (_forms(own.string)[-1],) * forms, True  # now counts: each form to check


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
    forms = target.num_plurals if language is not None else 2
    messages = []
    for english in source:
        key, text = english.context, english.id
        translation: Any
        if language is None:
            translation, fuzzy = (("",) * forms if english.pluralizable else ""), False
        elif language == SOURCE_LANGUAGE:
            translation, fuzzy = text, False
        else:
            translation, fuzzy = _translation(english, own.get(key), forms)
        messages.append(
            Message(
                text,
                translation,
                flags=_flags(_text(text), fuzzy),
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
        if message is None or not all(_forms(message.string)) or not message.string:
            found.append(f"{language}: {key} has no text")
        elif message.fuzzy:
            found.append(f"{language}: {key} is fuzzy (its English changed): check the text")
        elif english.pluralizable and len(_forms(message.string)) != other.num_plurals:
            found.append(f"{language}: {key} has not the {other.num_plurals} plural forms")
        else:
            wanted = placeholders(_forms(english.id)[-1])
            for form in _forms(message.string):
                if placeholders(form) != wanted:
                    found.append(
                        f"{language}: {key} has {sorted(placeholders(form))}, "
                        f"the English {sorted(wanted)}"
                    )
                    break
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
