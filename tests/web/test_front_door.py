"""`/` is the front door: what the service is and the way in for each kind of user, in English and
Kiswahili; and the simulator command `make run` prints is the README's."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from marketplace.app import create_app
from tests.web.conftest import csrf_from

ROOT = Path(__file__).resolve().parents[2]


def test_the_front_door_says_what_the_service_is_and_the_way_in_for_each_user(
    client: FlaskClient,
) -> None:
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "training vouchers" in page
    assert "Dial *384*1234# on any phone" in page  # the configured USSD code
    assert "SMS to 20880" in page and "<code>BAL</code>" in page and "FIND &lt;trade&gt;" in page
    for link in ('href="/mentor"', 'href="/signin"', 'href="/funder"'):
        assert link in page, link
    assert 'href="/api/v1/openapi.json"' in page
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert 'href="/dev/phone"' in page  # development: the phone simulator
    assert client.get("/dev/phone").status_code == 200


def test_the_front_door_reads_in_kiswahili_with_the_language_switch(client: FlaskClient) -> None:
    token = csrf_from(client, "/")
    switched = client.post("/language", data={"csrf_token": token, "lang": "sw", "back": "/"})
    assert switched.status_code == 302 and switched.location == "/"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="sw">' in page
    assert "Piga *384*1234# kwenye simu yoyote" in page
    assert "<code>SALIO</code>" in page and "TAFUTA &lt;kazi&gt;" in page
    assert "Ukurasa wa mwalimu" in page and "Dashibodi ya mfadhili" in page
    assert "Entrepreneurs with a voucher" not in page


def test_outside_development_the_front_door_has_no_simulator_link(app) -> None:  # type: ignore[no-untyped-def]
    production_like = create_app({**app.config, "APP_ENV": "test"})
    page = production_like.test_client().get("/").get_data(as_text=True)
    assert "/dev/phone" not in page and "/api/v1/openapi.json" in page


def test_make_run_prints_the_simulator_command_the_readme_gives() -> None:
    makefile = (ROOT / "Makefile").read_text()
    [printed] = re.findall(r'@echo "  (\$\(BIN\)/flask [^"]*phone[^"]*)"', makefile)
    command = printed.replace("$(BIN)", ".venv/bin").replace("$(PORT)", "8000")
    assert command in (ROOT / "README.md").read_text()
