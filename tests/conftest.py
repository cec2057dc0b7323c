"""Shared fixtures. The database is real: SQLite by default, PostgreSQL when TEST_DATABASE_URL says so.

The schema is built once per run with the Alembic migrations (so every run proves they work);
each test starts from empty tables with the reference data (trades, regions) loaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import HealthCheck, settings

from marketplace.app import create_app
from marketplace.db import reading
from marketplace.extensions import db
from marketplace.services import reference
from sms.gateway import FakeGateway
from tests.builders import Builders

KEEP_TABLES = {"trades", "regions", "alembic_version"}

# Property tests judge what the code computes, not how fast a shared machine runs it: a per-example
# deadline or a "too slow" health check fails a correct test whenever the cores are busy.
settings.register_profile("ujuzi", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ujuzi")


def _database_url(tmp_dir: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_dir / 'test.sqlite'}"


def is_postgres(app: Flask) -> bool:
    return str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql")


@pytest.fixture(scope="session")
def _app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    url = _database_url(tmp_path_factory.mktemp("db"))
    os.environ["DATABASE_URL"] = url  # create_app reads it; postgres:// becomes psycopg
    app = create_app(
        {
            "TESTING": True,
            "SMS_BACKEND": "fake",
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "AT_CALLBACK_SECRET": "test-callback-secret",
            "WTF_CSRF_ENABLED": True,
            "SERVER_NAME": "localhost",
            "RATELIMIT_ENABLED": True,
            "AUDIT_CHECKPOINT_PATH": str(tmp_path_factory.mktemp("audit") / "checkpoints.log"),
        }
    )
    app.extensions["sms_gateway"] = FakeGateway()
    with app.app_context():
        from flask_migrate import upgrade

        if is_postgres(app):
            _reset_postgres()
        upgrade()
        reference.load_reference_data("KE")
    yield app
    with app.app_context():
        db.session.remove()
        reading.dispose_engines()  # close pooled connections before the interpreter does (and warns)


def _reset_postgres() -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))


def _clean(app: Flask) -> None:
    Path(app.config["AUDIT_CHECKPOINT_PATH"]).unlink(missing_ok=True)
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    with db.engine.begin() as conn:
        if is_postgres(app):
            conn.execute(sa.text("SET session_replication_role = replica"))
            names = ", ".join(t.name for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            conn.execute(sa.text("SET session_replication_role = origin"))
        else:
            for t in tables:
                conn.execute(t.delete())


@pytest.fixture
def app(_app: Flask) -> Iterator[Flask]:
    with _app.app_context():
        _clean(_app)
        gateway = FakeGateway()
        _app.extensions["sms_gateway"] = gateway
        yield _app
        db.session.remove()


@pytest.fixture
def gateway(app: Flask) -> FakeGateway:
    return app.extensions["sms_gateway"]  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def build(app: Flask) -> Builders:
    return Builders(app)


@pytest.fixture
def postgres(app: Flask) -> Flask:
    if not is_postgres(app):
        pytest.skip("needs PostgreSQL (set TEST_DATABASE_URL)")
    return app


def pytest_collection_modifyitems(config: Any, items: list[pytest.Item]) -> None:
    for item in items:
        if "postgres" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
