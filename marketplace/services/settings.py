"""Settings the services read from the running app's configuration."""

from __future__ import annotations

from typing import Any

from flask import current_app


def get(key: str, default: Any = None) -> Any:
    return current_app.config.get(key, default)


def phone_region() -> str:
    return str(get("DEFAULT_PHONE_REGION", "KE"))


def secret_key() -> str:
    return str(get("SECRET_KEY"))


def ussd_code() -> str:
    return str(get("USSD_SERVICE_CODE", "*384#"))


def short_code() -> str:
    return str(get("AT_SHORT_CODE", ""))


def mentor_page() -> str:
    """The mentor page's address as an SMS gives it: no scheme, no trailing slash."""
    base = str(get("PUBLIC_BASE_URL", "") or "").strip().rstrip("/")
    return base.partition("://")[2] + "/mentor" if "://" in base else base + "/mentor"
