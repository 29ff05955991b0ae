"""The replay upstream's price history: a known per-pool price path rendered as GeckoTerminal's
minute/hour OHLCV (pure).

Every minute of a pool's life has three price samples (at :00, :20 and :40) on a fixed path,
`path_price`, that starts at the pool's launch price; about one minute in seven has no trades and
no samples. A candle of any aggregate is the roll-up of its minutes (open = first sample, close =
last, extremes of all), so aggregates agree with each other, and a candle with no traded minute is
left out, as GeckoTerminal does. The candle holding `now` ends at the market's current price, so
the newest candle follows the moving market (and the control endpoint's moves).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

from tokens.replay.formats import stable_unit

TIMEFRAMES = {"minute": (60, (1, 5, 15)), "hour": (3600, (1, 4, 12)), "day": (86400, (1,))}
MAX_LIMIT = 1000
SAMPLE_OFFSETS = (0, 20, 40)
IDLE_SHARE = 0.15


@functools.lru_cache(maxsize=4096)
def _phases(address: str, side: str) -> tuple[float, float, float]:
    return tuple(2 * math.pi * stable_unit(address, side, "phase", i) for i in range(3))  # type: ignore[return-value]


def path_price(address: str, side: str, start_price: float, ts: float) -> float:
    """The pool side's price at `ts` on its fixed path (waves of 15 min, 3 h and 2 days around the start price)."""
    a, b, c = _phases(address, side)
    wave = (
        0.04 * math.sin(2 * math.pi * ts / 900 + a)
        + 0.12 * math.sin(2 * math.pi * ts / 10800 + b)
        + 0.25 * math.sin(2 * math.pi * ts / 172800 + c)
    )
    return start_price * math.exp(wave)


@functools.lru_cache(maxsize=4096)
def _seed(address: str, what: str) -> int:
    return int(stable_unit(address, what) * 2**32)


def _unit(address: str, what: str, minute: int) -> float:
    """A cheap deterministic value in [0, 1) per pool and minute (a multiplicative hash)."""
    return (((minute // 60) * 2654435761 + _seed(address, what)) * 40503 % 2**32) / 2**32


def traded(address: str, minute: int) -> bool:
    return _unit(address, "idle", minute) >= IDLE_SHARE


def _samples(
    address: str, side: str, start_price: float, minute: int, now: float, current: float
) -> Iterator[float]:
    for offset in SAMPLE_OFFSETS:
        if minute + offset <= now:
            yield path_price(address, side, start_price, minute + offset)
    if minute <= now < minute + 60:
        yield current


def candle(
    address: str, side: str, start_price: float, start: int, length: int, now: float, current: float,
    created_at: float, minute_volume: float,
) -> list[float] | None:  # fmt: skip
    """[start, open, high, low, close, volume] of one candle, or None when no minute in it traded."""
    prices: list[float] = []
    volume = 0.0
    first = max(start, int(created_at // 60 * 60))
    for minute in range(first, min(start + length, int(now // 60 * 60) + 60), 60):
        if not traded(address, minute):
            continue
        samples = list(_samples(address, side, start_price, minute, now, current))
        if samples:
            prices += samples
            volume += minute_volume * (0.5 + _unit(address, "vol", minute))
    if not prices:
        return None
    return [start, prices[0], max(prices), min(prices), prices[-1], volume]


def ohlcv_rows(
    address: str, side: str, start_price: float, current: float, created_at: float, now: float,
    minute_volume: float, timeframe: str, aggregate: int, limit: int, before: int | None,
) -> list[list[float]]:  # fmt: skip
    """Up to `limit` candles starting before `before` (default: the one holding now), newest first."""
    unit, _ = TIMEFRAMES[timeframe]
    length = unit * aggregate
    start = int(now // length * length)
    if before is not None:
        start = min(start, (int(before) - 1) // length * length)
    rows: list[list[float]] = []
    floor = int(created_at // length * length)
    while len(rows) < limit and start >= floor:
        row = candle(address, side, start_price, start, length, now, current, created_at, minute_volume)
        if row is not None:
            rows.append(row)
        start -= length
    return rows


def rendered(row: list[float], address: str) -> list[object]:
    """A row as GeckoTerminal sends it: mostly numbers, some as strings, now and then a null volume."""
    ts, *values = row
    as_text = stable_unit(address, "fmt", ts) < 0.3
    out: list[object] = [int(ts), *(repr(v) if as_text else v for v in values)]
    if stable_unit(address, "novol", ts) < 0.05:
        out[5] = None
    return out
