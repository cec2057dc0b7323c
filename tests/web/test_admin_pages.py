"""The programme officers' pages, and who may use them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.domain.models import (
    OutboxMessage,
    Payout,
    Programme,
    Provider,
    SessionStatus,
    TrainingSession,
    Voucher,
)
from marketplace.extensions import db
from marketplace.services import bookings, sessions
from tests.builders import Builders, next_phone
from tests.web.conftest import Web, csrf_from


def _text(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined,no-any-return]


def _an_hour_ago() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


def _officer(web: Web, build: Builders) -> None:
    user = build.staff_user("admin")
    assert web.staff_signin(user.email).location == "/admin"


def test_an_officer_signs_in_and_lands_on_the_overview(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    _officer(web, build)
    page = client.get("/admin")
    assert page.status_code == 200 and "providers waiting for approval" in _text(page)


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    user = build.staff_user("admin")
    wrong = web.staff_signin(user.email, "not the password")
    unknown = web.staff_signin("nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match an account" in _text(wrong)
    assert client.get("/admin").location.startswith("/signin")


def test_a_funder_is_sent_to_the_funder_pages_and_cannot_reach_admin(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    funder = build.staff_user("funder", funder="Skills Fund")
    assert web.staff_signin(funder.email).location == "/funder"
    for page in ("/admin", "/admin/programmes", "/admin/vouchers", "/admin/payouts"):
        refused = client.get(page)
        assert refused.status_code == 403, page
        assert "Not allowed" in _text(refused)
    token = csrf_from(client, "/mentor")
    programme = build.programme()
    posted = client.post("/admin/programmes", data={"csrf_token": token, "name": "Sneaky"})
    assert posted.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Programme)) == 1
    del programme


def test_a_signed_in_funder_asked_to_go_to_admin_after_sign_in_goes_to_funder(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    funder = build.staff_user("funder", funder="Skills Fund")
    answer = web.post(
        "/signin?next=/admin/payouts",
        {"email": funder.email, "password": "correct horse battery", "next": "/admin/payouts"},
        token_from="/signin",
    )
    assert answer.location == "/funder"


def test_sign_in_never_redirects_to_another_site(web: Web, build: Builders) -> None:
    user = build.staff_user("admin")
    answer = web.post(
        "/signin",
        {"email": user.email, "password": "correct horse battery", "next": "//evil.example/admin"},
    )
    assert answer.location == "/admin"


def test_a_mentor_cannot_reach_admin(web: Web, client: FlaskClient, build: Builders) -> None:
    web.mentor_of(build.provider())
    assert client.get("/admin").status_code == 403


def test_an_officer_creates_a_programme(web: Web, client: FlaskClient, build: Builders) -> None:
    _officer(web, build)
    created = web.post(
        "/admin/programmes",
        {
            "name": "Jua Kali Nairobi 2026",
            "funder": "Skills Fund",
            "currency": "KES",
            "voucher_value": "4,000",
            "sessions_per_voucher": "4",
            "co_payment_percent": "10",
            "validity_days": "180",
            "budget": "1000000",
            "confirmation_window_hours": "72",
            "trades": ["tailoring", "metalwork"],
        },
    )
    assert created.status_code == 302
    programme = db.session.scalars(sa.select(Programme)).one()
    assert programme.voucher_value_minor == 400_000 and programme.budget_minor == 100_000_000
    assert programme.eligible_trades == ["metalwork", "tailoring"]
    assert "Jua Kali Nairobi 2026" in _text(client.get("/admin/programmes"))


def test_a_bad_programme_form_says_what_is_wrong(web: Web, build: Builders) -> None:
    _officer(web, build)
    answer = web.post(
        "/admin/programmes",
        {
            "name": "",
            "funder": "F",
            "currency": "KES",
            "voucher_value": "abc",
            "sessions_per_voucher": "0",
            "co_payment_percent": "10",
            "validity_days": "30",
            "budget": "100",
            "confirmation_window_hours": "72",
        },
    )
    text = _text(answer)
    assert answer.status_code == 422
    assert "Give the programme a name" in text and "Voucher value must be" in text
    assert "from 1 to 100" in text


def test_an_officer_registers_and_approves_then_suspends_a_provider(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    _officer(web, build)
    phone = next_phone()
    web.post(
        "/admin/providers",
        {
            "kind": "craft_worker",
            "name": "Otieno Metalwork",
            "phone": phone,
            "trades": ["metalwork"],
            "region": "nairobi",
            "town": "Kariobangi",
            "capacity": "4",
            "language": "sw",
        },
    )
    provider = db.session.scalars(sa.select(Provider)).one()
    assert provider.status == "pending" and provider.staff[0].phone == phone
    queue = _text(client.get("/admin/providers?status=pending"))
    assert "Otieno Metalwork" in queue
    web.post(f"/admin/providers/{provider.id}/approve", token_from="/admin/providers")
    db.session.expire_all()
    assert db.session.get(Provider, provider.id).status == "approved"  # type: ignore[union-attr]
    web.post(f"/admin/providers/{provider.id}/suspend", token_from="/admin/providers")
    db.session.expire_all()
    assert db.session.get(Provider, provider.id).status == "suspended"  # type: ignore[union-attr]


def test_an_officer_issues_one_voucher_and_the_entrepreneur_gets_an_sms(
    web: Web, build: Builders
) -> None:
    programme = build.programme()
    _officer(web, build)
    phone = next_phone()
    answer = web.post(
        "/admin/vouchers",
        {
            "programme_id": str(programme.id),
            "phone": phone,
            "name": "Akinyi Odhiambo",
            "gender": "female",
            "birth_year": "1990",
            "trade": "tailoring",
            "region": "nairobi",
            "language": "en",
        },
    )
    assert answer.status_code == 302
    voucher = db.session.scalars(sa.select(Voucher)).one()
    assert voucher.entrepreneur.phone == phone
    assert (
        db.session.scalar(sa.select(OutboxMessage.kind).where(OutboxMessage.to_phone == phone))
        == "voucher_issued"
    )


def test_a_csv_upload_shows_each_bad_row_and_issues_nothing_twice(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    programme = build.programme()
    _officer(web, build)
    good = [next_phone(), next_phone()]
    csv_text = (
        "phone,name,gender,birth_year,trade,region\n"
        f"{good[0]},Wanjiru Kamau,female,1992,tailoring,nairobi\n"
        "0700,Bad Phone,male,1990,tailoring,nairobi\n"
        f"{good[1]},Baraka Otieno,male,1988,metalwork,nairobi\n"
        f"{next_phone()},No Year,female,nineteen,tailoring,nairobi\n"
    )

    def upload() -> str:
        from io import BytesIO

        token = csrf_from(client, "/admin/vouchers")
        page = client.post(
            "/admin/vouchers/import",
            data={
                "csrf_token": token,
                "programme_id": str(programme.id),
                "file": (BytesIO(csv_text.encode()), "cohort.csv"),
            },
            content_type="multipart/form-data",
        )
        assert page.status_code == 200
        return _text(page)

    first = upload()
    assert re.search(r'id="issued-count">2<', first)
    assert re.search(r'id="error-count">2<', first)
    assert re.search(r"<td class=\"num\">3</td><td>phone</td><td>Enter a valid phone", first)
    assert re.search(r"<td class=\"num\">5</td><td>birth_year</td>", first)
    second = upload()
    assert re.search(r'id="issued-count">0<', second)
    assert re.search(r'id="repeat-count">2<', second)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == 2


def test_the_review_queue_shows_disputed_and_flagged_sessions_and_records_decisions(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    booking = build.booking()
    disputed = build.recorded_session(booking, topic="Disputed one")
    sessions.answer_session(disputed.entrepreneur_id, disputed.ref, False, "sms")
    flagged = build.recorded_session(booking, topic="Flagged one")
    db.session.execute(
        sa.update(TrainingSession)
        .where(TrainingSession.id == flagged.id)
        .values(flags=["too_many_in_a_day"], held=True)
    )
    db.session.commit()
    build.recorded_session(booking, topic="Ordinary one")
    _officer(web, build)
    queue = _text(client.get("/admin/review"))
    assert "Disputed one" in queue and "Flagged one" in queue and "too_many_in_a_day" in queue
    assert "Ordinary one" not in queue

    web.post(
        f"/admin/review/{disputed.id}",
        {"decision": "overturn", "note": "Called both"},
        token_from="/admin/review",
    )
    web.post(
        f"/admin/review/{flagged.id}",
        {"decision": "clear", "note": "Workshop day"},
        token_from="/admin/review",
    )
    db.session.expire_all()
    assert db.session.get(TrainingSession, disputed.id).status == SessionStatus.CONFIRMED  # type: ignore[union-attr]
    queue = _text(client.get("/admin/review"))
    assert "Disputed one" not in queue and "Flagged one" not in queue


def test_overturning_a_dispute_after_the_trainee_switched_mentor_is_refused_with_the_reason(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    voucher = build.voucher()
    disputed = build.recorded_session(build.booking(voucher), topic="Left behind")
    sessions.answer_session(disputed.entrepreneur_id, disputed.ref, False, "sms")
    bookings.cancel_booking(voucher.entrepreneur_id, voucher.id)
    bookings.book_provider(voucher.entrepreneur_id, build.provider().id, voucher.id)
    _officer(web, build)

    decided = web.post(
        f"/admin/review/{disputed.id}",
        {"decision": "overturn", "note": "Called both"},
        token_from="/admin/review",
    )

    assert "chose another mentor" in _text(client.get(decided.location))
    db.session.expire_all()
    assert db.session.get(TrainingSession, disputed.id).status == SessionStatus.DISPUTED  # type: ignore[union-attr]


def test_the_payouts_page_counts_flagged_sessions_apart_as_held_for_review(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider()
    shared = build.booking(build.voucher(phone=provider.phone), provider)
    build.confirmed_session(shared, now=_an_hour_ago())
    build.confirmed_session(build.booking(provider=provider), now=_an_hour_ago())
    _officer(web, build)

    page = _text(client.get("/admin/payouts"))

    assert "1 session, KES 1,000" in page  # one, not "1 sessions"
    assert re.search(r'id="held-for-review"><a href="/admin/review">1 confirmed session with', page)


def test_an_officer_runs_a_payout_downloads_it_and_marks_it_paid(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider(name="Mama Njeri Tailors")
    build.confirmed_session(build.booking(provider=provider), now=_an_hour_ago())
    _officer(web, build)
    run = web.post(
        "/admin/payouts", {"currency": "KES", "period_end": datetime.now(UTC).date().isoformat()}
    )
    assert run.status_code == 302
    page = _text(client.get(run.location))
    assert "Mama Njeri Tailors" in page and "KES 1,000" in page
    run_id = int(run.location.rsplit("/", 1)[1])
    with client.get(f"/admin/payouts/{run_id}.csv") as sheet:
        assert sheet.mimetype == "text/csv"
        assert "Mama Njeri Tailors" in sheet.get_data(as_text=True)
    payout = db.session.scalars(sa.select(Payout)).one()
    web.post(
        f"/admin/payouts/{run_id}/paid/{payout.id}",
        {"reference": "MPESA-77"},
        token_from=run.location,
    )
    db.session.expire_all()
    assert db.session.get(Payout, payout.id).reference == "MPESA-77"  # type: ignore[union-attr]
    again = web.post(
        "/admin/payouts", {"currency": "KES", "period_end": datetime.now(UTC).date().isoformat()}
    )
    assert again.location == "/admin/payouts"  # nothing left to pay
    assert "Nothing to pay" in _text(client.get("/admin/payouts"))


def test_marking_a_payout_of_another_run_answers_404(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    build.confirmed_session(now=_an_hour_ago())
    _officer(web, build)
    run = web.post(
        "/admin/payouts", {"currency": "KES", "period_end": datetime.now(UTC).date().isoformat()}
    )
    run_id = int(run.location.rsplit("/", 1)[1])
    payout = db.session.scalars(sa.select(Payout)).one()
    wrong = web.post(
        f"/admin/payouts/{run_id + 1}/paid/{payout.id}", {"reference": "X"}, token_from=run.location
    )
    assert wrong.status_code == 404


def test_an_institute_gets_another_staff_member_who_can_sign_in_for_it(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    institute = build.provider(kind="institute", name="Kariobangi Technical Institute")
    booking = build.booking(provider=institute, voucher=build.voucher(name="Juma Mwangi"))
    _officer(web, build)
    phone = next_phone()
    added = web.post(
        f"/admin/providers/{institute.id}", {"name": "Instructor Achieng", "phone": phone}
    )
    assert added.status_code == 302
    assert "Instructor Achieng" in _text(client.get(added.location))
    web.post("/signout", token_from="/admin")
    web.mentor_signin(phone)
    trainees = _text(client.get("/mentor"))
    assert "Juma" in trainees
    del booking


def test_an_unknown_provider_answers_404(web: Web, client: FlaskClient, build: Builders) -> None:
    _officer(web, build)
    assert client.get("/admin/providers/999999").status_code == 404


def test_an_officer_asked_to_sign_in_on_the_funder_page_returns_there(
    web: Web, build: Builders
) -> None:
    user = build.staff_user("admin")
    answer = web.post(
        "/signin", {"email": user.email, "password": "correct horse battery", "next": "/funder"}
    )
    assert answer.location == "/funder"


def test_a_payout_run_is_labelled_with_the_last_day_it_counts(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider = build.provider(name="Mama Njeri Tailors")
    confirmed_at = datetime.now(UTC) - timedelta(days=3)
    build.confirmed_session(
        build.booking(provider=provider), now=confirmed_at - timedelta(minutes=5)
    )
    _officer(web, build)
    last_day = (confirmed_at + timedelta(days=1)).date()  # its sessions: up to and including it
    run = web.post("/admin/payouts", {"currency": "KES", "period_end": last_day.isoformat()})
    shown = last_day.strftime("%d %b %Y")
    # What the officer typed is what the run says it counts, not the exclusive end (the next day).
    assert f"up to and including {shown}" in _text(client.get(run.location))
    listing = _text(client.get("/admin/payouts"))
    assert "Confirmed up to and including" in listing and shown in listing
    assert (last_day + timedelta(days=1)).strftime("%d %b %Y") not in listing
