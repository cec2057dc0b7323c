"""The phone simulator page (/dev/phone): a trainer dials the USSD menu and sends SMS from a browser,
through the gateway's real routes, and sees the SMS that come back. Development only."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from marketplace.app import create_app
from marketplace.domain.models import Entrepreneur, OutboxMessage, UssdSession
from marketplace.extensions import db
from marketplace.services import demo
from tests.builders import Builders
from tests.web.conftest import csrf_from

PAGE = "/dev/phone"


class PhonePage:
    """Fills in the page's forms the way a trainer does, and reads what the page shows."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.html = ""
        self.status = 0

    def post(self, action: str, **form: str) -> PhonePage:
        token = csrf_from(self.client, PAGE)
        response = self.client.post(
            f"{PAGE}/{action}", data={**form, "csrf_token": token}, follow_redirects=True
        )
        self.status = response.status_code
        self.html = response.get_data(as_text=True)
        return self

    def use(self, number: str) -> PhonePage:
        return self.post("number", number=number)

    def dial(self) -> PhonePage:
        return self.post("dial")

    def send(self, typed: str) -> PhonePage:
        return self.post("send", input=typed)

    def sms(self, text: str) -> PhonePage:
        return self.post("sms", text=text)

    @property
    def screen(self) -> list[str]:
        """The USSD screen's lines, as the phone shows them."""
        screen = re.search(r'<div class="card" id="screen"[^>]*>(.*?)</div>', self.html, re.S)
        assert screen, "no USSD screen on the page"
        samp = re.search(r"<samp>(.*?)</samp>", screen.group(1), re.S)
        return [html.unescape(line) for line in samp.group(1).split("<br>")] if samp else []

    @property
    def inbox(self) -> list[str]:
        """The SMS bodies listed for the number, as shown (newest first)."""
        assert 'id="inbox"' in self.html, "no inbox on the page"
        listed = self.html.split('id="inbox"', 1)[1]
        bodies = re.findall(r'<p class="muted">[^\n]*</p>\n<p>(.*?)</p>\n</div>', listed, re.S)
        return [html.unescape(b.replace("<br>", "\n")) for b in bodies]

    @property
    def session_open(self) -> bool:
        return f'action="{PAGE}/send"' in self.html


@pytest.fixture
def page(client: FlaskClient) -> PhonePage:
    return PhonePage(client)


@pytest.fixture(autouse=True)
def _nothing_fails_quietly(caplog: pytest.LogCaptureFixture) -> Any:
    """The gateway routes behind the page log, not raise: an error logged is a failure here."""
    yield
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures == []


def _ussd_session(phone: str) -> UssdSession:
    db.session.expire_all()
    row = db.session.scalars(
        sa.select(UssdSession).where(UssdSession.phone == phone).order_by(UssdSession.created_at)
    ).first()
    assert row is not None, f"no USSD session for {phone}"
    return row


# --------------------------------------------------------------------------- where it exists


def _app_with(monkeypatch: pytest.MonkeyPatch, **settings: Any) -> Flask:
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    return create_app({"TESTING": True, "SECRET_KEY": "x" * 40, **settings})


@pytest.mark.parametrize("environment", ["production", "staging", "test"])
def test_the_page_does_not_exist_outside_development(monkeypatch, environment):
    client = _app_with(monkeypatch, APP_ENV=environment, WTF_CSRF_ENABLED=False).test_client()
    assert client.get(PAGE).status_code == 404
    assert client.post(f"{PAGE}/dial").status_code == 404
    assert client.post(f"{PAGE}/number", data={"number": "+254711000111"}).status_code == 404


def test_a_setting_turns_the_page_off_in_development_too(monkeypatch):
    app = _app_with(monkeypatch, APP_ENV="development", PHONE_SIMULATOR_PAGE=False)
    assert app.test_client().get(PAGE).status_code == 404


def test_in_development_the_page_asks_for_a_number(client):
    response = client.get(PAGE)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'name="number"' in body and 'name="csrf_token"' in body
    assert f'action="{PAGE}/dial"' not in body  # nothing to dial before a number is chosen


# --------------------------------------------------------------------------- USSD


def test_dialling_the_demo_entrepreneur_shows_the_main_menu_then_the_vouchers(app, page):
    lines = demo.seed(7)
    number = next(m.group(1) for line in lines if (m := re.match(r"\s+(\+254\d{9})\s", line)))
    language = db.session.scalar(
        sa.select(Entrepreneur.language).where(Entrepreneur.phone == number)
    )
    db.session.remove()
    menu, vouchers = ("Vocha zangu", "Vocha ") if language == "sw" else ("My vouchers", "Voucher ")

    page.use(number.removeprefix("+"))  # written without the '+', as people often do
    assert page.status == 200 and f'value="{number}"' in page.html
    page.dial()
    assert page.status == 200 and page.session_open
    assert page.screen[0].startswith("Ujuzi: ")
    assert f"1 {menu}" in page.screen and len(page.screen) == 8

    page.send("1")
    assert page.screen[0].startswith(vouchers) and page.session_open
    page.send("00")
    assert f"1 {menu}" in page.screen


def test_an_unknown_number_is_told_how_to_join_and_the_session_ends(page):
    page.use("0799 000111").dial()
    screen = " ".join(page.screen)
    assert "no training voucher" in screen and "ask your programme office" in screen
    assert "Session ended." in page.html and not page.session_open
    assert _ussd_session("+254799000111").ended_status == "Success"  # the end-of-session event


def test_hanging_up_sends_the_end_of_session_event(build: Builders, page):
    voucher = build.voucher()
    page.use(voucher.entrepreneur.phone).dial()
    assert page.session_open
    page.post("hangup")
    assert not page.session_open and f'action="{PAGE}/dial"' in page.html
    assert _ussd_session(voucher.entrepreneur.phone).ended_status == "Incomplete"


