"""Mentor sign-in by a one-time code sent by SMS, and the mentor's own settings.

Requesting a code does the same work and gives the same answer whether or not the number belongs to
a mentor: a code row is written either way (an unknown number's code is never sent, so nobody can
know it), which also makes the per-phone and per-address limits count every request alike.
Guessing is bounded four ways: attempts per code, failed attempts per phone per hour, failed
attempts per client address per hour (guesses spread over many phones), and codes requested per
phone and per address. Each guess is written and committed before its code is looked at, so app
servers see each other's guesses as they happen: of any number of simultaneous guesses from one
address, at most the limit are looked at.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..domain import errors, text
from ..domain.base import utcnow
from ..domain.codes import hash_secret, new_otp, same_hash
from ..domain.models import Language, LoginCode, LoginCodeGuess, ProviderStaff
from ..domain.phones import normalise_phone, try_normalise
from ..extensions import db
from . import settings, unit

CODE_LENGTH = 6
CODE_TTL_MINUTES = 10
MAX_ATTEMPTS_PER_CODE = 5
MAX_FAILURES_PER_PHONE = 10  # in FAILURE_WINDOW, across codes
FAILURE_WINDOW = timedelta(hours=1)
MAX_CODES_PER_PHONE = 3  # in PHONE_WINDOW
PHONE_WINDOW = timedelta(minutes=15)
MAX_CODES_PER_ADDRESS = 20  # in ADDRESS_WINDOW; an office or a phone shop shares one address
ADDRESS_WINDOW = timedelta(hours=1)
MAX_FAILURES_PER_ADDRESS = 10  # in FAILURE_WINDOW, across phones: as many as one phone may fail
KEEP_GUESSES = timedelta(days=1)  # guesses older than this are deleted as new ones arrive


class TooManyCodes(errors.TooManyAttempts):
    """Too many codes asked for. Wait a few minutes and try again."""

    code = "too_many_codes"


def _count_codes(condition: sa.ColumnElement[bool], since: datetime) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(condition, LoginCode.created_at >= since)
        )
        or 0
    )


def request_login_code(raw_phone: str, address: str, now: datetime | None = None) -> str:
    """Send a sign-in code to a mentor's phone. Returns the normalised phone number.

    Raises InvalidInput for a malformed number and TooManyCodes past a limit; never says whether
    the number is known.
    """
    now = now or utcnow()
    phone = normalise_phone(raw_phone, settings.phone_region())
    address = text.clean(address)[:64]
    if _count_codes(LoginCode.phone == phone, now - PHONE_WINDOW) >= MAX_CODES_PER_PHONE:
        raise TooManyCodes()
    if address and (
        _count_codes(LoginCode.requested_from == address, now - ADDRESS_WINDOW)
        >= MAX_CODES_PER_ADDRESS
    ):
        raise TooManyCodes()
    with unit.of_work(f"web:{address or 'unknown'}", now) as uow:
        staff = db.session.scalar(
            sa.select(ProviderStaff).where(ProviderStaff.phone == phone, ProviderStaff.active)
        )
        # One live code per phone: asking again retires the earlier one.
        db.session.execute(
            sa.update(LoginCode)
            .where(LoginCode.phone == phone, LoginCode.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        code = new_otp(CODE_LENGTH)
        db.session.add(
            LoginCode(
                phone=phone,
                code_hash=hash_secret(settings.secret_key(), code),
                created_at=now,
                expires_at=now + timedelta(minutes=CODE_TTL_MINUTES),
                attempts=0,
                requested_from=address,
            )
        )
        if staff is not None:
            uow.sms(phone, "login_code", staff.language, code=code, minutes=CODE_TTL_MINUTES)
    return phone


def _guess_from(uow: unit.UnitOfWork, address: str) -> LoginCodeGuess | None:
    """Count this guess against its address, committed before any code is looked at; raises
    TooManyAttempts when the address's wrong guesses (this one included) exceed the limit."""
    if not address:
        return None
    guess = LoginCodeGuess(address=address, attempted_at=uow.now, refused=False)
    db.session.add(guess)
    uow.commit()  # visible to every server before the code is looked at
    counted = db.session.scalar(
        sa.select(sa.func.count()).where(
            LoginCodeGuess.address == address,
            LoginCodeGuess.attempted_at > uow.now - FAILURE_WINDOW,
            LoginCodeGuess.refused.is_(False),
        )
    )
    if (counted or 0) > MAX_FAILURES_PER_ADDRESS:
        guess.refused = True
        uow.commit()
        raise errors.TooManyAttempts()
    return guess


