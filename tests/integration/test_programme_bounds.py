"""Programme set-up refuses what no programme may be, whoever asks (form, API, CLI, demo)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.domain import errors
from marketplace.domain.models import AuditEvent, Programme
from marketplace.extensions import db
from marketplace.services import programmes
from marketplace.services.programmes import NewProgramme

GOOD: dict[str, Any] = {
    "name": "Jua Kali 2027",
    "funder": "Skills Fund",
    "currency": "KES",
    "voucher_value_minor": 400_000,
    "sessions_per_voucher": 4,
    "validity_days": 90,
    "budget_minor": 40_000_000,
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "N" * 121),
        ("name", "   "),
        ("funder", "F" * 300),
        ("currency", "KESH"),
        ("voucher_value_minor", 10**12 + 1),
        ("voucher_value_minor", 0),
        ("sessions_per_voucher", 101),
        ("co_payment_percent", -1),
        ("validity_days", 5_000_000),
        ("validity_days", 0),
        ("budget_minor", 10**25),
        ("confirmation_window_hours", 10**30),
        ("confirmation_window_hours", 0),
    ],
)
def test_a_field_outside_its_bounds_is_refused_by_name_and_nothing_is_written(
    app: Flask, field: str, value: Any
) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        programmes.create_programme(NewProgramme(**{**GOOD, field: value}), "test")
    assert refused.value.context["field"] == field
    assert refused.value.message
    db.session.rollback()
    for model in (Programme, AuditEvent):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
