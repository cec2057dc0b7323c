"""The officers' SMS page: counts by state and kind, the messages (paged, filtered), sending
again the chosen ones or a whole filter; nobody but an officer reaches it."""

from __future__ import annotations

import html
import re

import sqlalchemy as sa
from flask.testing import FlaskClient, FlaskCliRunner

from marketplace.domain.models import AuditEvent, OutboxMessage, OutboxStatus
from marketplace.extensions import db
from marketplace.queries import outbox as outbox_queries
from tests.builders import Builders
from tests.outbox_rows import message, resent_ids, state_of
from tests.web.conftest import Web, csrf_from

FAILED, PARKED, SENT, DELIVERED, PENDING = (
    OutboxStatus.FAILED.value,
    OutboxStatus.PARKED.value,
    OutboxStatus.SENT.value,
    OutboxStatus.DELIVERED.value,
    OutboxStatus.PENDING.value,
)


def _officer(web: Web, build: Builders) -> str:
    user = build.staff_user("admin")
    assert web.staff_signin(user.email).location == "/admin"
    return user.email


def _page(client: FlaskClient, path: str = "/admin/sms") -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _count(page: str, state: str, kind: str) -> str:
    found = re.search(rf'data-state="{state}" data-kind="{kind}">(?:<a [^>]*>)?(\d+)<', page)
    assert found, (state, kind)
    return found.group(1)


def _listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', page)]


