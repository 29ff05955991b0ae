"""How the synthetic market moves: the runtime state the control API edits, and the values at a moment (pure).

Motion is a smooth, deterministic function of the seconds elapsed since the start (a sum of seeded sine
waves per token), so prices and volumes drift with wall time and every client sees the same values
within a second. Manual moves (`apply_move`) persist on top of it. Each source reports the same
underlying values with its own fixed noise of at most ±0.5% (`MarketView.noise`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tokens.replay.formats import stable_unit
from tokens.replay.known import SOL, SOL_PRICE_USD, USDC
from tokens.replay.world import WINDOW_SECONDS, WINDOWS, PoolSpec, TokenSpec, Universe

MOTION_PERIODS: tuple[float, ...] = (90.0, 600.0, 3600.0)
PRICE_AMPLITUDES: tuple[float, ...] = (0.01, 0.03, 0.06)  # in log-price, times the token's volatility
VOLUME_AMPLITUDES: tuple[float, ...] = (0.12, 0.12, 0.08)
VOLUME_SENSITIVITY: dict[str, float] = {"m5": 1.0, "h1": 0.5, "h6": 0.25, "h24": 0.1}
SOL_AMPLITUDES: tuple[float, ...] = (0.001, 0.003, 0.008)
NOISE = 0.005


@dataclass(slots=True)
class MarketState:
    """What the control API changes; the universe itself never changes."""

    motion_enabled: bool = True
    origin: float = 0.0  # wall time at which the motion clock read 0 (while enabled)
    frozen_elapsed: float = 0.0  # the motion clock while disabled
    price_factor: dict[str, float] = field(default_factory=dict)  # mint -> factor
    source_price_factor: dict[tuple[str, str], float] = field(default_factory=dict)  # (source, mint)
    volume_extra: dict[str, float] = field(default_factory=dict)  # pool -> USD added to every window
    version: int = 0

    @classmethod
    def start(cls, now: float, motion: bool = True) -> MarketState:
        return cls(motion_enabled=motion, origin=now)

    def elapsed(self, now: float) -> int:
        """Whole seconds on the motion clock (values change at most once a second)."""
        return int(max(0.0, now - self.origin if self.motion_enabled else self.frozen_elapsed))

    def set_motion(self, enabled: bool, now: float) -> None:
        if enabled != self.motion_enabled:
            if enabled:
                self.origin = now - self.frozen_elapsed
            else:
                self.frozen_elapsed = now - self.origin
            self.motion_enabled = enabled
            self.version += 1


@dataclass(frozen=True, slots=True)
class PoolState:
    """One pool's true values now; `volume`, `buys`, `sells`, `change` are keyed by window."""

    spec: PoolSpec
    price_usd: float
    quote_price_usd: float
    liquidity_usd: float
    volume: dict[str, float]
    buys: dict[str, int]
    sells: dict[str, int]
    change: dict[str, float]

    @property
    def price_native(self) -> float:
        return self.price_usd / self.quote_price_usd


@dataclass(frozen=True, slots=True)
class TokenState:
    spec: TokenSpec
    price_usd: float
    pools: tuple[PoolState, ...]  # same order as spec.pools

    @property
    def liquidity_usd(self) -> float:
        return sum(p.liquidity_usd for p in self.pools)

    def volume(self, window: str) -> float:
        return sum(p.volume[window] for p in self.pools)

    def change(self, window: str) -> float:
        return self.pools[0].change[window]

    @property
    def market_cap_usd(self) -> float:
        return self.price_usd * self.spec.circ_supply

    @property
    def fdv_usd(self) -> float:
        return self.price_usd * self.spec.total_supply


@dataclass(frozen=True)
class MarketView:
    """The whole market at one moment, as the renderers read it."""

    seed: int
    at: float  # wall time
    elapsed: int
    sol_price_usd: float
    sol_pool: PoolState
    tokens: dict[str, TokenState]
    pools: dict[str, PoolState]
    source_price_factor: dict[tuple[str, str], float]

    def noise(self, source: str, key: str) -> float:
        """The source's fixed multiplicative noise (1 ± 0.5%) on one value, e.g. key "<pool>:price"."""
        return 1.0 + NOISE * (2.0 * _unit(self.seed, source, key) - 1.0)

    def source_factor(self, source: str, mint: str) -> float:
        return self.source_price_factor.get((source, mint), 1.0)


@lru_cache(maxsize=1 << 18)
def _unit(seed: int, *parts: str) -> float:
    return stable_unit(seed, *parts)


def wave(seed: int, key: str, elapsed: float, amplitudes: tuple[float, ...]) -> float:
    """Smooth deterministic motion: 0 at elapsed 0, within ±2·sum(amplitudes)."""
    total = 0.0
    for i, (amplitude, period) in enumerate(zip(amplitudes, MOTION_PERIODS, strict=True)):
        phase = 2 * math.pi * _unit(seed, key, str(i))
        total += amplitude * (math.sin(2 * math.pi * elapsed / period + phase) - math.sin(phase))
    return total


