"""Configuration from environment variables.

`load_config()` returns a plain dict for `app.config.from_mapping`. Production (`APP_ENV=production`)
refuses unsafe defaults and names the setting that is wrong.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

DEFAULT_SECRET_KEY = "dev-only-not-secret"
DEFAULT_CALLBACK_SECRET = "dev-callback"
DEFAULT_AUDIT_KEY = "dev-only-audit-key"
SMS_BACKENDS = ("console", "fake", "africastalking")
PAYMENTS_BACKENDS = ("console", "fake", "csv", "mpesa")
MPESA_SANDBOX_URL = "https://sandbox.safaricom.co.ke"


class ConfigError(RuntimeError):
    """A setting is missing or unsafe for the environment it runs in."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _parsed(name: str, default: T, parse: Callable[[str], T], what: str) -> T:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be {what}, got {raw!r}") from exc


def _int(name: str, default: int) -> int:
    return _parsed(name, default, int, "an integer")


def _float(name: str, default: float) -> float:
    return _parsed(name, default, float, "a number")


def _database_url() -> str:
    url = _env("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'ujuzi.sqlite'}"
    # Heroku-style and plain postgres URLs use the psycopg 3 driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(environ_name: str | None = None) -> dict[str, object]:
    env = environ_name or _env("APP_ENV", "development") or "development"
    url = _database_url()
    cfg: dict[str, object] = {
        "APP_ENV": env,
        "SECRET_KEY": _env("SECRET_KEY", DEFAULT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(url),
        "SMS_BACKEND": _env("SMS_BACKEND", "console"),
        "AT_USERNAME": _env("AT_USERNAME", "sandbox"),
        "AT_API_KEY": _env("AT_API_KEY", ""),
        "AT_SENDER_ID": _env("AT_SENDER_ID", ""),
        "AT_SHORT_CODE": _env("AT_SHORT_CODE", "20880"),
        "AT_API_BASE": _env("AT_API_BASE"),
        "USSD_SERVICE_CODE": _env("USSD_SERVICE_CODE", "*384*1234#"),
        "AT_CALLBACK_SECRET": _env("AT_CALLBACK_SECRET", DEFAULT_CALLBACK_SECRET),
        # The key of the audit chain's HMACs and checkpoints: kept out of the database, so that
        # whoever can write to the database alone cannot rewrite or extend the chain unseen.
        "AUDIT_KEY": _env("AUDIT_KEY", DEFAULT_AUDIT_KEY),
        # Where each verification appends its checkpoint; the database cannot rewrite it.
        "AUDIT_CHECKPOINT_PATH": _env(
            "AUDIT_CHECKPOINT_PATH", str(INSTANCE_DIR / "audit-checkpoints.log")
        ),
        "DEFAULT_PHONE_REGION": _env("DEFAULT_PHONE_REGION", "KE"),
        "COUNTRY": _env("COUNTRY", "KE"),
        "SMS_WORKER_BATCH": _int("SMS_WORKER_BATCH", 200),
        "SMS_MAX_ATTEMPTS": _int("SMS_MAX_ATTEMPTS", 8),
        "CONFIRMATION_CODE_TTL_MINUTES": _int("CONFIRMATION_CODE_TTL_MINUTES", 15),
        "CONFIRMATION_CODE_MAX_ATTEMPTS": _int("CONFIRMATION_CODE_MAX_ATTEMPTS", 5),
        "EXPIRY_REMINDER_DAYS": _int("EXPIRY_REMINDER_DAYS", 7),
        # How many reverse proxies (load balancers) stand in front of the app: their
        # X-Forwarded-For / -Proto are trusted, so rate limits see the real client address.
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        # The phone simulator page at /dev/phone exists in development only; 0 hides it there too.
        "PHONE_SIMULATOR_PAGE": _env("PHONE_SIMULATOR_PAGE", "1") != "0",
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 16 * 1024 * 1024),
        # A signed-in session lasts this long at most (signing out ends it everywhere at once).
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("SESSION_LIFETIME_HOURS", 7 * 24)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "JSON_SORT_KEYS": False,
        # One line of JSON per event in production; masked text elsewhere.
        "LOG_FORMAT": _env("LOG_FORMAT", "json" if env == "production" else "text"),
        "LOG_LEVEL": _env("LOG_LEVEL", "INFO"),
        # /metrics asks for `Authorization: Bearer <METRICS_TOKEN>`; required in production.
        "METRICS_TOKEN": _env("METRICS_TOKEN", ""),
        # The scheduler (`flask scheduler`): SCHEDULE_<JOB> intervals such as 15m, 1h, 1d or off.
        # Paying providers: `console` prints, `fake` records (tests), `csv` the bank file an
        # officer pays, `mpesa` Daraja B2C (README: Paying providers).
        "PAYMENTS_BACKEND": _env("PAYMENTS_BACKEND", "console"),
        "MPESA_BASE_URL": _env("MPESA_BASE_URL", MPESA_SANDBOX_URL),
        "MPESA_CONSUMER_KEY": _env("MPESA_CONSUMER_KEY", ""),
        "MPESA_CONSUMER_SECRET": _env("MPESA_CONSUMER_SECRET", ""),
        "MPESA_SHORTCODE": _env("MPESA_SHORTCODE", ""),
        "MPESA_INITIATOR_NAME": _env("MPESA_INITIATOR_NAME", ""),
        "MPESA_INITIATOR_PASSWORD": _env("MPESA_INITIATOR_PASSWORD", ""),
        "MPESA_CERT_PATH": _env("MPESA_CERT_PATH", ""),
        "MPESA_CALLBACK_SECRET": _env("MPESA_CALLBACK_SECRET", ""),
        "MPESA_READ_TIMEOUT": _float("MPESA_READ_TIMEOUT", 30.0),
        "PUBLIC_BASE_URL": _env("PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        "PAYMENTS_CONCURRENCY": _int("PAYMENTS_CONCURRENCY", 4),
        "PAYMENTS_TICK_SECONDS": _float("PAYMENTS_TICK_SECONDS", 5.0),
        "SCHEDULES": {k: v for k, v in os.environ.items() if k.startswith("SCHEDULE_") and v},
        "SCHEDULER_TICK_SECONDS": _float("SCHEDULER_TICK_SECONDS", 5.0),
        "SCHEDULER_LEASE_SECONDS": _int("SCHEDULER_LEASE_SECONDS", 600),
        "SCHEDULER_RETRY_SECONDS": _int("SCHEDULER_RETRY_SECONDS", 300),
        "SCHEDULER_MAX_ATTEMPTS": _int("SCHEDULER_MAX_ATTEMPTS", 3),
    }
    if env == "production":
        check_production(cfg)
    return cfg


def _engine_options(url: str) -> dict[str, object]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {
        # No ping per checkout (a round trip per request): a connection the server closed is
        # found by a look at its socket when taken from the pool and replaced (reading.py,
        # `replace_closed_on_checkout`). DB_POOL_PRE_PING=1 pings every checkout as well.
        "pool_pre_ping": _env("DB_POOL_PRE_PING", "0") == "1",
        "pool_size": _int("DB_POOL_SIZE", 10),
        "max_overflow": 10,
        # psycopg would prepare any statement run five times, and after a rollback deallocate
        # every prepared statement of the connection, the hot path's own too
        # (marketplace/db/prepared.py), which are prepared once per connection on purpose.
        "connect_args": {"prepare_threshold": None},
    }


def check_production(cfg: dict[str, object]) -> None:
    """Raise ConfigError naming the first unsafe setting."""
    secret = str(cfg.get("SECRET_KEY") or "")
    if secret == DEFAULT_SECRET_KEY or len(secret) < 32:
        raise ConfigError("SECRET_KEY must be set to a random value of at least 32 characters")
    backend = cfg.get("SMS_BACKEND")
    if backend not in SMS_BACKENDS:
        raise ConfigError(f"SMS_BACKEND must be one of {', '.join(SMS_BACKENDS)}")
    if backend != "africastalking":
        raise ConfigError(
            "SMS_BACKEND must be 'africastalking' in production (not console or fake)"
        )
    if (cfg.get("AT_USERNAME") or "sandbox") == "sandbox":
        raise ConfigError("AT_USERNAME must be your live Africa's Talking username, not 'sandbox'")
    if not cfg.get("AT_API_KEY"):
        raise ConfigError("AT_API_KEY must be set")
    callback = str(cfg.get("AT_CALLBACK_SECRET") or "")
    if callback == DEFAULT_CALLBACK_SECRET or len(callback) < 16:
        raise ConfigError("AT_CALLBACK_SECRET must be a random value of at least 16 characters")
    audit_key = str(cfg.get("AUDIT_KEY") or "")
    if audit_key == DEFAULT_AUDIT_KEY or len(audit_key) < 32:
        raise ConfigError("AUDIT_KEY must be set to a random value of at least 32 characters")
    if audit_key in (secret, callback):
        raise ConfigError("AUDIT_KEY must differ from SECRET_KEY and AT_CALLBACK_SECRET")
    if len(str(cfg.get("METRICS_TOKEN") or "")) < 16:
        raise ConfigError("METRICS_TOKEN must be set (at least 16 characters) to protect /metrics")
    if str(cfg.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        raise ConfigError("DATABASE_URL must point at PostgreSQL in production")
    public = str(cfg.get("PUBLIC_BASE_URL") or "")
    if not public.startswith("https://") or "127.0.0.1" in public or "localhost" in public:
        raise ConfigError(
            "PUBLIC_BASE_URL must be the https:// address people reach (SMS name the mentor page)"
        )
    check_payments_production(cfg)


def check_payments_production(cfg: dict[str, object]) -> None:
    """Production pays through M-Pesa (or the bank file alone), never the sandbox, and takes
    callbacks only under a secret path."""
    backend = cfg.get("PAYMENTS_BACKEND")
    if backend not in ("mpesa", "csv"):
        raise ConfigError("PAYMENTS_BACKEND must be 'mpesa' or 'csv' in production")
    if backend != "mpesa":
        return
    base = str(cfg.get("MPESA_BASE_URL") or "")
    if not base.startswith("https://") or "sandbox" in base:
        raise ConfigError("MPESA_BASE_URL must be the live Daraja API (https, not the sandbox)")
    for name in (
        "MPESA_CONSUMER_KEY",
        "MPESA_CONSUMER_SECRET",
        "MPESA_SHORTCODE",
        "MPESA_INITIATOR_NAME",
        "MPESA_INITIATOR_PASSWORD",
        "MPESA_CERT_PATH",
    ):
        if not cfg.get(name):
            raise ConfigError(f"{name} must be set")
    if str(cfg.get("MPESA_SHORTCODE")) in ("600000", "600992", "600997", "600782"):
        raise ConfigError("MPESA_SHORTCODE must be your live B2C shortcode, not a sandbox one")
    if not Path(str(cfg.get("MPESA_CERT_PATH"))).is_file():
        raise ConfigError("MPESA_CERT_PATH must name M-Pesa's production certificate file")
    secret = str(cfg.get("MPESA_CALLBACK_SECRET") or "")
    if len(secret) < 16:
        raise ConfigError("MPESA_CALLBACK_SECRET must be a random value of at least 16 characters")
    if secret in (str(cfg.get("AT_CALLBACK_SECRET")), str(cfg.get("SECRET_KEY"))):
        raise ConfigError("MPESA_CALLBACK_SECRET must differ from the other secrets")
    if not str(cfg.get("PUBLIC_BASE_URL") or "").startswith("https://"):
        raise ConfigError("PUBLIC_BASE_URL must be the service's public https address")
