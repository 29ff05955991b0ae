"""Pool side of merging: one MergedPool per pool address across sources, indexed by mint, with 7-day figures.

Rules (see also tokens/merge/core.py):
- A pool reported by several sources is one pool. Numbers (prices, liquidity, window stats) come from the
  preferred source's quote (POOL_SOURCE_ORDER) among those fetched within POOL_FRESH_SECONDS of the
  freshest, so values do not flap between two sources' slightly different figures as their rotating
  refreshes interleave; a staler quote only fills what fresher ones lack; names, symbols and the icon from the first
  source by name that has them; the dex slug is the most specific one reported ("raydium-clmm" over
  "raydium"), so neither flaps between refreshes.
- If sources disagree on which side is the base, the pool keeps the orientation whose base is not a
  reference mint (else the first source's by name); the other quotes are flipped to match.
- A liquidity of 0 or less is unknown (bonding curves report 0): it is None, never weighs a price.
- A token owns a pool when it is the pool's base, or its quote while the base is not SOL/USDC/USDT. On the
  quote side the token's price is the pool's quote price and buys/sells swap (buying the base sells the
  quote); the pool's price change describes the base, so it is not the token's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tokens.dexes import protocol_name
from tokens.numbers import INF, finite, non_negative, positive
from tokens.records import REFERENCE_MINTS, WINDOWS, Candle, PoolQuote, PoolView, SourceSnapshot, WindowStats

WEEK_SECONDS = 7 * 86400
POOL_SOURCE_ORDER = {"dexscreener": 0, "geckoterminal": 1}
POOL_FRESH_SECONDS = 90.0


@dataclass(slots=True)
class MergedPool:
    """One distinct pool, in the base orientation, built from every source's quote of it."""

    address: str
    dex_id: str
    base_mint: str
    quote_mint: str
    base_symbol: str | None
    base_name: str | None
    quote_symbol: str | None
    icon: str | None
    base_price: float | None
    quote_price: float | None
    liquidity: float | None
    created_at: float | None
    windows: dict[str, WindowStats]  # WINDOWS, plus "d7" when the pool has daily candles
    sources: list[str]
    quotes: list[PoolQuote]  # preferred first (see module docstring), all in this orientation
    quote_d7: WindowStats | None = None  # 7d of the quote-side token, from OHLCV asked with token=<its mint>

    def price_for(self, is_base: bool, excluded: Iterable[str] = ()) -> float | None:
        """The token's price in this pool, from the preferred quote of a source not in `excluded`."""
        if not excluded:
            return self.base_price if is_base else self.quote_price
        for q in self.quotes:
            if q.source not in excluded:
                price = positive(q.price_usd if is_base else q.quote_price_usd)
                if price is not None:
                    return price
        return None


def index_pools(
    snapshots: Iterable[SourceSnapshot], wanted: set[str]
) -> tuple[dict[str, list[PoolQuote]], dict[str, list[tuple[str, bool]]]]:
    """(quotes by pool address, [(pool address, token is base)] by wanted mint), in one pass each."""
    quotes_by_pool: dict[str, list[PoolQuote]] = {}
    for snap in snapshots:
        for address, quote in snap.pools.items():
            quotes_by_pool.setdefault(address, []).append(quote)
    by_mint: dict[str, list[tuple[str, bool]]] = {}
    for address, quotes in quotes_by_pool.items():
        base, quote = _orientation(quotes)
        if base in wanted:
            by_mint.setdefault(base, []).append((address, True))
        if quote in wanted and quote != base and base not in REFERENCE_MINTS:
            by_mint.setdefault(quote, []).append((address, False))
    return quotes_by_pool, by_mint


def _orientation(quotes: list[PoolQuote]) -> tuple[str, str]:
    first = quotes[0]
    for q in quotes:
        if q.base_mint != first.base_mint and first.base_mint in REFERENCE_MINTS:
            return q.base_mint, q.quote_mint
    return first.base_mint, first.quote_mint


def merge_pool(
    address: str,
    quotes: list[PoolQuote],
    candles: list[Candle] | None,
    quote_candles: list[Candle] | None = None,
) -> MergedPool:
    """The distinct pool behind one or more sources' quotes of `address`.

    `candles` follow the base token's price, `quote_candles` the quote token's (OHLCV asked with
    token=<quote mint>): each side's 7-day change comes from its own candles only.
    """
    pool = _from_one(address, quotes[0]) if len(quotes) == 1 else _from_several(address, quotes)
    if candles:
        volume, change = pool_d7(candles)
        pool.windows["d7"] = WindowStats(volume_usd=volume, price_change_pct=change)
    if quote_candles:
        volume, change = pool_d7(quote_candles)
        pool.quote_d7 = WindowStats(volume_usd=volume, price_change_pct=change)
    return pool


def _from_one(address: str, q: PoolQuote) -> MergedPool:
    windows = {}
    for key in WINDOWS:
        w = q.windows.get(key)
        if w is not None:
            windows[key] = _clean(w)
    # Positional: this runs for most pools, and keyword arguments cost twice as much here.
    return MergedPool(
        address,
        q.dex_id,
        q.base_mint,
        q.quote_mint,
        q.base_symbol or None,
        q.base_name or None,
        q.quote_symbol or None,
        q.icon or None,
        positive(q.price_usd),
        positive(q.quote_price_usd),
        positive(q.liquidity_usd),
        positive(q.created_at),
        windows,
        [q.source],
        [q],
    )


