"""Signing in: API keys, mentors' one-time codes and the guesses at them, staff attempts."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, enum_check
from .people import Role


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (enum_check("role", "role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    prefix: Mapped[str] = mapped_column(sa.String(12), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    role: Mapped[str] = mapped_column(sa.String(10))
    funder: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class LoginCode(Base):
    """A one-time sign-in code sent by SMS to a mentor's phone."""

    __tablename__ = "login_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]
    requested_from: Mapped[str] = mapped_column(sa.String(64), default="")


class LoginCodeGuess(Base):
    """One guess of a mentor's sign-in code, kept while it counts towards its address's limit.

    Written before the code is looked at, so every app server sees it; `refused` marks a guess
    turned away by the limit without a look (it does not count again). A right guess deletes its
    row: only wrong guesses count.
    """

    __tablename__ = "login_code_guesses"
    __table_args__ = (
        sa.Index("ix_login_code_guesses_address_at", "address", "attempted_at"),
        sa.Index("ix_login_code_guesses_attempted_at", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(sa.String(64))
    attempted_at: Mapped[datetime]
    refused: Mapped[bool] = mapped_column(default=False)


class StaffSignInAttempt(Base):
    """One password sign-in attempt on the staff page, kept while it counts towards a lockout.

    A row is written before the password is checked, so every app server sees it; `refused` marks
    an attempt turned away by the lockout without a password check (it does not count again). A
    successful sign-in deletes the rows of its e-mail address.
    """

    __tablename__ = "staff_signin_attempts"
    __table_args__ = (
        sa.Index("ix_staff_signin_attempts_email_at", "email", "attempted_at"),
        sa.Index("ix_staff_signin_attempts_address_at", "address", "attempted_at"),
        sa.Index("ix_staff_signin_attempts_attempted_at", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(64))
    attempted_at: Mapped[datetime]
    refused: Mapped[bool] = mapped_column(default=False)
