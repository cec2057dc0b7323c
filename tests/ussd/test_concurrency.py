"""Repeated hops arriving at the same instant on PostgreSQL change nothing twice."""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from marketplace.domain.models import Booking, Impression
from marketplace.extensions import db
from marketplace.services import bookings
from tests.dialer import SECRET, Dialer

PARALLEL = 6


@pytest.fixture
def slow_services(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen the race: every request is inside the service at the same time."""
    for name in ("book_provider", "find_providers"):
        real = getattr(bookings, name)

        def slow(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            time.sleep(0.3)
            return _real(*args, **kwargs)

        monkeypatch.setattr(bookings, name, slow)


def _same_hop_at_once(app, form: dict[str, str]) -> list[str]:
    bodies: list[str] = []
    start = threading.Barrier(PARALLEL)

    def send() -> None:
        client = app.test_client()
        start.wait()
        response = client.post(
            f"/at/{SECRET}/ussd",
            data=urlencode(form),
            content_type="application/x-www-form-urlencoded",
        )
        bodies.append(f"{response.status_code} {response.get_data(as_text=True)}")

    threads = [threading.Thread(target=send) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return bodies


def test_the_same_booking_hop_at_the_same_instant_books_once(
    postgres, client, build, slow_services
):
    voucher = build.voucher()
    build.provider(name="Mama Zawadi Tailors")
    phone = Dialer(client, voucher.entrepreneur.phone)
    phone.dial("2*1*1*1*1")
    phone.text += "*1"
    db.session.commit()
    bodies = _same_hop_at_once(postgres, phone.form())
    assert len(set(bodies)) == 1, bodies
    assert bodies[0].startswith("200 END Booked Mama Zawadi Tailors")
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1


def test_the_same_first_hop_at_the_same_instant_lists_once(postgres, client, build, slow_services):
    voucher = build.voucher()
    for n in range(3):
        build.provider(name=f"Fundi {n}")
    phone = Dialer(client, voucher.entrepreneur.phone)
    phone.session_id = "ATUid_parallel_start"
    phone.text = "2*1*1"  # a shortcut straight to the list
    db.session.commit()
    bodies = _same_hop_at_once(postgres, phone.form())
    assert len(set(bodies)) == 1, bodies
    assert bodies[0].startswith("200 CON Choose a mentor:")
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Impression)) == 3


def _cut_every_other_connection() -> None:
    """What a database restart does to the app's pooled connections (from outside the pool)."""
    outside = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with outside.begin() as conn:
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    outside.dispose()


def test_a_hop_on_a_connection_the_database_dropped_is_answered_on_a_new_one(
    postgres, client, build
):
    voucher = build.voucher()
    phone = Dialer(client, voucher.entrepreneur.phone)
    assert phone.dial().startswith("Ujuzi: hello")
    db.session.commit()
    _cut_every_other_connection()
    # The pool still holds the dropped connections: the hop finds one dead, and is answered
    # (from the stored session) on a fresh one instead of saying sorry.
    assert phone.press("1").startswith("Voucher")
    assert phone.press("0").startswith("Ujuzi: hello")
