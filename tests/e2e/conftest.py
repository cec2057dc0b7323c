"""Browser tests: the app served by a real server on 127.0.0.1, driven by Debian's Chromium."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from marketplace.app import create_app
from marketplace.db import reading
from sms.gateway import FakeGateway

CHROMIUM = "/usr/bin/chromium"
OFFICER = ("officer@example.org", "a long officer password")  # made by each suite's data
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


def require_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")


def browser_app(database: Path) -> Flask:
    """An app on its own SQLite file (migrated by the caller's data preparation)."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 30}},
            "SMS_BACKEND": "fake",
            "SECRET_KEY": "browser-test-secret-key-0123456789abcdef",
            "WTF_CSRF_ENABLED": True,
        }
    )
    app.extensions["sms_gateway"] = FakeGateway()
    return app


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve the app on a free loopback port for the duration; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            reading.dispose_engines()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require_chromium()
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                ],
            )
        except Error as exc:
            pytest.skip(f"Chromium would not start: {exc}")
        yield chromium
        chromium.close()


def screenshot(page: object, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def officer_page(url: str, browser: object, width: int) -> object:
    """A page at `width` pixels, signed in as OFFICER, on the officers' home page."""
    context = browser.new_context(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(url + "/signin")
    page.get_by_label("E-mail").fill(OFFICER[0])
    page.get_by_label("Password").fill(OFFICER[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin")
    return page
