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
    ("snapshot switch: decode time and event-loop stall, 500 tokens", ["bench_switch.py"]),
    (
        "whole stack: REST under worker + beat refreshing, uvicorn and daphne (wrk, 32 connections)",
        ["bench_stack.py"],
    ),
    (
        "whole stack: WebSocket, 1,000 / 5,000 clients subscribing to all at once, uvicorn and daphne",
        ["bench_ws_stack.py", "--servers", "uvicorn", "daphne"],
    ),
    (
        "candles: snapshot upsert (SQLite, PostgreSQL), reads at 32 connections (wrk), storage",
        ["bench_candles.py", "--read"],
    ),
]
WRK_RUNS = ("bench_rest.py", "bench_stack.py", "bench_candles.py")


def main() -> int:
    """`make bench` runs them all; `--only stack` (BENCH_ARGS="--only stack") runs the whole-stack one."""
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    failed = []
    for title, argv in RUNS:
        if only and only not in argv[0]:
            continue
        print(f"\n=== {title} ===", flush=True)
        if argv[0] in WRK_RUNS and shutil.which("wrk") is None:
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
