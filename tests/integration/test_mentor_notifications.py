"""Every SMS that asks a mentor to act says how on their phone: the USSD code to dial and the mentor
page's address, in the mentor's language, in one SMS part."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.domain.models import OutboxMessage
from marketplace.extensions import db
from marketplace.messages.gsm import segments
from marketplace.services import mentor_auth

KINDS = ("provider_approved", "booking_made_provider", "login_code", "session_confirmed_mentor")
WORDS = {"en": ("Dial", "dial"), "sw": ("Piga", "piga")}


def _sent(phone: str) -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(OutboxMessage.kind, OutboxMessage.body).where(OutboxMessage.to_phone == phone)
    ).all()
    return {kind: body for kind, body in rows}


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_the_sms_asking_a_mentor_to_act_name_the_ussd_code_and_the_page(build, app, lang):
    app.config["PUBLIC_BASE_URL"] = "https://ujuzi.example.org/"
    provider = build.provider(name="Zawadi Tailors", language=lang)  # approved: the approval SMS
    booking = build.booking(build.voucher(name="Amina Wanjiru"), provider)
    mentor_auth.request_login_code(provider.phone, "198.51.100.7")
    session = build.recorded_session(booking)
    build.confirmed_session(booking)
    assert session.id
    sent = _sent(provider.phone)
    for kind in KINDS:
        body = sent[kind]
        assert "*384*1234#" in body, body
        assert "ujuzi.example.org/mentor" in body, body
        assert any(word in body for word in WORDS[lang]), body
        assert segments(body) == 1, body
    assert f"#{booking.trainee_no} Amina" in sent["booking_made_provider"]
