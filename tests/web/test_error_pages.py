"""The error pages speak the page's language, chosen as for every other page: the words come
from the catalogue's `errors.` section, one language at a time."""

from __future__ import annotations

import html
import re
from pathlib import Path

from flask.testing import FlaskClient

from marketplace.messages import pages
from marketplace.web import security
from tests.web.conftest import Web

TEMPLATES = Path(security.__file__).resolve().parents[1] / "templates"


def _visible(response: object) -> str:
    body = response.get_data(as_text=True)  # type: ignore[attr-defined]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def _choose(web: Web, lang: str) -> None:
    answer = web.post("/language", {"lang": lang, "back": "/signin"}, token_from="/signin")
    assert answer.status_code == 302


def test_an_unknown_page_in_english_has_no_kiswahili(client: FlaskClient) -> None:
    page = client.get("/no-such-page")
    assert page.status_code == 404
    text = _visible(page)
    assert pages.errors("heading_404", "en") in text
    assert pages.errors("not_found", "en") in text
    assert pages.errors("not_found", "sw") not in text
    assert '<html lang="en">' in page.get_data(as_text=True)


def test_an_unknown_page_after_choosing_kiswahili_is_in_kiswahili(
    web: Web, client: FlaskClient
) -> None:
    _choose(web, "sw")
    page = client.get("/no-such-page")
    assert page.status_code == 404
    text = _visible(page)
    assert "Haikupatikana" in text
    assert "Hakuna kitu hapa. Angalia anwani au rudi nyuma." in text
    assert "Ukurasa wa mwalimu" in text
    for english in ("Not found", "There is nothing here", "Home", "Mentor page"):
        assert english not in text
    assert '<html lang="sw">' in page.get_data(as_text=True)


def test_an_expired_form_is_explained_in_the_chosen_language(web: Web, client: FlaskClient) -> None:
    _choose(web, "sw")
    refused = client.post("/language", data={"lang": "en", "back": "/signin"})  # no CSRF token
    assert refused.status_code == 400
    text = _visible(refused)
    assert pages.errors("heading_400", "sw") in text
    assert "Fomu imepitwa na wakati. Rudi, pakia upya ukurasa na utume tena." in text
    assert "This form had expired" not in text


def test_a_method_not_allowed_page_in_kiswahili(web: Web, client: FlaskClient) -> None:
    _choose(web, "sw")
    page = client.get("/language")  # the switch takes only a form
    assert page.status_code == 405
    text = _visible(page)
    assert pages.errors("heading_405", "sw") in text
    assert pages.errors("method_not_allowed", "sw") in text
    assert pages.errors("method_not_allowed", "en") not in text


def test_every_word_the_error_templates_ask_for_is_in_both_languages() -> None:
    used: set[str] = set()
    for template in (TEMPLATES / "errors").glob("*.html"):
        used |= set(re.findall(r"_\('([a-z0-9_]+)'\s*[,)]", template.read_text()))
    assert {"heading_404", "csrf", "other", "home"} <= used
    for key in used:
        assert key in pages.errors, key
        assert pages.errors(key, "sw", status=500) != pages.errors(key, "en", status=500), key
