"""`make run` starts the Procfile's processes (web, SMS worker, scheduler) and, with a short
configured schedule, sends an expiry reminder and lapses a session when their time comes; stopping
it stops every process it started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Seconds from when the data is made until the reminder and the lapse are due: long enough for
# `make run` to seed the demo data and start its five processes on a busy machine first.
DUE_IN = 75

PREPARE = """
import json, sys
from datetime import UTC, datetime, timedelta
from flask_migrate import upgrade
from marketplace.app import create_app
from marketplace.services import reference
from tests.builders import Builders

due = datetime.now(UTC) + timedelta(seconds=float(sys.argv[1]))
app = create_app()
with app.app_context():
    upgrade()
    reference.load_reference_data()
    build = Builders(app)
    programme = build.programme(validity_days=90, confirmation_window_hours=24)
    # Reminded 7 days (EXPIRY_REMINDER_DAYS) before it expires: at `due`.
    voucher = build.voucher(programme, now=due - timedelta(days=83))
    # Lapsed when its 24-hour window ends: at `due`.
    booking = build.booking(build.voucher(programme))
    session = build.recorded_session(booking, now=due - timedelta(hours=24))
    print(json.dumps({"due": due.timestamp(), "voucher": voucher.id, "session": session.id, "phone": voucher.entrepreneur.phone}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def query(db_file: Path, sql: str) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(db_file, timeout=30) as conn:
        return conn.execute(sql).fetchall()


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def tail(folder: Path) -> str:
    return (folder / "make-run.log").read_text()[-4000:]


def healthz(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return json.loads(r.read())
    except OSError:
        return None


@pytest.mark.skipif(sys.platform != "linux", reason="process groups as on Linux")
def test_make_run_sends_an_expiry_reminder_and_lapses_a_session_when_their_time_comes(tmp_path):
    db_file = tmp_path / "ujuzi.sqlite"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEDULE_", "TEST_DATABASE"))}
    env |= {
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{db_file}",
        "SMS_BACKEND": "console",
        "PORT": str(port),
        "SCHEDULE_SEND_EXPIRY_REMINDERS": "2s",
        "SCHEDULE_LAPSE_SESSIONS": "2s",
        "SCHEDULER_TICK_SECONDS": "0.5",
        "PYTHONUNBUFFERED": "1",
        "AUDIT_CHECKPOINT_PATH": str(tmp_path / "audit-checkpoints.log"),
    }
    # The virtualenv up to date first (a no-op unless pyproject.toml or the lock changed since).
    subprocess.run(
        ["make", "--no-print-directory", "install"], cwd=ROOT, env=env, check=True, timeout=900
    )
    made = subprocess.run(
        [sys.executable, "-c", PREPARE, str(DUE_IN)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    ids = json.loads(made.stdout.strip().splitlines()[-1])
    due_at = time.monotonic() + (ids["due"] - time.time())
    session_status = f"SELECT status FROM training_sessions WHERE id = {ids['session']}"
    reminders = "SELECT status FROM sms_outbox WHERE kind = 'voucher_expiring'"

    log = (tmp_path / "make-run.log").open("w")
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        started = wait_for(
            lambda: (h := healthz(port)) is not None and h.get("status") == "ok", seconds=DUE_IN
        )
        output = (tmp_path / "make-run.log").read_text()
        assert started, output
        assert wait_for(
            lambda: bool(query(db_file, "SELECT 1 FROM heartbeats WHERE component = 'scheduler'")),
            seconds=max(0.0, due_at - time.monotonic() - 3),
        ), (tmp_path / "make-run.log").read_text()
        # The scheduler is running its jobs; nothing is due yet.
        assert time.monotonic() < due_at - 2, "make run took too long to start for this test"
        assert query(db_file, session_status) == [("recorded",)]
        assert query(db_file, reminders) == []

        assert wait_for(
            lambda: query(db_file, session_status) == [("lapsed",)], seconds=DUE_IN + 20
        ), (query(db_file, "SELECT job, outcome, counts, detail FROM job_runs"), tail(tmp_path))
        assert wait_for(lambda: query(db_file, reminders) == [("sent",)], seconds=20)
        assert time.monotonic() >= due_at - 1  # not before their time
        # The web server's metrics add up its processes' counters (multiprocess mode) and read the
        # jobs from the database.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            scraped = r.read().decode()
        assert 'ujuzi_http_requests_total{kind="ops",status="2xx"}' in scraped
        assert 'ujuzi_job_runs_total{job="lapse-sessions",outcome="succeeded"}' in scraped
        assert 'ujuzi_sms_sent_total{kind="voucher_expiring"} 1.0' in scraped
        assert ids["phone"].lstrip("+") not in scraped
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        try:
            make.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait(timeout=10)
        log.close()
    output = (tmp_path / "make-run.log").read_text()
    assert "expires on" in output, output[-3000:]  # the console gateway printed the reminder

    def group_left() -> list[str]:
        found = subprocess.run(["pgrep", "-g", str(make.pid)], capture_output=True, text=True)
        return found.stdout.split()

    # honcho stops its processes (TERM, then KILL after a few seconds) as make ends.
    assert wait_for(lambda: group_left() == [], seconds=15), group_left()
    assert healthz(port) is None
