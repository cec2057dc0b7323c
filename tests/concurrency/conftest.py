"""Fixtures for the races: they need PostgreSQL (skipped on SQLite runs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from marketplace.db import reading
from tests.concurrency.racing import Race


@pytest.fixture(scope="session", autouse=True)
def _close_pooled_connections(_app: Flask) -> Iterator[None]:
    """Close the pool's connections at the end of the run, so none is left for the garbage
    collector to close (psycopg warns about that, and warnings are errors here)."""
    yield
    with _app.app_context():
        reading.dispose_engines()


@pytest.fixture
def race(postgres: Flask) -> Race:
    return Race(postgres)
