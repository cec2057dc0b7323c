"""Real browser, real server: a mentor on a 360-pixel phone screen signs in with the code from the
SMS, records a session and confirms it with the trainee's code; an officer uploads a CSV of vouchers
and reads the per-row report. Screenshots go to test-output/.

Needs Chromium at /usr/bin/chromium (Debian's package); skipped with a reason when it is absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.domain.models import OutboxMessage
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
from tests.e2e.conftest import browser_app, require_chromium, screenshot, serving

pytestmark = pytest.mark.browser

MENTOR_PHONE = "+254711222333"
TRAINEE_PHONE = "+254722444555"
OFFICER = ("officer@example.org", "a long officer password")


@dataclass
class Site:
    app: Flask
    url: str
    programme_id: int
    entrepreneur_id: int


def _prepare(app: Flask) -> tuple[int, int]:
    """Everything through the services, as an officer and an entrepreneur would have done."""
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        reference.load_reference_data("KE")
        programme = programmes.create_programme(
            NewProgramme(
                name="Jua Kali Nairobi",
                funder="Skills Fund",
                currency="KES",
                voucher_value_minor=400_000,
                sessions_per_voucher=4,
                validity_days=90,
                budget_minor=100_000_000,
                co_payment_percent=10,
            ),
            "setup",
        )
        provider = providers.register_provider(
            NewProvider(
                kind="craft_worker",
                name="Mama Njeri Tailors",
                phone=MENTOR_PHONE,
                trades=["tailoring"],
                region="nairobi",
                town="Gikomba",
            ),
            "setup",
        )
        providers.approve_provider(provider.id, "setup")
        voucher = issuance.issue_voucher(
            programme.id,
            NewEntrepreneur(
                phone=TRAINEE_PHONE,
                name="Amina Wanjiru",
                gender="female",
                birth_year=1994,
                trade="tailoring",
                region="nairobi",
            ),
            "setup",
        )
        bookings.book_provider(voucher.entrepreneur_id, provider.id, voucher.id)
        access.create_staff_user(OFFICER[0], "Officer", OFFICER[1], "admin", "setup")
        return programme.id, voucher.entrepreneur_id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_chromium()
    app = browser_app(tmp_path_factory.mktemp("e2e") / "e2e.sqlite")
    programme_id, entrepreneur_id = _prepare(app)
    with serving(app) as url:
        yield Site(app, url, programme_id, entrepreneur_id)


def _login_code(app: Flask) -> str:
    with app.app_context():
        body = db.session.scalar(
            sa.select(OutboxMessage.body)
            .where(OutboxMessage.to_phone == MENTOR_PHONE, OutboxMessage.kind == "login_code")
            .order_by(OutboxMessage.id.desc())
        )
    assert body is not None, "the sign-in SMS was not queued"
    found = re.search(r"\b(\d{6})\b", body)
    assert found
    return found.group(1)


def _fits_the_screen(page: object) -> bool:
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    return bool(width <= 360)


def test_a_mentor_on_a_small_phone_records_a_session_and_confirms_it(
    site: Site, browser: object
) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740})  # type: ignore[attr-defined]
    other_hosts: list[str] = []
    context.on("request", lambda r: r.url.startswith(site.url) or other_hosts.append(r.url))
    page = context.new_page()

    page.goto(site.url + "/mentor")
    page.get_by_label("Phone number").fill("0711 222333")
    page.get_by_role("button", name="Send me a code").click()
    page.wait_for_url("**/mentor/code")
    screenshot(page, "mentor-1-code")
    page.get_by_label("Code from the SMS").fill(_login_code(site.app))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/mentor")
    assert page.get_by_role("heading", name="My trainees").is_visible()
    assert page.get_by_text("Amina").first.is_visible()
    assert _fits_the_screen(page)
    screenshot(page, "mentor-2-trainees")

    page.get_by_role("link", name="Record a session").click()
    page.get_by_label("Duration in minutes").fill("90")
    page.get_by_label("Topic").fill("Measuring and cutting a skirt")
    page.get_by_label("What the trainee learnt").fill("Takes measurements alone")
    page.get_by_label("Action points").fill("Cut two skirts before next week")
    assert _fits_the_screen(page)
    screenshot(page, "mentor-3-record")
    page.get_by_role("button", name="Save the session").click()
    assert page.locator("#state").inner_text() == "Waiting for confirmation"
    screenshot(page, "mentor-4-recorded")

    with site.app.app_context():
        code = sessions.issue_confirmation_code(site.entrepreneur_id)
    page.get_by_label("Trainee's code").fill(code)
    page.get_by_role("button", name="Confirm").click()
    assert page.locator("#state").inner_text() == "Confirmed"
    assert page.get_by_text("KES 1,000 is added to your payments").is_visible()
    assert _fits_the_screen(page)
    screenshot(page, "mentor-5-confirmed")
    assert other_hosts == []
    context.close()


def test_an_officer_uploads_a_csv_and_reads_the_per_row_report(
    site: Site, browser: object, tmp_path: Path
) -> None:
    sheet = tmp_path / "cohort.csv"
    sheet.write_text(
        "phone,name,gender,birth_year,trade,region\n"
        "0733 100200,Wanjiru Kamau,female,1992,tailoring,nairobi\n"
        "0700,Bad Phone,male,1990,tailoring,nairobi\n"
        "0733 100201,Baraka Otieno,male,1988,tailoring,nairobi\n"
    )
    context = browser.new_context(viewport={"width": 1024, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(site.url + "/signin")
    page.get_by_label("E-mail").fill(OFFICER[0])
    page.get_by_label("Password").fill(OFFICER[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin")
    page.get_by_role("link", name="Vouchers", exact=True).click()
    upload = page.locator("form[enctype='multipart/form-data']")
    upload.get_by_label("Programme").select_option(str(site.programme_id))
    upload.get_by_label("CSV file").set_input_files(str(sheet))
    upload.get_by_role("button", name="Upload and issue").click()
    assert page.locator("#issued-count").inner_text() == "2"
    assert page.locator("#error-count").inner_text() == "1"
    bad_row = page.locator("#row-errors tbody tr").first
    assert bad_row.locator("td").nth(0).inner_text() == "3"
    assert "phone" in bad_row.inner_text().lower()
    screenshot(page, "officer-csv-report")
    context.close()
