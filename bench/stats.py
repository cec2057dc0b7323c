"""Benchmark: the funder statistics endpoint over 1,000,000 vouchers on PostgreSQL.

Loads a national-scale programme into its own database (ujuzi_bench_stats) with set-based SQL
(generate_series, so the load takes a minute or two rather than hours), then times
GET /api/v1/programmes/<id>/stats through the Flask test client: a warm-up call, then several
timed calls, unfiltered and with each filter. Prints the median and p95 of each.

    .venv/bin/python bench/stats.py                 # load (if not loaded) and time
    .venv/bin/python bench/stats.py --reload        # drop everything and load again
    .venv/bin/python bench/stats.py --vouchers 100000 --calls 10

BENCH_DATABASE_URL overrides postgresql://postgres@127.0.0.1:5432/ujuzi_bench_stats.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ujuzi_bench_stats"
PROVIDERS = 20_000
FUNDER = "National Skills Fund"

# Every voucher's fate follows from a hash of its id (deterministic, no Python loop over rows).
# bucket = (id * 2654435761) % 100:
#   0-9 issued | 10-19 booked | 20-44 in progress | 45-84 completed | 85-94 expired | 95-99 revoked
LOAD_SQL = """
CREATE TEMP TABLE plan AS
SELECT i AS id, (i::bigint * 2654435761) % 100 AS bucket,
       timestamp '2024-01-01' + interval '8 hours' + ((i % 540) || ' days')::interval
           + ((i % 600) || ' minutes')::interval AS issued_at
FROM generate_series(1, :n) AS i;

INSERT INTO providers (id, number, kind, name, phone, region_code, town, capacity,
                       active_bookings, status, rating_sum, rating_count,
                       created_at, approved_at)
SELECT i, lpad(i::text, 5, '0'),
       CASE WHEN i % 10 < 7 THEN 'craft_worker' ELSE 'institute' END,
       CASE WHEN i % 10 < 7 THEN 'Fundi Workshop ' ELSE 'Training Institute ' END || i,
       '+2547' || lpad(i::text, 8, '0'),
       (SELECT array_agg(code ORDER BY code) FROM regions)[1 + i % (SELECT count(*) FROM regions)],
       'Town', 1000, 0, 'approved', 0, 0, timestamp '2023-12-01', timestamp '2023-12-02'
FROM generate_series(1, :providers) AS i;

INSERT INTO entrepreneurs (id, phone, name, gender, birth_year, trade_code, region_code,
                           language, sms_opt_out, created_at)
SELECT i, '+2541' || lpad(i::text, 8, '0'), 'Bench Person',
       CASE WHEN i % 20 = 0 THEN 'other' WHEN i % 2 = 0 THEN 'female' ELSE 'male' END,
       1960 + (i * 7) % 45,
       (SELECT array_agg(code ORDER BY code) FROM trades)[1 + (i * 13) % (SELECT count(*) FROM trades)],
       (SELECT array_agg(code ORDER BY code) FROM regions)[1 + (i * 31) % (SELECT count(*) FROM regions)],
       'en', false, timestamp '2023-12-15'
FROM generate_series(1, :n) AS i;

INSERT INTO vouchers (id, code, programme_id, entrepreneur_id, status, value_minor, currency,
                      sessions_total, sessions_confirmed, import_key, issued_at, expires_at,
                      booked_at, completed_at, ended_at)
SELECT p.id, 'B' || lpad(p.id::text, 10, '0'), :programme, p.id,
       CASE WHEN bucket < 10 THEN 'issued' WHEN bucket < 20 THEN 'booked'
            WHEN bucket < 45 THEN 'in_progress' WHEN bucket < 85 THEN 'completed'
            WHEN bucket < 95 THEN 'expired' ELSE 'revoked' END,
       400000, 'KES', 4,
       CASE WHEN bucket BETWEEN 20 AND 44 THEN 1 + p.id % 3 WHEN bucket BETWEEN 45 AND 84 THEN 4
            WHEN bucket BETWEEN 85 AND 89 THEN 1 ELSE 0 END,
       NULL, issued_at, issued_at + interval '365 days',
       CASE WHEN bucket BETWEEN 10 AND 89 THEN issued_at + ((p.id % 30) || ' days')::interval END,
       CASE WHEN bucket BETWEEN 45 AND 84
            THEN issued_at + (((p.id % 30) + 28 + p.id % 20) || ' days')::interval END,
       CASE WHEN bucket >= 85 THEN issued_at + interval '365 days' END
