"""The mentor pages, used the way a mentor on a cheap phone uses them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.domain.models import (
    LoginCode,
    OutboxMessage,
    ProviderStaff,
    SessionStatus,
    TrainingSession,
)
from marketplace.extensions import db
from marketplace.services import payouts, sessions
from tests.builders import Builders, next_phone
from tests.builders import today as builders_today
from tests.web.conftest import TOKEN, Web, csrf_from, last_login_code


def _text(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined,no-any-return]


def test_a_mentor_signs_in_with_the_code_sent_by_sms_and_sees_their_trainees(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider()
    booking = build.booking(provider=provider, voucher=build.voucher(name="Grace Atieno"))
    phone = provider.staff[0].phone

    page = web.post("/mentor/signin", {"phone": phone}, token_from="/mentor")
    assert page.status_code == 302
    sms = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.to_phone == phone, OutboxMessage.kind == "login_code"
        )
    ).one()
    assert "sign-in code" in sms.body
    stored = db.session.scalars(sa.select(LoginCode).where(LoginCode.phone == phone)).one()
    assert last_login_code(phone) not in stored.code_hash  # only a keyed hash is stored

    web.post("/mentor/code", {"code": last_login_code(phone)})
    home = _text(client.get("/mentor"))
    assert "My trainees" in home
    assert "Grace" in home and "Atieno" not in home  # first name only
    person_phone = booking.voucher.entrepreneur.phone
    assert person_phone not in home and person_phone[:5] in home  # masked
    assert "0 / 4" in home and "Record a session" in home


def test_sign_in_answers_the_same_for_known_and_unknown_numbers(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    known = build.provider().staff[0].phone
    unknown = next_phone()
    answers = []
    for phone in (known, unknown):
        first = web.post("/mentor/signin", {"phone": phone}, token_from="/mentor")
        page = client.get("/mentor/code")
        masked = phone[:5] + "*" * (len(phone) - 8) + phone[-3:]
        text = _text(page).replace(masked, "PHONE").replace(phone, "PHONE")
        answers.append((first.status_code, first.location, TOKEN.sub("T", text)))
    assert answers[0] == answers[1]
    assert last_login_code(known) is not None
    assert last_login_code(unknown) is None  # an unknown number gets no SMS


def test_guessing_sign_in_codes_is_locked_out(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    phone = build.provider().staff[0].phone
    web.post("/mentor/signin", {"phone": phone}, token_from="/mentor")
    right = last_login_code(phone)
    wrong = "000000" if right != "000000" else "111111"
    statuses = [web.post("/mentor/code", {"code": wrong}).status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 429]
    refused = web.post("/mentor/code", {"code": right})
    assert refused.status_code == 429
    assert "Too many wrong codes" in _text(refused)
    assert "My trainees" not in _text(client.get("/mentor"))


def test_guessing_across_new_codes_is_locked_out_too(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    phone = build.provider().staff[0].phone
    for _ in range(2):
        web.post("/mentor/signin", {"phone": phone}, token_from="/mentor")
        for _ in range(5):
            web.post(
                "/mentor/code", {"code": "999999" if last_login_code(phone) != "999999" else "1"}
            )
    web.post("/mentor/signin", {"phone": phone}, token_from="/mentor")
    assert web.post("/mentor/code", {"code": last_login_code(phone)}).status_code == 429


def test_asking_for_codes_is_limited_per_phone(web: Web, build: Builders) -> None:
    phone = build.provider().staff[0].phone
    statuses = [
        web.post("/mentor/signin", {"phone": phone}, token_from="/mentor").status_code
        for _ in range(4)
    ]
    assert statuses == [302, 302, 302, 429]
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "login_code")
        )
        == 3
    )


def test_asking_for_codes_is_limited_per_address(web: Web) -> None:
    statuses = [
        web.post("/mentor/signin", {"phone": next_phone()}, token_from="/mentor").status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [302] * 20
    assert statuses[20] == 429


def test_an_expired_sign_in_code_does_not_work(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    phone = build.provider().staff[0].phone
    web.post("/mentor/signin", {"phone": phone}, token_from="/mentor")
    db.session.execute(
        sa.update(LoginCode).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.session.commit()
    assert web.post("/mentor/code", {"code": last_login_code(phone)}).status_code == 400


def test_a_malformed_phone_number_gets_a_clear_message(web: Web) -> None:
    page = web.post("/mentor/signin", {"phone": "12ab"}, token_from="/mentor")
    assert page.status_code == 422
    assert "Enter a valid phone number" in _text(page)


def test_sign_in_starts_a_fresh_session(web: Web, client: FlaskClient, build: Builders) -> None:
    provider = build.provider()
    with client.session_transaction() as s:
        s["planted"] = "by someone else"
    web.mentor_of(provider)
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s["_user_id"] == f"m:{provider.staff[0].id}:0"


def test_signing_out_ends_the_session(web: Web, client: FlaskClient, build: Builders) -> None:
    web.mentor_of(build.provider())
    assert web.post("/signout", token_from="/mentor").location == "/mentor"
    assert client.get("/mentor/sessions").location == "/mentor"


def test_a_form_without_a_valid_csrf_token_is_refused(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    phone = build.provider().staff[0].phone
    missing = client.post("/mentor/signin", data={"phone": phone})
    forged = client.post("/mentor/signin", data={"phone": phone, "csrf_token": "forged"})
    assert missing.status_code == forged.status_code == 400
    assert "This form had expired" in _text(missing)
    assert last_login_code(phone) is None


def test_a_mentor_records_a_session_and_confirms_it_with_the_trainees_code(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider()
    booking = build.booking(provider=provider)
    web.mentor_of(provider)
    today = builders_today()
    page = f"/mentor/bookings/{booking.id}/record"
    saved = web.post(
        page,
        {
            "delivered_on": today.strftime("%d/%m/%Y"),
            "duration_minutes": "90",
            "topic": "Measuring and cutting",
            "outcomes": "Can cut a skirt",
            "action_points": "Practise hems",
        },
    )
    assert saved.status_code == 302
    recorded = db.session.scalars(sa.select(TrainingSession)).one()
    assert (recorded.topic, recorded.duration_minutes, recorded.delivered_on) == (
        "Measuring and cutting",
        90,
        today,
    )
    detail = _text(client.get(saved.location))
    assert "Waiting for confirmation" in detail and f"reference {recorded.ref}" in detail

    code = sessions.issue_confirmation_code(booking.voucher.entrepreneur_id)
    confirmed = web.post(
        f"/mentor/sessions/{recorded.id}/confirm", {"code": code}, token_from=saved.location
    )
    assert confirmed.status_code == 302
    detail = _text(client.get(confirmed.location))
    assert "Confirmed" in detail and "KES 1,000" in detail
    db.session.expire_all()
    assert db.session.get(TrainingSession, recorded.id).status == SessionStatus.CONFIRMED  # type: ignore[union-attr]


def test_a_wrong_confirmation_code_is_refused_and_counted(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider()
    recorded = build.recorded_session(build.booking(provider=provider))
    web.mentor_of(provider)
    path = f"/mentor/sessions/{recorded.id}"
    answers = [
        web.post(path + "/confirm", {"code": "12"}, token_from=path).status_code for _ in range(6)
    ]
    assert answers == [400, 400, 400, 400, 429, 429]
    assert "Waiting for confirmation" in _text(client.get(path))


def test_a_wrong_confirmation_code_says_it_comes_from_the_trainees_phone(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider()
    recorded = build.recorded_session(build.booking(provider=provider))
    web.mentor_of(provider)
    path = f"/mentor/sessions/{recorded.id}"
    page = _text(web.post(path + "/confirm", {"code": "123456"}, token_from=path))
    assert "The code comes from the trainee" in page
    assert "Check the SMS" not in page  # that is the sign-in code's advice, not this one's


def test_bad_session_details_are_explained_and_nothing_is_saved(web: Web, build: Builders) -> None:
    provider = build.provider()
    booking = build.booking(provider=provider)
    web.mentor_of(provider)
    page = web.post(
        f"/mentor/bookings/{booking.id}/record",
        {"delivered_on": "31/02/2020", "duration_minutes": "0", "topic": " "},
    )
    text = _text(page)
    assert page.status_code == 422
    assert "Enter the date" in text and "1 to 720" in text and "Say what the session" in text
    old = (datetime.now(UTC) - timedelta(days=40)).strftime("%d/%m/%Y")
    page = web.post(
        f"/mentor/bookings/{booking.id}/record",
        {"delivered_on": old, "duration_minutes": "60", "topic": "Hems"},
    )
    assert page.status_code == 422 and "within the last 30 days" in _text(page)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingSession)) == 0


def test_a_mentor_cannot_see_or_act_on_another_providers_bookings_or_sessions(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    mine = build.provider()
    theirs = build.provider()
    their_booking = build.booking(provider=theirs, voucher=build.voucher(name="Hidden Person"))
    their_session = build.recorded_session(their_booking)
    code = sessions.issue_confirmation_code(their_booking.voucher.entrepreneur_id)
    web.mentor_of(mine)

    assert client.get(f"/mentor/bookings/{their_booking.id}/record").status_code == 404
    token = csrf_from(client, "/mentor")
    recorded = client.post(
        f"/mentor/bookings/{their_booking.id}/record",
        data={
            "csrf_token": token,
            "delivered_on": datetime.now(UTC).strftime("%d/%m/%Y"),
            "duration_minutes": "60",
            "topic": "Hijack",
        },
    )
    assert recorded.status_code == 404
    assert client.get(f"/mentor/sessions/{their_session.id}").status_code == 404
    confirm = client.post(
        f"/mentor/sessions/{their_session.id}/confirm", data={"csrf_token": token, "code": code}
    )
    assert confirm.status_code == 404
    assert "Not found" in _text(confirm)
    for page in ("/mentor", "/mentor/sessions", "/mentor/statement"):
        assert "Hidden" not in _text(client.get(page))
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingSession)) == 1
    assert db.session.get(TrainingSession, their_session.id).status == "recorded"  # type: ignore[union-attr]


def test_the_statement_shows_earned_paid_and_pending_with_payout_references(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider()
    booking = build.booking(provider=provider)
    build.confirmed_session(booking)
    run = payouts.run_payout("KES", datetime.now(UTC) + timedelta(minutes=10), "test")
    assert run is not None
    payouts.mark_paid(run.payouts[0].id, "MPESA-QX81", "test")
    build.confirmed_session(booking)
    web.mentor_of(provider)
    page = _text(client.get("/mentor/statement"))
    assert re.search(r"Earned</dt><dd>KES 2,000", page)
    assert re.search(r"Paid</dt><dd>KES 1,000", page)
    assert re.search(r"Still to be paid</dt><dd>KES 1,000", page)
    assert "MPESA-QX81" in page


def test_a_session_held_for_an_officers_check_is_not_shown_as_to_be_paid(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider()
    booking = build.booking(provider=provider)
    build.confirmed_session(booking)
    recorded = build.recorded_session(booking)
    # Confirmed the moment it was recorded: flagged, and held from payouts until reviewed.
    held = sessions.answer_session(
        recorded.entrepreneur_id, recorded.ref, True, "sms", now=recorded.recorded_at
    )
    assert held.flags
    web.mentor_of(provider)
    page = _text(client.get("/mentor/statement"))
    assert re.search(r"Earned</dt><dd>KES 2,000", page)
    assert re.search(r"Still to be paid</dt><dd>KES 1,000", page)
    assert re.search(r"Held until the programme checks it</dt><dd>KES 1,000", page)


def test_my_sessions_lists_each_state(web: Web, client: FlaskClient, build: Builders) -> None:
    provider = build.provider()
    booking = build.booking(provider=provider)
    build.confirmed_session(booking)
    disputed = build.recorded_session(booking)
    sessions.answer_session(disputed.entrepreneur_id, disputed.ref, False, "sms")
    build.recorded_session(booking)
    web.mentor_of(provider)
    page = _text(client.get("/mentor/sessions"))
    assert "Confirmed" in page and "Disputed" in page and "Waiting for confirmation" in page


def test_the_pages_switch_to_kiswahili_and_remember_it(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider()
    web.mentor_of(provider)
    switched = web.post(
        "/mentor/language", {"lang": "sw", "back": "/mentor/sessions"}, token_from="/mentor"
    )
    assert switched.location == "/mentor/sessions"
    assert "Vipindi vyangu" in _text(client.get("/mentor/sessions"))
    assert db.session.get(ProviderStaff, provider.staff[0].id).language == "sw"  # type: ignore[union-attr]
    web.post("/signout", token_from="/mentor")
    assert 'lang="sw"' in _text(client.get("/mentor"))


def test_a_signed_out_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    for page in ("/mentor/sessions", "/mentor/statement", "/mentor/bookings/1/record"):
        assert client.get(page).location == "/mentor"


def test_every_mentor_text_is_in_english_and_kiswahili() -> None:
    from marketplace.messages import catalogue, pages

    english, kiswahili = catalogue.own_texts("en"), catalogue.own_texts("sw")
    keys = [k for k in english if k.split(".")[0] in (pages.SHARED, "mentor")]
    assert len(keys) == len(list(pages.mentor))
    for key in keys:
        assert english[key] and kiswahili.get(key), key


def test_every_mentor_page_renders_in_kiswahili(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider(language="sw")
    booking = build.booking(provider=provider)
    confirmed = build.confirmed_session(booking)
    disputed = build.recorded_session(booking)
    sessions.answer_session(disputed.entrepreneur_id, disputed.ref, False, "sms")
    web.mentor_of(provider)
    pages = {
        "/mentor": "Wanafunzi wangu",
        "/mentor/sessions": "Imekataliwa",
        f"/mentor/sessions/{confirmed.id}": "Imethibitishwa",
        "/mentor/statement": "Bado kulipwa",
        f"/mentor/bookings/{booking.id}/record": "Hifadhi kipindi",
    }
    for path, words in pages.items():
        page = client.get(path)
        assert page.status_code == 200, path
        assert words in _text(page) and 'lang="sw"' in _text(page), path


def test_the_statement_shows_the_mpesa_receipt_of_a_payout_paid_by_mpesa(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    from marketplace.services import payments
    from payments import sender
    from payments.gateway import FakeGateway

    provider = build.provider()
    build.payout_account(provider)
    booking = build.booking(provider=provider)
    build.confirmed_session(booking)
    run = payouts.run_payout("KES", datetime.now(UTC) + timedelta(minutes=10), "test")
    assert run is not None
    payments.queue_run(run.id, "fake")
    sender.send_due({"fake": FakeGateway()})
    web.mentor_of(db.session.merge(provider))
    page = _text(client.get("/mentor/statement"))
    assert "M-Pesa receipt: FAKE000001" in page
    assert re.search(r"Paid</dt><dd>KES 1,000", page)
