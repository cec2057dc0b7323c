"""After the database closed every connection (a restart, a failover, backends terminated by an
operator), the next request on every route is answered normally, on a fresh connection."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
import sqlalchemy as sa
from flask import Flask

from marketplace.db import reading
from marketplace.extensions import db
from tests.dialer import Dialer
from tests.sms.conftest import outbox_to, post_sms
from tests.web.conftest import Web


def _terminate_every_backend() -> int:
    """Terminate every backend of the test database but the one asking, and wait until they
    are gone (their sockets closed), as after a restart. How many there were."""
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as admin:
        others = "datname = current_database() AND pid <> pg_backend_pid()"
        killed = admin.execute(
            f"SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) "
            f"FROM pg_stat_activity WHERE {others}"
        ).fetchone()
        deadline = time.monotonic() + 10
        while admin.execute(f"SELECT count(*) FROM pg_stat_activity WHERE {others}").fetchone() != (
            0,
        ):
            assert time.monotonic() < deadline, "backends still alive"
            time.sleep(0.05)
    assert killed is not None
    return int(killed[0])


class World:
    """Someone of each kind, signed in where a page needs it, and a way to ask each route."""

    def __init__(self, app: Flask, build: Any) -> None:
        self.client, self.mentor, self.officer = (app.test_client() for _ in range(3))
        provider = build.provider(name="Mama Zawadi Tailors")
        self.voucher = build.voucher(name="Amina Wanjiru")
        build.booking(self.voucher, provider)
        self.phone = self.voucher.entrepreneur.phone
        self.api = {"Authorization": f"Bearer {build.api_key('admin')}"}
        Web(self.mentor).mentor_of(provider)
        officer = build.staff_user("admin")
        assert Web(self.officer).staff_signin(officer.email).status_code == 302

    def healthz(self) -> None:
        response = self.client.get("/healthz")
        body = response.json or {}
        assert (response.status_code, body.get("status"), body.get("database")) == (200, "ok", "ok")

    def mentor_page(self) -> None:
        response = self.mentor.get("/mentor")
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and "My trainees" in page, page

    def admin_page(self) -> None:
        response = self.officer.get("/admin")
        assert response.status_code == 200
        assert "providers waiting for approval" in response.get_data(as_text=True)

    def api_call(self) -> None:
        response = self.client.get("/api/v1/programmes", headers=self.api)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.json is not None

    def inbound_sms(self) -> None:
        post_sms(self.client, self.phone, "BAL")
        reply = outbox_to(self.phone, "reply")[-1]
        assert reply.startswith("Ujuzi: your vouchers") or "Mama Zawadi" in reply, reply

    def ussd_hop(self) -> None:
        phone = Dialer(self.client, self.phone)
        assert phone.dial("1").startswith("Voucher "), phone.screen


ROUTES: dict[str, Callable[[World], None]] = {
    "healthz": World.healthz,
    "mentor page": World.mentor_page,
    "admin page": World.admin_page,
    "API": World.api_call,
    "inbound SMS": World.inbound_sms,
    "USSD": World.ussd_hop,
}


def test_after_every_backend_is_terminated_each_route_answers_its_next_request_normally(
    app, build, postgres
):
    world = World(app, build)
    db.session.remove()  # the test's own reads are over

    def request(ask: Callable[[World], None]) -> None:
        with app.app_context():  # each request its own, as in production (its `g`, its session)
            ask(world)

    failed: dict[str, str] = {}
    for name, ask in ROUTES.items():
        # The pools, and this thread's read connection, hold live connections: USSD first, whose
        # answer on a fresh connection after a dead one empties the pools.
        for warm in reversed(ROUTES.values()):
            request(warm)
        assert _terminate_every_backend() >= 1, name
        try:
            request(ask)
        except Exception as exc:  # an error page, or the exception itself (TESTING propagates)
            failed[name] = f"{type(exc).__name__}: {str(exc)[:120]}"
    assert failed == {}


def test_a_pooled_connection_the_server_closed_is_replaced_before_use_without_a_round_trip(
    app, postgres
):
    seen: list[str] = []

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql)

    with db.engine.connect() as conn:
        before = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    _terminate_every_backend()
    sa.event.listen(db.engine, "before_cursor_execute", statement)
    try:
        with db.engine.connect() as conn:
            after = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", statement)
    assert after != before
    assert seen == ["SELECT pg_backend_pid()"]  # no ping: the dead one was seen without asking
    reading.dispose_engines()


def test_a_read_connection_kept_by_a_thread_that_the_server_closed_is_replaced_before_the_hop(
    app, build, client, postgres, caplog
):
    phone = Dialer(client, build.voucher().entrepreneur.phone)
    assert phone.dial("1").startswith("Voucher ")  # this thread keeps a read connection
    db.session.remove()
    _terminate_every_backend()
    with caplog.at_level("WARNING", logger="sms.ussd.engine"):
        assert phone.dial("1").startswith("Voucher ")
    assert "dead database connection" not in caplog.text  # not met, so not answered again