FROM plan p;

-- One in twenty booked vouchers switched: a cancelled booking of another provider first.
INSERT INTO bookings (voucher_id, provider_id, programme_id, provider_kind, status, channel,
                      listing_id, switched_from_id, trainee_no, created_at, ended_at)
SELECT v.id, pr.id, :programme, pr.kind, 'cancelled', 'ussd', 'L' || v.id, NULL, 2 * v.id,
       v.booked_at - interval '2 days', v.booked_at - interval '1 day'
FROM vouchers v JOIN providers pr ON pr.id = 1 + (v.id::bigint * 104729) % :providers
WHERE v.booked_at IS NOT NULL AND v.id % 20 = 0;

INSERT INTO bookings (voucher_id, provider_id, programme_id, provider_kind, status, channel,
                      listing_id, switched_from_id, trainee_no, created_at, ended_at)
SELECT v.id, pr.id, :programme, pr.kind,
       CASE v.status WHEN 'completed' THEN 'completed' WHEN 'expired' THEN 'closed'
            ELSE 'active' END,
       'ussd', 'L' || v.id, c.id, 2 * v.id + 1, v.booked_at,
       CASE WHEN v.status IN ('completed', 'expired') THEN coalesce(v.completed_at, v.ended_at) END
FROM vouchers v JOIN providers pr ON pr.id = 1 + (v.id::bigint * 7919) % :providers
LEFT JOIN bookings c ON c.voucher_id = v.id AND c.status = 'cancelled'
WHERE v.booked_at IS NOT NULL;

-- Every booking's list: its provider and the two that follow it (3 impressions a booking).
INSERT INTO impressions (listing_id, entrepreneur_id, programme_id, provider_id, provider_kind,
                         trade_code, region_code, position, channel, shown_at)
SELECT b.listing_id, v.entrepreneur_id, :programme, pr.id, pr.kind, 'tailoring', NULL, k,
       'ussd', b.created_at - interval '10 minutes'
FROM bookings b JOIN vouchers v ON v.id = b.voucher_id
CROSS JOIN generate_series(0, 2) AS k
JOIN providers pr ON pr.id = 1 + (b.provider_id - 1 + k * 37) % :providers
WHERE b.status <> 'cancelled';

INSERT INTO training_sessions (ref, booking_id, voucher_id, programme_id, provider_id,
                               entrepreneur_id, status, delivered_on, duration_minutes, topic,
                               outcomes, action_points, recorded_at, answered_at, answered_via,
                               confirmed_at, sequence, value_minor, currency, code_attempts,
                               flags, review_note)
SELECT lpad(s::text, 4, '0'), b.id, v.id, :programme, b.provider_id, v.entrepreneur_id,
       'confirmed', (v.booked_at + (s * 7 || ' days')::interval)::date, 90, 'Bench session',
       '', '', v.booked_at + (s * 7 || ' days')::interval,
       v.booked_at + (s * 7 || ' days')::interval + interval '2 hours', 'sms',
       v.booked_at + (s * 7 || ' days')::interval + interval '2 hours', s, 100000, 'KES', 0,
       '[]', ''
FROM vouchers v JOIN bookings b ON b.voucher_id = v.id AND b.status <> 'cancelled'
CROSS JOIN LATERAL generate_series(1, v.sessions_confirmed) AS s
WHERE v.sessions_confirmed > 0;

-- Some sessions disputed, some never answered (lapsed).
INSERT INTO training_sessions (ref, booking_id, voucher_id, programme_id, provider_id,
                               entrepreneur_id, status, delivered_on, duration_minutes, topic,
                               outcomes, action_points, recorded_at, answered_at, answered_via,
                               value_minor, currency, code_attempts, flags, review_note)
