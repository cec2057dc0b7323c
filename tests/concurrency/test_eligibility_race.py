"""An officer changing a person's trade while a voucher is issued to them: the voucher is judged
on the trade the person ends up with, never on one that no longer holds (PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.domain.models import Entrepreneur, Voucher
from marketplace.extensions import db
from marketplace.services import entrepreneurs, issuance
from tests.builders import Builders, next_phone
from tests.concurrency.racing import Race, winners

ROUNDS = 6


def test_a_trade_change_racing_an_issuance_never_leaves_a_voucher_its_holder_is_not_covered_by(
    build: Builders, race: Race
) -> None:
    tailoring_only = build.programme(eligible_trades=["tailoring"]).id
    for _ in range(ROUNDS):
        phone = next_phone()
        build.voucher(build.programme(), phone=phone, trade="tailoring")
        person_id = db.session.scalar(sa.select(Entrepreneur.id).where(Entrepreneur.phone == phone))
        assert person_id is not None

        outcomes = race(
            lambda pid=person_id: entrepreneurs.change_trade_region(
                pid, "officer", trade="carpentry"
            ),
            lambda phone=phone: issuance.issue_voucher(
                tailoring_only, build.person(phone=phone, trade="tailoring"), "officer"
            ),
        )

        assert len(winners(outcomes)) >= 1
        db.session.expire_all()
        person = db.session.get(Entrepreneur, person_id)
        assert person is not None
        held = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Voucher)
            .where(Voucher.entrepreneur_id == person_id, Voucher.programme_id == tailoring_only)
        )
        # Either the voucher was issued first (and the change refused) or the change came first
        # (and the voucher refused); never a tailoring-only voucher held by a carpenter.
        assert (person.trade_code, held) in {("tailoring", 1), ("carpentry", 0)}
