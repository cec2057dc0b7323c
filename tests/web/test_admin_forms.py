"""The officers' forms refuse, in the page's words and with a 422, what is missing or not of its
kind, field by field, and write nothing."""

from __future__ import annotations

from io import BytesIO

import sqlalchemy as sa

from marketplace.domain.models import Voucher
from marketplace.extensions import db
from marketplace.messages.pages import admin as words
from tests.builders import Builders
from tests.web.conftest import Web


def _vouchers() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) or 0


def test_an_import_without_a_programme_or_a_file_names_both(web: Web, build: Builders) -> None:
    web.staff_signin(build.staff_user("admin").email)
    page = web.post("/admin/vouchers/import", {"programme_id": ""}, token_from="/admin/vouchers")
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert words("choose_programme", "en") in text and words("choose_file", "en") in text


def test_an_import_of_an_empty_file_field_asks_for_a_file(web: Web, build: Builders) -> None:
    programme = build.programme()
    web.staff_signin(build.staff_user("admin").email)
    page = web.post(
        "/admin/vouchers/import",
        {"programme_id": str(programme.id), "file": (BytesIO(b""), "")},
        token_from="/admin/vouchers",
        content_type="multipart/form-data",
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert words("choose_file", "en") in text and words("choose_programme", "en") not in text
    assert _vouchers() == 0


def test_a_voucher_for_a_birth_year_in_words_is_refused(web: Web, build: Builders) -> None:
    programme = build.programme()
    web.staff_signin(build.staff_user("admin").email)
    page = web.post(
        "/admin/vouchers",
        {"programme_id": str(programme.id), "phone": "0712345678", "birth_year": "nineteen"},
    )
    assert page.status_code == 422
    assert words("bad_birth_year", "en") in page.get_data(as_text=True)
    assert _vouchers() == 0


def test_a_payout_run_ending_in_the_future_is_refused(web: Web, build: Builders) -> None:
    web.staff_signin(build.staff_user("admin").email)
    page = web.post("/admin/payouts", {"currency": "KES", "period_end": "2999-01-01"})
    assert page.status_code == 422
    assert words("future_period_end", "en") in page.get_data(as_text=True)
    wrong = web.post("/admin/payouts", {"currency": "K1S", "period_end": "2020-01-01"})
    assert wrong.status_code == 422


def test_a_voucher_for_a_number_of_another_country_says_so(web: Web, build: Builders) -> None:
    programme = build.programme()
    web.staff_signin(build.staff_user("admin").email)
    page = web.post(
        "/admin/vouchers",
        {
            "programme_id": str(programme.id),
            "phone": "+255712345678",
            "name": "Neema Mushi",
            "gender": "female",
            "birth_year": "1990",
            "trade": "tailoring",
            "region": "nairobi",
            "language": "en",
        },
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert words("foreign_phone_number", "en").replace("'", "&#39;") in text
    assert _vouchers() == 0