def _not_looked_at(
    uow: unit.UnitOfWork, guess: LoginCodeGuess | None, error: errors.DomainError
) -> errors.DomainError:
    """No code was compared (none is live, or its phone or code is locked already): the guess
    does not count against its address."""
    if guess is not None:
        guess.refused = True
        uow.commit()
    return error


def verify_login_code(
    raw_phone: str, code: str, address: str = "", now: datetime | None = None
) -> ProviderStaff:
    """The mentor types the code from the SMS; returns their account, or raises CodeInvalid /
    TooManyAttempts. Each guess is counted against its client address, and each wrong guess
    against its code and phone, committed before the answer."""
    phone = try_normalise(raw_phone, settings.phone_region())
    if phone is None:
        raise errors.CodeInvalid()
    with unit.of_work(f"web:{address or 'unknown'}", now) as uow:
        staff = _signed_in(uow, phone, code, _guess_from(uow, text.clean(address)[:64]))
    return staff


def _signed_in(
    uow: unit.UnitOfWork, phone: str, code: str, guess: LoginCodeGuess | None
) -> ProviderStaff:
    now = uow.now
    failures = (
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(LoginCode.attempts), 0)).where(
                LoginCode.phone == phone, LoginCode.created_at >= now - FAILURE_WINDOW
            )
        )
        or 0
    )
    if failures >= MAX_FAILURES_PER_PHONE:
        raise _not_looked_at(uow, guess, errors.TooManyAttempts())
    live = db.session.scalar(
        sa.select(LoginCode)
        .where(
            LoginCode.phone == phone,
            LoginCode.used_at.is_(None),
            LoginCode.expires_at > now,
        )
        .order_by(LoginCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    if live is None:
        raise _not_looked_at(uow, guess, errors.CodeInvalid())
    if live.attempts >= MAX_ATTEMPTS_PER_CODE:
        raise _not_looked_at(uow, guess, errors.TooManyAttempts())
    digits = "".join(ch for ch in code if ch.isdigit())[:12]
    if not same_hash(live.code_hash, hash_secret(settings.secret_key(), digits)):
        live.attempts += 1
        exhausted = live.attempts >= MAX_ATTEMPTS_PER_CODE or failures + 1 >= MAX_FAILURES_PER_PHONE
        db.session.execute(
            sa.delete(LoginCodeGuess)
            .where(LoginCodeGuess.attempted_at < now - KEEP_GUESSES)
            .execution_options(synchronize_session=False)
        )
        uow.commit()
        raise errors.TooManyAttempts() if exhausted else errors.CodeInvalid()
    staff = db.session.scalar(
        sa.select(ProviderStaff).where(ProviderStaff.phone == phone, ProviderStaff.active)
    )
    if staff is None:  # the account was closed after the code was sent
        raise errors.CodeInvalid()
    live.used_at = now
    if guess is not None:
        db.session.delete(guess)  # a right guess does not count against the address
    uow.audit(
        "mentor.signed_in",
        staff,
        None,
        {"provider_id": staff.provider_id},
        actor=f"mentor:{staff.id}",
    )
    return staff


def set_language(staff_id: int, language: str, now: datetime | None = None) -> ProviderStaff:
    if language not in set(Language):
        raise errors.InvalidInput("Language must be en or sw.", field="language")
    staff = db.session.get(ProviderStaff, staff_id)
    if staff is None or not staff.active:
        raise errors.NotFound("No such account.")
    if staff.language != language:
        with unit.of_work(f"mentor:{staff.id}", now) as uow:
            before = {"language": staff.language}
            staff.language = language
            uow.audit("mentor.language_set", staff, before, {"language": language})
    return staff


def sign_out(staff_id: int, now: datetime | None = None) -> None:
    """End every signed-in session of this mentor (see `ProviderStaff.session_epoch`)."""
    staff = db.session.get(ProviderStaff, staff_id)
    if staff is None:
        return
    with unit.of_work(f"mentor:{staff.id}", now) as uow:
        staff.session_epoch += 1
        uow.audit("mentor.signed_out", staff)