SELECT CASE WHEN v.id % 2 = 0 THEN 'D001' ELSE 'L001' END, b.id, v.id, :programme,
       b.provider_id, v.entrepreneur_id,
       CASE WHEN v.id % 2 = 0 THEN 'disputed' ELSE 'lapsed' END,
       (v.booked_at + interval '3 days')::date, 60, 'Bench session', '', '',
       v.booked_at + interval '3 days', v.booked_at + interval '6 days',
       CASE WHEN v.id % 2 = 0 THEN 'sms' ELSE 'system' END, 0, 'KES', 0, '[]', ''
FROM vouchers v JOIN bookings b ON b.voucher_id = v.id AND b.status = 'active'
WHERE v.status = 'in_progress' AND v.id % 25 = 3;

-- Monthly payout runs, paid a few days after each month ends; the last two months unpaid.
INSERT INTO payout_runs (currency, period_start, period_end, created_at, created_by, total_minor)
SELECT 'KES', m, m + interval '1 month', m + interval '1 month 1 day', 'bench', 0
FROM generate_series(timestamp '2024-01-01', timestamp '2025-10-01', interval '1 month') AS m;

INSERT INTO payouts (run_id, provider_id, amount_minor, currency, sessions_count, status,
                     reference, paid_at)
SELECT r.id, s.provider_id, sum(s.value_minor), 'KES', count(*), 'paid',
       'MPESA-' || r.id || '-' || s.provider_id,
       r.period_end + ((3 + s.provider_id % 10) || ' days')::interval
FROM training_sessions s
JOIN payout_runs r ON s.confirmed_at >= r.period_start AND s.confirmed_at < r.period_end
WHERE s.status = 'confirmed'
GROUP BY r.id, s.provider_id;

UPDATE training_sessions s SET payout_id = p.id
FROM payouts p JOIN payout_runs r ON r.id = p.run_id
WHERE s.status = 'confirmed' AND p.provider_id = s.provider_id
  AND s.confirmed_at >= r.period_start AND s.confirmed_at < r.period_end;

UPDATE payout_runs r SET total_minor = coalesce(
    (SELECT sum(amount_minor) FROM payouts p WHERE p.run_id = r.id), 0);

INSERT INTO ratings (voucher_id, session_id, provider_id, entrepreneur_id, programme_id,
                     provider_kind, stars, channel, created_at)
SELECT v.id, NULL, b.provider_id, v.entrepreneur_id, :programme, b.provider_kind,
       CASE WHEN b.provider_kind = 'craft_worker' THEN 3 + v.id % 3 ELSE 2 + v.id % 4 END,
       'sms', v.completed_at + interval '1 day'
FROM vouchers v JOIN bookings b ON b.voucher_id = v.id AND b.status = 'completed'
WHERE v.status = 'completed' AND v.id % 2 = 0;

UPDATE programmes SET committed_minor = (SELECT sum(value_minor) FROM vouchers
                                         WHERE programme_id = :programme)
WHERE id = :programme;
"""

SEQUENCES = ("providers", "entrepreneurs", "vouchers")


def _app(url: str):  # type: ignore[no-untyped-def]
    os.environ["DATABASE_URL"] = url
    from marketplace.app import create_app

    return create_app({"SMS_BACKEND": "console", "TESTING": False})


def _reset_and_migrate(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi", "SMS_BACKEND": "console"}
    subprocess.run([str(ROOT / ".venv/bin/flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True)


def load(url: str, vouchers: int) -> None:
    import sqlalchemy as sa

    from marketplace.extensions import db
    from marketplace.services import programmes, reference
    from marketplace.services.programmes import NewProgramme

    started = time.perf_counter()
    _reset_and_migrate(url)
    app = _app(url)
    with app.app_context():
        reference.load_reference_data("KE")
        programme = programmes.create_programme(
            NewProgramme(
                name="National Jua Kali Vouchers",
                funder=FUNDER,
                currency="KES",
                voucher_value_minor=400_000,
                sessions_per_voucher=4,
                validity_days=365,
                budget_minor=400_000 * vouchers * 2,
                co_payment_percent=10,
            ),
            "bench",
        )
        with db.engine.begin() as conn:
            for statement in LOAD_SQL.split(";\n\n"):
                sql = statement.strip().rstrip(";")
                if not sql:
                    continue
                t = time.perf_counter()
                conn.execute(
                    sa.text(sql), {"n": vouchers, "providers": PROVIDERS, "programme": programme.id}
                )
                conn.execute(sa.text("ANALYZE"))  # fresh statistics for the next join
                print(f"  {sql.splitlines()[-1][:60]:<60} {time.perf_counter() - t:6.1f} s")
            for table in SEQUENCES:
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        counts = {}
        with db.engine.connect() as conn:
            for table in (
                "vouchers",
                "bookings",
                "training_sessions",
                "impressions",
                "payouts",
                "ratings",
            ):
                counts[table] = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
    print(
        f"loaded in {time.perf_counter() - started:.0f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    )


def is_loaded(url: str, vouchers: int) -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            n = conn.execute(sa.text("SELECT count(*) FROM vouchers")).scalar()
            return n == vouchers
    except sa.exc.ProgrammingError:
        return False
    finally:
        engine.dispose()


def refresh(url: str) -> float:
    """Rebuild the programme's statistics roll-ups as `flask refresh-stats` does; seconds taken."""
    from marketplace.services import stats_rollup

    app = _app(url)
    with app.app_context():
        seconds = sum(stats_rollup.refresh_all().values())
    print(f"refresh-stats: {seconds:.1f} s")
    return seconds


