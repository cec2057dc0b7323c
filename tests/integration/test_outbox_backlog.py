"""The SMS outbox's backlog on /healthz and from `flask sms-status`: a count per state that waits
or is stuck, and the age of the oldest message waiting to go, from one statement the due index
answers alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from marketplace.domain.models import OUTBOX_WENT_OUT, OutboxStatus
from marketplace.extensions import db
from marketplace.queries import outbox as outbox_queries
from tests.conftest import is_postgres
from tests.outbox_rows import message


def _world(now: datetime) -> None:
    message("pending", created_at=now - timedelta(minutes=10))
    message("pending", created_at=now - timedelta(seconds=30))
    message("parked")
    for _ in range(3):
        message("failed")
    message("sent")
    message("delivered")


def test_healthz_shows_the_outbox_backlog(client: FlaskClient) -> None:
    _world(datetime.now(UTC))

    answer = client.get("/healthz")

    assert answer.status_code == 200
    body = answer.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"  # what it said before stays
    backlog = body["sms_outbox"]
    assert backlog["pending"] == 2 and backlog["parked"] == 1 and backlog["failed"] == 3
    assert 600 <= backlog["oldest_pending_age_seconds"] < 700
    # every state that is not done is there, whatever OutboxStatus holds; none that went out
    assert set(backlog) == {s.value for s in OutboxStatus if s not in OUTBOX_WENT_OUT} | {
        "oldest_pending_age_seconds"
    }


def test_an_empty_outbox_has_no_backlog(client: FlaskClient) -> None:
    backlog = client.get("/healthz").get_json()["sms_outbox"]
    assert set(backlog.values()) == {0}


def test_sms_status_prints_the_same_figures(client: FlaskClient, runner: FlaskCliRunner) -> None:
    _world(datetime.now(UTC))

    result = runner.invoke(args=["sms-status", "--by-kind"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "pending: 2" in lines and "parked: 1" in lines and "failed: 3" in lines
    age = next(line for line in lines if line.startswith("oldest_pending_age_seconds: "))
    assert 600 <= int(age.split(": ")[1]) < 700
    health = client.get("/healthz").get_json()["sms_outbox"]
    for name, value in health.items():
        if name != "oldest_pending_age_seconds":
            assert f"{name}: {value}" in lines
    assert "failed voucher_issued: 3" in lines and "delivered voucher_issued: 1" in lines


def test_the_backlog_is_read_from_the_due_index_alone(app: Flask) -> None:
    """No table read, and never the messages that went out: /healthz stays cheap however many
    messages the outbox has sent."""
    _world(datetime.now(UTC))
    statement = outbox_queries.backlog_statement()
    compiled = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    db.session.remove()
    if is_postgres(app):
        # As on a large, vacuumed table: the planner then reads the index alone.
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                sa.text("VACUUM ANALYZE sms_outbox")
            )
            conn.execute(sa.text("RESET ALL"))
        with db.engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
            conn.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
            plan = "\n".join(r[0] for r in conn.execute(sa.text("EXPLAIN " + compiled)))
        assert "Index Only Scan using ix_sms_outbox_due" in plan, plan
    else:
        with db.engine.connect() as conn:
            plan = "\n".join(
                str(r[-1]) for r in conn.execute(sa.text("EXPLAIN QUERY PLAN " + compiled))
            )
        assert "COVERING INDEX ix_sms_outbox_due" in plan, plan
    # and the query the service runs is that one
    assert outbox_queries.backlog(datetime.now(UTC))["failed"] == 3
