"""Real browser, real server: a funder signs in and reads the dashboard; every chart is drawn by the
vendored Chart.js under the app's Content-Security-Policy, with no console error and nothing fetched
from another host. A screenshot goes to test-output/funder-dashboard.png.

Needs Chromium at /usr/bin/chromium (Debian's package); skipped with a reason when it is absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from babel.dates import format_date
from flask import Flask

from marketplace.services import access, bookings, reference, sessions
from tests.builders import Builders
from tests.e2e.conftest import browser_app, require_chromium, screenshot, serving

pytestmark = pytest.mark.browser

FUNDER = ("funder@example.org", "a long funder password")


@dataclass
class Site:
    url: str
    programme_id: int


def _prepare(app: Flask) -> int:
    """Twelve entrepreneurs pick mentors over two months, through the services."""
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        reference.load_reference_data("KE")
        build = Builders(app)
        programme = build.programme(name="Jua Kali Dashboard", funder="Skills Fund")
        fundi = build.provider(kind="craft_worker", name="Mama Njeri Tailors", capacity=20)
        college = build.provider(kind="institute", name="Gikomba Fashion College", capacity=20)
        start = datetime.now(UTC) - timedelta(days=50)
        for i in range(12):
            when = start + timedelta(days=2 * i)
            voucher = build.voucher(
                programme, now=when, gender="female" if i % 3 else "male", birth_year=1990 + i
            )
            bookings.find_providers(
                voucher.entrepreneur_id, "tailoring", None, programme_id=programme.id, now=when
            )
            booking = build.booking(
                voucher, fundi if i % 4 else college, now=when + timedelta(days=1)
            )
            for k in range(1 + i % 4):
                done = when + timedelta(days=2 + k)
                recorded = build.recorded_session(booking, now=done)
                sessions.answer_session(
                    recorded.entrepreneur_id,
                    recorded.ref,
                    True,
                    "sms",
                    now=done + timedelta(hours=1),
                )
        access.create_staff_user(
            FUNDER[0], "Funder", FUNDER[1], "funder", "setup", funder="Skills Fund"
        )
        return programme.id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_chromium()
    app = browser_app(tmp_path_factory.mktemp("e2e-funder") / "funder.sqlite")
    programme_id = _prepare(app)
    with serving(app) as url:
        yield Site(url, programme_id)


def test_a_funder_reads_the_dashboard_with_every_chart_drawn(site: Site, browser: object) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    problems: list[str] = []
    other_hosts: list[str] = []
    context.on("request", lambda r: r.url.startswith(site.url) or other_hosts.append(r.url))
    page = context.new_page()
    page.on(
        "console",
        lambda m: m.type == "error" and problems.append(f"{m.text} ({m.location.get('url')})"),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    page.goto(site.url + "/funder")
    page.get_by_label("E-mail").fill(FUNDER[0])
    page.get_by_label("Password").fill(FUNDER[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/funder")
    page.get_by_role("link", name="Jua Kali Dashboard").click()
    page.wait_for_selector("body[data-charts-ready]")

    canvases = page.locator("canvas")
    assert canvases.count() >= 3
    assert canvases.count() + page.locator("p.chart-gap").count() == 9  # every chart of a table
    for i in range(canvases.count()):
        canvas = canvases.nth(i)
        assert canvas.get_attribute("data-drawn") == "true", canvas.get_attribute("id")
        box = canvas.bounding_box()
        assert box is not None and box["height"] > 100
    # Chart.js holds the same numbers as the table beneath the chart, rows by their names.
    drawn = page.evaluate("[...document.querySelectorAll('canvas')].map(c => c.id)")
    assert drawn == ["chart-monthly", "chart-by_trade", "chart-by_region"]
    labels = page.evaluate("document.getElementById('chart-by_trade').chart.data.labels")
    assert labels == ["Tailoring"]  # the trade's name, not its code
    table = page.locator("table[data-table=provider_choice] td[data-column=booking_share_pct]")
    # The institute was picked by three entrepreneurs: <5 in the table; the craft worker's share
    # would give it away (100% less 75%), so it is hidden. Nothing is left to draw: the chart's
    # place says so in words.
    assert table.all_inner_texts() == ["hidden", "<5"]
    assert page.locator("canvas#chart-provider_choice").count() == 0
    gap = page.locator("p.chart-gap[data-chart=provider_choice]")
    assert gap.inner_text().startswith("No chart: every figure of it is about fewer than 5")
    assert page.get_by_role("heading", name="Provider choice").is_visible()

    screenshot(page, "funder-dashboard")

    page.locator("select[name=gender]").select_option("female")
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("body[data-charts-ready]")
    assert "gender=female" in page.url
    issued = page.locator("table[data-table=headline] tr[data-key=issued] td").inner_text()
    assert issued == "8"

    assert problems == []
    assert other_hosts == []
    context.close()


# Where a table could overflow: the page wider than the window, a table wider than its box, or a
# scrolling box that has to scroll.
OVERFLOW = """() => {
  const found = [];
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width) {
    found.push(`page ${document.documentElement.scrollWidth} > ${width}`);
  }
  for (const table of document.querySelectorAll("table")) {
    const box = table.parentElement;
    const name = table.getAttribute("data-table");
    if (table.getBoundingClientRect().right > width + 0.5) { found.push(`${name} past the window`); }
    if (table.offsetWidth > box.clientWidth + 0.5) {
      found.push(`${name} ${table.offsetWidth} > ${box.clientWidth}`);
    }
    if (box.scrollWidth > box.clientWidth) { found.push(`${name} scrolls sideways`); }
  }
  return found;
}"""


@pytest.mark.parametrize("width", [1366, 360])
def test_the_tables_fit_the_page_in_both_languages(site: Site, browser: object, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(site.url + "/funder")
    page.get_by_label("E-mail").fill(FUNDER[0])
    page.get_by_label("Password").fill(FUNDER[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/funder")
    page.goto(f"{site.url}/funder/programmes/{site.programme_id}")
    page.wait_for_selector("body[data-charts-ready]")
    assert page.locator("table").count() >= 9
    assert page.evaluate(OVERFLOW) == [], f"English at {width} px"
    screenshot(page, f"funder-dashboard-en-{width}")

    page.get_by_role("button", name="Kiswahili").click()
    page.wait_for_selector("html[lang=sw] body[data-charts-ready]")
    assert page.get_by_role("heading", name="Uchaguzi wa mtoa mafunzo").is_visible()
    assert page.get_by_role("heading", name="Takwimu kuu").is_visible()
    assert page.evaluate(OVERFLOW) == [], f"Kiswahili at {width} px"
    # Every chart is drawn or its place says why not.
    assert page.locator("canvas").count() + page.locator("p.chart-gap").count() == 9
    for i in range(page.locator("canvas").count()):
        assert page.locator("canvas").nth(i).get_attribute("data-drawn") == "true"
    gap = page.locator("p.chart-gap[data-chart=provider_choice]")
    assert gap.inner_text().startswith("Hakuna chati")
    # Months by their Kiswahili names, the same in the chart as in its table; no YYYY-MM.
    months = page.evaluate("document.getElementById('chart-monthly').chart.data.labels")
    rows = page.locator("table[data-table=monthly] tbody th").all_inner_texts()
    assert months == rows and len(months) >= 2
    sw_months = {format_date(date(2024, m, 1), "LLLL", locale="sw") for m in range(1, 13)}
    for month in months:
        name, year = month.rsplit(" ", 1)
        assert name in sw_months and year.isdigit(), month
    assert not re.search(r"\b20\d\d-\d\d\b", page.locator("main").inner_text())
    screenshot(page, f"funder-dashboard-sw-{width}")
    context.close()
