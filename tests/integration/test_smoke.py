from marketplace.domain.models import VoucherStatus


def test_a_voucher_can_be_issued_booked_and_confirmed(build, gateway):
    booking = build.booking()
    session = build.confirmed_session(booking)
    assert session.status == "confirmed"
    assert session.voucher.status == VoucherStatus.IN_PROGRESS
    assert session.value_minor == 100_000


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
