"""Staff password sign-in locks an e-mail address, or a client address, out after repeated failures.

The lockout lives in the database, so every app server sees it; the service tests move the clock
with `now=`, the page tests check what a person sees.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from marketplace.domain.models import AuditEvent, StaffSignInAttempt
from marketplace.extensions import db
from marketplace.services import access, staff_auth
from marketplace.services.staff_auth import SignInLocked, WrongPassword
from tests.builders import Builders
from tests.concurrency.racing import Race
from tests.web.conftest import Web

RIGHT = "correct horse battery"
WRONG = "not the password"
HERE = "203.0.113.7"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """These tests count attempts, not hashing cost: the same code with a fast hash method."""
    fast = functools.partial(generate_password_hash, method="pbkdf2:sha256:1000")
    monkeypatch.setattr(access, "generate_password_hash", fast)
    monkeypatch.setattr(staff_auth, "generate_password_hash", fast)
    staff_auth._stand_in_hash.cache_clear()
    yield
    staff_auth._stand_in_hash.cache_clear()


def _text(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined,no-any-return]


def _outcome(email: str, password: str, at: datetime, address: str = HERE) -> str:
    """What a person is told: 'signed in', 'wrong' or 'locked N'."""
    try:
        staff_auth.sign_in(email, password, address, now=at)
    except SignInLocked as exc:
        return f"locked {exc.minutes}"
    except WrongPassword:
        return "wrong"
    return "signed in"


def _fail(email: str, times: int, start: datetime = T0, address: str = HERE) -> list[str]:
    return [_outcome(email, WRONG, start + timedelta(seconds=i), address) for i in range(times)]


def test_five_wrong_passwords_lock_the_e_mail_address_and_the_fifth_says_so(
    app: Flask, build: Builders
) -> None:
    user = build.staff_user("admin")
    assert _fail(user.email, 5) == ["wrong", "wrong", "wrong", "wrong", "locked 15"]


def test_the_right_password_is_refused_while_locked(app: Flask, build: Builders) -> None:
    user = build.staff_user("admin")
    _fail(user.email, 5)
    assert _outcome(user.email, RIGHT, T0 + timedelta(minutes=5)).startswith("locked")
    # ... and in other spellings of the same address.
    assert _outcome(f"  {user.email.upper()} ", RIGHT, T0 + timedelta(minutes=6)).startswith(
        "locked"
    )


def test_the_lock_lifts_once_the_failures_leave_the_fifteen_minutes(
    app: Flask, build: Builders
) -> None:
    user = build.staff_user("admin")
    _fail(user.email, 5)  # the fifth failure at T0 + 4 s
    assert _outcome(user.email, RIGHT, T0 + timedelta(minutes=10)) == "locked 5"
    assert _outcome(user.email, RIGHT, T0 + timedelta(minutes=14, seconds=59)) == "locked 1"
    assert _outcome(user.email, RIGHT, T0 + timedelta(minutes=15, seconds=1)) == "signed in"


def test_attempts_refused_while_locked_do_not_prolong_the_lock(app: Flask, build: Builders) -> None:
    user = build.staff_user("admin")
    _fail(user.email, 5)
    for minute in range(1, 15):
        assert _outcome(user.email, WRONG, T0 + timedelta(minutes=minute)).startswith("locked")
    assert _outcome(user.email, RIGHT, T0 + timedelta(minutes=15, seconds=1)) == "signed in"


def test_a_successful_sign_in_clears_the_count_for_that_e_mail_address(
    app: Flask, build: Builders
) -> None:
    user = build.staff_user("admin")
    assert _fail(user.email, 4) == ["wrong"] * 4
    assert _outcome(user.email, RIGHT, T0 + timedelta(minutes=1)) == "signed in"
    later = T0 + timedelta(minutes=2)
    assert _fail(user.email, 4, later) == ["wrong"] * 4
    assert _outcome(user.email, RIGHT, later + timedelta(minutes=1)) == "signed in"


def test_an_unknown_e_mail_address_is_answered_exactly_like_a_known_one(
    app: Flask, build: Builders
) -> None:
    user = build.staff_user("admin")
    known = _fail(user.email, 7)
    unknown = _fail("nobody@example.org", 7)
    assert known == unknown == ["wrong"] * 4 + ["locked 15"] * 3
    # Both keys are counted in the same table, the same way.
    rows = db.session.execute(
        sa.select(StaffSignInAttempt.email, sa.func.count())
        .group_by(StaffSignInAttempt.email)
        .order_by(StaffSignInAttempt.email)
    ).all()
    assert sorted(n for _email, n in rows) == [7, 7]


def test_twenty_failures_from_one_address_lock_that_address_for_every_account(
    app: Flask, build: Builders
) -> None:
    user = build.staff_user("admin")
    # One guess at each of twenty addresses: no e-mail address reaches its own limit.
    outcomes = [
        _outcome(f"guess{i}@example.org", WRONG, T0 + timedelta(seconds=i)) for i in range(20)
    ]
    assert outcomes == ["wrong"] * 19 + ["locked 15"]
    assert _outcome(user.email, RIGHT, T0 + timedelta(minutes=1)).startswith("locked")
    # The same officer at another address is not held up.
    assert _outcome(user.email, RIGHT, T0 + timedelta(minutes=1), "198.51.100.2") == "signed in"


def test_failed_and_refused_attempts_are_audited_without_the_password(
    app: Flask, build: Builders
) -> None:
    user = build.staff_user("admin")
    secret_guess = "Tr0ub4dor&3-guess"
    for i in range(6):
        _outcome(user.email, secret_guess, T0 + timedelta(seconds=i))
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action.like("staff.signin%"))
        .order_by(AuditEvent.seq)
    ).all()
    assert [e.action for e in events] == ["staff.signin_failed"] * 5 + ["staff.signin_refused"]
    assert all(e.after == {"email": user.email, "address": HERE} for e in events)
    assert all(e.actor == f"web:{HERE}" for e in events)
    everything = " ".join(f"{e.actor} {e.entity_id} {e.before} {e.after}" for e in events)
    assert secret_guess not in everything


def test_attempts_older_than_a_day_are_deleted(app: Flask, build: Builders) -> None:
    _fail("someone@example.org", 3, T0 - timedelta(days=2))
    _fail("other@example.org", 1, T0)
    left = db.session.scalars(sa.select(StaffSignInAttempt.email)).all()
    assert left == ["other@example.org"]


# --------------------------------------------------------------------------- the page


def test_the_sign_in_page_answers_429_with_a_clear_message_while_locked(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    user = build.staff_user("admin")
    answers = [web.staff_signin(user.email, WRONG) for _ in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    locked = web.staff_signin(user.email, RIGHT)
    assert locked.status_code == 429
    assert locked.headers["Retry-After"] == "900"
    assert "Too many failed sign-ins. Wait 15 minutes and try again." in _text(locked)
    assert client.get("/admin").location.startswith("/signin")  # not signed in


def _alert(response: object) -> str:
    found = re.search(r'<p class="flash error" role="alert">(.*?)</p>', _text(response))
    return found.group(1) if found else ""


def test_the_page_is_the_same_for_an_unknown_e_mail_address(web: Web, build: Builders) -> None:
    user = build.staff_user("admin")
    seen = {}
    for email in (user.email, "nobody@example.org"):
        answers = [web.staff_signin(email, WRONG) for _ in range(6)]
        seen[email] = [(a.status_code, _alert(a)) for a in answers]
    assert seen[user.email] == seen["nobody@example.org"]
    assert [status for status, _ in seen[user.email]] == [401] * 4 + [429] * 2
    assert "do not match an account" in seen[user.email][0][1]
    assert "Wait 15 minutes" in seen[user.email][5][1]


def test_signing_in_after_the_lock_works_on_the_page(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    user = build.staff_user("admin")
    _fail(user.email, 5, datetime.now(UTC) - timedelta(minutes=16))
    assert web.staff_signin(user.email, RIGHT).location == "/admin"


# --------------------------------------------------------------------------- several servers


def test_simultaneous_guesses_on_several_servers_get_at_most_five_password_checks(
    race: Race, build: Builders, postgres: Flask
) -> None:
    user = build.staff_user("admin")
    email = user.email
    guesses = [lambda: staff_auth.sign_in(email, WRONG, HERE) for _ in range(12)]
    outcomes = race(*guesses)
    assert all(isinstance(o.error, (WrongPassword, SignInLocked)) for o in outcomes)
    checked = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "staff.signin_failed")
    )
    refused = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "staff.signin_refused")
    )
    assert checked is not None and checked <= staff_auth.MAX_FAILURES_PER_EMAIL
    assert checked + (refused or 0) == 12


@pytest.fixture
def race(postgres: Flask) -> Race:
    return Race(postgres)
