"""Mentor pages stay small for a cheap phone on 2G, load nothing from other hosts, and every
response carries the security headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from marketplace.services import payouts
from tests.builders import Builders
from tests.web.conftest import Web

LIMIT = 30 * 1024


def _busy_mentor(build: Builders) -> tuple[object, int, int]:
    """A mentor at full capacity with a long history of sessions and payouts."""
    provider = build.provider(capacity=12, name="Mama Njeri Tailoring and Dressmaking Workshop")
    start = datetime.now(UTC) - timedelta(days=20)
    booking_id = session_id = 0
    for i in range(12):
        booking = build.booking(
            provider=provider,
            voucher=build.voucher(name="Wanjiku Nyambura Kamau", now=start),
            now=start,
        )
        booking_id = booking.id
        for day in range(3):
            session_id = build.confirmed_session(
                booking, now=start + timedelta(days=day + 1, minutes=i)
            ).id
        if i % 4 == 0:
            payouts.run_payout("KES", datetime.now(UTC), "test")
    return provider, booking_id, session_id


def _weight(client: FlaskClient, path: str) -> int:
    page = client.get(path)
    assert page.status_code == 200, path
    html = page.get_data(as_text=True)
    total = len(page.get_data())
    for href in re.findall(r'<link[^>]+href="([^"]+)"', html):
        assert href.startswith("/"), f"{path} loads {href} from another host"
        with client.get(href) as sheet:
            total += len(sheet.get_data())
    assert not re.search(r'(src|href|action)="(https?:)?//', html), f"{path} refers to another host"
    return total


def test_every_mentor_page_is_under_30_kb_of_html_and_css(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    provider, booking_id, session_id = _busy_mentor(build)
    assert _weight(client, "/mentor") < LIMIT  # the sign-in page
    web.mentor_of(provider)  # type: ignore[arg-type]
    pages = [
        "/mentor",
        "/mentor/sessions",
        f"/mentor/sessions/{session_id}",
        "/mentor/statement",
        f"/mentor/bookings/{booking_id}/record",
    ]
    weights = {page: _weight(client, page) for page in pages}
    assert all(w < LIMIT for w in weights.values()), weights


def test_the_code_page_is_under_30_kb(web: Web, client: FlaskClient, build: Builders) -> None:
    web.post("/mentor/signin", {"phone": build.provider().staff[0].phone}, token_from="/mentor")
    assert _weight(client, "/mentor/code") < LIMIT


def test_every_response_carries_the_security_headers(client: FlaskClient) -> None:
    for path in ("/mentor", "/signin", "/no-such-page", "/static/site.css"):
        with client.get(path) as response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


def test_an_unknown_page_answers_a_clear_404_page(client: FlaskClient) -> None:
    page = client.get("/mentor/nothing-here")
    assert page.status_code == 404
    assert "Not found" in page.get_data(as_text=True)
