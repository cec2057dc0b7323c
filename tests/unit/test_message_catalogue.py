"""The message catalogue: every key in every language with the English placeholders, the PO files
as `make messages` writes them, and the rules of looking a text up."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog

from marketplace.messages import catalogue, tool


def test_every_key_has_every_language_with_the_same_placeholders() -> None:
    assert catalogue.LANGUAGES == ("en", "sw")
    assert len(catalogue.keys()) > 500
    assert tool.all_problems() == []


def test_the_po_files_and_the_template_are_as_make_messages_writes_them() -> None:
    stale = [str(path) for path, content in tool.files().items() if path.read_bytes() != content]
    assert stale == [], "run `make messages`"


def test_every_english_entry_translates_to_its_own_msgid() -> None:
    english = catalogue.read_catalog(catalogue.po_path("en"), "en")
    assert all(m.string == m.id for m in english if m.id)


def _catalog(language: str, entries: list[tuple[str, str, str]], fuzzy: str = "") -> Catalog:
    catalog = Catalog(locale=language)
    for key, english, text in entries:
        catalog.add(english, text, context=key, flags=["fuzzy"] if key == fuzzy else [])
    return catalog


def test_a_missing_text_a_fuzzy_one_and_other_placeholders_are_each_reported() -> None:
    source = _catalog(
        "en",
        [
            ("a.one", "One {n}", "One {n}"),
            ("a.two", "Two", "Two"),
            ("a.three", "Three {x}", "Three {x}"),
            ("a.four", "Four", "Four"),
        ],
    )
    other = _catalog(
        "sw",
        [
            ("a.one", "One {n}", "Moja {n}"),
            ("a.two", "Two", "Mbili"),
            ("a.three", "Three {x}", "Tatu {y}"),
        ],
        fuzzy="a.two",
    )
    assert tool.problems(source, other) == [
        "sw: a.two is fuzzy (its English changed): check the text",
        "sw: a.three has ['y'], the English ['x']",
        "sw: a.four has no text",
    ]


def test_a_language_we_do_not_have_reads_english() -> None:
    assert catalogue.t("ussd.main.find", "fr") == catalogue.t("ussd.main.find", "en")
    assert catalogue.t("ussd.main.find", "sw") == "Tafuta mwalimu"


def test_a_text_is_formatted_only_when_given_values() -> None:
    assert catalogue.t("ussd.main.title", "en") == "Ujuzi: hello {name}"
    assert catalogue.t("ussd.main.title", "sw", name="Amina") == "Ujuzi: habari Amina"


def test_an_unknown_key_is_an_error_not_a_blank() -> None:
    with pytest.raises(KeyError):
        catalogue.t("ussd.no_such_text", "en")


def test_a_scope_reads_its_sections_by_their_own_keys() -> None:
    pages = catalogue.Scope("web", "phone")
    assert pages("sign_out", "sw") == catalogue.t("web.sign_out", "sw")
    assert pages("dial", "en", code="*384#") == "Dial *384#"
    assert "dial" in pages and "nav_programmes" not in pages


def test_two_sections_defining_one_key_cannot_make_one_scope() -> None:
    with pytest.raises(ValueError, match="sms_title"):
        catalogue.Scope("admin", "phone")
