"""A phone in a terminal: dial the USSD service and send SMS to the running app over HTTP, and see
the SMS the outbox holds for that number. For demos, training and trying a flow by hand.

    flask --app wsgi phone +254711000111 [--base-url http://127.0.0.1:8000]

At the prompt: `dial` (or just press Enter) starts a USSD session, then type what the menu asks
(digits, a code, a name); `sms <text>` sends an SMS; `inbox` shows every SMS for the number;
`quit` leaves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import click
import requests
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from marketplace.domain.models import OutboxMessage
from marketplace.domain.phones import try_normalise
from marketplace.extensions import db

TIMEOUT = 20


@dataclass
class Phone:
    number: str
    base_url: str
    secret: str
    service_code: str
    short_code: str
    session_id: str | None = None
    text: str = ""
    seen: int = 0

    def _post(self, path: str, form: dict[str, str]) -> requests.Response:
        return requests.post(f"{self.base_url}/at/{self.secret}{path}", data=form, timeout=TIMEOUT)

    def dial(self, typed: str | None = None) -> str:
        """One USSD hop: a new session when none is open, else the typed input appended."""
        if self.session_id is None:
            self.session_id = f"SIM_{uuid.uuid4().hex[:16]}"
            self.text = ""
        elif typed is not None:
            self.text = f"{self.text}*{typed}" if self.text else typed
        form = {
            "sessionId": self.session_id,
            "serviceCode": self.service_code,
            "phoneNumber": self.number,
            "networkCode": "99999",
            "text": self.text,
        }
        answer = self._post("/ussd", form).text
        if not answer.startswith("CON "):
            self._end_session("Success" if answer.startswith("END ") else "Failed")
        return answer

    def _end_session(self, status: str) -> None:
        form = {
            "sessionId": self.session_id or "",
            "phoneNumber": self.number,
            "status": status,
            "serviceCode": self.service_code,
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
            "networkCode": "99999",
        }
        return self._post("/sms/inbound", form).status_code

    def new_messages(self) -> list[OutboxMessage]:
        db.session.rollback()  # see what the app committed since
        rows = db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.to_phone == self.number, OutboxMessage.id > self.seen)
            .order_by(OutboxMessage.id)
        ).all()
        if rows:
            self.seen = rows[-1].id
        return list(rows)

    def all_messages(self) -> list[OutboxMessage]:
        db.session.rollback()
        return list(
            db.session.scalars(
                sa.select(OutboxMessage)
                .where(OutboxMessage.to_phone == self.number)
                .order_by(OutboxMessage.id)
            )
        )


def _show_screen(answer: str) -> None:
    click.echo(click.style("+" + "-" * 30, fg="cyan"))
    for line in answer[4:].splitlines() if answer[:4] in ("CON ", "END ") else [answer]:
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
    cfg = current_app.config
    phone = Phone(
        normal,
        base_url.rstrip("/"),
        str(cfg["AT_CALLBACK_SECRET"]),
        str(cfg["USSD_SERVICE_CODE"]),
        str(cfg.get("AT_SHORT_CODE") or ""),
    )
    phone.new_messages()  # only what arrives from now on is shown as new
    click.echo(
        f"Phone {normal} -> {phone.base_url}. Enter or 'dial' dials "
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
            elif lower in ("", "dial") and phone.session_id is None:
                _show_screen(phone.dial())
            elif phone.session_id is not None:
                _show_screen(phone.dial(line))
            else:
                click.echo("Press Enter to dial, or type 'sms <text>'.")
                continue
        except requests.RequestException as exc:
            click.echo(f"The app at {phone.base_url} did not answer: {type(exc).__name__}")
            continue
        _show_messages(phone.new_messages())


def register_cli(app: Flask) -> None:
    app.cli.add_command(phone_command)
