"""An officer finds one person or voucher from the web (by code, by phone however it is written,
by name), sees what happened to them, revokes a voucher with a reason and sends its SMS again."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.domain.codes import format_voucher_code
from marketplace.domain.models import AuditEvent, OutboxMessage, Programme, Voucher
from marketplace.extensions import db
from marketplace.messages.pages import admin as words
from tests.builders import Builders
from tests.web.conftest import Web


def _text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def _officer(web: Web, build: Builders) -> None:
    assert web.staff_signin(build.staff_user("admin").email).location == "/admin"


def _voucher_sms(voucher: Voucher) -> OutboxMessage:
    message = db.session.scalar(
        sa.select(OutboxMessage).where(
            OutboxMessage.to_phone == voucher.entrepreneur.phone,
            OutboxMessage.kind == "voucher_issued",
        )
    )
    assert message is not None
    return message


@pytest.mark.parametrize(
    "typed",
    ["0722 456 789", "+254 722 456789", "254722456789", "722456789", "0722-456-789"],
)
def test_a_person_is_found_by_their_phone_however_it_is_written(
    web: Web, client: FlaskClient, build: Builders, typed: str
) -> None:
    voucher = build.voucher(phone="+254722456789", name="Akinyi Odhiambo")
    _officer(web, build)

    answer = client.get("/admin/people", query_string={"q": typed})

    assert answer.status_code == 302
    assert answer.location.startswith(f"/admin/people/{voucher.entrepreneur_id}")


def test_a_voucher_code_as_read_aloud_leads_to_its_owner(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    voucher = build.voucher(name="Akinyi Odhiambo")
    _officer(web, build)

    answer = client.get("/admin/people", query_string={"q": format_voucher_code(voucher.code)})

    assert answer.location.startswith(f"/admin/people/{voucher.entrepreneur_id}")
    page = _text(client.get(answer.location))
    assert "Akinyi Odhiambo" in page and format_voucher_code(voucher.code) in page


def test_a_name_search_lists_everyone_it_matches_and_says_when_nobody_does(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    programme = build.programme()
    build.voucher(programme, name="Wanjiru Kamau")
    build.voucher(programme, name="Grace Wanjiru Otieno")
    build.voucher(programme, name="Baraka Otieno")
    _officer(web, build)

    page = _text(client.get("/admin/people", query_string={"q": "wanjiru"}))
    assert "Wanjiru Kamau" in page and "Grace Wanjiru Otieno" in page
    assert "Baraka Otieno" not in page

    both = client.get("/admin/people", query_string={"q": "otieno grace"})
    assert both.status_code == 302  # one person has both words

    nobody = _text(client.get("/admin/people", query_string={"q": "Zawadi"}))
    assert words("no_people_match", "en", q="Zawadi") in nobody
    assert 'id="none-found"' in _text(client.get("/admin/people", query_string={"q": "100%_"}))


def test_the_person_page_shows_vouchers_bookings_sessions_sms_and_the_trail(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    booking = build.booking()
    session = build.confirmed_session(booking)
    voucher = db.session.get(Voucher, booking.voucher_id)
    assert voucher is not None
    _officer(web, build)

    page = _text(client.get(f"/admin/people/{voucher.entrepreneur_id}"))

    assert format_voucher_code(voucher.code) in page
    assert words("voucher_status_in_progress", "en") in page
    assert booking.provider.name in page and words("booking_status_active", "en") in page
    assert session.topic in page and session.ref in page
    assert "voucher_issued" in page and "booking_made_entrepreneur" in page
    assert words("sms_state_pending", "en") in page
    for action in ("entrepreneur.registered", "voucher.booked", "session.confirmed"):
        assert action in page


def test_an_officer_revokes_a_voucher_with_a_reason(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    programme = build.programme()
    voucher = build.voucher(programme)
    _officer(web, build)
    person_page = f"/admin/people/{voucher.entrepreneur_id}"

    answer = web.post(
        f"/admin/vouchers/{voucher.code}/revoke",
        {"reason": "Registered twice by mistake", "person": str(voucher.entrepreneur_id)},
        token_from=person_page,
    )

    assert answer.status_code == 302 and answer.location == person_page
    db.session.expire_all()
    assert db.session.get(Voucher, voucher.id).status == "revoked"  # type: ignore[union-attr]
    assert db.session.get(Programme, programme.id).committed_minor == 0  # type: ignore[union-attr]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "voucher.revoked"))
    assert event is not None and event.after["reason"] == "Registered twice by mistake"
    assert event.actor.startswith("staff:")
    page = _text(client.get(person_page))
    assert words("voucher_status_revoked", "en") in page
    assert "voucher_revoked" in page  # the SMS that tells them
    assert "Registered twice by mistake" in page  # in the trail


def test_a_revoke_without_a_reason_is_refused_and_changes_nothing(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    voucher = build.voucher()
    _officer(web, build)
    person_page = f"/admin/people/{voucher.entrepreneur_id}"

    web.post(
        f"/admin/vouchers/{voucher.code}/revoke",
        {"reason": "   ", "person": str(voucher.entrepreneur_id)},
        token_from=person_page,
    )

    db.session.expire_all()
    assert db.session.get(Voucher, voucher.id).status == "issued"  # type: ignore[union-attr]
    assert words("need_reason", "en") in _text(client.get(person_page))


def test_a_voucher_revoked_already_is_not_revoked_again(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    voucher = build.voucher()
    _officer(web, build)
    person_page = f"/admin/people/{voucher.entrepreneur_id}"
    form = {"reason": "Left the programme", "person": str(voucher.entrepreneur_id)}
    web.post(f"/admin/vouchers/{voucher.code}/revoke", form, token_from=person_page)

    again = web.post(f"/admin/vouchers/{voucher.code}/revoke", form, token_from=person_page)

    assert again.status_code == 302
    assert words("cannot_revoke", "en") in _text(client.get(person_page))
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "voucher.revoked"))
        == 1
    )


def test_an_unknown_voucher_code_answers_404(web: Web, build: Builders) -> None:
    _officer(web, build)
    answer = web.post("/admin/vouchers/1234567890/revoke", {"reason": "x"}, token_from="/admin")
    assert answer.status_code == 404


def test_the_voucher_sms_is_sent_again_with_the_same_text(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    voucher = build.voucher()
    message = _voucher_sms(voucher)
    message.status, message.sent_at = "delivered", datetime.now(UTC) - timedelta(days=3)
    db.session.commit()
    body = message.body
    _officer(web, build)
    person_page = f"/admin/people/{voucher.entrepreneur_id}"

    web.post(
        f"/admin/vouchers/{voucher.code}/resend",
        {"person": str(voucher.entrepreneur_id)},
        token_from=person_page,
    )

    db.session.expire_all()
    again = _voucher_sms(voucher)
    assert (again.id, again.status, again.body, again.sent_at) == (
        message.id,
        "pending",
        body,
        None,
    )
    assert (
        db.session.scalar(
            sa.select(AuditEvent.before).where(
                AuditEvent.action == "sms.resent", AuditEvent.entity_id == str(message.id)
            )
        )["status"]
        == "delivered"
    )
    shown = format_voucher_code(voucher.code)
    assert words("voucher_sms_requeued", "en", code=shown, phone=voucher.entrepreneur.phone) in (
        _text(client.get(person_page))
    )


def test_a_voucher_sms_waiting_to_go_is_left_alone_and_the_officer_told(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    voucher = build.voucher()
    _officer(web, build)
    person_page = f"/admin/people/{voucher.entrepreneur_id}"

    web.post(
        f"/admin/vouchers/{voucher.code}/resend",
        {"person": str(voucher.entrepreneur_id)},
        token_from=person_page,
    )

    shown = format_voucher_code(voucher.code)
    assert words("voucher_sms_queued", "en", code=shown) in _text(client.get(person_page))
    assert not db.session.scalar(sa.select(AuditEvent.seq).where(AuditEvent.action == "sms.resent"))


def test_the_sms_of_a_revoked_voucher_is_not_sent_again(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    voucher = build.voucher()
    _voucher_sms(voucher).status = "delivered"
    db.session.commit()
    _officer(web, build)
    person_page = f"/admin/people/{voucher.entrepreneur_id}"
    form = {"reason": "Left", "person": str(voucher.entrepreneur_id)}
    web.post(f"/admin/vouchers/{voucher.code}/revoke", form, token_from=person_page)

    web.post(f"/admin/vouchers/{voucher.code}/resend", form, token_from=person_page)

    assert words("voucher_not_usable", "en") in _text(client.get(person_page))
    db.session.expire_all()
    assert _voucher_sms(voucher).status == "delivered"


def test_a_funder_cannot_search_people(web: Web, client: FlaskClient, build: Builders) -> None:
    web.staff_signin(build.staff_user("funder", funder="Skills Fund").email)
    assert client.get("/admin/people", query_string={"q": "a"}).status_code == 403


def test_the_search_and_the_person_page_read_in_kiswahili(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    from tests.web.test_staff_pages_in_kiswahili import _leftovers, _visible

    booking = build.booking()
    build.confirmed_session(booking)
    voucher = db.session.get(Voucher, booking.voucher_id)
    assert voucher is not None
    _officer(web, build)
    person_page = f"/admin/people/{voucher.entrepreneur_id}"
    web.post("/language", {"lang": "sw", "back": person_page}, token_from=person_page)

    for path, said in (
        (person_page, "Kumbukumbu ya ukaguzi"),
        ("/admin/people?q=Zawadi", "Hakuna anayelingana"),
    ):
        page = _visible(client.get(path))
        assert said in page, path
        assert _leftovers(page) == [], path
