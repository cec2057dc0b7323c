"""A service's refusal becomes a reply through one table (`sms/commands/replies.py`), from the
refusal's own fields: every reply it names renders in every language, and the SMS commands read
and write the database only through queries and services."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from marketplace.domain import errors
from marketplace.domain.models import SessionStatus
from marketplace.messages.gsm import gsm7_length, to_gsm7
from sms.commands import replies

COMMANDS = Path(__file__).resolve().parents[2] / "sms" / "commands"
FIELDS = {"ref": "482913", "provider": "Mama Njeri Tailoring Workshop", "status": "confirmed"}


@pytest.mark.parametrize("error", list(replies.ERROR_REPLIES), ids=lambda c: c.__name__)
@pytest.mark.parametrize("language", ["en", "sw"])
def test_every_refusal_in_the_table_is_a_reply_of_one_part(
    error: type[errors.DomainError], language: str
) -> None:
    exc = error(**FIELDS)
    key, params = replies.error_reply(exc, language)
    body = replies.reply(key, language, **params)
    assert key != "failed" and gsm7_length(to_gsm7(body)) <= replies.SMS_PART
    for name, value in params.items():
        assert value, name  # each param came from the error's fields or the language


def test_the_most_specific_refusal_wins_and_anything_else_is_a_polite_failure() -> None:
    answered = errors.SessionAlreadyAnswered(ref="4821", status=SessionStatus.DISPUTED)
    assert replies.error_reply(answered, "en") == (
        "already_answered",
        {"ref": "4821", "status": "disputed"},
    )
    assert replies.error_reply(errors.ProviderFull(provider="Juma"), "en") == (
        "provider_full",
        {"provider": "Juma"},
    )
    assert replies.error_reply(errors.IllegalTransition(), "en") == ("failed", {})
    assert replies.error_reply(errors.NotFound(), "en") == ("failed", {})


def test_the_sms_commands_touch_the_database_only_through_queries_and_services() -> None:
    imported = set()
    for path in COMMANDS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
    assert "marketplace.queries.sms" in imported
    assert not {m for m in imported if m.startswith(("sqlalchemy", "marketplace.extensions"))}


def test_a_reply_that_cannot_be_written_takes_its_change_with_it(build, sms, monkeypatch) -> None:
    """The change a command's service makes and its reply commit together: when the reply
    fails after the service agreed, nothing changed, and the person is told to try again."""
    from marketplace.domain.models import Entrepreneur
    from marketplace.extensions import db

    voucher = build.voucher()
    person_id, phone = voucher.entrepreneur_id, voucher.entrepreneur.phone
    real = replies.reply

    def broken(key: str, lang: str, **params: object) -> str:
        if key == "stopped":
            raise RuntimeError("the reply could not be written")
        return real(key, lang, **params)

    monkeypatch.setattr(replies, "reply", broken)
    (reply,) = sms(phone, "STOP")
    assert "sorry" in reply and "try again later" in reply
    person = db.session.get(Entrepreneur, person_id)
    assert person is not None and person.sms_opt_out is False