# The dashboard's main questions asked plainly of the raw rows: the yardstick of the rebuild.
RAW_QUERIES = {
    "vouchers by status": "SELECT status, count(*) FROM vouchers WHERE programme_id = :p "
    "GROUP BY status",
    "bookings by provider kind": "SELECT provider_kind, count(*), count(DISTINCT voucher_id) "
    "FROM bookings WHERE programme_id = :p GROUP BY provider_kind",
    "impressions by provider kind": "SELECT provider_kind, count(*) FROM impressions "
    "WHERE programme_id = :p GROUP BY provider_kind",
    "gender by status": "SELECT e.gender, v.status, count(*) FROM vouchers v "
    "JOIN entrepreneurs e ON e.id = v.entrepreneur_id WHERE v.programme_id = :p "
    "GROUP BY e.gender, v.status",
    "issued per month": "SELECT to_char(issued_at, 'YYYY-MM'), count(*), "
    "count(DISTINCT entrepreneur_id) FROM vouchers WHERE programme_id = :p GROUP BY 1",
    "confirmed value per month": "SELECT to_char(confirmed_at, 'YYYY-MM'), count(*), "
    "sum(value_minor) FROM training_sessions WHERE programme_id = :p AND status = 'confirmed' "
    "GROUP BY 1",
    "median days to booking": "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY "
    "extract(epoch FROM booked_at - issued_at) / 86400) FROM vouchers "
    "WHERE programme_id = :p AND booked_at IS NOT NULL",
}


def raw_queries(url: str) -> float:
    """The seven plain GROUP BY queries, one after the other; seconds taken in all."""
    import sqlalchemy as sa

    from marketplace.domain.models import Programme
    from marketplace.extensions import db

    app = _app(url)
    with app.app_context():
        pid = db.session.scalar(sa.select(Programme.id).where(Programme.funder == FUNDER))
        started = time.perf_counter()
        for label, sql in RAW_QUERIES.items():
            t = time.perf_counter()
            db.session.execute(sa.text(sql), {"p": pid}).all()
            print(f"  {label:<30} {time.perf_counter() - t:6.2f} s")
        seconds = time.perf_counter() - started
        db.session.rollback()
    print(f"seven raw GROUP BY queries: {seconds:.1f} s")
    return seconds


