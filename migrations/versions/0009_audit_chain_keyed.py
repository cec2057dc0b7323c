"""audit_events: the chain keyed with AUDIT_KEY (HMAC-SHA256)

Events sealed before this revision carry a plain SHA-256 chain, which anyone able to write to the
database could recompute. The upgrade first verifies that chain end to end and stops, naming the
first broken row, if it is not intact (investigate before upgrading: nothing is changed). It then
seals every existing event again under the key, in order, so the whole log is one keyed chain and
verification knows a single rule. What was changed and recomputed before the upgrade cannot be
told apart afterwards: the keyed chain vouches for the log as it stood at the upgrade.

On PostgreSQL the append-only trigger (UPDATE, DELETE and TRUNCATE refused) is switched off for
the re-sealing only, inside this migration's transaction.

The hashing below is this revision's own copy, so that later changes to the application cannot
change what this migration did.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

"""

import hashlib
import hmac
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from flask import current_app
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
BATCH = 5000


class _UTC(sa.types.TypeDecorator):
    impl = sa.DateTime
    cache_ok = True

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


events = sa.table(
    "audit_events",
    sa.column("seq", sa.BigInteger),
    sa.column("at", _UTC()),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("entity_type", sa.String),
    sa.column("entity_id", sa.String),
    sa.column("before", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    sa.column("after", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def _canonical(row, prev_hash: str) -> bytes:
    at: datetime = row.at
    payload = [
        row.seq,
        at.isoformat(timespec="microseconds"),
        row.actor,
        row.action,
        row.entity_type,
        row.entity_id,
        row.before,
        row.after,
        prev_hash,
    ]
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def _event_key() -> bytes:
    secret = str(current_app.config.get("AUDIT_KEY") or "")
    if not secret:
        raise RuntimeError("AUDIT_KEY must be set to upgrade: the audit chain is keyed with it")
    return hmac.new(secret.encode(), b"ujuzi audit events v1", hashlib.sha256).digest()


def _rows(bind, after: int):
    return bind.execute(
        sa.select(events).where(events.c.seq > after).order_by(events.c.seq).limit(BATCH)
    ).all()


def _reseal(bind, key: bytes) -> None:
    """Verify the unkeyed chain, then write every event's keyed hash and link (in place)."""
    changes = []
    old_prev, new_prev, expected, last = GENESIS, GENESIS, 1, 0
    while rows := _rows(bind, last):
        for row in rows:
            if row.seq != expected or row.prev_hash != old_prev:
                raise RuntimeError(
                    f"The audit chain is already broken at row {expected} (missing or unlinked);"
                    " the upgrade changed nothing. Investigate before upgrading."
                )
            if hashlib.sha256(_canonical(row, row.prev_hash)).hexdigest() != row.hash:
                raise RuntimeError(
                    f"The audit chain is already broken: row {row.seq} was changed; the upgrade"
                    " changed nothing. Investigate before upgrading."
                )
            keyed = hmac.new(key, _canonical(row, new_prev), hashlib.sha256).hexdigest()
            changes.append({"s": row.seq, "p": new_prev, "h": keyed})
            old_prev, new_prev, expected = row.hash, keyed, expected + 1
        last = rows[-1].seq
    for i in range(0, len(changes), BATCH):
        bind.execute(
            sa.update(events)
            .where(events.c.seq == sa.bindparam("s"))
            .values(prev_hash=sa.bindparam("p"), hash=sa.bindparam("h")),
            changes[i : i + BATCH],
        )


def upgrade():
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    key = _event_key()
    if postgres:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete")
    _reseal(bind, key)
    if postgres:
        # The trigger refuses UPDATE, DELETE and TRUNCATE again (revision 0002).
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_or_delete")


def downgrade():
    # The keyed hashes stay: an unkeyed chain written back would vouch for nothing.
    pass
