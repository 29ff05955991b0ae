"""Pure candle building: interval alignment, folding observations into OHLC, rolling candles up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

# Interval name -> length in seconds. Every interval divides a day, and a day starts at 00:00 UTC,
# so aligning Unix seconds down to a multiple of the length gives 00/04/08… for 4h and midnight for 1d.
INTERVALS: dict[str, int] = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400}
INTERVAL_NAMES = tuple(INTERVALS)
DEFAULT_INTERVAL = "5m"
MERGED = "merged"
GECKOTERMINAL = "geckoterminal"
SOURCES = (MERGED, GECKOTERMINAL)


@dataclass(frozen=True, slots=True)
class Bar:
    """One candle of one token at one interval; `t` is its aligned start (Unix seconds, UTC)."""

    mint: str
    interval: str
    t: int
    open: float
    high: float
    low: float
    close: float
    volume_usd: float | None = None
    liquidity_usd: float | None = None
    market_cap_usd: float | None = None
    source: str = MERGED

    def as_dict(self) -> dict:
        """The public CANDLE object (docs/api.md §3)."""
        return {
            "t": self.t,
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "close": self.close,
            "volume_usd": self.volume_usd,
            "liquidity_usd": self.liquidity_usd,
            "market_cap_usd": self.market_cap_usd,
            "source": self.source,
        }


def align(ts: float, interval: str) -> int:
    """The start of the `interval` candle holding the instant `ts` (Unix seconds)."""
    length = INTERVALS[interval]
    return int(ts // length) * length


def observe(
    mint: str,
    interval: str,
    ts: float,
    price: float,
    liquidity_usd: float | None = None,
    market_cap_usd: float | None = None,
) -> Bar:
    """A candle holding one observed price (what one snapshot contributes to one interval)."""
    return Bar(
        mint, interval, align(ts, interval), price, price, price, price, None, liquidity_usd, market_cap_usd
    )


def fold(held: Bar, later: Bar) -> Bar:
    """`held` updated with a later part of the same candle: open kept, close taken, extremes of both.

    The last liquidity and market cap seen win (an unknown one keeps the earlier value); volumes add
    where known. A candle the service observed itself stays `merged`.
    """
    if (held.mint, held.interval, held.t) != (later.mint, later.interval, later.t):
        raise ValueError("fold() joins parts of the same candle only")
    return replace(
        held,
        high=max(held.high, later.high),
        low=min(held.low, later.low),
        close=later.close,
        volume_usd=_add(held.volume_usd, later.volume_usd),
        liquidity_usd=later.liquidity_usd if later.liquidity_usd is not None else held.liquidity_usd,
        market_cap_usd=later.market_cap_usd if later.market_cap_usd is not None else held.market_cap_usd,
        source=MERGED if MERGED in (held.source, later.source) else held.source,
    )


def roll_up(bars: Iterable[Bar], interval: str) -> list[Bar]:
    """Candles of `interval` from shorter candles (any order in, oldest first out).

    Each result opens at the first covered candle's open, closes at the last one's close and holds
    the extremes of all; an interval with no candle in it gets none.
    """
    out: dict[int, Bar] = {}
    for bar in sorted(bars, key=lambda b: b.t):
        if INTERVALS[bar.interval] > INTERVALS[interval]:
            raise ValueError(f"cannot roll {bar.interval} candles up into {interval}")
        part = replace(bar, interval=interval, t=align(bar.t, interval))
        held = out.get(part.t)
        out[part.t] = part if held is None else fold(held, part)
    return [out[t] for t in sorted(out)]


def _add(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b
