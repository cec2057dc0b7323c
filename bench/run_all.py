"""Run every benchmark in turn (PostgreSQL on 127.0.0.1 needed) and say which targets were met.

    .venv/bin/python bench/run_all.py            # all four, full size
    .venv/bin/python bench/run_all.py --quick    # smaller runs, for a first look

Each benchmark creates and seeds its own database, talks only to 127.0.0.1 and stops by itself; its
own output (figures and target verdicts) is shown as it runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS = {
    "issue": (["issue.py"], ["issue.py", "--rows", "20000"]),
    "ussd": (["ussd.py"], ["ussd.py", "--seconds", "5"]),
    "sms_worker": (["sms_worker.py"], ["sms_worker.py", "--rows", "5000"]),
    "stats": (["stats.py"], ["stats.py", "--vouchers", "100000"]),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("only", nargs="*", help=f"run just these: {', '.join(BENCHMARKS)}")
    args = parser.parse_args()
    unknown = set(args.only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    failed = []
    for name, (full, quick) in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        argv = quick if args.quick else full
        print(f"\n=== {name}: bench/{' '.join(argv)}", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, str(HERE / argv[0]), *argv[1:]])
        print(f"=== {name} finished in {time.monotonic() - started:.0f} s, exit {code}", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"\nTargets missed or errors in: {', '.join(failed)}")
        return 1
    print("\nEvery benchmark met its target.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
