"""A phone for demos, training and trying a flow by hand: dial the USSD service and send SMS to the
app through the very routes Africa's Talking calls, with the forms it sends, and see the SMS the
outbox holds for that number.

`Phone` is the one implementation; how its forms reach the app is a `Transport`: over HTTP to a
running app (the `flask phone` command), or in-process through the app's test client (the
development page at `/dev/phone`, marketplace/web/phone/). It needs nothing of the app's channels.

    flask --app wsgi phone +254711000111 [--base-url http://127.0.0.1:8000]

At the prompt: `dial` (or just press Enter) starts a USSD session, then type what the menu asks
(digits, a code, a name); `sms <text>` sends an SMS; `inbox` shows every SMS for the number;
`quit` leaves.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import click
import requests
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from marketplace.domain.models import OutboxMessage
from marketplace.domain.phones import try_normalise
from marketplace.extensions import db

log = logging.getLogger(__name__)

TIMEOUT = 20
NETWORK_CODE = "99999"  # no real operator


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


class NoAnswer(Exception):
    """The app could not be reached at all (not: it answered with an error)."""


class Transport(Protocol):
    def post(self, path: str, form: Mapping[str, str]) -> Answer:
        """POST `form` URL-encoded to `path` (starting `/at/`) and return the app's answer."""
        ...


