"""Real browser, real server, at a phone's 360 pixels and a desk's 1366: an officer finds a person
by their phone written another way, reads their page and revokes their voucher with a reason;
changes a programme's budget and validity; changes a provider's capacity and town. Screenshots go
to test-output/.

Needs Chromium at /usr/bin/chromium (Debian's package); skipped with a reason when it is absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask

from marketplace.domain.models import Programme, Provider, Voucher
from marketplace.domain.people import NewEntrepreneur
from marketplace.extensions import db
from marketplace.services import access, bookings, issuance, programmes, providers, reference
from marketplace.services.programmes import NewProgramme
from marketplace.services.providers import NewProvider
from tests.e2e.conftest import (
    OFFICER,
    browser_app,
    officer_page,
    require_chromium,
    screenshot,
    serving,
)

pytestmark = pytest.mark.browser

WIDTHS = (360, 1366)
# One of each per screen width, so that the tests at each width act on their own.
TRAINEES = {360: ("+254722600360", "0722 600 360"), 1366: ("+254722601366", "254 722 601366")}


@dataclass
class Site:
    app: Flask
    url: str
    programmes: dict[int, int]
    providers: dict[int, int]
    vouchers: dict[int, str]


def _prepare(app: Flask) -> tuple[dict[int, int], dict[int, int], dict[int, str]]:
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        reference.load_reference_data("KE")
        access.create_staff_user(OFFICER[0], "Officer", OFFICER[1], "admin", "setup")
        made_programmes, made_providers, made_vouchers = {}, {}, {}
        for width in WIDTHS:
            programme = programmes.create_programme(
                NewProgramme(
                    name=f"Jua Kali {width}",
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
                    name=f"Fundi Kamau {width}",
                    phone=f"+2547116{width:05d}",
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
                    phone=TRAINEES[width][0],
                    name=f"Amina Wanjiru {width}",
                    gender="female",
                    birth_year=1994,
                    trade="tailoring",
                    region="nairobi",
                ),
                "setup",
            )
            bookings.book_provider(voucher.entrepreneur_id, provider.id, voucher.id)
            made_programmes[width] = programme.id
            made_providers[width] = provider.id
            made_vouchers[width] = voucher.code
        return made_programmes, made_providers, made_vouchers


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_chromium()
    app = browser_app(tmp_path_factory.mktemp("e2e-officer") / "e2e.sqlite")
    made = _prepare(app)
    with serving(app) as url:
        yield Site(app, url, *made)


def _signed_in(site: Site, browser: object, width: int) -> object:
    return officer_page(site.url, browser, width)


def _fits(page: object, width: int) -> bool:
    scrolled = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    return bool(scrolled <= width)


@pytest.mark.parametrize("width", WIDTHS)
def test_an_officer_finds_a_person_by_phone_and_revokes_their_voucher(
    site: Site, browser: object, width: int
) -> None:
    page = _signed_in(site, browser, width)
    page.get_by_role("link", name="People", exact=True).click()  # type: ignore[attr-defined]
    page.get_by_label("Voucher code, phone or name").fill(TRAINEES[width][1])  # type: ignore[attr-defined]
    page.get_by_role("button", name="Search").click()  # type: ignore[attr-defined]
    page.wait_for_url("**/admin/people/*")  # type: ignore[attr-defined]
    assert page.locator("#person-name").inner_text() == f"Amina Wanjiru {width}"  # type: ignore[attr-defined]
    code = site.vouchers[width]
    card = page.locator(f"#voucher-{code}")  # type: ignore[attr-defined]
    assert card.locator("[data-status]").inner_text() == "Booked"
    assert page.locator("#bookings").get_by_text(f"Fundi Kamau {width}").is_visible()  # type: ignore[attr-defined]
    assert page.locator("#sms").get_by_text("voucher_issued").first.is_visible()  # type: ignore[attr-defined]
    assert _fits(page, width)
    screenshot(page, f"officer-person-{width}")

    card.get_by_text("Revoke this voucher…").click()
    card.get_by_label("Why (kept in the audit trail)").fill("Registered twice by mistake")
    card.get_by_role("button", name="Revoke", exact=True).click()
    page.wait_for_load_state()  # type: ignore[attr-defined]

    card = page.locator(f"#voucher-{code}")  # type: ignore[attr-defined]
    assert card.locator("[data-status]").inner_text() == "Revoked"
    assert page.get_by_text("is revoked").is_visible()  # type: ignore[attr-defined]
    assert page.locator("#trail").get_by_text("voucher.revoked").is_visible()  # type: ignore[attr-defined]
    assert _fits(page, width)
    screenshot(page, f"officer-revoked-{width}")
    with site.app.app_context():
        voucher = db.session.query(Voucher).filter_by(code=code).one()
        assert voucher.status == "revoked"
        provider = db.session.get(Provider, site.providers[width])
        assert provider is not None and provider.active_bookings == 0  # the place is free again
    page.context.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", WIDTHS)
def test_an_officer_raises_a_programme_budget_and_changes_its_validity(
    site: Site, browser: object, width: int
) -> None:
    page = _signed_in(site, browser, width)
    page.get_by_role("link", name="Programmes").click()  # type: ignore[attr-defined]
    row = page.locator("tr", has_text=f"Jua Kali {width}")  # type: ignore[attr-defined]
    row.get_by_role("link", name="Change").click()
    page.wait_for_url("**/edit")  # type: ignore[attr-defined]
    form = page.locator("#programme-change")  # type: ignore[attr-defined]
    form.get_by_label("Budget (KES)").fill("1,500,000")
    form.get_by_label("Validity in days").fill("120")
    assert _fits(page, width)
    screenshot(page, f"officer-programme-edit-{width}")
    form.get_by_role("button", name="Save the changes").click()
    page.wait_for_url("**/admin/programmes")  # type: ignore[attr-defined]
    assert page.get_by_text(f"Jua Kali {width} is changed.").is_visible()  # type: ignore[attr-defined]
    screenshot(page, f"officer-programme-changed-{width}")
    with site.app.app_context():
        programme = db.session.get(Programme, site.programmes[width])
        assert programme is not None
        assert (programme.budget_minor, programme.validity_days) == (150_000_000, 120)
    page.context.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", WIDTHS)
def test_an_officer_changes_a_provider_capacity_and_town(
    site: Site, browser: object, width: int
) -> None:
    page = _signed_in(site, browser, width)
    page.goto(f"{site.url}/admin/providers/{site.providers[width]}")  # type: ignore[attr-defined]
    page.get_by_role("link", name="Change details").click()  # type: ignore[attr-defined]
    form = page.locator("#provider-change")  # type: ignore[attr-defined]
    form.get_by_label("Capacity", exact=False).fill("8")
    form.get_by_label("Town").fill("Kariobangi")
    assert _fits(page, width)
    screenshot(page, f"officer-provider-edit-{width}")
    form.get_by_role("button", name="Save the changes").click()
    page.wait_for_url(f"**/admin/providers/{site.providers[width]}")  # type: ignore[attr-defined]
    assert page.get_by_text(f"Fundi Kamau {width} is changed.").is_visible()  # type: ignore[attr-defined]
    assert page.get_by_text("Kariobangi").first.is_visible()  # type: ignore[attr-defined]
    assert _fits(page, width)
    screenshot(page, f"officer-provider-changed-{width}")
    with site.app.app_context():
        provider = db.session.get(Provider, site.providers[width])
        assert provider is not None and (provider.capacity, provider.town) == (8, "Kariobangi")
    page.context.close()  # type: ignore[attr-defined]
