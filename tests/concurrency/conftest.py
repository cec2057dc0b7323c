"""Fixtures for the races: they need PostgreSQL (skipped on SQLite runs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from marketplace.extensions import db
from tests.concurrency.racing import Race


@pytest.fixture(scope="session", autouse=True)
def _close_pooled_connections(_app: Flask) -> Iterator[None]:
    """Close the pool's connections at the end of the run, so none is left for the garbage
    collector to close (psycopg warns about that, and warnings are errors here)."""
    yield
    with _app.app_context():
        db.engine.dispose()


@pytest.fixture
def race(postgres: Flask) -> Race:
    return Race(postgres)
