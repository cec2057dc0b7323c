"""The menu registry, walked: every target exists, every text is translated, every screen fits."""

from __future__ import annotations

import pytest

from marketplace.messages.catalogue import LANGUAGES, own_texts
from marketplace.messages.gsm import gsm7_length, is_gsm7
from marketplace.messages.ussd import error_key, t
from sms.ussd.flow import SCREEN_LIMIT, fit, pages
from sms.ussd.screens import ENDINGS, ENTRIES, HOME, HOMES, LONG, RESUME, SCREENS, render_end

BILINGUAL = {"unknown_phone", "polite_end", "wrong_service"}


def fits(text: str) -> bool:
    return is_gsm7(text) and gsm7_length(text) <= SCREEN_LIMIT


def test_the_main_menu_is_a_registered_screen():
    assert HOME in SCREENS


@pytest.mark.parametrize("screen", SCREENS.values(), ids=lambda s: s.id)
def test_every_screen_goes_only_to_registered_screens(screen):
    missing = [target for target in screen.targets if target not in SCREENS]
    assert missing == []


def test_every_screen_can_be_reached_from_where_sessions_start():
    # The entrepreneur's menu, the mentor's, the choice for a phone that is both, and the offer
    # to go on with a session cut off (which leads anywhere).
    assert (*HOMES, RESUME) == ENTRIES
    reached, todo = set(HOMES), list(HOMES)
    while todo:
        for target in SCREENS[todo.pop()].targets:
            if target not in reached:
                reached.add(target)
                todo.append(target)
    assert reached == set(SCREENS) - {RESUME}
    assert set(SCREENS[RESUME].targets) == set(SCREENS)


OWN = {lang: own_texts(lang) for lang in LANGUAGES}


@pytest.mark.parametrize("key", sorted(t))
def test_every_text_is_in_english_and_kiswahili_and_gsm7(key):
    for lang in LANGUAGES:
        assert OWN[lang].get(f"ussd.{key}"), f"{key} has no {lang} text"
        assert is_gsm7(t(key, lang)), f"{key} ({lang}) is not GSM-7"
    if key in BILINGUAL:  # shown before we know who dials: the same text in every language
        assert len({t(key, lang) for lang in LANGUAGES}) == 1, key


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("screen", SCREENS.values(), ids=lambda s: s.id)
def test_every_screen_fits_160_gsm7_characters_with_long_values(screen, lang):
    assert screen.samples, f"{screen.id} has no sample values"
    for sample in screen.samples:
        text = screen.view(lang, sample)
        assert fits(text), f"{screen.id} ({lang}) is {gsm7_length(text)} long:\n{text}"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("key", sorted(ENDINGS))
def test_every_ending_fits_with_long_values(key, lang):
    # A count (`n`, which chooses a text's plural form) is a number, as long as it is allowed.
    long = {
        name: 10 ** ENDINGS[key][name] - 1 if name == "n" else LONG + "9" * 40
        for name in ENDINGS[key]
    }
    text = render_end(key, lang, long)
    assert fits(text), f"{key} ({lang}) is {gsm7_length(text)} long:\n{text}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_fixed_message_fits(lang):
    fixed = [k for k in t if k.startswith("error.") or k in BILINGUAL or k.endswith(".none")]
    for key in fixed:
        assert fits(t(key, lang)), key


def test_an_unknown_domain_error_gets_the_general_message():
    assert error_key("something_new") == "error.domain_error"
    assert error_key("provider_full") == "error.provider_full"


def test_names_are_transliterated_and_cut_to_fit():
    assert fit("Zawadi “Mama” Ñjoki—Kamau", 40) == 'Zawadi "Mama" Ñjoki-Kamau'
    assert fit("Wanjiku wa Mũthoni", 40) == "Wanjiku wa Muthoni"
    cut = fit(LONG, 16)
    assert gsm7_length(cut) <= 16 and cut.endswith("..")


def test_long_lists_are_split_into_pages_that_each_fit():
    labels = [f"Trade with a rather long name {i}" for i in range(20)]
    split = pages("sw", "Walimu wa kazi gani?", labels)
    assert sorted(i for page in split for i in page) == list(range(20))
    assert all(1 <= len(page) <= 8 for page in split)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_mentor_refusal_fits_with_long_values(lang):
    from marketplace.domain import errors
    from sms.ussd.mentor import REFUSALS, refusal_text

    for kind, (_key, names) in REFUSALS.items():
        refused = kind(**{name: "KES 999,999,999.99" for name in names}) if names else kind()
        text = refusal_text(refused, lang)
        assert text and fits(text), f"{kind.__name__} ({lang}): {text}"
    assert refusal_text(errors.NotFound("No such trainee."), lang) is None