def test_the_page_counts_messages_by_state_and_kind_and_lists_them(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    failed = message(FAILED, "voucher_issued", "+254711000111")
    message(FAILED, "voucher_issued", "+254711000112")
    parked = message(PARKED, "payout_made", "+254722000222")
    message(DELIVERED, "voucher_issued")
    _officer(web, build)

    page = _page(client)

    assert _count(page, FAILED, "voucher_issued") == "2"
    assert _count(page, PARKED, "payout_made") == "1"
    assert _count(page, DELIVERED, "voucher_issued") == "1"
    assert _count(page, SENT, "payout_made") == "0"
    for state in OutboxStatus:  # every state has its column, named in words
        assert f'data-state="{state.value}"' in page
    assert "Parked (account problem)" in page
    assert _listed(page)[:3] == [parked + 1, parked, failed + 1]  # newest first
    assert "+254722000222" in page  # numbers as officers see them on the other pages
    assert "InsufficientBalance" in page  # the last error
    assert "Ujuzi:" not in page  # never the text itself: a sign-in code must not show here


def test_the_messages_are_filtered_by_state_and_kind_and_paged(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    many = [
        message(FAILED, "voucher_expiring", f"+2547110{i:05d}")
        for i in range(outbox_queries.PER_PAGE + 5)
    ]
    parked = message(PARKED, "voucher_expiring")
    other_kind = message(FAILED, "payout_made")
    _officer(web, build)

    first = _page(client, f"/admin/sms?state={FAILED}&kind=voucher_expiring")
    second = _page(client, f"/admin/sms?state={FAILED}&kind=voucher_expiring&page=2")
    parked_only = _page(client, f"/admin/sms?state={PARKED}")

    assert _listed(first) == sorted(many, reverse=True)[: outbox_queries.PER_PAGE]
    assert _listed(second) == sorted(many, reverse=True)[outbox_queries.PER_PAGE :]
    assert "page 2 of 2" in second
    assert _listed(parked_only) == [parked]
    assert other_kind not in _listed(first) + _listed(second)
    # a state that does not exist shows everything rather than failing
    assert len(_listed(_page(client, "/admin/sms?state=bogus&page=x"))) == outbox_queries.PER_PAGE


def test_an_officer_sends_the_chosen_messages_again_and_each_is_audited(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    email = _officer(web, build)
    failed = message(FAILED)
    parked = message(PARKED)
    untouched = message(FAILED)

    answer = web.post(
        "/admin/sms/resend",
        {"scope": "chosen", "id": [str(failed), str(parked)]},
        token_from="/admin/sms",
    )

    assert answer.status_code == 302 and answer.location.startswith("/admin/sms")
    assert [state_of(i) for i in (failed, parked, untouched)] == [PENDING, PENDING, FAILED]
    assert "2 messages will be sent again." in html.unescape(_page(client))
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "sms.resent"))
    assert {(e.entity_id, e.actor.endswith(email) or email in e.actor) for e in events} == {
        (str(failed), True),
        (str(parked), True),
    }


def test_an_officer_sends_again_every_message_of_a_filter(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    _officer(web, build)
    chosen_kind = [message(FAILED, "voucher_issued") for _ in range(3)]
    other_kind = message(FAILED, "payout_made")
    went_out = message(SENT, "voucher_issued")

    answer = web.post(
        "/admin/sms/resend",
        {"scope": "filter", "state": "", "kind": "voucher_issued"},
        token_from="/admin/sms?kind=voucher_issued",
    )

    assert answer.location == "/admin/sms?kind=voucher_issued"
    assert [state_of(i) for i in chosen_kind] == [PENDING] * 3
    assert (state_of(other_kind), state_of(went_out)) == (FAILED, SENT)
    shown = html.unescape(_page(client, answer.location))
    assert "3 messages will be sent again." in shown
    assert "1 messages already sent or delivered were not sent again" in shown


def test_a_message_that_went_out_is_sent_again_only_when_the_box_is_ticked(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    _officer(web, build)
    delivered = message(DELIVERED)

    web.post(
        "/admin/sms/resend", {"scope": "chosen", "id": str(delivered)}, token_from="/admin/sms"
    )
    assert state_of(delivered) == DELIVERED
    web.post(
        "/admin/sms/resend",
        {"scope": "chosen", "id": str(delivered), "force": "1"},
        token_from="/admin/sms",
    )
    assert state_of(delivered) == PENDING
    assert resent_ids() == [delivered]


def test_sending_again_without_choosing_anything_changes_nothing(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    _officer(web, build)
    failed = message(FAILED)

    web.post("/admin/sms/resend", {"scope": "chosen"}, token_from="/admin/sms")
    web.post("/admin/sms/resend", {"scope": "filter"}, token_from="/admin/sms")

    assert state_of(failed) == FAILED and resent_ids() == []
    assert "Choose messages to send again" in _page(client)


def test_sending_again_needs_the_forms_csrf_token(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    _officer(web, build)
    failed = message(FAILED)

    refused = client.post("/admin/sms/resend", data={"scope": "chosen", "id": str(failed)})

    assert refused.status_code == 400
    assert state_of(failed) == FAILED


def test_a_funder_or_a_mentor_cannot_see_the_sms_page_or_send_again(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    failed = message(FAILED)
    funder = build.staff_user("funder", funder="Skills Fund")
    web.staff_signin(funder.email)
    token = csrf_from(client, "/funder")
    assert client.get("/admin/sms").status_code == 403
    posted = client.post(
        "/admin/sms/resend", data={"csrf_token": token, "scope": "chosen", "id": str(failed)}
    )
    assert posted.status_code == 403
    web.post("/signout", token_from="/funder")

    web.mentor_of(build.provider())
    token = csrf_from(client, "/mentor")
    assert client.get("/admin/sms").status_code == 403
    posted = client.post(
        "/admin/sms/resend", data={"csrf_token": token, "scope": "chosen", "id": str(failed)}
    )
    assert posted.status_code == 403
    assert state_of(failed) == FAILED and resent_ids() == []


def test_someone_signed_out_is_sent_to_sign_in(client: FlaskClient) -> None:
    assert client.get("/admin/sms").location.startswith("/signin")


def test_the_page_is_reached_from_every_officer_page(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    _officer(web, build)
    assert 'href="/admin/sms"' in _page(client, "/admin")


def test_a_state_without_words_of_its_own_is_still_listed(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    """Whatever OutboxStatus holds is a column and a choice, named by its value at worst."""
    _officer(web, build)
    page = _page(client)
    for state in OutboxStatus:
        assert f'<option value="{state.value}"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_the_page_says_how_long_the_oldest_message_has_waited_to_go(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    from datetime import UTC, datetime, timedelta

    _officer(web, build)
    message(PENDING, created_at=datetime.now(UTC) - timedelta(hours=3, minutes=5))
    message(PENDING, created_at=datetime.now(UTC) - timedelta(minutes=1))

    assert "The oldest message waiting to go was written 3 hours ago." in _page(client)


def test_a_message_in_any_state_that_did_not_go_out_is_shown_and_sent_again(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    """Every state of OutboxStatus but pending, sent and delivered (failed, parked, an unknown
    outcome, and any added later) is listed with a box to choose it, and sent again."""
    from marketplace.domain.models import OUTBOX_QUEUED, OUTBOX_WENT_OUT

    _officer(web, build)
    stuck = {
        s.value: message(s.value)
        for s in OutboxStatus
        if s not in OUTBOX_QUEUED and s not in OUTBOX_WENT_OUT
    }
    assert {FAILED, PARKED} <= set(stuck)
    for state, message_id in stuck.items():
        page = _page(client, f"/admin/sms?state={state}")
        assert _listed(page) == [message_id], state
        assert f'name="id" value="{message_id}"' in page, state

    web.post(
        "/admin/sms/resend",
        {"scope": "chosen", "id": [str(i) for i in stuck.values()]},
        token_from="/admin/sms",
    )

    assert {state_of(i) for i in stuck.values()} == {PENDING}
    assert sorted(resent_ids()) == sorted(stuck.values())


def test_a_message_whose_outcome_is_unknown_is_counted_listed_and_sent_again(
    web: Web, client: FlaskClient, runner: FlaskCliRunner, build: Builders
) -> None:
    """Made as the worker makes one: a payout notice whose request timed out after the gateway
    read it (a second copy could read as a second payment, so it waits for an officer)."""
    from marketplace.services import outbox
    from sms import worker
    from sms.gateway import FakeGateway, Outcome

    UNKNOWN = OutboxStatus.UNKNOWN.value
    row = outbox.queue_text("+254711000999", "Ujuzi: KES 1,200 paid.", "payout_made")
    db.session.commit()
    gateway = FakeGateway()
    gateway.fail_next(Outcome.AMBIGUOUS)
    worker.drain(db.session(), gateway)
    assert state_of(row.id) == UNKNOWN
    _officer(web, build)

    page = _page(client)
    assert _count(page, UNKNOWN, "payout_made") == "1" and "Outcome unknown" in page
    assert _listed(_page(client, f"/admin/sms?state={UNKNOWN}")) == [row.id]
    assert client.get("/healthz").get_json()["sms_outbox"][UNKNOWN] == 1
    assert f"{UNKNOWN}: 1" in runner.invoke(args=["sms-status"]).output.splitlines()

    web.post("/admin/sms/resend", {"scope": "chosen", "id": str(row.id)}, token_from="/admin/sms")
    worker.drain(db.session(), gateway)

    assert state_of(row.id) == SENT and resent_ids() == [row.id]
    assert gateway.messages_to("+254711000999") == ["Ujuzi: KES 1,200 paid."] * 2
