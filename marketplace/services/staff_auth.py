"""Password sign-in for staff users (officers and funders), with a lockout held in the database.

Guessing is bounded per e-mail address (MAX_FAILURES_PER_EMAIL in WINDOW) and per client address
(MAX_FAILURES_PER_ADDRESS in WINDOW). Past either limit every attempt is refused without looking at
the password, the right one included, until enough failures have left the window.

Each attempt is written and committed *before* its password is checked, so app servers see each
other's attempts as they happen: of any number of simultaneous guesses, at most the limit get a
password check. Unknown e-mail addresses are counted, answered and timed exactly like known ones.
A successful sign-in deletes the attempts of its e-mail address; failures and refusals go to the
audit log (the e-mail address and the client address, never the password).
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from ..domain import errors, text
from ..domain.models import StaffSignInAttempt, StaffUser
from ..extensions import db
from . import unit

MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_ADDRESS = 20  # an office or a cyber café shares one address
WINDOW = timedelta(minutes=15)
KEEP = timedelta(days=1)  # attempts older than this are deleted as new ones arrive


class WrongPassword(errors.DomainError):
    """That e-mail address and password do not match an account."""

    code = "wrong_password"


class SignInLocked(errors.TooManyAttempts):
    """Too many failed sign-ins. Wait a few minutes and try again."""

    code = "signin_locked"

    def __init__(self, retry_after: timedelta) -> None:
        minutes = max(1, math.ceil(retry_after.total_seconds() / 60))
        super().__init__(
            f"Too many failed sign-ins. Wait {minutes} minutes and try again.", minutes=minutes
        )
        self.minutes = minutes


def email_key(email: str) -> str:
    return email.strip().lower()[:200]


def _counted(condition: sa.ColumnElement[bool], since: datetime) -> sa.Select[datetime]:
    return (
        sa.select(StaffSignInAttempt.attempted_at)
        .where(
            condition,
            StaffSignInAttempt.attempted_at > since,
            StaffSignInAttempt.refused.is_(False),
        )
        .order_by(StaffSignInAttempt.attempted_at.desc())
    )


def _lock_lifts_at(condition: sa.ColumnElement[bool], limit: int, now: datetime) -> datetime | None:
    """When counted attempts (this one included) exceed `limit`: the moment enough of them
    have left the window for one more attempt to be allowed. None when under the limit."""
    times = db.session.scalars(_counted(condition, now - WINDOW).limit(limit + 1)).all()
    if len(times) <= limit:
        return None
    # Once the limit-th newest earlier attempt leaves the window, fewer than `limit` remain.
    return times[limit] + WINDOW


def _audit(uow: unit.UnitOfWork, action: str, email: str, address: str) -> None:
    uow.audit(action, ("staff_signin", email), None, {"email": email, "address": address})


def sign_in(email: str, password: str, address: str, now: datetime | None = None) -> StaffUser:
    """Check a staff user's password. Returns the account, or raises WrongPassword, or
    SignInLocked (with the minutes to wait) when too many attempts failed recently."""
    email = email_key(email)
    address = text.clean(address)[:64]
    if not email or not password or text.has_control_characters(email):
        raise WrongPassword()  # no account has such an e-mail address
    with unit.of_work(f"web:{address or 'unknown'}", now) as uow:
        now = uow.now
        attempt = StaffSignInAttempt(email=email, address=address, attempted_at=now, refused=False)
        db.session.add(attempt)
        uow.commit()  # visible to every server before the password is looked at

        limits = [(StaffSignInAttempt.email == email, MAX_FAILURES_PER_EMAIL)]
        if address:
            limits.append((StaffSignInAttempt.address == address, MAX_FAILURES_PER_ADDRESS))
        lifts = [_lock_lifts_at(condition, limit, now) for condition, limit in limits]
        locked_until = max((t for t in lifts if t is not None), default=None)
        if locked_until is not None:
            attempt.refused = True
            _audit(uow, "staff.signin_refused", email, address)
            uow.commit()
            raise SignInLocked(locked_until - now)

        user = check_staff_password(email, password)
        if user is None:
            _audit(uow, "staff.signin_failed", email, address)
            db.session.execute(
                sa.delete(StaffSignInAttempt)
                .where(StaffSignInAttempt.attempted_at < now - KEEP)
                .execution_options(synchronize_session=False)
            )
            uow.commit()
            # This failure may be the one that reaches a limit: say so now rather than on the
            # next try.
            reached = [_lock_lifts_at(condition, limit - 1, now) for condition, limit in limits]
            next_allowed = max((t for t in reached if t is not None), default=None)
            if next_allowed is not None:
                raise SignInLocked(next_allowed - now)
            raise WrongPassword()

        db.session.execute(
            sa.delete(StaffSignInAttempt)
            .where(StaffSignInAttempt.email == email)
            .execution_options(synchronize_session=False)
        )
        uow.audit("staff.signed_in", user, None, {"address": address}, actor=f"staff:{user.email}")
    return user


def check_staff_password(email: str, password: str) -> StaffUser | None:
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None or not user.active:
        # Same work whether or not the account exists, so timing does not tell.
        check_password_hash(_stand_in_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


@lru_cache(maxsize=1)
def _stand_in_hash() -> str:
    """A hash to check against when there is no account (made once, on first need)."""
    return generate_password_hash(secrets.token_urlsafe(16))


def sign_out(user_id: int, now: datetime | None = None) -> None:
    """End every signed-in session of this officer or funder (see `StaffUser.session_epoch`)."""
    user = db.session.get(StaffUser, user_id)
    if user is None:
        return
    with unit.of_work(f"staff:{user.email}", now) as uow:
        user.session_epoch += 1
        uow.audit("staff.signed_out", user)
