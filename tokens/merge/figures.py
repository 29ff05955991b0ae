"""A token's own figures from its distinct pools: pool ranking, price, liquidity and per-window stats.

Volume, liquidity, buys and sells are sums over the token's distinct pools (None values skipped; all None
-> the first token-level figure of a non-excluded source in TRUST_ORDER). The price is the pools'
liquidity-weighted mean (see token_price). Price change per window is the most liquid base-side pool's.
"""

from __future__ import annotations

from tokens.merge.pools import MergedPool
from tokens.numbers import finite, non_negative, positive
from tokens.records import WINDOWS, TokenQuote, WindowStats

PoolSide = tuple[MergedPool, bool]  # (pool, the token is its base)
_EMPTY = WindowStats()


def rank_pools(entries: list[PoolSide], excluded: set[str]) -> list[PoolSide]:
    """Pools quoted by a non-excluded source first, then by liquidity (unknown last), then address."""
    if len(entries) < 2:
        return entries

    def key(entry: PoolSide) -> tuple[bool, float, str]:
        pool = entry[0]
        untrusted = bool(excluded) and all(s in excluded for s in pool.sources)
        return untrusted, -(pool.liquidity if pool.liquidity is not None else -1.0), pool.address

    return sorted(entries, key=key)


def token_price(
    entries: list[PoolSide], excluded: set[str], anchor: float | None, factor: float
) -> float | None:
    """Liquidity-weighted mean of the pools' prices (quotes of excluded sources and prices more than
    `factor` off the anchor left out); pools of unknown liquidity only when no pool has one; else the anchor.
    """
    weighted = weight = plain = 0.0
    count = 0
    for pool, is_base in entries:
        price = pool.price_for(is_base, excluded)
        if price is None or (anchor is not None and (price > anchor * factor or price * factor < anchor)):
            continue
        if pool.liquidity:
            weighted += price * pool.liquidity
            weight += pool.liquidity
        else:
            plain += price
            count += 1
    if weight > 0:
        return positive(weighted / weight)
    if count:
        return positive(plain / count)
    return anchor


def total_liquidity(entries: list[PoolSide], fallbacks: list[TokenQuote]) -> float | None:
    """Sum over the distinct pools (every pool, also those only an excluded source quotes)."""
    total = None
    for pool, _ in entries:
        if pool.liquidity is not None:
            total = pool.liquidity if total is None else total + pool.liquidity
    if total is None:
        total = next((x for tq in fallbacks if (x := positive(tq.liquidity_usd)) is not None), None)
    return finite(total)


def token_windows(ranked: list[PoolSide], fallbacks: list[TokenQuote]) -> dict[str, WindowStats]:
    """Per window: sums over the pools, the top base-side pool's price change, token-level fallbacks."""
    out: dict[str, WindowStats] = {}
    for key in WINDOWS:
        volume = buys = sells = change = None
        for pool, is_base in ranked:
            w = pool.windows.get(key)
            if w is None:
                continue
            if w.volume_usd is not None:
                volume = w.volume_usd if volume is None else volume + w.volume_usd
            if is_base:
                b, s = w.buys, w.sells
                if change is None:
                    change = w.price_change_pct
            else:
                b, s = w.sells, w.buys
            if b is not None:
                buys = b if buys is None else buys + b
            if s is not None:
                sells = s if sells is None else sells + s
        stats = WindowStats(finite(volume), buys, sells, change)
        if fallbacks and (stats.volume_usd is None or change is None or (buys is None and sells is None)):
            fill_from_tokens(stats, key, fallbacks)
        out[key] = stats
    out["d7"] = d7_window(ranked)
    return out


def d7_window(ranked: list[PoolSide]) -> WindowStats:
    """7d: the sum of the pools' 7-day candle volumes, the 7-day change of the most liquid pool that has
    candles of this token's side (the base's, or the quote's when asked with token=<mint>)."""
    volume = change = None
    for pool, is_base in ranked:
        own = pool.windows.get("d7") if is_base else pool.quote_d7
        w = own or pool.windows.get("d7")
        if w is not None:
            if w.volume_usd is not None:
                volume = w.volume_usd if volume is None else volume + w.volume_usd
            if change is None and own is not None:
                change = own.price_change_pct
    return WindowStats(finite(volume), None, None, change)


def fill_from_tokens(stats: WindowStats, key: str, fallbacks: list[TokenQuote]) -> None:
    """Fill unknown window figures from the first token-level quote that has them (buys/sells as a pair)."""
    for tq in fallbacks:
        w = tq.windows.get(key) or _EMPTY
        if stats.volume_usd is None:
            volume = w.volume_usd if w.volume_usd is not None or key != "h24" else tq.volume_24h_usd
            stats.volume_usd = non_negative(volume)
        if stats.price_change_pct is None:
            stats.price_change_pct = finite(w.price_change_pct)
        if stats.txns is None and w.txns is not None:
            stats.buys, stats.sells = w.buys, w.sells
