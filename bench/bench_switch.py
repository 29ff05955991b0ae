"""What a snapshot switch costs a web process: decode time, and the event-loop stall it causes.

    .venv/bin/python bench/bench_switch.py [--tokens 500] [--switches 20] [--every 0.5] [--redis-db 3]

A synthetic --tokens universe (bench_merge's three sources) is merged into a real Snapshot. Then:
  decode   `snapshots.load_snapshot` of it from Redis (read + decode), `snapshots.decode` alone, the
           time to free a decoded snapshot, median / p95 over 30 runs (the follower's work per switch);
  stall    a uvloop event loop in this process runs a probe that wakes every 1 ms and records how
           late it woke, while the real follower thread (snapshots.follow_current) follows the
           snapshots that another process publishes every --every seconds. Per switch: the longest
           probe delay within 100 ms of the switch, minus nothing (the probe's own jitter is shown by
           the idle row, measured the same way with no switches).
Redis DB --redis-db is flushed before and after (never 0).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import pickle
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup(redis_db: int) -> None:
    if redis_db == 0:
        sys.exit("--redis-db 0 is the application's database: pick another")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:6379/{redis_db}"
    os.environ.setdefault("DJANGO_DEBUG", "true")
    import django

    django.setup()


def make_snapshot(tokens: int, snapshot_id: int):
    from bench.bench_merge import NOW, build
    from tokens.merge.core import merge_sources
    from tokens.records import Snapshot as SnapshotRecord
    from tokens.records import SourceStatus

    sources, universe = build(tokens, 7)
    result = merge_sources(sources, universe, now=NOW, outlier_factor=20.0)
    return SnapshotRecord(
        id=snapshot_id,
        generated_at=time.time(),
        data_fetched_at=result.data_fetched_at,
        sol_price_usd=result.sol_price_usd,
        sources={n: SourceStatus(ok=True, fetched_at=NOW, error=None) for n in sources},
        tokens=result.tokens,
    )


def publisher(args: argparse.Namespace) -> None:
    """Child process: publish a new snapshot every --every seconds, --switches times."""
    setup(args.redis_db)
    from tokens.store import snapshots

    base = make_snapshot(args.tokens, 0)
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(args.switches):
        time.sleep(args.every)
        now = time.time()
        snapshots.publish_snapshot(
            dataclasses.replace(base, id=snapshots.next_snapshot_id(), generated_at=now)
        )


def decode_figures(args: argparse.Namespace) -> dict:
    from tokens.infra.redis_clients import raw_key, raw_redis
    from tokens.store import snapshots

    snap = make_snapshot(args.tokens, snapshots.next_snapshot_id())
    snapshots.publish_snapshot(snap)
    raw = raw_redis().get(raw_key(snapshots.KEY_SNAPSHOT.format(id=snap.id)))
    if hasattr(snapshots, "encode"):
        stored = snapshots.encode(snap)
        decode = snapshots.decode
    else:  # the code before chunked storage: the whole snapshot is one pickle
        stored, decode = raw, pickle.loads
    loads, reads, decodes, frees = [], [], [], []
    for _ in range(30):
        started = time.perf_counter()
        decoded = decode(stored)
        decodes.append(time.perf_counter() - started)
        started = time.perf_counter()
        del decoded  # the old snapshot's objects are freed when the memo lets go of it
        frees.append(time.perf_counter() - started)
        started = time.perf_counter()
        snapshots.load_snapshot(snap.id)
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        pickle.loads(raw)
        loads.append(time.perf_counter() - started)
    return {
        "tokens": len(snap.tokens),
        "stored_bytes": len(raw),
        "load_snapshot_ms": _stats(reads),
        "decode_ms": _stats(decodes),
        "free_ms": _stats(frees),
        "unpickle_ms": _stats(loads),
    }


def _stats(seconds: list[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "median": round(statistics.median(ms), 2),
        "p95": round(ms[int(0.95 * (len(ms) - 1))], 2),
        "max": round(ms[-1], 2),
    }


async def probe(lags: list[tuple[float, float]], stop: asyncio.Event, interval: float = 0.001) -> None:
    while not stop.is_set():
        before = time.perf_counter()  # not loop.time(): uvloop's clock counts whole milliseconds
        await asyncio.sleep(interval)
        lags.append((time.monotonic(), max(0.0, time.perf_counter() - before - interval)))


async def watch_switches(switches: list[float], stop: asyncio.Event) -> None:
    from tokens.store import snapshots

    seen = snapshots._memo.snapshot.id if snapshots._memo.snapshot else None
    while not stop.is_set():
        memo = snapshots._memo.snapshot
        if memo is not None and memo.id != seen:
            seen = memo.id
            switches.append(time.monotonic())
        await asyncio.sleep(0.0005)


async def stall_run(args: argparse.Namespace, child: subprocess.Popen | None, seconds: float) -> dict:
    lags: list[tuple[float, float]] = []
    switches: list[float] = []
    stop = asyncio.Event()
    tasks = [asyncio.create_task(probe(lags, stop)), asyncio.create_task(watch_switches(switches, stop))]
    if child is not None:
        child.stdin.write(b"go\n")
        child.stdin.flush()
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    if child is None:  # idle: the probe's own jitter, in windows of the same width
        windows = [max(lag for t, lag in lags if start <= t < start + 0.2) for start in _starts(lags, 0.5)]
    else:
        windows = [max((lag for t, lag in lags if s - 0.1 <= t <= s + 0.1), default=0.0) for s in switches]
    return {"switches": len(switches), "worst_lag_per_switch_ms": _stats(windows) if windows else None}


def _starts(lags: list[tuple[float, float]], step: float) -> list[float]:
    first, last = lags[0][0], lags[-1][0] - 0.2
    return [first + k * step for k in range(int((last - first) / step))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--switches", type=int, default=20)
    parser.add_argument("--every", type=float, default=0.5)
    parser.add_argument("--redis-db", type=int, default=int(os.environ.get("BENCH_REDIS_DB", "3")))
    parser.add_argument("--publisher", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publisher:
        publisher(args)
        return 0
    setup(args.redis_db)
    import uvloop

    from tokens.infra.gc_tuning import tune_for_serving
    from tokens.infra.redis_clients import raw_redis
    from tokens.store import snapshots

    raw_redis().flushdb()
    tune_for_serving()  # the GC settings of a web process (config/asgi.py)
    try:
        decode = decode_figures(args)
        print(f"decode {decode}", flush=True)
        snapshots.follow_current(interval=snapshots.FOLLOW_SECONDS)
        argv = [sys.executable, __file__, "--publisher", *sys.argv[1:]]
        idle = uvloop.run(stall_run(args, None, 5.0))
        print(f"idle   {idle}", flush=True)
        child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        child.stdout.readline()  # "ready": its snapshot is built
        stall = uvloop.run(stall_run(args, child, args.switches * args.every + 1.5))
        child.wait(10)
        print(f"switch {stall}", flush=True)
        print(
            f"\n{decode['tokens']} tokens, {decode['stored_bytes']:,} bytes stored; "
            f"load_snapshot median {decode['load_snapshot_ms']['median']} ms "
            f"(decode {decode['decode_ms']['median']} ms in {-(-decode['tokens'] // getattr(snapshots, 'CHUNK_TOKENS', 10**9))} "
            f"chunk(s), freeing the previous one {decode['free_ms']['median']} ms); event-loop stall per switch: "
            f"median {stall['worst_lag_per_switch_ms']['median']} ms, p95 {stall['worst_lag_per_switch_ms']['p95']} ms, max {stall['worst_lag_per_switch_ms']['max']} ms "
            f"over {stall['switches']} switches (idle probe jitter: max {idle['worst_lag_per_switch_ms']['max']} ms)"
        )
    finally:
        raw_redis().flushdb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