def test_choosing_another_number_closes_the_open_session(build: Builders, page):
    first, second = build.voucher(), build.voucher()
    page.use(first.entrepreneur.phone).dial().use(second.entrepreneur.phone)
    assert not page.session_open and page.screen == []
    assert _ussd_session(first.entrepreneur.phone).ended_status == "Incomplete"


def test_each_hop_posts_the_whole_session_so_far(build: Builders, page):
    voucher = build.voucher(name="Amina Wanjiru")
    page.use(voucher.entrepreneur.phone).dial()
    page.send("1")
    page.send("0")  # back: the engine reads the new input from the accumulated text
    assert page.screen[0] == "Ujuzi: hello Amina"


# --------------------------------------------------------------------------- SMS


def test_an_sms_bal_puts_the_reply_in_the_inbox_newest_first(build: Builders, page):
    voucher = build.voucher()
    page.use(voucher.entrepreneur.phone)
    page.sms("HELP")
    page.sms("BAL")
    assert page.status == 200 and "SMS sent" in page.html
    assert page.inbox[0].startswith("Ujuzi vouchers:")
    assert page.inbox[1].startswith("Ujuzi SMS: BAL")  # the HELP reply, older
    stored = db.session.scalars(
        sa.select(OutboxMessage.body).where(OutboxMessage.to_phone == voucher.entrepreneur.phone)
    ).all()
    assert sorted(page.inbox) == sorted(stored)


def test_the_inbox_shows_only_the_numbers_own_sms(build: Builders, page):
    mine, theirs = build.voucher(), build.voucher()
    page.use(theirs.entrepreneur.phone).sms("BAL")
    page.use(mine.entrepreneur.phone)
    assert len(page.inbox) == 1 and "voucher" in page.inbox[0]  # the one telling of the voucher
    assert not any(body.startswith("Ujuzi vouchers:") for body in page.inbox)


def test_a_number_without_sms_has_an_empty_inbox(page):
    page.use("+254799000333")
    assert page.inbox == [] and "No SMS for this number yet." in page.html


# --------------------------------------------------------------------------- junk


@pytest.mark.parametrize(
    "number",
    [
        "",
        "abc",
        "12",
        "9" * 60,
        "<script>alert(1)</script>",
        "+254 7\x00",
        "\u0660\u0667\u0661\u0661",
    ],
)
def test_a_bad_number_is_refused_with_a_message(page, number):
    page.use(number)
    assert page.status == 422
    assert "Enter a valid phone number" in page.html and "<script>alert" not in page.html


@pytest.mark.parametrize(
    "typed",
    ["", "*", "1**2", "#", "x" * 5000, "\x00\x01", "<b>1</b>", "😀", "0", "00", "1\n2", "9" * 159],
)
def test_junk_at_the_ussd_prompt_never_breaks_the_page(build: Builders, page, typed):
    page.use(build.voucher().entrepreneur.phone).dial()
    for _ in range(3):
        page.send(typed)
        assert page.status == 200, page.html
        if not page.session_open:
            break
    assert page.screen


@pytest.mark.parametrize("text", ["", "   ", "x" * 5000, "\x00BAL", "😀 bal", "FIND", "<b>"])
def test_junk_sms_never_breaks_the_page(build: Builders, page, text):
    page.use(build.voucher().entrepreneur.phone).sms(text)
    assert page.status in (200, 422), page.html


def test_actions_out_of_order_are_explained_not_failed(client, page):
    assert page.dial().status == 400 and "Enter a phone number first" in page.html
    assert page.sms("BAL").status == 400
    assert page.send("1").status == 400
    page.use("+254799000222")
    assert page.send("1").status == 409 and "dial first" in page.html
    assert page.post("hangup").status == 200
    assert client.get(f"{PAGE}/dial").status_code == 405


def test_a_form_without_its_csrf_token_is_refused(client):
    assert client.post(f"{PAGE}/number", data={"number": "+254711000111"}).status_code == 400
    assert client.post(f"{PAGE}/dial").status_code == 400


def test_a_tampered_session_starts_afresh(client, page):
    with client.session_transaction() as state:
        state["dev_phone"] = {"number": ["not", "a", "string"], "session_id": 7, "text": None}
    assert client.get(PAGE).status_code == 200
    with client.session_transaction() as state:
        state["dev_phone"] = "nonsense"
    assert client.get(PAGE).status_code == 200


def test_the_page_speaks_kiswahili_when_asked(build: Builders, page):
    page.use(build.voucher().entrepreneur.phone)
    page.post("language", lang="sw", back=PAGE)
    assert "Simu ya majaribio" in page.html and "Tuma SMS" in page.html


def test_the_page_switches_between_the_demo_trainee_and_their_mentor(app, page):
    lines = demo.seed(7)
    printed = next(line for line in lines if line.startswith("Mentor: "))
    mentor = re.search(r"(\+254\d{9})", printed).group(1)  # type: ignore[union-attr]
    db.session.remove()
    shown = page.client.get(PAGE).get_data(as_text=True)
    buttons = re.findall(r'name="number" value="(\+254\d{9})"', shown)
    assert len(buttons) == 2 and buttons[1] == mentor  # the trainee, then their mentor

    page.use(mentor).dial()
    assert page.screen[0].startswith(("Ujuzi mentor: hello", "Ujuzi mwalimu: habari"))
    page.send("1")  # their trainees, by short numbers
    assert any(line.startswith("1 #") for line in page.screen)

    page.use(buttons[0]).dial()
    assert page.screen[0].startswith("Ujuzi: ") and not page.screen[0].startswith("Ujuzi m")