def market_view(universe: Universe, state: MarketState, now: float) -> MarketView:
    """Every token's and pool's values at `now`, after motion and manual moves."""
    elapsed = state.elapsed(now)
    seed = universe.seed
    sol_price = SOL_PRICE_USD * math.exp(wave(seed, SOL.mint, elapsed, SOL_AMPLITUDES))
    quote_prices = {SOL.mint: sol_price, USDC.mint: 1.0}
    sol_pool = _pool_view(universe.sol_pool, sol_price, sol_price / SOL_PRICE_USD, 0.0, 1.0, state, now)
    tokens: dict[str, TokenState] = {}
    pools: dict[str, PoolState] = {sol_pool.spec.address: sol_pool}
    for spec in universe.tokens:
        ratio = state.price_factor.get(spec.mint, 1.0)
        ratio *= math.exp(spec.volatility * wave(seed, spec.mint, elapsed, PRICE_AMPLITUDES))
        volume_wave = wave(seed, spec.mint + ":volume", elapsed, VOLUME_AMPLITUDES)
        price = spec.price_usd * ratio
        views = tuple(
            _pool_view(p, price, ratio, volume_wave, quote_prices[p.quote_mint], state, now)
            for p in spec.pools
        )
        tokens[spec.mint] = TokenState(spec, price, views)
        pools.update((v.spec.address, v) for v in views)
    return MarketView(seed, now, elapsed, sol_price, sol_pool, tokens, pools, dict(state.source_price_factor))


def _pool_view(
    pool: PoolSpec, token_price: float, ratio: float, volume_wave: float, quote_price: float,
    state: MarketState, now: float,
) -> PoolState:  # fmt: skip
    extra = state.volume_extra.get(pool.address, 0.0)
    volume = [
        v * math.exp(volume_wave * VOLUME_SENSITIVITY[w]) + extra
        for v, w in zip(pool.volume, WINDOWS, strict=True)
    ]
    for i in range(1, len(volume)):
        volume[i] = max(volume[i], volume[i - 1])
    age = now - pool.created_at
    for i, window in enumerate(WINDOWS[:-1]):
        if WINDOW_SECONDS[window] >= age:
            volume[i + 1 :] = [volume[i]] * (len(volume) - i - 1)
            break
    vol = dict(zip(WINDOWS, volume, strict=True))
    return PoolState(
        spec=pool,
        price_usd=token_price * (1 + pool.skew),
        quote_price_usd=quote_price,
        liquidity_usd=pool.liquidity_usd * math.sqrt(ratio),
        volume=vol,
        buys={w: _trades(v * pool.buy_share, pool.trade_usd) for w, v in vol.items()},
        sells={w: _trades(v * (1 - pool.buy_share), pool.trade_usd) for w, v in vol.items()},
        change={w: ((1 + c / 100) * ratio - 1) * 100 for w, c in zip(WINDOWS, pool.change, strict=True)},
    )


def _trades(volume_usd: float, trade_usd: float) -> int:
    return max(1, round(volume_usd / trade_usd)) if volume_usd > 0 else 0


def apply_move(
    state: MarketState, view: MarketView, mint: str, price_factor: float | None = None,
    volume_m5_factor: float | None = None, source: str | None = None,
) -> None:  # fmt: skip
    """Multiply a token's price (everywhere, or only as `source` reports it) and/or its 5-minute volume.

    The extra 5-minute volume is added to the 1h/6h/24h windows too, so the windows stay consistent.
    """
    token = view.tokens[mint]
    if price_factor is not None:
        factors: dict[Any, float] = state.source_price_factor if source else state.price_factor
        key: Any = (source, mint) if source else mint
        factors[key] = factors.get(key, 1.0) * price_factor
    if volume_m5_factor is not None:
        for pool in token.pools:
            added = pool.volume["m5"] * (volume_m5_factor - 1)
            state.volume_extra[pool.spec.address] = state.volume_extra.get(pool.spec.address, 0.0) + added
    state.version += 1


def universe_summary(universe: Universe, view: MarketView, state: MarketState) -> dict[str, Any]:
    """The /_control/universe answer: every token's true current values and who sees what."""
    tokens = []
    for token in view.tokens.values():
        spec = token.spec
        pools = [
            {
                "address": p.spec.address, "dex": p.spec.dex, "quote_mint": p.spec.quote_mint,
                "price_usd": p.price_usd, "liquidity_usd": p.liquidity_usd, "volume_h24": p.volume["h24"],
                "volume": p.volume, "created_at": p.spec.created_at, "sources": sorted(p.spec.sources),
            }
            for p in token.pools
        ]  # fmt: skip
        tokens.append(
            {
                "mint": spec.mint, "name": spec.name, "symbol": spec.symbol, "price_usd": token.price_usd,
                "market_cap_usd": token.market_cap_usd, "liquidity_usd": token.liquidity_usd,
                "volume": {w: token.volume(w) for w in WINDOWS}, "created_at": spec.created_at,
                "home": spec.home, "pools": pools, "sources": list(spec.sources),
            }
        )  # fmt: skip
    return {
        "seed": universe.seed, "started_at": universe.started_at, "motion": state.motion_enabled,
        "elapsed": view.elapsed, "sol_price_usd": view.sol_price_usd, "tokens": tokens,
    }  # fmt: skip
