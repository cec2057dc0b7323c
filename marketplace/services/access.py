"""API keys and staff accounts."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from ..domain import errors
from ..domain.base import utcnow
from ..domain.models import ApiKey, Role, StaffUser
from ..extensions import db
from . import audit, unit

KEY_PREFIX = "ujz_"
MIN_PASSWORD = 12


def _digest(token: str) -> str:
    # API keys are long random strings: a plain SHA-256 is the right hash (no need to stretch).
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_key(
    name: str, role: str, actor: str, funder: str | None = None, now: datetime | None = None
) -> tuple[ApiKey, str]:
    """Returns the stored key and the plain token, which is shown once and never stored."""
    now = now or utcnow()
    if role not in set(Role):
        raise errors.InvalidInput("Role must be admin or funder.", field="role")
    if role == Role.FUNDER and not funder:
        raise errors.InvalidInput("A funder key needs the funder's name.", field="funder")
    prefix = secrets.token_hex(4)
    token = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=_digest(token),
        role=role,
        funder=funder if role == Role.FUNDER else None,
        created_at=now,
    )
    db.session.add(key)
    db.session.flush()
    audit.record(
        db.session(),
        actor,
        "api_key.created",
        "api_key",
        key.id,
        None,
        {"name": name, "role": role, "funder": key.funder},
        now,
    )
    unit.commit()
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
    now = now or utcnow()
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise errors.NotFound("No such key.")
    key.revoked_at = now
    audit.record(
        db.session(), actor, "api_key.revoked", "api_key", key.id, None, {"revoked": True}, now
    )
    unit.commit()


def create_staff_user(
    email: str,
    name: str,
    password: str,
    role: str,
    actor: str,
    funder: str | None = None,
    now: datetime | None = None,
) -> StaffUser:
    now = now or utcnow()
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
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)):
        raise errors.AlreadyExists("That e-mail address has an account.", field="email")
    user = StaffUser(
        email=email,
        name=name,
        password_hash=generate_password_hash(password),
        role=role,
        funder=funder if role == Role.FUNDER else None,
        active=True,
        created_at=now,
    )
    db.session.add(user)
    unit.flush_or(errors.AlreadyExists("That e-mail address has an account."))
    audit.record(
        db.session(),
        actor,
        "staff_user.created",
        "staff_user",
        user.id,
        None,
        {"email": email, "role": role, "funder": user.funder},
        now,
    )
    unit.commit()
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