def lag(url: str, seconds: float, confirms_per_second: float, traffic_threads: int) -> None:
    """Sessions confirmed through the services while listing pages are shown (each writes its
    impressions and names its cells, as a USSD hop does) and a drainer runs (`flask drain-stats
    --every 0.2`, its own process); the lag from each confirmation's commit to the moment the
    dashboard's roll-up row counts it."""
    import random as rnd
    import threading

    import sqlalchemy as sa

    from marketplace.domain.models import (
        Booking,
        Programme,
        Provider,
        ProviderStaff,
        StatsChange,
        StatsVoucherCell,
        Voucher,
    )
    from marketplace.extensions import db
    from marketplace.services import bookings, unit
    from marketplace.services import sessions as session_service
    from marketplace.services.sessions import NewSession

    app = _app(url)
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi", "SMS_BACKEND": "console"}
    with app.app_context():
        pid = db.session.scalar(sa.select(Programme.id).where(Programme.funder == FUNDER))
        db.session.execute(sa.delete(StatsChange))
        db.session.commit()
        # Active bookings whose provider has a staff member to record with (made if missing).
        rows = db.session.execute(
            sa.select(Booking.id, Booking.provider_id, Voucher.entrepreneur_id)
            .join(Voucher, Voucher.id == Booking.voucher_id)
            .where(
                Booking.status == "active",
                Voucher.status == "in_progress",
                # not the last session: no voucher completes (the synthetic providers' counts
                # of active bookings are not kept)
                Voucher.sessions_confirmed < Voucher.sessions_total - 1,
            )
            .limit(int(seconds * confirms_per_second) + 10)
        ).all()
        # The synthetic vouchers' dates are in the past: these ones are still valid today.
        db.session.execute(
            sa.update(Voucher)
            .where(
                Voucher.id.in_(
                    sa.select(Booking.voucher_id).where(Booking.id.in_([r.id for r in rows]))
                )
            )
            .values(expires_at=datetime.now(UTC) + timedelta(days=30))
        )
        for provider_id in sorted({r.provider_id for r in rows}):
            if not db.session.scalar(
                sa.select(ProviderStaff.id).where(ProviderStaff.provider_id == provider_id)
            ):
                provider = db.session.get(Provider, provider_id)
                assert provider is not None
                db.session.add(
                    ProviderStaff(
                        provider_id=provider_id,
                        name="Bench Mentor",
                        phone="+2549" + str(provider_id).zfill(8),
                        created_at=datetime.now(UTC),
                    )
                )
        db.session.commit()
        staff = dict(
            db.session.execute(sa.select(ProviderStaff.provider_id, ProviderStaff.id)).all()
        )
        people = [
            r
            for (r,) in db.session.execute(
                sa.select(Voucher.entrepreneur_id).where(Voucher.status == "issued").limit(5000)
            ).all()
        ]
        all_star = sa.select(StatsVoucherCell.sessions_confirmed).where(
            StatsVoucherCell.programme_id == pid,
            *(
                getattr(StatsVoucherCell, d) == "*"
                for d in ("issue_month", "region_code", "trade_code", "gender", "age_band")
            ),
        )
        base = db.session.scalar(all_star) or 0
        db.session.rollback()

    stop = threading.Event()
    committed: list[float] = []  # commit time of the n-th confirmation
    seen: list[tuple[float, int]] = []  # (time, figure) as the dashboard's row reads
    listings = [0]

    def traffic(k: int) -> None:
        rng = rnd.Random(k)
        with app.app_context():
            while not stop.is_set():
                # A listing page of three providers, written as a USSD hop's list is.
                person, first = rng.choice(people), rng.randint(1, PROVIDERS - 3)
                when = datetime.now(UTC)
                with unit.of_work(f"entrepreneur:{person}", when):
                    bookings.record_impressions(
                        [
                            {
                                "listing_id": f"bench-{k}-{listings[0]}",
                                "entrepreneur_id": person,
                                "programme_id": pid,
                                "provider_id": first + i,
                                "provider_kind": "craft_worker",
                                "trade_code": "tailoring",
                                "region_code": None,
                                "position": i,
                                "channel": "ussd",
                                "shown_at": when,
                            }
                            for i in range(3)
                        ]
                    )
                listings[0] += 1
            db.session.remove()

    def confirmer() -> None:
        with app.app_context():
            for booking_id, provider_id, person in rows:
                if stop.is_set():
                    break
                started = time.monotonic()
                s = session_service.record_session(
                    staff[provider_id],
                    NewSession(
                        booking_id=booking_id,
                        delivered_on=time_date(),
                        duration_minutes=60,
                        topic=f"Bench lag {booking_id}",
                    ),
                )
                session_service.answer_session(person, s.ref, True, "sms")
                committed.append(time.monotonic())
                time.sleep(max(0.0, 1 / confirms_per_second - (time.monotonic() - started)))
            db.session.remove()

    def watcher() -> None:
        with app.app_context():
            while not stop.is_set() or (seen and seen[-1][1] - base < len(committed)):
                figure = db.session.scalar(all_star) or 0
                db.session.rollback()
                seen.append((time.monotonic(), figure - base))
                time.sleep(0.05)
                if len(seen) > 10 and time.monotonic() - committed_last(committed) > 60:
                    break
            db.session.remove()

    drainer = subprocess.Popen(
        [str(ROOT / ".venv/bin/flask"), "drain-stats", "--every", "0.2"], cwd=ROOT, env=env
    )
    threads = [threading.Thread(target=traffic, args=(k,)) for k in range(traffic_threads)]
    threads += [threading.Thread(target=confirmer), threading.Thread(target=watcher)]
    try:
        for t in threads:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join(timeout=120)
    finally:
        drainer.terminate()
        drainer.wait(timeout=30)
    lags = []
    for n, at in enumerate(committed, start=1):
        shown = next((when for when, figure in seen if figure >= n and when >= at), None)
        if shown is not None:
            lags.append(shown - at)
    lags.sort()
    if not lags:
        print("lag: no confirmation was seen on the dashboard")
        return
    p99 = lags[min(len(lags) - 1, round(0.99 * (len(lags) - 1)))]
    print(
        f"lag from a confirmed session to the dashboard's figure: median "
        f"{statistics.median(lags):.2f} s, p99 {p99:.2f} s, max {lags[-1]:.2f} s "
        f"({len(lags)} of {len(committed)} confirmations seen; {listings[0]} listing pages "
        f"with impressions in {seconds:.0f} s from {traffic_threads} threads)"
    )


