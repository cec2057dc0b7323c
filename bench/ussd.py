"""USSD hop benchmark: the real menus on PostgreSQL against a bare Flask endpoint, side by side.

Builds its own database (`flask db upgrade`), seeds thousands of entrepreneurs (through the real
voucher import) and providers (bulk inserts), starts gunicorn twice on 127.0.0.1 with the same
settings (the app, and bench/bare_app.py), then drives realistic multi-hop sessions at 16 concurrent
keep-alive connections for a bounded time, the two servers taking turns (bare, hop, hop, bare, ...)
so that a machine whose speed drifts weighs on both alike: main menu -> my vouchers, and find ->
trade -> area -> list -> next page (`--mix mentor`: mentors' phones instead, each with trainees
booked: my trainees, my sessions, my money, the codes waiting, and the steps of recording a session
up to its duration). Prints requests/s of both, their ratio (target >= 0.4), the
hop latency p50/p99 (target p99 < 50 ms) and the CPU each side used per request (app server,
PostgreSQL backends, load generator), which shows where a hop's cost goes even when the machine is
shared. Then it paces the hop alone at `--rate` requests a second (300 by default: DESIGN's "few
hundred hops a second" peak), counting each latency from when the request was due.
Loopback only; it stops its servers by itself.

    .venv/bin/python bench/ussd.py                  # 20 s per side, in 3 turns each
    .venv/bin/python bench/ussd.py --seconds 5      # a quicker look
    .venv/bin/python bench/ussd.py --reuse          # keep the database of the last run
    .venv/bin/python bench/ussd.py --mix mentor     # mentors' menus instead of entrepreneurs'
    BENCH_USSD_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ujuzi_bench_ussd (default)
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ujuzi_bench_ussd"
SECRET = "bench-callback-secret-0123456789"
SERVICE_CODE = "*384*1234#"
CONNECTIONS = 16
PROCESSES = 4
TRADES = ("tailoring", "carpentry", "metalwork", "hairdressing")
REGIONS = ("nairobi", "mombasa", "kisumu", "nakuru", "kiambu")
RATIO_TARGET = 0.4
P99_TARGET_MS = 50.0
# A session is a list of `text` values, one per hop, as the gateway accumulates them.
SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("", "1"),  # main menu -> my vouchers
    ("", "2", "2*1", "2*1*1", "2*1*1*9"),  # find -> own trade -> own area -> list -> next page
)  # `--session` replaces them, to see what one kind of hop costs
MENTOR_SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("", "1"),  # mentor menu -> my trainees
    ("", "4"),  # my sessions
    ("", "5"),  # my money
    ("", "3"),  # the sessions waiting for a trainee's code
    ("", "2", "2*1", "2*1*1"),  # record: a trainee -> the day -> today (the duration asked)
)
TRAINEES_PER_MENTOR = 3


# --------------------------------------------------------------------------- database


def _engine(url: str):  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def prepare_database(url: str) -> None:
    import sqlalchemy as sa

    name = url.rsplit("/", 1)[1]
    admin = _engine(url.rsplit("/", 1)[0] + "/postgres").execution_options(
        isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "flask"), "db", "upgrade"],
        cwd=ROOT,
        env=server_env(url),
        check=True,
        capture_output=True,
    )


def seed(url: str, entrepreneurs: int, providers: int) -> list[str]:
    """Entrepreneurs with vouchers through the real import; providers by bulk insert."""
    os.environ.update(server_env(url))
    import sqlalchemy as sa

    from marketplace.app import create_app
    from marketplace.domain.models import Entrepreneur, Provider, provider_trades
    from marketplace.extensions import db
    from marketplace.services import issuance, programmes, reference
    from marketplace.services.programmes import NewProgramme

    rnd = random.Random(11)
    app = create_app()
    with app.app_context():
        reference.load_reference_data("KE")
        programme = programmes.create_programme(
            NewProgramme(
                name="Bench programme",
                funder="Bench Fund",
                currency="KES",
                voucher_value_minor=400_000,
                sessions_per_voucher=4,
                validity_days=365,
                budget_minor=400_000 * entrepreneurs * 2,
                co_payment_percent=10,
            ),
            "bench",
        )
        lines = ["phone,name,gender,birth_year,trade,region,language"]
        for i in range(entrepreneurs):
            lines.append(
                f"+2547{10_000_000 + i:08d},Amina Wanjiru {i},female,1990,"
                f"{rnd.choice(TRADES)},{rnd.choice(REGIONS)},{rnd.choice(('en', 'sw'))}"
            )
        report = issuance.import_vouchers(programme.id, "\n".join(lines) + "\n", "bench")
        assert report.ok, report.errors[:3]
        now = datetime.now(UTC)
        counts = [rnd.randint(0, 10) for _ in range(providers)]
        db.session.execute(
            sa.insert(Provider),
            [
                {
                    "number": f"{10_000 + i}",
                    "kind": rnd.choice(("craft_worker", "institute")),
                    "name": f"Fundi Mkuu {i}",
                    "phone": f"+2541{10_000_000 + i:08d}",
                    "region_code": rnd.choice(REGIONS),
                    "town": "Town",
                    "capacity": 10,
                    "active_bookings": 0,
                    "status": "approved",
                    "rating_sum": sum(rnd.randint(1, 5) for _ in range(counts[i])),
                    "rating_count": counts[i],
                    "created_at": now,
                    "approved_at": now,
                }
                for i in range(providers)
            ],
        )
        ids = db.session.scalars(sa.select(Provider.id)).all()
        db.session.execute(
            sa.insert(provider_trades),
            [{"provider_id": pid, "trade_code": TRADES[pid % len(TRADES)]} for pid in ids],
        )
        db.session.commit()
        db.session.execute(sa.text("ANALYZE providers, provider_trades, entrepreneurs, vouchers"))
        db.session.commit()
        return list(db.session.scalars(sa.select(Entrepreneur.phone)))


def seed_mentors(url: str, mentors: int) -> list[str]:
    """Give `mentors` providers their staff account (the provider's own phone) and three trainees
    each (bookings of free vouchers, numbered 1-3), once; the mentors' phones."""
    import sqlalchemy as sa

    engine = _engine(url)
    with engine.begin() as conn:
        if not conn.scalar(sa.text("SELECT count(*) FROM provider_staff")):
            conn.execute(
                sa.text(
                    "INSERT INTO provider_staff (provider_id, name, phone, language, active,"
                    " session_epoch, created_at) SELECT id, name, phone, 'en', true, 0, now()"
                    " FROM providers ORDER BY id LIMIT :n"
                ),
                {"n": mentors},
            )
            conn.execute(
                sa.text(
                    "WITH mentor AS (SELECT provider_id, row_number() OVER (ORDER BY"
                    " provider_id) - 1 AS m FROM provider_staff),"
                    " voucher AS (SELECT id, programme_id, row_number() OVER (ORDER BY id) - 1"
                    " AS v FROM vouchers WHERE status = 'issued')"
                    " INSERT INTO bookings (voucher_id, provider_id, programme_id, provider_kind,"
                    " status, channel, trainee_no, created_at)"
                    " SELECT voucher.id, mentor.provider_id, voucher.programme_id, p.kind,"
                    " 'active', 'ussd', voucher.v % :k + 1, now()"
                    " FROM mentor JOIN voucher ON voucher.v / :k = mentor.m"
                    " JOIN providers p ON p.id = mentor.provider_id"
                ),
                {"k": TRAINEES_PER_MENTOR},
            )
            conn.execute(
                sa.text(
                    "UPDATE vouchers SET status = 'booked' WHERE id IN"
                    " (SELECT voucher_id FROM bookings WHERE status = 'active')"
                )
            )
            conn.execute(
                sa.text(
                    "UPDATE providers SET active_bookings = (SELECT count(*) FROM bookings b"
                    " WHERE b.provider_id = providers.id AND b.status = 'active')"
                )
            )
            conn.execute(sa.text("ANALYZE provider_staff, bookings, vouchers, providers"))
        phones = list(conn.scalars(sa.text("SELECT phone FROM provider_staff")))
    engine.dispose()
    return phones


def existing_phones(url: str) -> list[str]:
    import sqlalchemy as sa

    engine = _engine(url)
    with engine.connect() as conn:
        phones = list(conn.scalars(sa.text("SELECT phone FROM entrepreneurs")))
    engine.dispose()
    return phones


EXPIRED_SESSIONS = 30_000  # about ten minutes of sessions at the design's peak


def steady_state(url: str) -> None:
    """The session table as production's housekeeping keeps it between runs: the sessions of
    earlier runs are long expired and deleted (`flask ops prune-ussd-sessions`), and vacuum has
    left their space to the new ones (autovacuum's work; some machines run PostgreSQL with it
    off), so new sessions fill pages the table already has. A table truncated instead, or new,
    would grow by a page every few sessions, which production's does not: a fresh database gets
    `EXPIRED_SESSIONS` synthetic expired sessions first, deleted like the rest. VACUUM is told not
    to cut the emptied pages off the file, which it would do here since every row goes at once
    (production's prunes remove the oldest sessions, never all of them)."""
    import sqlalchemy as sa

    engine = _engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        pages = conn.scalar(sa.text("SELECT pg_relation_size('ussd_sessions') / 8192"))
        if pages < EXPIRED_SESSIONS // 4:  # about four sessions a page at fillfactor 50
            conn.execute(
                sa.text(
                    "INSERT INTO ussd_sessions (session_id, phone, state, last_text, last_reply,"
                    " hops, created_at, updated_at)"
                    " SELECT 'expired_' || n || '_' || md5(random()::text), '+254700000000',"
                    " jsonb_build_object('screen', 'find.list', 'pad', repeat('x', 600)),"
                    " '2*1*1', repeat('y', 140), 4, now() - interval '1 day',"
                    " now() - interval '1 day' FROM generate_series(1, :n) AS n"
                ),
                {"n": EXPIRED_SESSIONS},
            )
        conn.execute(sa.text("DELETE FROM ussd_sessions"))
        conn.execute(sa.text("VACUUM (TRUNCATE false, ANALYZE) ussd_sessions"))
        conn.execute(sa.text("VACUUM ANALYZE impressions, providers, provider_trades"))
    engine.dispose()


# --------------------------------------------------------------------------- servers


def server_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "FLASK_APP": "wsgi",
        "SMS_BACKEND": "fake",
        "AT_CALLBACK_SECRET": SECRET,
        "USSD_SERVICE_CODE": SERVICE_CODE,
        "APP_ENV": "development",
        "DB_POOL_SIZE": "10",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


WORKER_CLASS = "gthread"


def start_gunicorn(
    target: str, port: int, env: dict[str, str], workers: int, threads: int
) -> subprocess.Popen[bytes]:
    cmd = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        WORKER_CLASS,
        *(["--threads", str(threads)] if WORKER_CLASS == "gthread" else []),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
        target,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    stop(proc)
    raise RuntimeError(f"gunicorn {target} did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


# --------------------------------------------------------------------------- load


def _client(args: tuple[int, int, float, list[str], int, float, mp.Queue]) -> None:  # type: ignore[type-arg]
    import threading

    port, threads, seconds, phones, seed_, interval, out = args
    run_id = f"{os.getpid()}_{time.time_ns()}"  # --reuse keeps old sessions: never meet them
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def run(n: int) -> None:
        rnd = random.Random(seed_ * 100 + n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        bad = 0
        session = 0
        # Paced (`interval` > 0): each request is due at its time, and its latency counts from
        # then, so a server that falls behind is not excused by the client waiting for it.
        due = time.perf_counter() + rnd.random() * interval
        while time.monotonic() < stop_at:
            session += 1
            sid = f"bench_{run_id}_{n}_{session}"
            phone = rnd.choice(phones)
            for text in rnd.choice(SCRIPTS):
                body = urlencode(
                    {
                        "sessionId": sid,
                        "serviceCode": SERVICE_CODE,
                        "phoneNumber": phone,
                        "networkCode": "63902",
                        "text": text,
                    }
                )
                if interval:
                    time.sleep(max(0.0, due - time.perf_counter()))
                    started, due = due, due + interval
                else:
                    started = time.perf_counter()
                try:
                    conn.request(
                        "POST",
                        f"/at/{SECRET}/ussd",
                        body=body,
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                    )
                    response = conn.getresponse()
                    answer = response.read()
                except (OSError, http.client.HTTPException):
                    bad += 1
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    continue
                mine.append(time.perf_counter() - started)
                if response.status != 200 or not answer.startswith((b"CON ", b"END ")):
                    bad += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((latencies, errors[0]))


def _cpu_seconds(match) -> float:  # type: ignore[no-untyped-def]
    """CPU time (user + system) of the processes whose (pgid, command line) `match` accepts."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if match(int(fields[2]), cmdline):
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure(
    port: int, seconds: float, phones: list[str], server_pgid: int, database: str
) -> dict[str, Any]:
    """Drive the server and account the CPU each side used per request."""

    def server(pgid: int, _cmd: str) -> bool:
        return pgid == server_pgid

    def backends(_pgid: int, cmd: str) -> bool:
        return cmd.startswith("postgres:") and f" {database} " in cmd

    before = (_cpu_seconds(server), _cpu_seconds(backends), _children_cpu())
    result = drive(port, seconds, phones)
    after = (_cpu_seconds(server), _cpu_seconds(backends), _children_cpu())
    n = max(result["requests"], 1)
    for key, b, a in zip(("app_cpu_ms", "db_cpu_ms", "client_cpu_ms"), before, after, strict=True):
        result[key] = (a - b) / n * 1000
    return result


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def drive(port: int, seconds: float, phones: list[str], rate: float = 0.0) -> dict[str, Any]:
    """Closed loop (each connection sends as soon as it has its answer), or paced at `rate`
    requests a second in all."""
    out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    per = CONNECTIONS // PROCESSES
    interval = CONNECTIONS / rate if rate else 0.0
    procs = [
        mp.Process(target=_client, args=((port, per, seconds, phones, i, interval, out),))
        for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    latencies: list[float] = []
    errors = 0
    for _ in procs:
        lat, err = out.get()
        latencies.extend(lat)
        errors += err
    for p in procs:
        p.join()
    return summary(latencies, errors, seconds)


def summary(latencies: list[float], errors: int, seconds: float) -> dict[str, Any]:
    latencies = sorted(latencies)
    n = len(latencies)
    return {
        "requests": n,
        "rps": n / seconds,
        "errors": errors,
        "p50_ms": statistics.median(latencies) * 1000 if n else 0.0,
        "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0,
        "latencies": latencies,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_USSD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--entrepreneurs", type=int, default=20_000)
    parser.add_argument("--providers", type=int, default=4_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--rate",
        type=float,
        default=300.0,
        help="then the hop alone, paced at this many requests a second (0: skip)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="turns each side takes (the seconds are shared among them)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database of the last run instead of building it again",
    )
    parser.add_argument(
        "--session",
        action="append",
        metavar="TEXTS",
        help="a session to drive instead of the realistic mix, its hops' `text` joined by '|' "
        "('|' alone: the opening menu only; '|1': main menu -> my vouchers); repeatable. "
        "It shows what each kind of hop costs; the targets are for the default mix",
    )
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument(
        "--mix",
        choices=("entrepreneur", "mentor"),
        default="entrepreneur",
        help="whose phones dial: entrepreneurs (the targets are for this mix) or mentors",
    )
    parser.add_argument("--mentors", type=int, default=2_000, help="mentors with trainees")
    args = parser.parse_args()
    global WORKER_CLASS, SCRIPTS
    WORKER_CLASS = args.worker_class
    if args.session:
        SCRIPTS = tuple(tuple(texts.split("|")) for texts in args.session)
        print(f"sessions driven: {SCRIPTS} (not the realistic mix: the targets do not apply)")
    if not args.url.startswith("postgres"):
        print("bench/ussd.py measures PostgreSQL; give a postgresql:// URL", file=sys.stderr)
        return 2

    t0 = time.monotonic()
    if args.reuse:
        phones = existing_phones(args.url)
        print(f"reusing {len(phones):,} entrepreneurs")
    else:
        prepare_database(args.url)
        phones = seed(args.url, args.entrepreneurs, args.providers)
        print(
            f"seeded {len(phones):,} entrepreneurs and {args.providers:,} providers "
            f"in {time.monotonic() - t0:.1f} s"
        )

    if args.mix == "mentor":
        phones = seed_mentors(args.url, args.mentors)
        if not args.session:
            SCRIPTS = MENTOR_SCRIPTS
        print(f"mentors' menus: {len(phones):,} mentors, {TRAINEES_PER_MENTOR} trainees each")

    steady_state(args.url)
    env = server_env(args.url)
    targets = {"bare Flask": "bare_app:app", "USSD hop": "wsgi:app"}
    servers: dict[str, tuple[int, subprocess.Popen[bytes]]] = {}
    slices: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    try:
        for name, target in targets.items():
            port = free_port()
            server_env_ = (
                {**env, "PYTHONPATH": str(ROOT / "bench")} if name == "bare Flask" else env
            )
            servers[name] = (
                port,
                start_gunicorn(target, port, server_env_, args.workers, args.threads),
            )
            drive(port, 2.0, phones)  # warm up: imports, pools, caches
        # Both servers stay up and take turns (bare, hop, hop, bare, ...): a machine whose speed
        # drifts during the run weighs on both sides alike.
        names = list(targets)
        for round_ in range(args.rounds):
            for name in names if round_ % 2 == 0 else names[::-1]:
                port, proc = servers[name]
                slices[name].append(
                    measure(
                        port,
                        args.seconds / args.rounds,
                        phones,
                        proc.pid,
                        args.url.rsplit("/", 1)[1],
                    )
                )
        paced = None
        if args.rate:
            port, _proc = servers["USSD hop"]
            paced = drive(port, args.seconds / args.rounds, phones, rate=args.rate)
    finally:
        for _port, proc in servers.values():
            stop(proc)
    results = {}
    for name, parts in slices.items():
        r = summary(
            [x for part in parts for x in part["latencies"]],
            sum(part["errors"] for part in parts),
            args.seconds,
        )
        for key in ("app_cpu_ms", "db_cpu_ms", "client_cpu_ms"):
            spent = sum(part[key] * part["requests"] for part in parts)
            r[key] = spent / max(r["requests"], 1)
        results[name] = r
        print(
            f"{name:11s} {r['rps']:8.0f} req/s  p50 {r['p50_ms']:6.1f} ms  "
            f"p99 {r['p99_ms']:6.1f} ms  ({r['requests']:,} requests, {r['errors']} errors)"
        )
        print(
            f"{'':11s} CPU per request: app {r['app_cpu_ms']:.2f} ms, PostgreSQL "
            f"{r['db_cpu_ms']:.2f} ms, load generator {r['client_cpu_ms']:.2f} ms"
        )
        print(f"{'':11s} per turn: " + ", ".join(f"{part['rps']:.0f}" for part in parts) + " req/s")

    if paced is not None:
        print(
            f"USSD hop paced at {args.rate:.0f} req/s (DESIGN's peak: a few hundred): "
            f"{paced['rps']:.0f} req/s served, p50 {paced['p50_ms']:.1f} ms, "
            f"p99 {paced['p99_ms']:.1f} ms, {paced['errors']} errors"
        )
    ratio = results["USSD hop"]["rps"] / results["bare Flask"]["rps"]
    p99 = results["USSD hop"]["p99_ms"]
    cost = {
        name: r["app_cpu_ms"] + r["db_cpu_ms"] + r["client_cpu_ms"] for name, r in results.items()
    }
    print(
        f"CPU per request, all processes: bare {cost['bare Flask']:.2f} ms, USSD "
        f"{cost['USSD hop']:.2f} ms: on an otherwise idle machine the ratio tends to "
        f"{cost['bare Flask'] / cost['USSD hop']:.2f}"
    )
    print(
        f"ratio USSD/bare: {ratio:.2f} (target >= {RATIO_TARGET})  "
        f"USSD p99: {p99:.1f} ms (target < {P99_TARGET_MS:.0f} ms)  "
        f"{CONNECTIONS} connections, gunicorn {args.workers} workers x {args.threads} threads, "
        f"{args.seconds:.0f} s each in {args.rounds} turns"
    )
    ok = (
        ratio >= RATIO_TARGET
        and p99 < P99_TARGET_MS
        and not any(r["errors"] for r in results.values())
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
