"""Payouts benchmark: N providers paid by M-Pesa B2C through the Daraja stand-in, with callbacks.

The real path end to end: a payout run of N statements (one per provider, each with an approved
M-Pesa number), a payment queued for each by `services/payments.queue_run`, sent by the real
sender (`payments/sender.py`, as `flask payouts worker` runs it) through the real `mpesa` backend
(OAuth, SecurityCredential, B2C v3) to `bench/mpesa_standin.py` in its own process, whose results
and timeout notices are posted to the app's real callback routes served by gunicorn
(`gunicorn.conf.py`). The stand-in loses a share of the results (`--lose-rate`, 5%) and answers
another share with a queue timeout and no result (`--timeout-rate`, 2%): those are settled by
reconciliation (Transaction Status), which asks once a payment has waited `--result-wait` seconds.

Measured: the time until every payment is final, payments per second, and from the stand-in's
ledger: every payment debited exactly once, nothing failed that it completed.

    .venv/bin/python bench/payouts.py                   # 20,000 providers
    .venv/bin/python bench/payouts.py --providers 2000  # a quicker look
    BENCH_PAYOUTS_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ujuzi_bench_payouts (default)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sms_worker import ensure_database, free_port  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ujuzi_bench_payouts"
SECRET = "bench-callback-secret-0123456789"


@dataclass(frozen=True)
class Account:
    kind: str
    msisdn: str | None


def start(cmd: list[str], env: dict[str, str], ready: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if ready in line:
            return proc, line
    proc.kill()
    raise RuntimeError(f"{cmd[0]} did not start")


def wait_http(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def fill(app, providers: int) -> tuple[int, dict[int, Account]]:  # type: ignore[no-untyped-def]
    """N approved providers (bulk inserted), a payout run with a statement each."""
    import sqlalchemy as sa

    from marketplace.domain.models import Payout, PayoutRun, Provider, Region
    from marketplace.extensions import db
    from marketplace.services import reference

    now = datetime.now(UTC)
    with app.app_context():
        reference.load_reference_data("KE")
        region = db.session.scalar(sa.select(Region.code).limit(1))
        db.session.execute(
            sa.insert(Provider),
            [
                {
                    "number": f"B{i:07d}",
                    "kind": "craft_worker",
                    "name": f"Fundi Bench {i}",
                    "phone": f"+2547{i:08d}",
                    "region_code": region,
                    "capacity": 5,
                    "status": "approved",
                    "created_at": now,
                    "approved_at": now,
                }
                for i in range(1, providers + 1)
            ],
        )
        ids = db.session.scalars(sa.select(Provider.id).order_by(Provider.id)).all()
        run = PayoutRun(
            currency="KES", period_start=now, period_end=now, created_at=now,
            created_by="bench", total_minor=0,
        )  # fmt: skip
        db.session.add(run)
        db.session.flush()
        amounts = [(500 + (i % 20) * 250) * 100 for i in range(len(ids))]
        db.session.execute(
            sa.insert(Payout),
            [
                {
                    "run_id": run.id,
                    "provider_id": pid,
                    "amount_minor": amount,
                    "currency": "KES",
                    "sessions_count": 1 + i % 4,
                    "status": "pending",
                }
                for i, (pid, amount) in enumerate(zip(ids, amounts, strict=True))
            ],
        )
        run.total_minor = sum(amounts)
        db.session.commit()
        accounts = {pid: Account("mpesa", f"+2547{i:08d}") for i, pid in enumerate(ids, start=1)}
        return run.id, accounts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--providers", type=int, default=20_000)
    parser.add_argument("--lose-rate", type=float, default=0.05)
    parser.add_argument("--timeout-rate", type=float, default=0.02)
    parser.add_argument("--result-delay", type=float, default=0.3)
    parser.add_argument("--result-wait", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=None, help="PAYMENTS_CONCURRENCY")
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()
    url = os.environ.get("BENCH_PAYOUTS_DATABASE_URL", DEFAULT_URL)
    ensure_database(url)

    standin_port, web_port = free_port(), free_port()
    standin, line = start(
        [
            sys.executable, str(ROOT / "bench" / "mpesa_standin.py"), "--port", str(standin_port),
            "--lose-rate", str(args.lose_rate), "--timeout-rate", str(args.timeout_rate),
            "--result-delay", str(args.result_delay), "--seed", "18",
        ],
        dict(os.environ),
        "Daraja stand-in",
    )  # fmt: skip
    cert = line.rsplit("certificate ", 1)[1].strip()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SMS_BACKEND": "fake",
        "PAYMENTS_BACKEND": "mpesa",
        "MPESA_BASE_URL": f"http://127.0.0.1:{standin_port}",
        "MPESA_CONSUMER_KEY": "standin-key",
        "MPESA_CONSUMER_SECRET": "standin-secret",
        "MPESA_SHORTCODE": "600999",
        "MPESA_INITIATOR_NAME": "ujuzi-api",
        "MPESA_INITIATOR_PASSWORD": "Pa55#word",
        "MPESA_CERT_PATH": cert,
        "MPESA_CALLBACK_SECRET": SECRET,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
        "WEB_CONCURRENCY": str(args.web_workers),
        "LOG_LEVEL": "WARNING",
    }
    if args.concurrency:
        env["PAYMENTS_CONCURRENCY"] = str(args.concurrency)
    web = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py",
         "--bind", f"127.0.0.1:{web_port}", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{web_port}/healthz")
        os.environ.update(env)
        from marketplace.app import create_app

        app = create_app()
        app.config["PAYMENTS_WAITS"] = {"result": args.result_wait, "timeout": 5.0}
        run_id, accounts = fill(app, args.providers)
        report(app, run_id, accounts, args, standin_port)
    finally:
        for proc in (web, standin):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def report(app, run_id: int, accounts: dict[int, Account], args, standin_port: int) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from marketplace.domain.models import Payment, PaymentCallback, PaymentChannel
    from marketplace.extensions import db
    from marketplace.services import payments
    from payments import sender

    with app.app_context():
        concurrency = int(app.config["PAYMENTS_CONCURRENCY"])
        gateways = app.extensions["payments"]
        started = time.monotonic()
        queued = payments.queue_run(run_id, "mpesa", accounts)
        queued_at = time.monotonic()
        sent_done = None
        asked = 0
        while True:
            counts = sender.send_due(gateways, concurrency=concurrency)
            asked += sender.reconcile(gateways).asked
            db.session.remove()
            states = dict(
                db.session.execute(
                    sa.select(Payment.state, sa.func.count()).group_by(Payment.state)
                ).all()
            )
            if sent_done is None and not states.get("queued") and not states.get("submitting"):
                sent_done = time.monotonic()
            if sum(v for k, v in states.items() if k not in ("succeeded", "failed")) == 0:
                break
            if not counts.sent:
                time.sleep(0.5)
        settled = time.monotonic()
        callbacks = Counter(
            dict(
                db.session.execute(
                    sa.select(PaymentCallback.kind, sa.func.count()).group_by(PaymentCallback.kind)
                ).all()
            )
        )
        channel = db.session.get(PaymentChannel, "mpesa")
        token_fetches = channel.token_fetches if channel else 0
        ours = {p.originator_id: p.state for p in db.session.scalars(sa.select(Payment))}
    with urllib.request.urlopen(f"http://127.0.0.1:{standin_port}/__standin/payments") as answer:
        theirs = json.load(answer)
    completed = Counter(p["OriginatorConversationID"] for p in theirs if p["status"] == "completed")
    doubles = sum(1 for n in completed.values() if n > 1)
    failed_but_completed = sum(1 for oid in completed if ours.get(oid) != "succeeded")
    scenarios = Counter(p["scenario"] for p in theirs)
    total = settled - started
    print(f"providers paid:            {queued:,} (queued in {queued_at - started:.1f} s)")
    print(
        f"concurrency:               {concurrency} requests in flight, {args.web_workers} web processes"
    )
    print(f"stand-in scenarios:        {dict(scenarios)}")
    print(f"all sent after:            {(sent_done or settled) - started:.1f} s")
    print(f"every payment final after: {total:.1f} s ({queued / total:.0f} payments/s overall)")
    print(
        f"sending rate:              {queued / ((sent_done or settled) - queued_at):.0f} payments/s"
    )
    print(f"final states:              {dict(Counter(ours.values()))}")
    print(f"status queries:            {asked:,}; callbacks stored: {dict(callbacks)}")
    print(f"token fetches:             {token_fetches}")
    print(f"double payments:           {doubles}; failed but completed: {failed_but_completed}")
    print(f"debits at the stand-in:    {sum(completed.values()):,} for {len(ours):,} payments")
    assert doubles == 0 and failed_but_completed == 0
    assert set(ours.values()) <= {"succeeded", "failed"}


if __name__ == "__main__":
    main()
