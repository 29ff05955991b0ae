"""Benchmark of tokens.merge.core.merge_sources on a synthetic 1,000-token x 3-source input (no Django needed).

Usage: .venv/bin/python bench/bench_merge.py [--tokens 1000] [--runs 50] [--seed 7]
Prints min / median / p95 wall-clock milliseconds per merge, the median CPU time (what the merge costs on
an otherwise idle core) and the merged token count.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tokens.merge.core import merge_sources
from tokens.records import (
    SOL_MINT,
    USDC_MINT,
    WINDOWS,
    Candle,
    PoolQuote,
    SourceSnapshot,
    TokenQuote,
    WindowStats,
)

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
DEXES = ("raydium", "raydium-clmm", "pumpswap", "meteora-dlmm", "orca", "pumpfun")
SOL_USD = 150.0
NOW = 1_790_000_000.0


def fake_address(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(44))


def windows(rng: random.Random, scale: float) -> dict[str, WindowStats]:
    factors = {"m5": 1 / 288, "h1": 1 / 24, "h6": 1 / 4, "h24": 1.0}
    return {
        w: WindowStats(
            volume_usd=scale * factors[w] * rng.uniform(0.5, 1.5),
            buys=int(scale * factors[w] / 50) + rng.randint(0, 5),
            sells=int(scale * factors[w] / 60) + rng.randint(0, 5),
            price_change_pct=rng.uniform(-60, 120),
        )
        for w in WINDOWS
    }


def pool_quote(
    rng: random.Random, source: str, address: str, base: str, quote: str, price: float
) -> PoolQuote:
    liquidity = rng.uniform(2e3, 5e6)
    quote_price = SOL_USD if quote == SOL_MINT else 1.0
    return PoolQuote(
        source=source,
        address=address,
        dex_id=rng.choice(DEXES),
        base_mint=base,
        quote_mint=quote,
        base_symbol="TKN",
        base_name="Token",
        quote_symbol="SOL" if quote == SOL_MINT else "USDC",
        price_usd=price * rng.uniform(0.98, 1.02),
        quote_price_usd=quote_price,
        price_native=price / quote_price,
        liquidity_usd=liquidity,
        fdv_usd=price * 1e9,
        market_cap_usd=price * 9e8,
        created_at=NOW - rng.uniform(3600, 90 * 86400),
        windows=windows(rng, liquidity * rng.uniform(0.5, 5)),
        fetched_at=NOW - rng.uniform(0, 20),
    )


def candles(rng: random.Random, price: float) -> list[Candle]:
    day = int(NOW // 86400) * 86400
    rows = []
    for i in range(8):
        close = price * rng.uniform(0.5, 2)
        rows.append(Candle(day - i * 86400, close, close * 1.1, close * 0.9, close, rng.uniform(1e3, 1e6)))
    return rows


def build(n_tokens: int, seed: int) -> tuple[dict[str, SourceSnapshot], list[str]]:
    """~n DexScreener pools, ~n GeckoTerminal pools (most shared with DexScreener), n Jupiter quotes each."""
    rng = random.Random(seed)
    ds = SourceSnapshot("dexscreener", fetched_at=NOW - 5)
    gt = SourceSnapshot("geckoterminal", fetched_at=NOW - 8)
    jup = SourceSnapshot("jupiter", fetched_at=NOW - 3)
    jup.tokens[SOL_MINT] = TokenQuote("jupiter", SOL_MINT, price_usd=SOL_USD, fetched_at=NOW - 3)
    universe = [fake_address(rng) for _ in range(n_tokens)]
    for i, mint in enumerate(universe):
        price = 10 ** rng.uniform(-7, 0)
        addresses = [fake_address(rng) for _ in range(rng.choice((1, 2, 2, 3)))]
        for k, address in enumerate(addresses):
            quote = SOL_MINT if k != 1 else USDC_MINT
            if k == 0 or rng.random() < 0.7:
                ds.pools[address] = pool_quote(rng, "dexscreener", address, mint, quote, price)
            if (k == 0 and rng.random() < 0.9) or (k > 0 and rng.random() < 0.4):
                gt.pools[address] = pool_quote(rng, "geckoterminal", address, mint, quote, price)
                if rng.random() < 0.3:
                    gt.candles[address] = candles(rng, price)
        if i % 50 == 1:  # a pool where this token is the quote side of the previous token
            address = fake_address(rng)
            ds.pools[address] = pool_quote(rng, "dexscreener", address, universe[i - 1], mint, price)
        gt.tokens[mint] = TokenQuote(
            "geckoterminal", mint, "Token", "TKN", None, price, None, price * 1e9, fetched_at=NOW - 8
        )
        if i % 97 == 0:  # a source that is wildly off
            gt.tokens[mint].price_usd = price * 5000
        jup.tokens[mint] = TokenQuote(
            "jupiter",
            mint,
            "Token",
            "TKN",
            "https://example.invalid/i.png",
            price * rng.uniform(0.99, 1.01),
            market_cap_usd=price * 9e8,
            fdv_usd=price * 1e9,
            liquidity_usd=rng.uniform(1e4, 1e6),
            windows=windows(rng, 1e5),
            fetched_at=NOW - 3,
        )
    return {"dexscreener": ds, "geckoterminal": gt, "jupiter": jup}, universe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sources, universe = build(args.tokens, args.seed)
    pools = sum(len(s.pools) for s in sources.values())
    timings, cpu = [], []
    result = None
    for _ in range(args.runs):
        result = None  # free the previous result outside the timed call
        start, start_cpu = time.perf_counter(), time.process_time()
        result = merge_sources(sources, universe, now=NOW)
        timings.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    assert result is not None
    print(
        f"merge_sources: {args.tokens} tokens x {len(sources)} sources ({pools} pool quotes, "
        f"{sum(len(s.candles) for s in sources.values())} with candles), {args.runs} runs"
    )
    print(f"min {timings[0]:.1f} ms  median {statistics.median(timings):.1f} ms  p95 {p95:.1f} ms")
    print(f"cpu time per merge: median {statistics.median(cpu):.1f} ms (wall time minus waiting for a CPU)")
    print(f"tokens merged: {len(result.tokens)}")


if __name__ == "__main__":
    main()
