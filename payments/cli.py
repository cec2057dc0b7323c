"""Operators' commands for paying providers: `flask payouts send|reconcile|worker|resume`."""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from marketplace.services import heartbeat, payments

from . import sender

log = logging.getLogger(__name__)

group = AppGroup("payouts", help="Pay providers: send payments, reconcile, run the payment worker.")


def _gateways() -> dict[str, Any]:
    return dict(current_app.extensions["payments"])


@group.command("send")
def send() -> None:
    """Send every payment now due (queued, or sent before with an unknown outcome)."""
    counts = sender.send_due(
        _gateways(), concurrency=int(current_app.config.get("PAYMENTS_CONCURRENCY", 4))
    )
    click.echo(f"sent {counts.sent} in {counts.batches} batches: {counts.by_answer}")


@group.command("reconcile")
def reconcile() -> None:
    """Ask the channel what became of every payment whose outcome is overdue."""
    counts = sender.reconcile(_gateways())
    click.echo(f"asked about {counts.asked}; {counts.settled} bank payments settled")


@group.command("resume")
@click.option("--channel", default=None, help="the channel (default: PAYMENTS_BACKEND)")
def resume(channel: str | None) -> None:
    """Go on paying after a configuration problem (credential, product, funds) was fixed."""
    name = channel or str(current_app.config.get("PAYMENTS_BACKEND"))
    payments.resume(name, "cli")
    click.echo(f"payments by {name} resumed")


def run_worker(should_stop: Any = lambda: False, sleep: Any = time.sleep) -> None:
    """Send what is due and reconcile what is overdue, every `PAYMENTS_TICK_SECONDS`."""
    gateways = _gateways()
    tick = float(current_app.config.get("PAYMENTS_TICK_SECONDS", 5.0))
    concurrency = int(current_app.config.get("PAYMENTS_CONCURRENCY", 4))
    beat = heartbeat.Beater("payments", heartbeat.instance_name())
    log.info("payment worker started: %s", ", ".join(gateways))
    while not should_stop():
        try:
            beat()
            sent = sender.send_due(gateways, concurrency=concurrency, max_batches=20)
            sender.reconcile(gateways)
        except sa.exc.OperationalError:
            log.exception("database trouble; retrying shortly")
            sent = sender.Counts()
        if not sent.sent:
            sleep(tick)


@group.command("worker")
def worker() -> None:
    """The payment worker (a Procfile process): runs until stopped."""
    stopping = []

    def stop(*_: Any) -> None:
        stopping.append(True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    run_worker(lambda: bool(stopping))


def register(app: Flask) -> None:
    app.cli.add_command(group)
