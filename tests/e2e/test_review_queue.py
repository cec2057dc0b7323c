"""Real browser, real server, at a phone's 360 pixels and a desk's 1366: the review queue shows an
officer what they need to decide on a held session: both sides' phones to call, the session's
record, the signal with its meaning and the answer's timing, the provider's history and what each
decision does. Screenshots go to test-output/.

Needs Chromium at /usr/bin/chromium (Debian's package); skipped with a reason when it is absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.domain.models import ProviderStaff
from marketplace.domain.people import NewEntrepreneur
from marketplace.extensions import db
from marketplace.services import (
    access,
    bookings,
    issuance,
    programmes,
    providers,
    reference,
    sessions,
)
from marketplace.services.programmes import NewProgramme
from marketplace.services.providers import NewProvider
from marketplace.services.sessions import NewSession
from tests.builders import today
from tests.e2e.conftest import (
    OFFICER,
    browser_app,
    officer_page,
    require_chromium,
    screenshot,
    serving,
)

pytestmark = pytest.mark.browser

TRAINEE_PHONE = "+254722700111"
MENTOR_PHONE = "+254711700222"
WIDTHS = (360, 1366)


@dataclass
class Site:
    url: str
    ref: str


def _held_session(app: Flask) -> str:
    """A session the trainee 'confirmed' by SMS seconds after it was recorded: held for review."""
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        reference.load_reference_data("KE")
        access.create_staff_user(OFFICER[0], "Officer", OFFICER[1], "admin", "setup")
        programme = programmes.create_programme(
            NewProgramme(
                name="Jua Kali Review",
                funder="Skills Fund",
                currency="KES",
                voucher_value_minor=400_000,
                sessions_per_voucher=4,
                validity_days=90,
                budget_minor=100_000_000,
            ),
            "setup",
        )
        provider = providers.register_provider(
            NewProvider(
                kind="craft_worker",
                name="Fundi Otieno Review",
                phone=MENTOR_PHONE,
                trades=["tailoring"],
                region="nairobi",
                town="Gikomba",
                capacity=5,
            ),
            "setup",
        )
        providers.approve_provider(provider.id, "setup")
        voucher = issuance.issue_voucher(
            programme.id,
            NewEntrepreneur(
                phone=TRAINEE_PHONE,
                name="Neema Achieng",
                gender="female",
                birth_year=1996,
                trade="tailoring",
                region="nairobi",
            ),
            "setup",
        )
        booking = bookings.book_provider(voucher.entrepreneur_id, provider.id, voucher.id)
        staff_id = db.session.scalar(
            sa.select(ProviderStaff.id).where(ProviderStaff.provider_id == provider.id)
        )
        recorded = sessions.record_session(
            staff_id,
            NewSession(
                booking_id=booking.id,
                delivered_on=today(),
                duration_minutes=90,
                topic="Cutting a shirt pattern",
            ),
        )
        answered = sessions.answer_session(voucher.entrepreneur_id, recorded.ref, True, "sms")
        assert answered.held and "burst_confirmation" in answered.flags
        return str(recorded.ref)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_chromium()
    app = browser_app(tmp_path_factory.mktemp("e2e-review") / "e2e.sqlite")
    ref = _held_session(app)
    with serving(app) as url:
        yield Site(url, ref)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_review_queue_shows_the_evidence_and_the_people_to_call(
    site: Site, browser: object, width: int
) -> None:
    page = officer_page(site.url, browser, width)
    page.goto(site.url + "/admin/review")

    waiting = page.locator("[data-waiting]")
    assert waiting.get_attribute("data-waiting") == "1"
    assert waiting.inner_text().startswith("1 session waits for a decision")
    card = page.locator(f'[data-session="{site.ref}"]')
    assert card.is_visible()
    # Both sides' phones, as links a phone can call.
    phones = card.locator("[data-phones]")
    assert phones.locator(f'a[href="tel:{TRAINEE_PHONE}"]').is_visible()
    assert phones.locator(f'a[href="tel:{MENTOR_PHONE}"]').is_visible()
    assert "Neema Achieng" in phones.inner_text()
    # The record, the signal with its meaning, and how fast and by what the answer came.
    text = card.inner_text()
    assert "Cutting a shirt pattern" in text
    assert card.locator('[data-flag="burst_confirmation"]').is_visible()
    assert "SMS" in text
    # The provider's history and what each decision would do, in words.
    assert card.locator("[data-history]").inner_text().strip()
    assert card.locator("[data-consequence] li").count() >= 1
    assert card.get_by_role("button").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"officer-review-{width}")
    page.context.close()
