"""Bulk issuance benchmark: 100,000 vouchers from one CSV on PostgreSQL, end to end.

Measures the real `services.issuance.import_vouchers` (CSV parse, per-row validation, budget
reservation, entrepreneurs, vouchers, audit events and outbox SMS, one commit) against its own
database, built with `flask db upgrade`. Target: under 20 s.

    .venv/bin/python bench/issue.py                 # 100,000 rows
    .venv/bin/python bench/issue.py --rows 20000    # a quicker look
    BENCH_ISSUE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ujuzi_bench_issue (default)
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ujuzi_bench_issue"
TARGET_SECONDS = 20.0
TRADES = ("tailoring", "carpentry", "metalwork", "hairdressing", "Tailor", "welding")
REGIONS = ("nairobi", "mombasa", "kisumu", "nakuru", "Kiambu", "uasin-gishu")
NAMES = (
    "Amina Wanjiru",
    "John Otieno",
    "Grace Achieng",
    "Peter Kamau",
    "Fatuma Hassan",
    "Mary Njeri",
    "Hassan Ali",
    "Joyce Chebet",
)


def make_csv(rows: int, seed: int = 7) -> bytes:
    """A realistic file: mixed phone formats, trade/region names as officers type them."""
    rnd = random.Random(seed)
    lines = ["phone,name,gender,birth_year,trade,region,language"]
    for i in range(rows):
        number = 700_000_000 + i  # unique subscriber numbers in the 07xx range
        phone = f"0{number}" if i % 3 == 0 else f"+254{number}" if i % 3 == 1 else f"254{number}"
        lines.append(
            ",".join(
                [
                    phone,
                    rnd.choice(NAMES),
                    rnd.choice(("female", "male", "F", "M")),
                    str(rnd.randint(1960, 2004)),
                    rnd.choice(TRADES),
                    rnd.choice(REGIONS),
                    rnd.choice(("en", "sw")),
                ]
            )
        )
    return ("\n".join(lines) + "\n").encode()


def reset_database(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi", "SMS_BACKEND": "fake"}
    flask = ROOT / ".venv" / "bin" / "flask"
    subprocess.run(
        [str(flask), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--url", default=os.environ.get("BENCH_ISSUE_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    if not args.url.startswith("postgres"):
        print("bench/issue.py measures PostgreSQL; give a postgresql:// URL", file=sys.stderr)
        return 2

    reset_database(args.url)
    os.environ["DATABASE_URL"] = args.url
    os.environ.setdefault("SMS_BACKEND", "fake")

    import sqlalchemy as sa

    from marketplace.app import create_app
    from marketplace.domain.models import AuditEvent, Entrepreneur, OutboxMessage, Voucher
    from marketplace.extensions import db
    from marketplace.services import audit, issuance, programmes, reference
    from marketplace.services.programmes import NewProgramme

    app = create_app({"SMS_BACKEND": "fake"})
    data = make_csv(args.rows)
    with app.app_context():
        reference.load_reference_data("KE")
        programme = programmes.create_programme(
            NewProgramme(
                name="Bench programme",
                funder="Bench Fund",
                currency="KES",
                voucher_value_minor=400_000,
                sessions_per_voucher=4,
                validity_days=180,
                budget_minor=400_000 * (args.rows + 10),
            ),
            "bench",
        )
        programme_id = programme.id
        db.session.remove()

        started, cpu_started = time.perf_counter(), time.process_time()
        report = issuance.import_vouchers(programme_id, data, "bench")
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        db.session.remove()

        counts = {
            name: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for name, model in (
                ("vouchers", Voucher),
                ("entrepreneurs", Entrepreneur),
                ("outbox", OutboxMessage),
                ("audit", AuditEvent),
            )
        }
        chain = audit.verify(db.session())
        db.session.remove()

        started = time.perf_counter()
        again = issuance.import_vouchers(programme_id, data, "bench")
        resend = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()

    rate = len(report.issued) / elapsed if elapsed else 0.0
    print(f"rows in CSV:         {args.rows:,} ({len(data) / 1e6:.1f} MB)")
    print(f"issued:              {len(report.issued):,} (bad rows {len(report.errors)})")
    print(
        f"rows written:        vouchers {counts['vouchers']:,}, entrepreneurs "
        f"{counts['entrepreneurs']:,}, outbox {counts['outbox']:,}, audit {counts['audit']:,}"
    )
    print(
        f"audit chain:         {'intact' if chain.ok else 'BROKEN: ' + chain.problem} "
        f"({chain.checked:,} events)"
    )
    print(
        f"import_vouchers:     {elapsed:.2f} s end to end ({rate:,.0f} vouchers/s); "
        f"application CPU {cpu:.2f} s"
    )
    print(f"machine load:        {os.getloadavg()[0]:.1f} (1-min average, {os.cpu_count()} CPUs)")
    print(
        f"same file again:     {resend:.2f} s, issued {len(again.issued)}, "
        f"already issued {len(again.already_issued):,}"
    )
    ok = (
        elapsed < TARGET_SECONDS
        and len(report.issued) == args.rows
        and chain.ok
        and not again.issued
        and counts["outbox"] == args.rows
    )
    print(f"target < {TARGET_SECONDS:.0f} s:       {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
