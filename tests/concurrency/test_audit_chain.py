"""Many writers at once still make one unbroken audit chain (PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.domain.models import AuditEvent
from marketplace.extensions import db
from marketplace.services import audit, entrepreneurs, issuance
from tests.builders import Builders
from tests.concurrency.racing import Race, winners

WRITERS = 8
CHANGES_EACH = 6


def test_concurrent_writers_keep_one_unbroken_audit_chain(build: Builders, race: Race) -> None:
    programmes = [build.programme() for _ in range(WRITERS)]
    people = [build.person() for _ in range(WRITERS)]
    targets = [(p.id, person) for p, person in zip(programmes, people, strict=True)]
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) or 0

    def writer(programme_id: int, person: object) -> int:
        voucher = issuance.issue_voucher(programme_id, person, "officer")  # type: ignore[arg-type]
        for i in range(CHANGES_EACH):
            entrepreneurs.set_language(voucher.entrepreneur_id, "sw" if i % 2 == 0 else "en")
        return voucher.id

    outcomes = race(
        *[(lambda pid=pid, person=person: writer(pid, person)) for pid, person in targets]
    )

    assert len(winners(outcomes)) == WRITERS
    # each writer: registration + issue + its language changes
    expected = before + WRITERS * (2 + CHANGES_EACH)
    seqs = list(db.session.scalars(sa.select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert seqs == list(range(1, expected + 1))
    result = audit.verify(db.session())
    assert result.ok, result.problem
    assert result.checked == expected


def test_verifications_running_while_writers_append_checkpoint_what_they_saw(
    build: Builders, race: Race
) -> None:
    programmes = [build.programme() for _ in range(WRITERS)]
    people = [build.person() for _ in range(WRITERS)]

    def writer(programme_id: int, person: object) -> int:
        voucher = issuance.issue_voucher(programme_id, person, "officer")  # type: ignore[arg-type]
        for i in range(CHANGES_EACH):
            entrepreneurs.set_language(voucher.entrepreneur_id, "sw" if i % 2 == 0 else "en")
        return voucher.id

    def verifier() -> bool:
        return all(audit.verify_and_checkpoint().ok for _ in range(3))

    outcomes = race(
        *[
            (lambda pid=p.id, person=person: writer(pid, person))
            for p, person in zip(programmes, people, strict=True)
        ],
        verifier,
        verifier,
    )

    assert all(o.ok for o in outcomes)
    assert outcomes[-1].value and outcomes[-2].value
    assert len(audit.read_checkpoints()) == 6
    final = audit.verify_and_checkpoint(db.session())
    assert final.ok, final.problem
    assert final.checkpoints >= 1  # the chain was held against what the verifiers saw
    assert final.checked == final.last_seq
