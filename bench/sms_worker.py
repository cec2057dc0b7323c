"""SMS worker benchmark: drain N outbox rows into a local stand-in of Africa's Talking.

The real worker (`sms.worker.drain`, as `flask sms-worker` runs it) and the real
`AfricasTalkingGateway` (the official SDK over HTTP) send to `bench/gateway_standin.py`, started
on 127.0.0.1 in its own process, from a PostgreSQL database this script builds (`flask db
upgrade`). The outbox holds a mix like real traffic: reminders many people get word for word, and
texts of their own (voucher codes, replies). Measured with one worker, then with two worker
processes draining the same outbox together. Target: at least 1,000 messages a second.

    .venv/bin/python bench/sms_worker.py                  # 20,000 messages
    .venv/bin/python bench/sms_worker.py --rows 5000      # a quicker look
    BENCH_SMS_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ujuzi_bench_sms (default)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ujuzi_bench_sms"
TARGET_PER_SECOND = 1000.0
SHARED_SHARE = 0.5  # half the traffic is a text many people get word for word


def psycopg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def ensure_database(url: str) -> None:
    import sqlalchemy as sa

    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(
        psycopg_url(url.rsplit("/", 1)[0] + "/postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = sa.create_engine(psycopg_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi", "SMS_BACKEND": "fake"}
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "flask"), "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_standin(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "gateway_standin.py"), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the gateway stand-in did not start")


def make_app(url: str, api_base: str):  # type: ignore[no-untyped-def]
    os.environ.update(
        {
            "DATABASE_URL": url,
            "SMS_BACKEND": "africastalking",
            "AT_USERNAME": "bench",
            "AT_API_KEY": "bench-key",
            "AT_API_BASE": api_base,
        }
    )
    from marketplace.app import create_app

    return create_app()


def fill_outbox(url: str, rows: int, seed: int = 11) -> None:
    """`rows` pending messages: half shared reminders (30 distinct texts), half texts of their
    own, to distinct numbers."""
    import sqlalchemy as sa

    from marketplace.domain.models import OutboxMessage
    from marketplace.messages.gsm import segments

    rnd = random.Random(seed)
    now = datetime.now(UTC)
    shared = [
        f"Ujuzi: voucher expires on {d:02d}/07/2025 with sessions unused. Dial *384*1234# "
        "to book or confirm sessions."
        for d in range(1, 31)
    ]
    batch = []
    for i in range(rows):
        if rnd.random() < SHARED_SHARE:
            body, kind = rnd.choice(shared), "voucher_expiring"
        else:
            body = (
                f"Ujuzi: voucher {700000000 + i} worth KES 4,000 for 4 sessions of training, "
                "to 31/12/2025. Dial *384*1234# to choose a mentor."
            )
            kind = "voucher_issued"
        batch.append(
            {
                "to_phone": f"+2547{10000000 + i:08d}",
                "body": body,
                "kind": kind,
                "segments": segments(body),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    engine = sa.create_engine(psycopg_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE sms_outbox RESTART IDENTITY"))
        for start in range(0, rows, 5000):
            conn.execute(sa.insert(OutboxMessage), batch[start : start + 5000])
    engine.dispose()


def drain_worker(url: str, api_base: str, batch: int, ready, go, result) -> None:  # type: ignore[no-untyped-def]
    """One worker process, as `flask sms-worker --once` runs it; starts when told to."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from marketplace.extensions import db
    from sms import worker

    app = make_app(url, api_base)
    with app.app_context(), Session(db.engine) as session:
        session.execute(sa.text("SELECT 1"))  # connected before the clock starts
        session.rollback()
        gateway = app.extensions["sms_gateway"]
        ready.release()
        go.wait()
        stats = worker.drain(session, gateway, batch_size=batch, max_attempts=8)
    result.put((stats.sent, stats.requests, stats.retried + stats.failed + stats.parked))


def run(url: str, api_base: str, workers: int, batch: int) -> tuple[float, int, int, int]:
    ctx = multiprocessing.get_context("spawn")
    result: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    ready, go = ctx.Semaphore(0), ctx.Event()
    procs = [
        ctx.Process(target=drain_worker, args=(url, api_base, batch, ready, go, result))
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        if not ready.acquire(timeout=120):
            raise RuntimeError("a worker did not start")
    started = time.perf_counter()
    go.set()
    outcomes = [result.get(timeout=600) for _ in procs]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join(30)
    return (
        elapsed,
        sum(o[0] for o in outcomes),
        sum(o[1] for o in outcomes),
        sum(o[2] for o in outcomes),
    )


def check_sent_once(url: str, rows: int) -> None:
    """Every message sent (the stand-in answers every request here, so no outcome is unknown);
    none twice (distinct gateway ids)."""
    import sqlalchemy as sa

    engine = sa.create_engine(psycopg_url(url))
    with engine.connect() as conn:
        sent = conn.scalar(sa.text("SELECT count(*) FROM sms_outbox WHERE status = 'sent'"))
        with_id = conn.scalar(
            sa.text("SELECT count(*) FROM sms_outbox WHERE gateway_message_id IS NOT NULL")
        )
        ids = conn.scalar(sa.text("SELECT count(DISTINCT gateway_message_id) FROM sms_outbox"))
    engine.dispose()
    assert sent == rows, f"expected {rows} sent, got {sent}"
    assert ids == with_id, f"a gateway id was given twice: {with_id} ids, {ids} distinct"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    url = os.environ.get("BENCH_SMS_DATABASE_URL", DEFAULT_URL)
    print(f"database {url}; {args.rows:,} outbox messages, batch {args.batch}", flush=True)
    ensure_database(url)
    port = free_port()
    standin = start_standin(port)
    api_base = f"http://127.0.0.1:{port}"
    figures = []
    try:
        for workers in (1, 2):
            fill_outbox(url, args.rows)
            elapsed, sent, requests, trouble = run(url, api_base, workers, args.batch)
            check_sent_once(url, args.rows)
            rate = sent / elapsed
            figures.append((workers, rate))
            print(
                f"{workers} worker(s): {sent:,} sent in {elapsed:.2f} s = {rate:,.0f} msg/s "
                f"({requests:,} HTTP requests, {trouble} not sent)",
                flush=True,
            )
    finally:
        standin.terminate()
        standin.wait(10)
    best = max(rate for _, rate in figures)
    verdict = "meets" if min(rate for _, rate in figures) >= TARGET_PER_SECOND else "MISSES"
    print(f"target {TARGET_PER_SECOND:,.0f} msg/s: {verdict} (best {best:,.0f} msg/s)")


if __name__ == "__main__":
    main()
