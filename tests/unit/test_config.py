import pytest

from config import ConfigError, load_config

SAFE = {
    "APP_ENV": "production",
    "SECRET_KEY": "x" * 40,
    "SMS_BACKEND": "africastalking",
    "AT_USERNAME": "ujuzi-live",
    "AT_API_KEY": "atsk_live_key",
    "AT_CALLBACK_SECRET": "c" * 24,
    "AUDIT_KEY": "a" * 40,
    "METRICS_TOKEN": "m" * 24,
    "DATABASE_URL": "postgresql://ujuzi@db/ujuzi",
    "PAYMENTS_BACKEND": "mpesa",
    "MPESA_BASE_URL": "https://api.safaricom.co.ke",
    "MPESA_CONSUMER_KEY": "live-consumer-key",
    "MPESA_CONSUMER_SECRET": "live-consumer-secret",
    "MPESA_SHORTCODE": "3030303",
    "MPESA_INITIATOR_NAME": "ujuzi-api",
    "MPESA_INITIATOR_PASSWORD": "Pa55#word",
    "MPESA_CERT_PATH": __file__,  # any file that exists: the check is that it is there
    "MPESA_CALLBACK_SECRET": "p" * 24,
    "PUBLIC_BASE_URL": "https://ujuzi.example.org",
}


@pytest.fixture
def env(monkeypatch):
    for name, value in SAFE.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_production_starts_with_safe_settings(env):
    cfg = load_config()
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://ujuzi@db/ujuzi"


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("SECRET_KEY", "", "SECRET_KEY"),
        ("SECRET_KEY", "short", "SECRET_KEY"),
        ("AT_USERNAME", "sandbox", "AT_USERNAME"),
        ("SMS_BACKEND", "console", "SMS_BACKEND"),
        ("SMS_BACKEND", "fake", "SMS_BACKEND"),
        ("AT_CALLBACK_SECRET", "", "AT_CALLBACK_SECRET"),
        ("AT_API_KEY", "", "AT_API_KEY"),
        ("DATABASE_URL", "sqlite:///x.db", "DATABASE_URL"),
        ("AUDIT_KEY", "", "AUDIT_KEY"),
        ("AUDIT_KEY", "short", "AUDIT_KEY"),
        ("AUDIT_KEY", "x" * 40, "AUDIT_KEY must differ from SECRET_KEY"),
        ("METRICS_TOKEN", "", "METRICS_TOKEN"),
        ("PAYMENTS_BACKEND", "console", "PAYMENTS_BACKEND"),
        ("PAYMENTS_BACKEND", "fake", "PAYMENTS_BACKEND"),
        ("MPESA_BASE_URL", "https://sandbox.safaricom.co.ke", "MPESA_BASE_URL"),
        ("MPESA_BASE_URL", "", "MPESA_BASE_URL"),
        ("MPESA_SHORTCODE", "600997", "MPESA_SHORTCODE"),
        ("MPESA_CONSUMER_KEY", "", "MPESA_CONSUMER_KEY"),
        ("MPESA_INITIATOR_PASSWORD", "", "MPESA_INITIATOR_PASSWORD"),
        ("MPESA_CERT_PATH", "/nonexistent/cert.cer", "MPESA_CERT_PATH"),
        ("MPESA_CALLBACK_SECRET", "", "MPESA_CALLBACK_SECRET"),
        ("MPESA_CALLBACK_SECRET", "short", "MPESA_CALLBACK_SECRET"),
        ("MPESA_CALLBACK_SECRET", "c" * 24, "MPESA_CALLBACK_SECRET must differ"),
        ("PUBLIC_BASE_URL", "http://ujuzi.example.org", "PUBLIC_BASE_URL"),
        ("METRICS_TOKEN", "short", "METRICS_TOKEN"),
        ("SCHEDULER_TICK_SECONDS", "soon", "SCHEDULER_TICK_SECONDS"),
        ("PUBLIC_BASE_URL", "", "PUBLIC_BASE_URL"),
        ("PUBLIC_BASE_URL", "http://127.0.0.1:8000", "PUBLIC_BASE_URL"),
    ],
)
def test_production_refuses_an_unsafe_setting_and_names_it(env, name, value, named):
    env.setenv(name, value)
    with pytest.raises(ConfigError, match=named):
        load_config()


def test_development_defaults_to_sqlite_and_the_console_backend(monkeypatch):
    for name in (*SAFE, "APP_ENV"):
        monkeypatch.delenv(name, raising=False)
    cfg = load_config()
    assert str(cfg["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite:///")
    assert str(cfg["SQLALCHEMY_DATABASE_URI"]).endswith("instance/ujuzi.sqlite")
    assert cfg["SMS_BACKEND"] == "console"
    assert cfg["DEFAULT_PHONE_REGION"] == "KE"


def test_a_non_numeric_integer_setting_is_reported(monkeypatch):
    monkeypatch.setenv("SMS_WORKER_BATCH", "many")
    with pytest.raises(ConfigError, match="SMS_WORKER_BATCH"):
        load_config()


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(monkeypatch):
    from flask import request

    from marketplace.app import create_app

    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    app = create_app({"TESTING": True})

    @app.get("/whoami")
    def whoami():
        return request.remote_addr or ""

    answer = app.test_client().get("/whoami", headers={"X-Forwarded-For": "196.201.214.7"})
    assert answer.get_data(as_text=True) == "196.201.214.7"


def test_postgresql_connections_are_not_checked_per_request_unless_asked(env):
    assert load_config()["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False  # type: ignore[index]
    env.setenv("DB_POOL_PRE_PING", "1")
    assert load_config()["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True  # type: ignore[index]


def test_the_phone_simulator_page_can_be_turned_off_in_development(monkeypatch):
    monkeypatch.delenv("APP_ENV", raising=False)
    assert load_config()["PHONE_SIMULATOR_PAGE"] is True
    monkeypatch.setenv("PHONE_SIMULATOR_PAGE", "0")
    assert load_config()["PHONE_SIMULATOR_PAGE"] is False


def test_production_logs_json_lines_and_development_text(env, monkeypatch):
    assert load_config()["LOG_FORMAT"] == "json"
    for name in (*SAFE, "APP_ENV"):
        monkeypatch.delenv(name, raising=False)
    assert load_config()["LOG_FORMAT"] == "text"
