"""API tests run on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from tests.concurrency.conftest import _close_pooled_connections

__all__ = ["_close_pooled_connections"]