def committed_last(committed: list[float]) -> float:
    return committed[-1] if committed else time.monotonic()


def time_date():  # type: ignore[no-untyped-def]
    return datetime.now(UTC).date()


def time_endpoint(url: str, calls: int) -> list[tuple[str, float, float]]:
    import sqlalchemy as sa

    from marketplace.domain.models import Programme
    from marketplace.extensions import db
    from marketplace.services import access

    app = _app(url)
    results = []
    with app.app_context():
        programme_id = db.session.scalar(sa.select(Programme.id).where(Programme.funder == FUNDER))
        _key, token = access.create_api_key("bench", "funder", "bench", funder=FUNDER)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    cases = [
        ("no filter", {}),
        ("gender=female", {"gender": "female"}),
        ("region=nairobi", {"region": "nairobi"}),
        ("trade=tailoring", {"trade": "tailoring"}),
        ("from/to (one quarter)", {"from": "2024-04-01", "to": "2024-06-30"}),
    ]
    for label, params in cases:
        path = f"/api/v1/programmes/{programme_id}/stats"
        warm = client.get(path, query_string=params, headers=headers)
        assert warm.status_code == 200, warm.get_data(as_text=True)
        times = []
        for _ in range(calls):
            t = time.perf_counter()
            response = client.get(path, query_string=params, headers=headers)
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        results.append((label, statistics.median(times), p95))
        print(
            f"{label:<24} median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms"
            f"   ({calls} calls; issued {warm.get_json()['headline']['issued']})"
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vouchers", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=15)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--no-refresh", action="store_true", help="Time the last refresh's data.")
    parser.add_argument("--lag-seconds", type=float, default=60.0, help="0: no lag run.")
    parser.add_argument("--confirms-per-second", type=float, default=5.0)
    parser.add_argument("--traffic-threads", type=int, default=2)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if args.reload or not is_loaded(url, args.vouchers):
        print(f"loading {args.vouchers:,} vouchers into {url}")
        load(url, args.vouchers)
    raw = raw_queries(url)
    if not args.no_refresh:
        rebuilt = refresh(url)
        print(f"rebuild / raw queries: {rebuilt / raw:.1f}x")
    time_endpoint(url, args.calls)
    if args.lag_seconds:
        lag(url, args.lag_seconds, args.confirms_per_second, args.traffic_threads)


if __name__ == "__main__":
    main()
