"""Whatever a phone sends, the answer is 200 text/plain, CON/END, GSM-7 and at most 160 characters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.dialer import SECRET, Dialer, check_body

KEYS = st.one_of(
    st.sampled_from(["0", "00", "1", "2", "3", "4", "5", "6", "7", "9", "", "*", "#", "nakuru"]),
    st.text(max_size=30),
    st.text(alphabet="0123456789*#", max_size=12),
)
RELAXED = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def busy_person(build):
    """Someone with a recorded session, a confirmed one, a free voucher and mentors to find."""
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    voucher = build.voucher(name="Zawadi Ñjoki Wa-Mũthoni " * 3)
    booking = build.booking(voucher, build.provider(name="Fundi “Mkuu” " * 8))
    build.confirmed_session(booking, now=two_hours_ago)
    build.recorded_session(
        booking,
        now=two_hours_ago,
        topic="Kukata vitambaa na kushona sare za shule kwa bei nzuri " * 3,
    )
    build.voucher(phone=voucher.entrepreneur.phone)
    for n in range(5):
        build.provider(name=f"Institute {n} " * 6, kind="institute")
    return voucher.entrepreneur.phone


@RELAXED
@given(presses=st.lists(KEYS, max_size=12), shortcut=st.text(alphabet="0123456789*", max_size=8))
def test_any_sequence_of_keys_gets_a_proper_answer(client, busy_person, presses, shortcut):
    phone = Dialer(client, busy_person)
    phone.dial(shortcut)  # the dialer checks status, content type, prefix, GSM-7 and length
    for key in presses:
        if phone.ended:
            phone.dial()
        phone.press(key)


@RELAXED
@given(text=st.text(max_size=200), first=st.booleans())
def test_any_raw_text_gets_a_proper_answer(client, busy_person, text, first):
    form = {
        "sessionId": "ATUid_raw",
        "serviceCode": "*384*1234#",
        "phoneNumber": busy_person,
        "text": text,
    }
    if not first:
        client.post(
            f"/at/{SECRET}/ussd",
            data=urlencode({**form, "text": ""}),
            content_type="application/x-www-form-urlencoded",
        )
    response = client.post(
        f"/at/{SECRET}/ussd", data=urlencode(form), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    check_body(response.get_data(as_text=True))


@RELAXED
@given(
    form=st.dictionaries(
        st.sampled_from(["sessionId", "serviceCode", "phoneNumber", "text", "networkCode", "x"]),
        st.text(max_size=60),
    )
)
def test_any_form_gets_a_proper_answer(client, form):
    response = client.post(
        f"/at/{SECRET}/ussd", data=urlencode(form), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200 and response.mimetype == "text/plain"
    check_body(response.get_data(as_text=True))
