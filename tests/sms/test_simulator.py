"""The phone simulator against a running app over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from marketplace.domain.models import Entrepreneur
from marketplace.extensions import db


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    server.server_close()


def test_the_phone_sends_an_sms_and_shows_the_reply_from_the_outbox(build, runner, base_url):
    voucher = build.voucher()
    phone = db.session.get(Entrepreneur, voucher.entrepreneur_id).phone
    db.session.remove()  # the server thread writes; this session must not hold the database
    result = runner.invoke(args=["phone", phone, "--base-url", base_url], input="sms bal\nquit\n")
    assert result.exit_code == 0, result.output
    assert "Ujuzi vouchers:" in result.output and "not booked" in result.output


def test_the_phone_dials_the_ussd_service_and_shows_the_screen(build, runner, base_url):
    voucher = build.voucher()
    phone = db.session.get(Entrepreneur, voucher.entrepreneur_id).phone
    db.session.remove()
    result = runner.invoke(args=["phone", phone, "--base-url", base_url], input="dial\nquit\n")
    assert result.exit_code == 0, result.output
    assert "| " in result.output  # a screen was drawn from the CON/END answer


def test_a_bad_number_is_refused(runner):
    result = runner.invoke(args=["phone", "12"])
    assert result.exit_code != 0 and "not a phone number" in result.output


def test_an_app_that_does_not_answer_is_reported_and_the_phone_carries_on(build, runner):
    phone = db.session.get(Entrepreneur, build.voucher().entrepreneur_id).phone
    result = runner.invoke(
        args=["phone", phone, "--base-url", "http://127.0.0.1:9"], input="dial\nsms bal\nquit\n"
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("did not answer: ConnectionError") == 2
