"""Benchmark of refresh cycles of a 500-token universe against the replay upstream over loopback.

Usage: .venv/bin/python bench/bench_refresh.py [--tokens 500] [--cycles 4]

Starts the replay upstream, then runs the real refresh task of each source once per cycle, every
REFRESH_SECONDS (10 s, as in production, with the default budgets): prints per cycle and source the
wall time, requests sent, and how much of the universe the snapshot covers; then the time until
every source has covered the whole universe. Uses Redis DB 7 (flushed; TEST_REDIS_DB overrides).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TEST_REDIS_DB", "7")
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
os.environ["REFRESH_SECONDS"] = "10"

from tests.processes import process_database_url, replay_urls, start_replay  # noqa: E402

os.environ["DATABASE_URL"] = process_database_url()

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from tokens.infra import redis_clients  # noqa: E402
from tokens.records import SOURCES  # noqa: E402
from tokens.store import ingested, snapshots  # noqa: E402


def coverage(source: str, universe: list[str]) -> float:
    snap = snapshots.current_snapshot()
    if not snap or not universe:
        return 0.0
    have = sum(1 for m in universe if (t := snap.tokens.get(m)) and source in t.sources)
    return have / len(universe)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--cycles", type=int, default=4)
    args = parser.parse_args()

    redis_clients.raw_redis().flushdb()
    proc, port = start_replay(Path(tempfile.mkdtemp()), args=["--tokens", str(args.tokens), "--no-motion"])
    for name, url in replay_urls(port).items():
        setattr(settings, name, url)
    from tests.integration.conftest import Replay
    from tokens.tasks import refresh_source

    replay = Replay(port)
    full_at: dict[str, float] = {}
    started = time.time()
    print(
        f"universe at replay: {len(replay.universe())} tokens; budgets/min: dexscreener "
        f"{settings.DEXSCREENER_RPM} (+{settings.DEXSCREENER_DISCOVERY_RPM} discovery), "
        f"jupiter {settings.JUPITER_RPM}, geckoterminal {settings.GECKOTERMINAL_RPM}; refresh every 10 s"
    )
    print(f"{'cycle':>5} {'source':<14} {'wall s':>7} {'requests':>8} {'coverage':>9}")
    try:
        for cycle in range(1, args.cycles + 1):
            cycle_start = time.time()
            for source in SOURCES:
                t0 = time.time()
                refresh_source.apply(args=(source,)).get()
                wall = time.time() - t0
                sent = len(replay.requests_since(t0, source))
                universe = ingested.load_universe()
                cov = coverage(source, universe)
                if (
                    cov >= 0.85 and source not in full_at
                ):  # the replay hides ~10-12% of tokens from each source
                    full_at[source] = time.time() - started
                print(f"{cycle:>5} {source:<14} {wall:>7.2f} {sent:>8} {cov:>8.0%}")
            snap = snapshots.current_snapshot()
            print(f"      snapshot id={snap.id} tokens={len(snap.tokens)} merge+publish included above")
            time.sleep(max(0.0, 10 - (time.time() - cycle_start)))
    finally:
        proc.stop()
    for source in SOURCES:
        when = full_at.get(source)
        print(
            f"{source}: whole visible universe covered after {when:.1f} s"
            if when
            else f"{source}: not covered yet"
        )


if __name__ == "__main__":
    main()
