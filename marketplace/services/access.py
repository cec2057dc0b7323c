"""API keys and staff accounts."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from ..domain import errors
from ..domain.models import ApiKey, Role, StaffUser
from ..extensions import db
from . import unit

KEY_PREFIX = "ujz_"
MIN_PASSWORD = 12


def _digest(token: str) -> str:
    # API keys are long random strings: a plain SHA-256 is the right hash (no need to stretch).
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_key(
    name: str, role: str, actor: str, funder: str | None = None, now: datetime | None = None
) -> tuple[ApiKey, str]:
    """Returns the stored key and the plain token, which is shown once and never stored."""
    if role not in set(Role):
        raise errors.InvalidInput("Role must be admin or funder.", field="role")
    if role == Role.FUNDER and not funder:
        raise errors.InvalidInput("A funder key needs the funder's name.", field="funder")
    prefix = secrets.token_hex(4)
    token = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with unit.of_work(actor, now) as uow:
        key = ApiKey(
            name=name,
            prefix=prefix,
            key_hash=_digest(token),
            role=role,
            funder=funder if role == Role.FUNDER else None,
            created_at=uow.now,
        )
        db.session.add(key)
        db.session.flush()
        uow.audit("api_key.created", key, None, {"name": name, "role": role, "funder": key.funder})
    return key, token


def authenticate_api_key(token: str) -> ApiKey | None:
    parts = token.split("_")
    if len(parts) < 3 or not token.startswith(KEY_PREFIX):
        return None
    key = db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == parts[1]))
    if key is None or key.revoked_at is not None:
        return None
    if not secrets.compare_digest(key.key_hash, _digest(token)):
        return None
    return key


def revoke_api_key(key_id: int, actor: str, now: datetime | None = None) -> None:
    with unit.of_work(actor, now) as uow:
        key = db.session.get(ApiKey, key_id)
        if key is None:
            raise errors.NotFound("No such key.")
        key.revoked_at = uow.now
        uow.audit("api_key.revoked", key, None, {"revoked": True})


def create_staff_user(
    email: str,
    name: str,
    password: str,
    role: str,
    actor: str,
    funder: str | None = None,
    now: datetime | None = None,
) -> StaffUser:
    email = email.strip().lower()
    if "@" not in email or len(email) > 200:
        raise errors.InvalidInput("Enter a valid e-mail address.", field="email")
    if role not in set(Role):
        raise errors.InvalidInput("Role must be admin or funder.", field="role")
    if role == Role.FUNDER and not funder:
        raise errors.InvalidInput("A funder account needs the funder's name.", field="funder")
    if len(password) < MIN_PASSWORD:
        raise errors.InvalidInput(
            f"Use a password of at least {MIN_PASSWORD} characters.", field="password"
        )
    with unit.of_work(actor, now) as uow:
        if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)):
            raise errors.AlreadyExists("That e-mail address has an account.", field="email")
        user = StaffUser(
            email=email,
            name=name,
            password_hash=generate_password_hash(password),
            role=role,
            funder=funder if role == Role.FUNDER else None,
            active=True,
            created_at=uow.now,
        )
        db.session.add(user)
        uow.flush_or(errors.AlreadyExists("That e-mail address has an account."))
        uow.audit(
            "staff_user.created",
            user,
            None,
            {"email": email, "role": role, "funder": user.funder},
        )
    return user
