"""Every outbound SMS: its text from the catalogue, and what the outbox needs to know of its kind.

The templates are the catalogue's `sms.` section (one per outbox kind), the replies to SMS commands
its `sms_reply.` section (outbox kind "reply"), short status words inside replies `sms_word.`.
GSM-7 only; one part (160) where possible. Pure data and formatting: services use this to write the
outbox in their own transaction. `tests/sms/test_texts.py` renders every template in every
language with long sample values and checks the GSM-7 and length rules. Values people typed or
named (provider and person names, topics) are cut to `PARAM_LIMITS` so a long name cannot push a
message into a second part.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from .catalogue import LANGUAGES, Scope
from .gsm import cut, to_gsm7

__all__ = [
    "ESSENTIAL",
    "KINDS",
    "LANGUAGES",
    "ON_UNKNOWN_OUTCOME",
    "PARAM_LIMITS",
    "IfOutcomeUnknown",
    "render",
    "reply",
    "word",
]

_templates = Scope("sms")
_replies = Scope("sms_reply")
_words = Scope("sms_word")

# Sent even to people who replied STOP: they carry money, codes or answers to the person's own
# request.
ESSENTIAL = frozenset(
    {
        "voucher_issued",
        "voucher_issued_co_payment",
        "booking_made_entrepreneur",
        "booking_made_provider",
        "session_recorded",
        "session_confirmed_entrepreneur",  # STOP's reply promises SMS about sessions still come
        "voucher_completed",
        "session_confirmed_mentor",
        "session_disputed_mentor",
        "session_overturned_mentor",  # an officer's decision on a session, as the above
        "session_overturned_entrepreneur",
        "session_upheld_mentor",
        "payout_made",
        "payment_received",
        "login_code",
        "voucher_revoked",
        "reply",
        "provider_approved",
        "booking_cancelled_provider",
        "co_payment_recorded",  # money the entrepreneur is said to have paid
        "payout_account_changed",  # where money goes: a change nobody asked for must be heard
    }
)

# Every kind of message the outbox takes: the templates in the `sms.` section, and replies to
# SMS commands.
KINDS = frozenset({*_templates, "reply"})


class IfOutcomeUnknown(StrEnum):
    """What the worker does with a message the gateway may or may not have taken (it read the
    request, then timed out or dropped the connection: the API has no idempotency key)."""

    # A second copy does no harm (a code, a notice, a question answered once): the same text is
    # sent again, with backoff.
    RESEND = "resend"
    # A second copy could mislead about money (paid twice? credited twice?): the message waits in
    # the outbox state `unknown` until a delivery report settles it or an officer decides.
    HOLD = "hold"


ON_UNKNOWN_OUTCOME: dict[str, IfOutcomeUnknown] = {
    "voucher_issued": IfOutcomeUnknown.RESEND,  # the code again: nothing new is granted
    "voucher_issued_co_payment": IfOutcomeUnknown.RESEND,  # (the template with the share)
    "booking_made_entrepreneur": IfOutcomeUnknown.RESEND,
    "booking_made_provider": IfOutcomeUnknown.RESEND,
    "booking_cancelled_provider": IfOutcomeUnknown.RESEND,
    "session_recorded": IfOutcomeUnknown.RESEND,  # YES/NO <ref> is answered once whatever comes
    "session_confirmed_entrepreneur": IfOutcomeUnknown.RESEND,
    "session_disputed_mentor": IfOutcomeUnknown.RESEND,
    "session_overturned_entrepreneur": IfOutcomeUnknown.RESEND,
    "session_upheld_mentor": IfOutcomeUnknown.RESEND,  # says nothing is paid: twice is the same
    "voucher_completed": IfOutcomeUnknown.RESEND,  # RATE <ref> counts once
    "voucher_expiring": IfOutcomeUnknown.RESEND,
    "voucher_revoked": IfOutcomeUnknown.RESEND,
    "login_code": IfOutcomeUnknown.RESEND,  # the same code, still valid
    "provider_approved": IfOutcomeUnknown.RESEND,
    "co_payment_recorded": IfOutcomeUnknown.RESEND,  # recorded once: twice says the same
    "payout_account_changed": IfOutcomeUnknown.RESEND,  # the same notice twice misleads no one
    "reply": IfOutcomeUnknown.RESEND,
    # "{value} added to your balance" twice reads as two sessions paid.
    "session_confirmed_mentor": IfOutcomeUnknown.HOLD,
    "session_overturned_mentor": IfOutcomeUnknown.HOLD,
    "payout_made": IfOutcomeUnknown.HOLD,  # "{value} paid": twice reads as two payments
    "payment_received": IfOutcomeUnknown.HOLD,  # "{value} sent to your M-Pesa": as above
}


# The longest a free-text value may be inside a message, in septets (an extension character such
# as [ takes two); longer ones are cut (with no ellipsis: "..." would cost three characters).
PARAM_LIMITS = {
    "provider": 28,
    "name": 20,
    "topic": 40,
    "trade": 28,
    "area": 16,
    "text": 20,
    "example": 30,
    "account": 32,  # an account as shown: 'M-Pesa +2547*****111', a bank's name and last digits
}


def _clean(params: dict[str, Any]) -> dict[str, str]:
    clean = {}
    for key, value in params.items():
        text = " ".join(to_gsm7(str(value)).split())
        limit = PARAM_LIMITS.get(key)
        clean[key] = cut(text, limit).rstrip() if limit else text
    return clean


def render(kind: str, language: str, **params: Any) -> str:
    """The SMS of this outbox kind in `language`, its values made GSM-7 and cut to their limits."""
    return _templates(kind, language, **_clean(params))


def reply(key: str, language: str, **params: Any) -> str:
    """A reply to an SMS command in the person's language."""
    return _replies(key, language, **_clean(params))


def word(key: str, language: str) -> str:
    """A short status word inside a reply (the key itself when there is none)."""
    return _words(key, language) if key in _words else key


def templates() -> list[str]:
    """Every outbox kind that has a template."""
    return list(_templates)


def replies() -> list[str]:
    """Every reply's key."""
    return list(_replies)
