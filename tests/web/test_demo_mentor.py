"""The demo's printed mentor sign-in leads to pages with something on them."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from marketplace.services import demo
from tests.web.conftest import Web


def test_the_demo_mentor_has_trainees_and_recorded_sessions(web: Web, client: FlaskClient) -> None:
    lines = demo.seed(7)
    line = next(line for line in lines if line.startswith("Mentor: "))
    found = re.search(r"(\+254\d{9})", line)
    assert found, line
    web.mentor_signin(found.group(1))

    bookings = client.get("/mentor").get_data(as_text=True)
    assert "Nobody has booked you yet" not in bookings
    assert 'class="card"' in bookings and "/record" in bookings  # a trainee to record for
    sessions = client.get("/mentor/sessions").get_data(as_text=True)
    assert "No sessions recorded yet." not in sessions
    assert sessions.count('class="card"') >= 2
