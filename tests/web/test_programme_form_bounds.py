"""The officers' programme form refuses what no programme may be, says why, and writes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.domain.models import AuditEvent, Programme
from marketplace.extensions import db
from tests.builders import Builders
from tests.web.conftest import Web

GOOD = {
    "name": "Jua Kali Nairobi 2026",
    "funder": "Skills Fund",
    "currency": "KES",
    "voucher_value": "4,000",
    "sessions_per_voucher": "4",
    "co_payment_percent": "10",
    "validity_days": "180",
    "budget": "1000000",
    "confirmation_window_hours": "72",
}


def _rows() -> tuple[int, int]:
    db.session.expire_all()
    count = sa.select(sa.func.count())
    return (
        db.session.scalar(count.select_from(Programme)) or 0,
        db.session.scalar(count.select_from(AuditEvent)) or 0,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("budget", "1" * 26, "Budget must be at most KES 10,000,000,000,000."),
        ("voucher_value", "9" * 20, "Voucher value must be at most KES 10,000,000,000."),
        ("validity_days", "5000000", "Validity must be at most 3650 days."),
        ("confirmation_window_hours", "9" * 30, "The window must be at most 1440 hours."),
        ("name", "N" * 300, "The name must be at most 120 characters."),
        ("funder", "F" * 121, "The funder&#39;s name must be at most 120 characters."),
    ],
)
def test_a_programme_beyond_the_bounds_is_refused_with_a_clear_message(
    web: Web, build: Builders, field: str, value: str, message: str
) -> None:
    web.staff_signin(build.staff_user("admin").email)
    before = _rows()
    answer = web.post("/admin/programmes", {**GOOD, field: value})
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert _rows() == before


def test_a_programme_at_the_bounds_is_created_and_issues_vouchers(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    web.staff_signin(build.staff_user("admin").email)
    answer = web.post(
        "/admin/programmes",
        {**GOOD, "name": "N" * 120, "validity_days": "3650", "confirmation_window_hours": "1440"},
    )
    assert answer.status_code == 302
    programme = db.session.scalars(sa.select(Programme)).one()
    assert (programme.validity_days, programme.confirmation_window_hours) == (3650, 1440)
    assert build.voucher(programme).status == "issued"
