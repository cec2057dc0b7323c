"""The officers' payments page: payments by state, failures with their reasons in words and a retry
where one is right, registered names that did not match with a decision, the balance seen."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.domain.models import FailureClass, Payment, PaymentState
from marketplace.domain.payments import Outcome, PaymentOrder, Result, Sent, Submission
from marketplace.extensions import db
from marketplace.services import payments, payouts
from payments import sender
from payments.gateway import FakeGateway
from tests.builders import Builders
from tests.web.conftest import Web


def _text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def _paid_run(build: Builders, n: int) -> int:
    for _ in range(n):
        provider = build.provider()
        build.payout_account(provider)
        build.confirmed_session(build.booking(provider=provider))
    run = payouts.run_payout("KES", datetime.now(UTC) + timedelta(minutes=10), "test")
    assert run is not None
    payments.queue_run(run.id, "fake")
    return run.id


def test_officers_see_failures_in_words_retry_them_and_decide_names(
    web: Web, client: FlaskClient, build: Builders
) -> None:
    _paid_run(build, 3)
    answers = iter(["recipient", "transient", "paid"])

    def answer(order: PaymentOrder) -> Submission:
        kind = next(answers)
        if kind == "paid":
            result = Result(order.originator_id, Outcome.SUCCEEDED, "SXA1234567", "SOMEBODY ELSE")
        else:
            failure = FailureClass.RECIPIENT if kind == "recipient" else FailureClass.TRANSIENT
            result = Result(
                order.originator_id,
                Outcome.FAILED,
                code="2040" if kind == "recipient" else "17",
                desc="refused",
                failure=failure,
            )
        return Submission(Sent.ACCEPTED, "conv", result=result)

    fake = FakeGateway(answer=answer)
    # One at a time until the channel is proven, then the rest.
    for _ in range(3):
        sender.send_due({"fake": fake})
    states = sorted(p.state for p in db.session.scalars(sa.select(Payment)))
    assert states == ["failed", "failed", "succeeded"]

    officer = build.staff_user("admin")
    assert web.staff_signin(officer.email).location == "/admin"
    page = _text(client.get("/admin/payments"))
    assert "This number cannot receive it" in page and "Change the payout account first" in page
    assert "M-Pesa could not complete it this time" in page
    assert "SOMEBODY ELSE" in page  # the registered name that did not match
    transient = db.session.scalar(
        sa.select(Payment).where(Payment.failure_class == FailureClass.TRANSIENT)
    )
    assert transient is not None
    retried = web.post(f"/admin/payments/{transient.id}/retry", token_from="/admin/payments")
    assert retried.status_code == 302
    assert "attempt 2" in _text(client.get("/admin/payments"))
    recipient = db.session.scalar(
        sa.select(Payment).where(Payment.failure_class == FailureClass.RECIPIENT)
    )
    assert recipient is not None
    refused = web.post(f"/admin/payments/{recipient.id}/retry", token_from="/admin/payments")
    assert refused.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 4
    paid = db.session.scalar(sa.select(Payment).where(Payment.state == PaymentState.SUCCEEDED))
    assert paid is not None and paid.msisdn is not None
    decided = web.post(
        f"/admin/payments/names/{paid.msisdn}", {"decision": "accept"}, token_from="/admin/payments"
    )
    assert decided.status_code == 302
    assert "No registered name waits for a decision." in _text(client.get("/admin/payments"))