def _from_several(address: str, quotes: list[PoolQuote]) -> MergedPool:
    base_mint, quote_mint = _orientation(quotes)
    by_name = [q if q.base_mint == base_mint else _flipped(q) for q in quotes]  # indexed in name order
    newest = max(q.fetched_at or 0.0 for q in by_name)

    def preference(q: PoolQuote) -> tuple:
        stale = newest - (q.fetched_at or 0.0) > POOL_FRESH_SECONDS
        return (stale, POOL_SOURCE_ORDER.get(q.source, 9), -(q.fetched_at or 0.0), q.source)

    quotes = sorted(by_name, key=preference)
    return MergedPool(
        address=address,
        dex_id=max((q.dex_id for q in by_name), key=len),
        base_mint=base_mint,
        quote_mint=quote_mint,
        base_symbol=_first_text(by_name, "base_symbol"),
        base_name=_first_text(by_name, "base_name"),
        quote_symbol=_first_text(by_name, "quote_symbol"),
        icon=_first_text(by_name, "icon"),
        base_price=_first(quotes, "price_usd"),
        quote_price=_first(quotes, "quote_price_usd"),
        liquidity=_first(quotes, "liquidity_usd"),
        created_at=_first(quotes, "created_at"),
        windows=_merge_windows(quotes),
        sources=sorted(q.source for q in by_name),
        quotes=quotes,
    )


def _first(quotes: list[PoolQuote], name: str) -> float | None:
    """First positive finite value of a numeric field (0 or less means unknown for these fields)."""
    for q in quotes:
        value = getattr(q, name)
        if value is not None and 0 < value < INF:
            return value
    return None


def _first_text(quotes: list[PoolQuote], name: str) -> str | None:
    for q in quotes:
        value = getattr(q, name)
        if value:
            return value
    return None


def _clean(w: WindowStats) -> WindowStats:
    """The same stats, or a copy without non-finite or negative volume and non-finite price change."""
    v, c = w.volume_usd, w.price_change_pct
    if (v is None or 0 <= v < INF) and (c is None or -INF < c < INF):
        return w
    return WindowStats(non_negative(v), w.buys, w.sells, finite(c))


def _merge_windows(quotes: list[PoolQuote]) -> dict[str, WindowStats]:
    """Per window: freshest volume and price change; buys and sells as a pair from one quote."""
    out: dict[str, WindowStats] = {}
    freshest = quotes[0].windows
    for key in WINDOWS:
        w = freshest.get(key)
        if w is not None and None not in (w.volume_usd, w.price_change_pct, w.buys, w.sells):
            out[key] = _clean(w)  # complete already: nothing to take from older quotes
            continue
        stats = [w for q in quotes if (w := q.windows.get(key)) is not None]
        if stats:
            out[key] = _combine(stats)
    return out


def _combine(stats: list[WindowStats]) -> WindowStats:
    volume = change = counts = None
    for w in stats:
        if volume is None:
            volume = non_negative(w.volume_usd)
        if change is None:
            change = finite(w.price_change_pct)
        if counts is None and (w.buys is not None or w.sells is not None):
            counts = w
    if counts is None:
        return WindowStats(volume, None, None, change)
    return WindowStats(volume, counts.buys, counts.sells, change)


def _flipped(q: PoolQuote) -> PoolQuote:
    """A quote seen from the other side: prices and buys/sells swap; base-only figures are dropped."""
    windows = {k: WindowStats(w.volume_usd, w.sells, w.buys, None) for k, w in q.windows.items()}
    native = q.price_native
    return PoolQuote(
        source=q.source,
        address=q.address,
        dex_id=q.dex_id,
        base_mint=q.quote_mint,
        quote_mint=q.base_mint,
        base_symbol=q.quote_symbol,
        quote_symbol=q.base_symbol,
        price_usd=q.quote_price_usd,
        quote_price_usd=q.price_usd,
        price_native=1.0 / native if native else None,
        liquidity_usd=q.liquidity_usd,
        created_at=q.created_at,
        windows=windows,
        fetched_at=q.fetched_at,
    )


def pool_d7(candles: list[Candle]) -> tuple[float | None, float | None]:
    """(volume of the last seven daily candles, % change of the newest close vs the close 7 days before).

    The earlier close is the newest candle at least seven days older than the newest one (a day without
    trades has no candle, so the close carried over is the one before it); none that old -> None.
    """
    rows = sorted((c for c in candles if c.ts is not None), key=lambda c: c.ts, reverse=True)
    if not rows:
        return None, None
    cutoff = rows[0].ts - WEEK_SECONDS
    volume = close = then_close = None
    for c in rows:
        if c.ts > cutoff:
            v = non_negative(c.volume_usd)
            if v is not None:
                volume = v if volume is None else volume + v
            if close is None:
                close = positive(c.close)
        else:
            then_close = positive(c.close)
            if then_close is not None:
                break
    if close is None or then_close is None:
        return finite(volume), None
    return finite(volume), finite((close / then_close - 1.0) * 100.0)


def pool_view(pool: MergedPool, is_base: bool) -> PoolView:
    """The pool as the token sees it: on the quote side, the other token is the "quote"."""
    protocol = protocol_name(pool.dex_id) or pool.dex_id
    # Positional (hot path), in PoolView's field order: address, dex_id, protocol, quote_mint, quote_symbol,
    # price_usd, liquidity_usd, windows, sources, created_at.
    if is_base:
        return PoolView(
            pool.address,
            pool.dex_id,
            protocol,
            pool.quote_mint,
            pool.quote_symbol,
            pool.base_price,
            pool.liquidity,
            pool.windows,
            pool.sources,
            pool.created_at,
        )
    flipped = {k: WindowStats(w.volume_usd, w.sells, w.buys, None) for k, w in pool.windows.items()}
    return PoolView(
        pool.address,
        pool.dex_id,
        protocol,
        pool.base_mint,
        pool.base_symbol,
        pool.quote_price,
        pool.liquidity,
        flipped,
        pool.sources,
        pool.created_at,
    )
