"""History backfill: GeckoTerminal minute/hour OHLCV of each new token's top pool into the candle store.

A token entering the universe has no history here; its chart should not start empty. `backfill_step`
spends a given call allowance (what the market-data calls of a GeckoTerminal refresh leave) on the
highest-ranked tokens not yet backfilled, one call per step of STEPS (`token={mint}`, so the candles
are the token's side of the pool). Each response's candles are stored with `source: "geckoterminal"`,
never over a candle already stored; shorter intervals are rolled up into the longer ones they
cover (1m -> 5m, 15m; 1h -> 4h, 1d), dropping a rolled-up candle whose start the rows do not reach
and every candle still open (the service observes it; a bucket where backfilled minutes meet the
first observed ones is the one place where an interval can differ from the 1m candles it covers).

Progress per token is the hash `backfill:steps` (mint -> steps done), owned here.
"""

from __future__ import annotations

import logging
import time

from tokens.history import store
from tokens.history.candles import GECKOTERMINAL as SOURCE_TAG
from tokens.history.candles import INTERVALS, Bar, align, roll_up
from tokens.infra.redis_clients import raw_key, raw_redis
from tokens.ingest.parsers import geckoterminal
from tokens.ingest.run import SourceRun
from tokens.ingest.sources import GECKOTERMINAL
from tokens.records import Candle

log = logging.getLogger(__name__)

KEY_STEPS = "backfill:steps"
LIMIT = 1000
# (GeckoTerminal timeframe, aggregate, our interval, the longer intervals rolled up from it)
STEPS: tuple[tuple[str, int, str, tuple[str, ...]], ...] = (
    ("minute", 1, "1m", ("5m", "15m")),
    ("hour", 1, "1h", ("4h", "1d")),
)


def bars_from_candles(
    mint: str, interval: str, candles: list[Candle], rolled: tuple[str, ...], now: float | None = None
) -> list[Bar]:
    """A response's candles as Bars of `interval` and of each rolled-up interval (pure).

    Rows missing a price are skipped; a rolled-up candle is kept only when the rows cover its start;
    with `now`, candles still open then are left out (the service observes those itself).
    """
    bars = [
        Bar(
            mint,
            interval,
            align(c.ts, interval),
            c.open,
            c.high,
            c.low,
            c.close,
            c.volume_usd,
            source=SOURCE_TAG,
        )
        for c in candles
        if None not in (c.open, c.high, c.low, c.close)
    ]
    bars = list({b.t: b for b in bars}.values())
    if not bars:
        return []
    oldest = min(b.t for b in bars)
    out = list(bars)
    for longer in rolled:
        out += [b for b in roll_up(bars, longer) if b.t >= oldest]
    if now is not None:
        out = [b for b in out if b.t + INTERVALS[b.interval] <= now]
    return out


def _done(mints: list[str]) -> dict[str, int]:
    if not mints:
        return {}
    values = raw_redis().hmget(raw_key(KEY_STEPS), mints)
    return {m: int(v) for m, v in zip(mints, values, strict=True) if v is not None}


def _mark(mint: str, steps: int) -> None:
    raw_redis().hset(raw_key(KEY_STEPS), mint, steps)


def pending(universe: list[str], top_pools: dict[str, str]) -> list[tuple[str, str, int]]:
    """(mint, pool, next step) for the tokens still to backfill, highest-ranked first."""
    done = _done(universe)
    return [
        (mint, top_pools[mint], done.get(mint, 0))
        for mint in universe
        if mint in top_pools and done.get(mint, 0) < len(STEPS)
    ]


def backfill_step(run: SourceRun, allowance: int) -> int:
    """Spend at most `allowance` GeckoTerminal calls on history backfill; returns the calls made."""
    if allowance <= 0:
        return 0
    top_pools = {m: q.top_pool for m in run.universe if (q := run.snapshot.tokens.get(m)) and q.top_pool}
    calls = stored = 0
    for mint, pool, step in pending(run.universe, top_pools):
        while step < len(STEPS) and calls < allowance:
            timeframe, aggregate, interval, rolled = STEPS[step]
            payload = run.call(
                GECKOTERMINAL.path("ohlcv", pool=pool, timeframe=timeframe),
                {"aggregate": aggregate, "limit": LIMIT, "token": mint},
            )
            calls += 1
            candles = run.parse(geckoterminal.parse_ohlcv, payload)
            if candles is None:
                break  # failed: this token's step is tried again next time
            try:
                stored += store.insert_backfill(
                    bars_from_candles(mint, interval, candles, rolled, time.time())
                )
            except Exception:  # the database: never fail the refresh's market data for history
                log.exception("backfill store failed mint=%s step=%s", mint, interval)
                return calls
            step += 1
            _mark(mint, step)
        if calls >= allowance:
            break
    if calls:
        log.info("backfill calls=%d candles=%d", calls, stored)
    return calls


def forget(mints: list[str]) -> None:
    """Tokens that left the universe: a later return backfills again what it missed."""
    if mints:
        raw_redis().hdel(raw_key(KEY_STEPS), *mints)
