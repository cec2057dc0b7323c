"""Bulk issuance writes exactly what a row-by-row issuance would (COPY on PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from marketplace.db import dialect
from marketplace.domain.models import AuditEvent, Entrepreneur, OutboxMessage, Voucher
from marketplace.extensions import db
from marketplace.messages import outbound as texts
from marketplace.services import audit, issuance
from tests.builders import Builders


def test_awkward_text_survives_bulk_issuance_unchanged(build: Builders) -> None:
    programme = build.programme()
    names = [
        "Back\\slash Wanjiru",
        "\\N Achieng",
        "Semi;colon O'Brien",
        'Quote "Juma" Ali',
        "Renée Ñandú",
    ]
    lines = ["phone,name,gender,birth_year,trade,region,language"]
    lines += [
        f'07{22_100_000 + i:08d},"{n.replace(chr(34), chr(34) * 2)}",female,1990,tailoring,'
        f"nairobi,{'sw' if i % 2 else 'en'}"
        for i, n in enumerate(names)
    ]

    report = issuance.import_vouchers(programme.id, "\n".join(lines) + "\n", "officer")

    assert len(report.issued) == len(names)
    db.session.expire_all()
    stored = db.session.scalars(sa.select(Entrepreneur.name).order_by(Entrepreneur.phone)).all()
    assert stored == names
    assert audit.verify(db.session()).ok


def test_bulk_issued_sms_read_exactly_as_a_single_issue_would(app: Flask, build: Builders) -> None:
    programme = build.programme()
    data = (
        "phone,name,gender,birth_year,trade,region,language\n"
        "0722200001,Amina W,female,1990,tailoring,nairobi,en\n"
        "0722200002,Baraka O,male,1988,tailoring,nairobi,sw\n"
    )

    report = issuance.import_vouchers(programme.id, data, "officer")

    db.session.expire_all()
    for row in report.issued:
        voucher = db.session.scalar(sa.select(Voucher).where(Voucher.code == row.code))
        assert voucher is not None
        message = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.to_phone == row.phone)
        )
        assert message is not None
        expected = texts.render(
            "voucher_issued_co_payment",  # the programme asks 10%: the share is said
            voucher.entrepreneur.language,
            code=f"{row.code[:3]} {row.code[3:6]} {row.code[6:]}",
            value="KES 4,000",
            share="KES 400",
            sessions=4,
            expiry=voucher.expires_at.strftime("%d/%m/%Y"),
            ussd=app.config["USSD_SERVICE_CODE"],
            short=app.config["AT_SHORT_CODE"],
        )
        assert message.body == expected
    events = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert events.count("voucher.issued") == 2
    assert events.count("entrepreneur.registered") == 2


def test_the_garbage_collector_runs_again_after_an_import_even_a_refused_one(
    build: Builders,
) -> None:
    import gc

    import pytest

    from marketplace.domain import errors

    programme = build.programme()
    issuance.import_vouchers(
        programme.id,
        "phone,name,gender,birth_year,trade,region\n"
        "0722300001,Amina W,female,1990,tailoring,nairobi\n",
        "officer",
    )
    assert gc.isenabled()
    with pytest.raises(errors.InvalidInput):
        issuance.import_vouchers(
            programme.id, "phone,name,gender,birth_year,trade,region\n", "officer"
        )
    assert gc.isenabled()


def test_a_lookup_by_many_values_finds_exactly_those_commas_and_all(build: Builders) -> None:
    phones = [build.voucher().entrepreneur.phone for _ in range(3)]
    db.session.commit()

    def found(values: list[str]) -> set[str]:
        query = sa.select(Entrepreneur.phone).where(dialect.any_of(Entrepreneur.phone, values))
        return set(db.session.scalars(query))

    assert found(phones[:2]) == set(phones[:2])
    assert found([phones[0], "", "+254"]) == {phones[0]}
    assert found([f"{phones[0]},{phones[1]}", phones[2]]) == {phones[2]}  # a comma in a value
    assert found([]) == set()
