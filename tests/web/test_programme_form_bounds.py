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


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sessions_per_voucher", "101", "Sessions per voucher must be from 1 to 100."),
        ("sessions_per_voucher", "0", "Sessions per voucher must be from 1 to 100."),
        ("co_payment_percent", "101", "Co-payment is a percentage from 0 to 100."),
        ("validity_days", "0", "Validity must be at least one day."),
        ("sessions_per_voucher", "--5", "Enter a whole number."),
        ("co_payment_percent", "²", "Enter a whole number."),
        ("currency", "ÉÉÉ", "three-letter"),
    ],
)
def test_the_form_refuses_what_the_domain_bounds_refuse_in_its_own_words(
    web: Web, build: Builders, field: str, value: str, message: str
) -> None:
    web.staff_signin(build.staff_user("admin").email)
    before = _rows()
    answer = web.post("/admin/programmes", {**GOOD, field: value})
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert _rows() == before


def test_the_bounds_are_declared_once_for_the_database_the_api_and_the_form() -> None:
    from marketplace.domain import limits
    from marketplace.domain.models import Programme
    from marketplace.web.admin.forms import ProgrammeForm
    from marketplace.web.api.schemas import ProgrammeIn

    checks = [str(c.sqltext) for c in Programme.__table__.constraints if hasattr(c, "sqltext")]
    assert "sessions_per_voucher BETWEEN 1 AND 100" in checks  # what migration 0001 created
    for schema in (ProgrammeIn(), ProgrammeForm()):
        (bound,) = schema.fields["sessions_per_voucher"].validators
        assert (bound.min, bound.max) == (1, limits.SESSIONS_PER_VOUCHER.high)


@pytest.mark.parametrize("capacity", ["0", "1001"])
def test_a_provider_with_too_few_or_too_many_places_is_refused_by_form_and_service_alike(
    web: Web, build: Builders, capacity: str
) -> None:
    """The officers' form and the service hold the same bounds the API does (domain/limits.py)."""
    from marketplace.domain import errors
    from marketplace.domain.models import Provider
    from tests.builders import next_phone

    web.staff_signin(build.staff_user("admin").email)
    provider = {
        "kind": "craft_worker",
        "name": "Otieno Metalwork",
        "phone": next_phone(),
        "trades": ["metalwork"],
        "region": "nairobi",
        "town": "Kariobangi",
        "capacity": capacity,
        "language": "en",
    }
    answer = web.post("/admin/providers", provider)
    assert answer.status_code == 422
    assert "Capacity must be from 1 to 1000." in answer.get_data(as_text=True)
    with pytest.raises(errors.InvalidInput) as refused:
        build.provider(capacity=int(capacity))
    assert refused.value.context == {"field": "capacity"}
    assert refused.value.message == "Capacity must be from 1 to 1000."
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Provider)) == 0
