"""Upgrading to the keyed chain: events sealed before it (plain SHA-256) are verified and sealed
again under AUDIT_KEY; a chain already broken stops the upgrade and is left as it was."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from marketplace.app import create_app
from marketplace.domain.models import AuditEvent
from marketplace.extensions import db
from marketplace.services import audit

KEY = "a-key-for-the-migration-test-0123456789"


@pytest.fixture
def old_database(tmp_path: Path) -> Iterator[Flask]:
    """A database at the revision before the keyed chain (SQLite: the upgrade is the same SQL)."""
    app = create_app(
        {
            "TESTING": True,
            "SMS_BACKEND": "fake",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}",
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "AUDIT_KEY": KEY,
            "AUDIT_CHECKPOINT_PATH": str(tmp_path / "checkpoints.log"),
        }
    )
    with app.app_context():
        upgrade(revision="0008")
        yield app
        db.session.remove()
        db.engine.dispose()


def _write_unkeyed_chain(count: int, change_row: int | None = None) -> list[str]:
    """Events as the previous release sealed them; optionally one changed afterwards."""
    prev, hashes, rows = audit.GENESIS, [], []
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for seq in range(1, count + 1):
        at = start + timedelta(minutes=seq)
        fields = {
            "seq": seq,
            "at": at,
            "actor": f"officer:{seq}",
            "action": "voucher.issued",
            "entity_type": "voucher",
            "entity_id": str(seq),
            "before": None,
            "after": {"status": "issued", "value_minor": 400_000},
        }
        h = hashlib.sha256(audit._canonical(**fields, prev_hash=prev)).hexdigest()  # type: ignore[arg-type]
        rows.append({**fields, "prev_hash": prev, "hash": h})
        hashes.append(h)
        prev = h
    if change_row is not None:
        rows[change_row - 1]["actor"] = "someone else"
    db.session.execute(sa.insert(AuditEvent), rows)
    db.session.commit()
    return hashes


def test_upgrading_seals_the_existing_unkeyed_events_again_under_the_key(
    old_database: Flask,
) -> None:
    old_hashes = _write_unkeyed_chain(7)
    assert not audit.verify(db.session(), checkpoints=[]).ok  # the keyed rule refuses them

    db.session.remove()
    upgrade()

    result = audit.verify(db.session(), checkpoints=[])
    assert result.ok, result.problem
    assert result.checked == 7
    new_hashes = list(db.session.scalars(sa.select(AuditEvent.hash).order_by(AuditEvent.seq)))
    assert set(new_hashes).isdisjoint(old_hashes)
    actors = list(db.session.scalars(sa.select(AuditEvent.actor).order_by(AuditEvent.seq)))
    assert actors == [f"officer:{i}" for i in range(1, 8)]  # the events themselves unchanged


def test_an_unkeyed_chain_already_broken_stops_the_upgrade_unchanged(
    old_database: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    old_hashes = _write_unkeyed_chain(5, change_row=3)
    db.session.remove()

    with pytest.raises(SystemExit):  # flask db upgrade exits 1 with the reason logged
        upgrade()

    assert "row 3 was changed; the upgrade changed nothing" in capsys.readouterr().err

    db.session.remove()
    hashes = list(db.session.scalars(sa.select(AuditEvent.hash).order_by(AuditEvent.seq)))
    assert hashes == old_hashes
