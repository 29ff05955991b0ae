"""Benchmark of refresh cycles of a 500-token universe against the replay upstream over loopback.

Usage: .venv/bin/python bench/bench_refresh.py [--tokens 500] [--cycles 4] [--gecko-cache-seconds 60]

Starts the replay upstream, then runs the real refresh task of each source once per cycle, every
REFRESH_SECONDS (10 s, as in production, with the default budgets): prints per cycle and source the
wall time, requests sent, and how much of the universe the snapshot covers; then the time until
every source has covered the whole universe; then, per source and purpose, calls per minute and the
share of the universe (distinct mints, or top pools for OHLCV) it refreshed per minute, from the
replay's request log. `--gecko-cache-seconds 0` turns GeckoTerminal's cache rule off (the "before").
Uses Redis DB 7 (flushed; TEST_REDIS_DB overrides).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs

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


# (source, purpose, path pattern): what each upstream request was for.
PURPOSES = (
    ("dexscreener", "discovery", re.compile(r"^/(token-boosts|token-profiles|latest/dex/search)")),
    ("dexscreener", "tokens", re.compile(r"^/tokens/v1/solana/")),
    ("dexscreener", "token-pairs", re.compile(r"^/token-pairs/")),
    ("jupiter", "discovery", re.compile(r"^/tokens/v2/top")),
    ("jupiter", "prices", re.compile(r"^/price/v3")),
    ("jupiter", "safety", re.compile(r"^/tokens/v2/search")),
    ("geckoterminal", "discovery", re.compile(r"^/networks/solana/(trending_pools|pools|new_pools)$")),
    ("geckoterminal", "tokens", re.compile(r"^/networks/solana/tokens/multi/")),
    ("geckoterminal", "ohlcv", re.compile(r"^/networks/solana/pools/[^/]+/ohlcv/")),
)


def request_items(row: dict) -> list[str]:
    """The mints (or pool, for OHLCV) one request refreshed."""
    path, query = row["path"], parse_qs(row["query"])
    if "/ohlcv/" in path:
        return [path.split("/pools/", 1)[1].split("/", 1)[0]]
    for name in ("ids", "query"):
        if name in query:
            return query[name][0].split(",")
    if "/tokens/" in path or "/token-pairs/" in path:
        return path.rstrip("/").rsplit("/", 1)[-1].split(",")
    return []


def purpose_report(rows: list[dict], universe: list[str], minutes: float) -> None:
    tracked = set(universe)
    print(f"{'source':<14} {'purpose':<12} {'calls/min':>9} {'universe/min':>13}")
    for source, purpose, pattern in PURPOSES:
        mine = [r for r in rows if r["source"] == source and pattern.search(r["path"])]
        items = {i for r in mine for i in request_items(r)}
        share = (
            len(items & tracked) / len(tracked) if purpose not in ("discovery", "ohlcv") and tracked else None
        )
        if purpose == "ohlcv" and tracked:
            share = len(items) / len(tracked)  # one top pool per token
        shown = f"{share / minutes:>12.0%}" if share is not None else f"{'-':>12}"
        print(f"{source:<14} {purpose:<12} {len(mine) / minutes:>9.1f} {shown}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--cycles", type=int, default=4)
    parser.add_argument("--gecko-cache-seconds", type=float, default=None)
    args = parser.parse_args()
    if args.gecko_cache_seconds is not None:
        settings.GECKOTERMINAL_CACHE_SECONDS = args.gecko_cache_seconds

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
        minutes = (time.time() - started) / 60
        print(
            f"per purpose over {minutes * 60:.0f} s (GECKOTERMINAL_CACHE_SECONDS={settings.GECKOTERMINAL_CACHE_SECONDS:g}):"
        )
        purpose_report(replay.requests_since(started), ingested.load_universe(), minutes)
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
