"""The mentor's page: each trainee's co-payment, recorded received with one button; where the
programme requires it first, recording a session waits for it."""

from __future__ import annotations

import html

from flask.testing import FlaskClient

from marketplace.domain.models import Voucher
from marketplace.extensions import db
from tests.builders import Builders
from tests.web.conftest import Web


def _text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def test_the_mentor_sees_the_share_and_records_it_received(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider()
    booking = build.booking(build.voucher(build.programme(co_payment_percent=10)), provider)
    web.mentor_of(provider)

    home = _text(client.get("/mentor"))
    assert "Co-payment" in home and "KES 400: not recorded yet" in home
    recorded = web.post(f"/mentor/bookings/{booking.id}/co-payment", token_from="/mentor")

    assert recorded.status_code == 302
    after = _text(client.get("/mentor"))
    assert "Co-payment of KES 400 from" in after and "KES 400: received" in after
    assert "Record KES 400 co-payment received" not in after
    again = web.post(f"/mentor/bookings/{booking.id}/co-payment", token_from="/mentor")
    assert "The co-payment was recorded already." in _text(client.get(again.location))


def test_a_programme_requiring_it_first_keeps_the_session_form_closed_until_it_is_recorded(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider()
    programme = build.programme(co_payment_percent=10, co_payment_required=True)
    booking = build.booking(build.voucher(programme), provider)
    web.mentor_of(provider)
    record = f"/mentor/bookings/{booking.id}/record"

    home = _text(client.get("/mentor"))
    assert "takes the co-payment of KES 400 before the first session" in home
    assert record not in home
    tried = web.post(
        record,
        {
            "delivered_on": booking.created_at.strftime("%d/%m/%Y"),
            "duration_minutes": "60",
            "topic": "Cutting",
        },
        token_from=record,
    )
    assert tried.status_code == 409
    assert "co-payment of KES 400 as received before the first session" in _text(tried)

    web.post(f"/mentor/bookings/{booking.id}/co-payment", token_from="/mentor")
    assert record in _text(client.get("/mentor"))
    done = web.post(
        record,
        {
            "delivered_on": booking.created_at.strftime("%d/%m/%Y"),
            "duration_minutes": "60",
            "topic": "Cutting",
        },
        token_from=record,
    )
    assert done.status_code == 302
    voucher = db.session.get(Voucher, booking.voucher_id)
    assert voucher is not None and voucher.co_payment_recorded_at is not None


def test_kiswahili_mentor_page_says_the_share(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider(language="sw")
    build.booking(build.voucher(build.programme(co_payment_percent=10)), provider)
    web.mentor_of(provider)
    home = _text(client.get("/mentor"))
    assert "Mchango wa mwanafunzi" in home and "KES 400: bado haujarekodiwa" in home