class HttpTransport:
    """To an app running elsewhere, as the gateway reaches it."""

    def __init__(self, base_url: str, timeout: float = TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def post(self, path: str, form: Mapping[str, str]) -> Answer:
        try:
            response = requests.post(
                f"{self.base_url}{path}", data=dict(form), timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise NoAnswer(type(exc).__name__) from exc
        return Answer(response.status_code, response.text)


class InProcessTransport:
    """To this very app without a network. Each call is a request of its own, with its own app
    context and database session, as if the gateway had made it."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def post(self, path: str, form: Mapping[str, str]) -> Answer:
        with self.app.app_context():
            try:
                response = self.app.test_client().post(path, data=dict(form))
            except Exception:  # raised only when the app propagates errors (testing)
                log.exception("simulated gateway call to %s failed", path.rsplit("/", 1)[-1])
                return Answer(500, "Internal Server Error")
            try:
                return Answer(response.status_code, response.get_data(as_text=True))
            finally:
                response.close()


@dataclass
class Phone:
    number: str
    transport: Transport
    secret: str
    service_code: str
    short_code: str
    session_id: str | None = None
    text: str = ""
    seen: int = 0

    @classmethod
    def from_config(
        cls, number: str, transport: Transport, config: Mapping[str, Any], **state: Any
    ) -> Phone:
        return cls(
            number,
            transport,
            str(config["AT_CALLBACK_SECRET"]),
            str(config["USSD_SERVICE_CODE"]),
            str(config.get("AT_SHORT_CODE") or ""),
            **state,
        )

    def _post(self, path: str, form: dict[str, str]) -> Answer:
        return self.transport.post(f"/at/{self.secret}{path}", form)

    @property
    def in_session(self) -> bool:
        return self.session_id is not None

    def dial(self, typed: str | None = None) -> str:
        """One USSD hop: a new session when none is open, else the typed input appended.
        An answer that is not `CON …` closes the session and sends the end-of-session event."""
        if self.session_id is None:
            self.session_id = f"SIM_{uuid.uuid4().hex[:16]}"
            self.text = ""
        elif typed is not None:
            self.text = f"{self.text}*{typed}" if self.text else typed
        form = {
            "sessionId": self.session_id,
            "serviceCode": self.service_code,
            "phoneNumber": self.number,
            "networkCode": NETWORK_CODE,
            "text": self.text,
        }
        try:
            answer = self._post("/ussd", form)
        except NoAnswer:
            self.session_id, self.text = None, ""  # the network drops a session nobody answers
            raise
        if answer.status != 200 or not answer.body.startswith("CON "):
            self._end_session("Success" if answer.body.startswith("END ") else "Failed")
        return answer.body

    def hang_up(self) -> None:
        """Leave an open session before it ended, as a person pressing Cancel does."""
        if self.session_id is not None:
            self._end_session("Incomplete")

    def _end_session(self, status: str) -> None:
        form = {
            "sessionId": self.session_id or "",
            "phoneNumber": self.number,
            "status": status,
            "serviceCode": self.service_code,
            "networkCode": NETWORK_CODE,
            "input": self.text,
        }
        try:
            self._post("/ussd/events", form)
        finally:
            self.session_id = None
            self.text = ""

    def sms(self, text: str) -> int:
        form = {
            "id": f"SIM_{uuid.uuid4().hex}",
            "from": self.number,
            "to": self.short_code,
            "text": text,
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "networkCode": NETWORK_CODE,
        }
        return self._post("/sms/inbound", form).status

    def new_messages(self) -> list[OutboxMessage]:
        """The SMS for this number since the last call (oldest first)."""
        rows = self._messages(OutboxMessage.id > self.seen)
        if rows:
            self.seen = rows[-1].id
        return rows

    def all_messages(self) -> list[OutboxMessage]:
        """Every SMS for this number, oldest first."""
        return self._messages()

    def latest_messages(self, limit: int = 30) -> list[OutboxMessage]:
        """The last `limit` SMS for this number, newest first."""
        return self._messages(newest_first=True, limit=limit)

    def _messages(
        self, *more: sa.ColumnElement[bool], newest_first: bool = False, limit: int | None = None
    ) -> list[OutboxMessage]:
        db.session.rollback()  # see what the app committed since
        order = OutboxMessage.id.desc() if newest_first else OutboxMessage.id
        query = sa.select(OutboxMessage).where(OutboxMessage.to_phone == self.number, *more)
        return list(db.session.scalars(query.order_by(order).limit(limit)))


def screen_lines(answer: str) -> list[str]:
    """The lines a phone shows for an answer: without the `CON `/`END ` prefix."""
    if answer[:4] in ("CON ", "END "):
        return answer[4:].splitlines()
    return [answer]


def _show_screen(answer: str) -> None:
    click.echo(click.style("+" + "-" * 30, fg="cyan"))
    for line in screen_lines(answer):
        click.echo(click.style("| ", fg="cyan") + line)
    click.echo(click.style("+" + "-" * 30, fg="cyan"))
    if answer.startswith("END "):
        click.echo("(session ended)")


def _show_messages(messages: list[OutboxMessage]) -> None:
    for m in messages:
        when = m.created_at.strftime("%H:%M:%S")
        click.echo(click.style(f"[SMS {when} {m.kind}, {m.status}] ", fg="green") + m.body)


@click.command("phone")
@click.argument("number")
@click.option(
    "--base-url",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="Where the app answers the gateway's callbacks.",
)
@with_appcontext
def phone_command(number: str, base_url: str) -> None:
    """Pretend to be a phone: dial the USSD service and send SMS to the running app."""
    region = str(current_app.config.get("DEFAULT_PHONE_REGION", "KE"))
    normal = try_normalise(number, region)
    if normal is None:
        raise click.BadParameter(f"{number!r} is not a phone number", param_hint="NUMBER")
    transport = HttpTransport(base_url)
    phone = Phone.from_config(normal, transport, current_app.config)
    phone.new_messages()  # only what arrives from now on is shown as new
    click.echo(
        f"Phone {normal} -> {transport.base_url}. Enter or 'dial' dials "
        f"{phone.service_code}; 'sms <text>' texts {phone.short_code}; 'inbox'; 'quit'."
    )
    while True:
        try:
            line = click.prompt(">", default="", show_default=False).strip()
        except (click.Abort, EOFError):
            click.echo()
            break
        lower = line.lower()
        try:
            if lower in ("quit", "exit", "q"):
                break
            if lower == "inbox":
                _show_messages(phone.all_messages())
                continue
            if lower.startswith("sms "):
                status = phone.sms(line[4:])
                click.echo(f"(sent, gateway got {status})")
            elif lower in ("", "dial") and not phone.in_session:
                _show_screen(phone.dial())
            elif phone.in_session:
                _show_screen(phone.dial(line))
            else:
                click.echo("Press Enter to dial, or type 'sms <text>'.")
                continue
        except NoAnswer as exc:
            click.echo(f"The app at {transport.base_url} did not answer: {exc}")
            continue
        _show_messages(phone.new_messages())


def register_cli(app: Flask) -> None:
    app.cli.add_command(phone_command)
