"""The audit log: every state change writes an event (who, what, when, before, after) into a
keyed hash chain, and `flask audit-verify` finds any change, removal, reordering or insertion,
a chain recomputed without the key, an event forged at the end, and (against the checkpoints it
writes outside the database) rows removed from the end or all of them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from marketplace.domain import errors
from marketplace.domain.models import AuditEvent
from marketplace.extensions import db
from marketplace.services import (
    audit,
    bookings,
    entrepreneurs,
    issuance,
    payouts,
    providers,
    sessions,
    vouchers,
)
from tests.builders import Builders
from tests.conftest import is_postgres


def _events_after(seq: int) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq)
        )
    )


def _last_seq() -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEvent.seq), 0))) or 0


def _changes(action: Callable[[], Any]) -> list[AuditEvent]:
    start = _last_seq()
    action()
    return _events_after(start)


# --------------------------------------------------------------------------- what is recorded


def test_issuing_a_voucher_records_the_registration_and_the_issue(build: Builders) -> None:
    programme = build.programme()
    person = build.person()

    events = _changes(lambda: issuance.issue_voucher(programme.id, person, "officer:7"))

    assert [e.action for e in events] == ["entrepreneur.registered", "voucher.issued"]
    issued = events[1]
    assert issued.actor == "officer:7"
    assert issued.entity_type == "voucher"
    assert issued.before is None
    assert issued.after == {
        "status": "issued",
        "programme_id": programme.id,
        "value_minor": programme.voucher_value_minor,
    }
    assert issued.at.tzinfo is not None


def test_each_step_of_a_voucher_lifecycle_records_its_before_and_after(build: Builders) -> None:
    voucher = build.voucher()
    provider = build.provider()

    booked = _changes(
        lambda: bookings.book_provider(voucher.entrepreneur_id, provider.id, voucher.id)
    )
    assert [(e.action, e.before, e.after["status"]) for e in booked] == [
        ("voucher.booked", {"status": "issued"}, "booked")
    ]
    assert booked[0].actor == f"entrepreneur:{voucher.entrepreneur_id}"

    cancelled = _changes(lambda: bookings.cancel_booking(voucher.entrepreneur_id, voucher.id))
    assert [(e.action, e.before["status"], e.after["status"]) for e in cancelled] == [
        ("voucher.booking_cancelled", "booked", "issued")
    ]

    booking = build.booking(voucher, provider)
    recorded_holder: list[Any] = []
    recorded = _changes(lambda: recorded_holder.append(build.recorded_session(booking)))
    assert [e.action for e in recorded] == ["session.recorded"]
    session = recorded_holder[0]

    confirmed = _changes(
        lambda: sessions.answer_session(session.entrepreneur_id, session.ref, True, "sms")
    )
    assert [e.action for e in confirmed] == ["session.confirmed"]
    assert confirmed[0].before == {
        "status": "recorded",
        "voucher_status": "booked",
        "sessions_confirmed": 0,
    }
    assert confirmed[0].after["value_minor"] == 100_000

    revoked = _changes(lambda: vouchers.revoke_voucher(voucher.code, "officer:1", "moved away"))
    assert [e.action for e in revoked] == ["voucher.revoked"]
    assert revoked[0].before == {"status": "in_progress", "sessions_confirmed": 1}
    assert revoked[0].after["returned_minor"] == 300_000


def test_disputes_reviews_lapses_expiry_and_payouts_are_recorded(build: Builders) -> None:
    booking = build.booking(build.voucher(now=datetime.now(UTC) - timedelta(days=5)))
    disputed = build.recorded_session(booking)
    events = _changes(
        lambda: sessions.answer_session(disputed.entrepreneur_id, disputed.ref, False, "ussd")
    )
    assert [(e.action, e.after["status"]) for e in events] == [("session.disputed", "disputed")]

    events = _changes(
        lambda: sessions.review_session(disputed.id, "overturn", "photos", "officer:2")
    )
    assert [(e.action, e.actor) for e in events] == [("session.review_overturn", "officer:2")]

    stale = build.recorded_session(booking, now=datetime.now(UTC) - timedelta(days=4))
    events = _changes(lambda: sessions.lapse_sessions())
    assert [(e.action, e.entity_id) for e in events] == [("session.lapsed", str(stale.id))]

    events = _changes(
        lambda: payouts.run_payout("KES", datetime.now(UTC) + timedelta(seconds=1), "officer:3")
    )
    assert "payout.run" in [e.action for e in events]

    old = build.voucher(now=datetime.now(UTC) - timedelta(days=200))
    events = _changes(lambda: vouchers.expire_vouchers())
    assert [(e.action, e.entity_id, e.actor) for e in events] == [
        ("voucher.expired", str(old.id), "system")
    ]


def test_provider_onboarding_changes_are_recorded(build: Builders) -> None:
    provider = build.provider(approved=False)
    events = _changes(lambda: providers.approve_provider(provider.id, "officer:4"))
    assert [(e.action, e.after["status"]) for e in events] == [("provider.approved", "approved")]
    events = _changes(lambda: providers.suspend_provider(provider.id, "officer:4"))
    assert [(e.action, e.before["status"], e.after["status"]) for e in events] == [
        ("provider.suspended", "approved", "suspended")
    ]


def test_a_refused_change_writes_no_event(build: Builders) -> None:
    provider = build.provider(capacity=1)
    build.booking(provider=provider)
    voucher = build.voucher()
    start = _last_seq()

    with pytest.raises(errors.ProviderFull):
        bookings.book_provider(voucher.entrepreneur_id, provider.id, voucher.id)
    with pytest.raises(errors.InvalidInput):
        entrepreneurs.set_language(voucher.entrepreneur_id, "fr")

    assert _events_after(start) == []
    assert audit.verify(db.session()).ok


# --------------------------------------------------------------------------- verification


def _verify(runner: FlaskCliRunner) -> tuple[int, str]:
    db.session.remove()
    result = runner.invoke(args=["audit-verify"])
    return result.exit_code, result.output


def _chain_of_events(build: Builders) -> None:
    build.confirmed_session()  # programme, provider, entrepreneur, voucher, booking, session …
    assert _last_seq() >= 6


def _tamper(app: Flask, *statements: str) -> None:
    """Change the log as someone with direct database access would (on PostgreSQL, a superuser
    switching off the append-only trigger)."""
    db.session.remove()
    with db.engine.begin() as conn:
        if is_postgres(app):
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            conn.execute(sa.text(statement))


def _checkpoints(app: Flask) -> list[dict[str, Any]]:
    path = Path(app.config["AUDIT_CHECKPOINT_PATH"])
    return [json.loads(line) for line in path.read_text().splitlines()]


def _at_text(app: Flask, at: datetime) -> str:
    return at.isoformat(sep=" ") if is_postgres(app) else at.replace(tzinfo=None).isoformat(sep=" ")


def _json_text(app: Flask, value: dict[str, Any]) -> str:
    text = "'" + json.dumps(value) + "'"
    return f"CAST({text} AS JSONB)" if is_postgres(app) else text


def _unkeyed(row: AuditEvent, prev_hash: str, **changes: Any) -> str:
    """The hash of a row as the chain computed it before it was keyed: plain SHA-256."""
    fields = {
        "seq": row.seq,
        "at": row.at,
        "actor": row.actor,
        "action": row.action,
        "entity_type": row.entity_type,
        "entity_id": row.entity_id,
        "before": row.before,
        "after": row.after,
        **changes,
    }
    return hashlib.sha256(audit._canonical(**fields, prev_hash=prev_hash)).hexdigest()


def test_audit_verify_passes_on_an_untouched_chain_and_writes_a_checkpoint(
    app: Flask, build: Builders, runner: FlaskCliRunner
) -> None:
    _chain_of_events(build)
    total = _last_seq()
    last = db.session.get(AuditEvent, total)
    assert last is not None

    code, output = _verify(runner)

    assert code == 0
    assert f"Audit chain intact: {total} events verified." in output
    [checkpoint] = _checkpoints(app)
    assert (checkpoint["seq"], checkpoint["hash"]) == (total, last.hash)
    assert f"Checkpoint: {json.dumps(checkpoint, separators=(',', ':'))}" in output
    assert _verify(runner)[0] == 0  # the chain reaches its checkpoint
    assert len(_checkpoints(app)) == 2


def test_audit_verify_passes_on_an_empty_log(app: Flask, runner: FlaskCliRunner) -> None:
    code, output = _verify(runner)
    assert code == 0
    assert output.startswith("Audit chain intact: 0 events verified.\n")
    assert [(c["seq"], c["hash"]) for c in _checkpoints(app)] == [(0, audit.GENESIS)]


def test_audit_verify_detects_tail_rows_deleted_after_a_checkpoint(
    app: Flask, build: Builders, runner: FlaskCliRunner
) -> None:
    _chain_of_events(build)
    last = _last_seq()
    assert _verify(runner)[0] == 0
    _tamper(app, f"DELETE FROM audit_events WHERE seq > {last - 2}")

    code, output = _verify(runner)

    assert code == 1
    assert f"the log ends at row {last - 2} but the checkpoint of" in output
    assert f"saw row {last}: rows were removed" in output


def test_audit_verify_detects_a_truncated_log(
    app: Flask, build: Builders, runner: FlaskCliRunner
) -> None:
    """TRUNCATE on PostgreSQL by a superuser who switched the trigger off; on SQLite, which has no
    TRUNCATE and no trigger refusing it, the statement that empties a table."""
    _chain_of_events(build)
    last = _last_seq()
    assert _verify(runner)[0] == 0
    _tamper(app, "TRUNCATE audit_events" if is_postgres(app) else "DELETE FROM audit_events")

    code, output = _verify(runner)

    assert code == 1
    assert "the log ends at row 0 but the checkpoint of" in output
    assert f"saw row {last}: rows were removed" in output


def test_audit_verify_detects_a_chain_recomputed_without_the_key(
    app: Flask, build: Builders, runner: FlaskCliRunner
) -> None:
    _chain_of_events(build)
    rows = _events_after(0)
    statements, prev = [], audit.GENESIS
    for row in rows:
        actor = "someone else" if row.seq == 3 else row.actor
        h = _unkeyed(row, prev, actor=actor)
        statements.append(
            f"UPDATE audit_events SET actor = '{actor}', prev_hash = '{prev}', hash = '{h}'"
            f" WHERE seq = {row.seq}"
        )
        prev = h
    _tamper(app, *statements)

    code, output = _verify(runner)

    assert code == 1
    assert "row 1 was changed or forged (its keyed hash does not match)" in output


def test_audit_verify_detects_a_forged_event_appended_at_the_end(
    app: Flask, build: Builders, runner: FlaskCliRunner
) -> None:
    _chain_of_events(build)
    last = db.session.get(AuditEvent, _last_seq())
    assert last is not None
    seq, at, after = last.seq + 1, datetime.now(UTC), {"status": "issued"}
    fields = dict(actor="officer:9", action="voucher.issued", entity_type="voucher")
    forged = hashlib.sha256(
        audit._canonical(
            seq, at, **fields, entity_id="999", before=None, after=after, prev_hash=last.hash
        )
    ).hexdigest()
    db.session.remove()
    with db.engine.begin() as conn:  # a plain INSERT: the trigger guards changes, not appends
        conn.execute(
            sa.text(
                "INSERT INTO audit_events (seq, at, actor, action, entity_type, entity_id, before,"
                f" after, prev_hash, hash) VALUES ({seq}, '{_at_text(app, at)}', 'officer:9',"
                f" 'voucher.issued', 'voucher', '999', NULL, {_json_text(app, after)},"
                f" '{last.hash}', '{forged}')"
            )
        )

    code, output = _verify(runner)

    assert code == 1
    assert f"row {seq} was changed or forged" in output


def test_audit_verify_detects_a_chain_rewritten_with_the_key_before_a_checkpoint(
    app: Flask, build: Builders, runner: FlaskCliRunner
) -> None:
    """Even someone holding the key cannot rewrite what a checkpoint already saw."""
    _chain_of_events(build)
    assert _verify(runner)[0] == 0
    key = audit.event_key()
    statements, prev = [], audit.GENESIS
    for row in _events_after(0):
        actor = "someone else" if row.seq == 2 else row.actor
        h = audit.event_hash(
            key,
            row.seq,
            row.at,
            actor,
            row.action,
            row.entity_type,
            row.entity_id,
            row.before,
            row.after,
            prev,
        )
        statements.append(
            f"UPDATE audit_events SET actor = '{actor}', prev_hash = '{prev}', hash = '{h}'"
            f" WHERE seq = {row.seq}"
        )
        prev = h
    _tamper(app, *statements)

    code, output = _verify(runner)

    assert code == 1
    assert f"row {_last_seq()} differs from the checkpoint of" in output


def test_audit_verify_refuses_a_checkpoint_file_line_it_did_not_write(
    app: Flask, build: Builders, runner: FlaskCliRunner
) -> None:
    _chain_of_events(build)
    assert _verify(runner)[0] == 0
    path = Path(app.config["AUDIT_CHECKPOINT_PATH"])
    [checkpoint] = _checkpoints(app)
    path.write_text(json.dumps({**checkpoint, "seq": checkpoint["seq"] - 1}) + "\n")

    code, output = _verify(runner)

    assert code == 1
    assert "line 1 of the checkpoint file" in output
    assert "was not written with this AUDIT_KEY" in output


def test_a_failed_verification_writes_no_checkpoint(
    app: Flask, build: Builders, runner: FlaskCliRunner
) -> None:
    _chain_of_events(build)
    _tamper(app, "UPDATE audit_events SET actor = 'someone else' WHERE seq = 3")

    assert _verify(runner)[0] == 1
    assert not Path(app.config["AUDIT_CHECKPOINT_PATH"]).exists()


def test_verification_and_checkpoint_is_one_service_call(app: Flask, build: Builders) -> None:
    _chain_of_events(build)
    now = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)

    result = audit.verify_and_checkpoint(db.session(), now=now)

    assert result.ok and result.checkpoint is not None
    assert result.checkpoint == audit.Checkpoint(result.last_seq, result.last_hash, now)
    assert audit.read_checkpoints() == [result.checkpoint]


def test_audit_verify_detects_a_changed_row(
    app: Flask, build: Builders, runner: FlaskCliRunner
) -> None:
    _chain_of_events(build)
    _tamper(app, "UPDATE audit_events SET actor = 'someone else' WHERE seq = 3")

    code, output = _verify(runner)

    assert code == 1
    assert "row 3 was changed" in output


def test_audit_verify_detects_a_changed_before_or_after(
    app: Flask, build: Builders, runner: FlaskCliRunner
) -> None:
    _chain_of_events(build)
    last = _last_seq()
    cast = (
        'CAST(\'{"status": "revoked"}\' AS JSONB)'
        if is_postgres(app)
        else '\'{"status": "revoked"}\''
    )
    _tamper(app, f"UPDATE audit_events SET after = {cast} WHERE seq = {last}")

    code, output = _verify(runner)

    assert code == 1
    assert f"row {last} was changed" in output


def test_audit_verify_detects_a_changed_row_whose_hash_was_recomputed(
    app: Flask, build: Builders, runner: FlaskCliRunner
) -> None:
    _chain_of_events(build)
    row = db.session.get(AuditEvent, 2)
    assert row is not None
    forged = audit.event_hash(
        audit.event_key(),
        row.seq,
        row.at,
        "someone else",
        row.action,
        row.entity_type,
        row.entity_id,
        row.before,
        row.after,
        row.prev_hash,
    )
    _tamper(app, f"UPDATE audit_events SET actor = 'someone else', hash = '{forged}' WHERE seq = 2")

    code, output = _verify(runner)

    assert code == 1
    assert "row 3 does not link to the row before it" in output


def test_audit_verify_detects_a_row_deleted_from_the_middle(
    app: Flask, build: Builders, runner: FlaskCliRunner
) -> None:
    _chain_of_events(build)
    _tamper(app, "DELETE FROM audit_events WHERE seq = 3")

    code, output = _verify(runner)

    assert code == 1
    assert "row 3 is missing" in output


def test_audit_verify_detects_two_rows_swapped(
    app: Flask, build: Builders, runner: FlaskCliRunner
) -> None:
    _chain_of_events(build)
    _tamper(
        app,
        "UPDATE audit_events SET seq = -2 WHERE seq = 2",
        "UPDATE audit_events SET seq = 2 WHERE seq = 3",
        "UPDATE audit_events SET seq = 3 WHERE seq = -2",
    )

    code, output = _verify(runner)

    assert code == 1
    assert "row 2" in output


def test_audit_verify_detects_a_row_inserted_in_the_middle(
    app: Flask, build: Builders, runner: FlaskCliRunner
) -> None:
    _chain_of_events(build)
    second = db.session.get(AuditEvent, 2)
    assert second is not None
    at = second.at
    forged_hash = audit.event_hash(
        audit.event_key(),
        3,
        at,
        "officer:9",
        "voucher.issued",
        "voucher",
        "999",
        None,
        {"status": "issued"},
        second.hash,
    )
    at_text = (
        at.isoformat(sep=" ") if is_postgres(app) else at.replace(tzinfo=None).isoformat(sep=" ")
    )
    after = (
        'CAST(\'{"status": "issued"}\' AS JSONB)'
        if is_postgres(app)
        else '\'{"status": "issued"}\''
    )
    _tamper(
        app,
        "UPDATE audit_events SET seq = -(seq + 1) WHERE seq >= 3",
        "UPDATE audit_events SET seq = -seq WHERE seq < 0",
        "INSERT INTO audit_events (seq, at, actor, action, entity_type, entity_id, before, after,"
        f" prev_hash, hash) VALUES (3, '{at_text}', 'officer:9', 'voucher.issued', 'voucher', "
        f"'999', NULL, {after}, '{second.hash}', '{forged_hash}')",
    )

    code, output = _verify(runner)

    assert code == 1
    assert "row 4 does not link to the row before it" in output


# --------------------------------------------------------------------------- append-only


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'someone else' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 1",
        "TRUNCATE audit_events",
    ],
)
def test_the_database_refuses_to_change_or_remove_audit_events(
    postgres: Flask, build: Builders, statement: str
) -> None:
    _chain_of_events(build)
    db.session.remove()

    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(sa.text(statement))

    assert audit.verify(db.session()).ok
