"""`make bench`: runs every benchmark in turn and prints their figures (see bench/README.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PY = sys.executable

RUNS = [
    ("merge: 1,000 tokens x 3 sources", ["bench_merge.py", "--runs", "50"]),
    ("refresh cycles: 500-token universe vs the replay upstream", ["bench_refresh.py", "--cycles", "4"]),
    (
        "REST: first page, cursor walk, filtered (wrk, 32 connections)",
        ["bench_rest.py", "--processes", "2", "--baseline"],
    ),
    ("WebSocket fan-out: 100 / 1,000 / 5,000 clients, both channel layers", ["bench_ws.py"]),
    (
        "candles: snapshot upsert (SQLite, PostgreSQL), reads at 32 connections (wrk), storage",
        ["bench_candles.py", "--read"],
    ),
]


def main() -> int:
    failed = []
    for title, argv in RUNS:
        print(f"\n=== {title} ===", flush=True)
        if argv[0] in ("bench_rest.py", "bench_candles.py") and shutil.which("wrk") is None:
            print("skipped: wrk is not installed (Debian: apt-get install wrk)")
            continue
        code = subprocess.call([PY, str(BENCH / argv[0]), *argv[1:]], cwd=BENCH.parent)
        if code:
            failed.append(title)
    if failed:
        print("\nfailed: " + "; ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
