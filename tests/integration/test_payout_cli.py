"""The operators' payout commands answer a mistake with a message, not a traceback or a false 0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from marketplace.domain.models import Payout, PayoutRun
from marketplace.extensions import db


def test_run_payout_refuses_an_until_that_is_not_a_date(runner, build):
    build.confirmed_session(now=datetime.now(UTC) - timedelta(hours=1))

    result = runner.invoke(args=["run-payout", "--currency", "KES", "--until", "yesterday"])

    assert result.exit_code == 2
    assert "Invalid value for --until" in result.output and "ISO date" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PayoutRun)) == 0


def test_mark_run_paid_says_when_the_run_does_not_exist(runner, build):
    build.confirmed_session(now=datetime.now(UTC) - timedelta(hours=1))
    made = runner.invoke(args=["run-payout", "--currency", "KES"])
    assert made.exit_code == 0 and made.output.startswith("Run 1:")

    result = runner.invoke(args=["mark-run-paid", "--run", "2", "--reference-prefix", "MPESA"])

    assert result.exit_code == 1 and "No such payout run." in result.output
    paid = runner.invoke(args=["mark-run-paid", "--run", "1", "--reference-prefix", "MPESA"])
    assert paid.exit_code == 0 and "1 statements marked paid." in paid.output
    assert db.session.scalars(sa.select(Payout.reference)).all() == ["MPESA-1"]
