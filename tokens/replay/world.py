"""The synthetic Solana market the replay upstream serves: tokens, pools, which source sees what (pure).

Everything is derived from the seed: the same `build_universe(seed, n, now)` gives the same mints,
names, pools, values and source visibility. Values here are the starting point; `market.py` moves them.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field

import base58

from tokens.replay import known
from tokens.replay.known import DEX_WEIGHTS, KNOWN_TOKENS, NAME_HEADS, NAME_TAILS, SOL, USDC, KnownToken

DS, JUP, GT = "dexscreener", "jupiter", "geckoterminal"
SOURCES: tuple[str, ...] = (DS, JUP, GT)
WINDOWS: tuple[str, ...] = ("m5", "h1", "h6", "h24")
WINDOW_SECONDS: dict[str, int] = {"m5": 300, "h1": 3600, "h6": 21600, "h24": 86400}

# Discovery lists that can be a token's "home" (the list guaranteed to show it): source, capacity.
HOME_LISTS: dict[str, tuple[str, int]] = {
    "ds-boosts-top": (DS, 28),
    "ds-boosts-latest": (DS, 28),
    "ds-profiles": (DS, 28),
    "jup-trending": (JUP, 100),
    "jup-organic": (JUP, 100),
    "gt-trending": (GT, 190),
    "gt-new": (GT, 70),
}


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """One pool at the start: `volume`/`change` are per window (m5, h1, h6, h24), change in percent."""

    address: str
    mint: str
    dex: str
    quote_mint: str
    created_at: float
    skew: float  # pool price = token price * (1 + skew)
    liquidity_usd: float
    volume: tuple[float, ...]
    change: tuple[float, ...]
    trade_usd: float  # average trade size, turns volume into transaction counts
    buy_share: float
    sources: frozenset[str]  # subset of {dexscreener, geckoterminal}


@dataclass(frozen=True, slots=True)
class TokenSpec:
    """One token at the start; pools[0] is its most liquid pool."""

    mint: str
    name: str
    symbol: str
    decimals: int
    total_supply: float
    circ_supply: float
    price_usd: float
    created_at: float
    pump: bool  # a pump.fun launch
    volatility: float
    trending: float  # 0..100
    organic: float  # 0..100
    boost: int  # DexScreener boost amount, 0 = not boosted
    home: str | None  # key of HOME_LISTS
    jupiter: bool  # Jupiter prices and lists it
    pools: tuple[PoolSpec, ...]

    @property
    def sources(self) -> tuple[str, ...]:
        seen = {s for pool in self.pools for s in pool.sources} | ({JUP} if self.jupiter else set())
        return tuple(s for s in SOURCES if s in seen)

    def pools_seen_by(self, source: str) -> tuple[PoolSpec, ...]:
        return tuple(pool for pool in self.pools if source in pool.sources)


@dataclass(frozen=True)
class Universe:
    seed: int
    started_at: float
    tokens: tuple[TokenSpec, ...]
    sol_pool: PoolSpec
    by_mint: dict[str, TokenSpec] = field(repr=False)
    pools: dict[str, PoolSpec] = field(repr=False)  # every pool, the SOL/USDC one included


@dataclass(slots=True)
class _Draft:
    mint: str
    name: str
    symbol: str
    known: KnownToken | None
    pool_sources: str  # "both", "ds" or "gt"
    jupiter: bool


def build_universe(seed: int = 7, n_tokens: int = 300, now: float | None = None) -> Universe:
    """The seeded market of `n_tokens` tokens (the real sample tokens first), ages relative to `now`."""
    now = time.time() if now is None else now
    rng = random.Random(seed)
    drafts = _drafts(rng, n_tokens)
    homes = _assign_homes(rng, drafts)
    tokens = tuple(_token(rng, draft, homes.get(draft.mint), now) for draft in drafts)
    day = WINDOW_SECONDS["h24"]
    v24 = known.SOL_USDC_VOLUME_H24
    sol_pool = PoolSpec(
        known.SOL_USDC_POOL, SOL.mint, "raydium", USDC.mint, now - 1400 * day, 0.0, known.SOL_USDC_LIQUIDITY,
        (v24 / 600, v24 / 40, v24 / 4, v24), (-0.1, 0.3, -0.4, 1.9), 450.0, 0.5, frozenset({DS, GT}),
    )  # fmt: skip
    pools = {sol_pool.address: sol_pool} | {p.address: p for t in tokens for p in t.pools}
    return Universe(seed, now, tokens, sol_pool, {t.mint: t for t in tokens}, pools)


def _drafts(rng: random.Random, n_tokens: int) -> list[_Draft]:
    drafts = [_Draft(k.mint, k.name, k.symbol, k, "both", True) for k in KNOWN_TOKENS[:n_tokens]]
    combos = [(h, t) for h in NAME_HEADS for t in NAME_TAILS]
    rng.shuffle(combos)
    seen = {d.mint for d in drafts} | set(known.QUOTES)
    symbols = {d.symbol for d in drafts}
    for i in range(n_tokens - len(drafts)):
        mint = base58.b58encode(rng.randbytes(32)).decode()
        while mint in seen:
            mint = base58.b58encode(rng.randbytes(32)).decode()
        seen.add(mint)
        head, tail = combos[i % len(combos)]
        name = f"{head} {tail}" + (f" {i // len(combos) + 1}" if i >= len(combos) else "")
        symbol = (head + tail).upper() if len(head + tail) <= 9 else (head[0] + tail).upper()
        while symbol in symbols:
            symbol += str(rng.randrange(10))
        symbols.add(symbol)
        roll = rng.random()
        pool_sources = "ds" if roll < 0.1 else "gt" if roll < 0.2 else "both"
        jupiter = rng.random() < (0.975 if pool_sources == "both" else 0.6)
        drafts.append(_Draft(mint, name, symbol, None, pool_sources, jupiter))
    return drafts


def _assign_homes(rng: random.Random, drafts: list[_Draft]) -> dict[str, str]:
    """Give each token one discovery list that will show it, so the lists together cover the market."""
    left = {name: cap for name, (_, cap) in HOME_LISTS.items()}
    candidates = {d.mint: _home_candidates(d) for d in drafts}
    homes: dict[str, str] = {}
    for draft in sorted(drafts, key=lambda d: len(candidates[d.mint])):
        open_lists = [name for name in candidates[draft.mint] if left[name] > 0]
        if not open_lists:
            continue
        home = rng.choices(open_lists, weights=[left[name] for name in open_lists])[0]
        left[home] -= 1
        homes[draft.mint] = home
    return homes


def _home_candidates(draft: _Draft) -> list[str]:
    sources = {DS: draft.pool_sources in ("both", "ds"), GT: draft.pool_sources in ("both", "gt")}
    sources[JUP] = draft.jupiter
    allowed = [name for name, (source, _) in HOME_LISTS.items() if sources[source]]
    if draft.known and len(draft.known.pools) > 2:
        allowed = [name for name in allowed if name != "gt-new"]
    return allowed


def _token(rng: random.Random, draft: _Draft, home: str | None, now: float) -> TokenSpec:
    kn = draft.known
    young = home == "gt-new"
    if young:  # the new_pools home tokens, all under 10 hours old
        age = rng.uniform(0.3, 10) * 3600
    else:  # 1.2 to 240 days, log-uniform
        age = 86400 * math.exp(rng.uniform(math.log(1.2), math.log(240)))
    pump = kn.pump if kn else (young or rng.random() < 0.55)
    price = kn.price_usd if kn else 10 ** rng.uniform(-7.3, -1.7)
    supply = 1e9 * rng.uniform(0.97, 1.0) if pump else 10 ** rng.uniform(8, 10.3)
    circ = supply if pump else supply * rng.uniform(0.55, 1.0)
    liquidity = (
        kn.liquidity_usd if kn else min(max(price * circ * 10 ** rng.uniform(-1.7, -0.6), 1500.0), 5e6)
    )
    volume = kn.volume_h24 if kn else liquidity * 10 ** rng.uniform(-0.3, 1.4)
    change_h24 = kn.change_h24 if kn else _change_h24(rng)
    created = now - age
    pools = _pools(rng, draft, young, pump, created, now, liquidity, volume, change_h24)
    boosted = home in ("ds-boosts-top", "ds-boosts-latest") or rng.random() < 0.1
    boost = rng.choice((100, 150, 200, 250, 500, 1000)) if home == "ds-boosts-top" else 0
    boost = boost or (rng.choice((10, 20, 30, 50, 90)) if boosted else 0)
    return TokenSpec(
        mint=draft.mint, name=draft.name, symbol=draft.symbol, decimals=6 if pump else rng.choice((6, 6, 9)),
        total_supply=supply, circ_supply=circ, price_usd=price, created_at=created, pump=pump,
        volatility=rng.uniform(0.8, 2.0) if young else rng.uniform(0.3, 1.5), trending=rng.uniform(0, 100),
        organic=0.0 if young else rng.uniform(0, 100) ** 1.2 / 100**0.2, boost=boost, home=home,
        jupiter=draft.jupiter, pools=pools,
    )  # fmt: skip


def _change_h24(rng: random.Random) -> float:
    return rng.uniform(60, 900) if rng.random() < 0.15 else rng.uniform(-70, 60)


def _pool_plan(rng: random.Random, draft: _Draft, young: bool, pump: bool) -> list[tuple[str, str | None]]:
    """(dex, address or None for a fresh one) per pool, the main pool first, a graduated curve last."""
    if draft.known:
        return list(draft.known.pools)
    if young:
        return [("pumpfun", None)] if rng.random() < 0.5 else [("pumpswap", None), ("pumpfun", None)]
    weights = {d: w for d, w in DEX_WEIGHTS.items() if pump or d != "pumpswap"}
    count = rng.choices((1, 2, 3, 4), weights=(35, 35, 20, 10))[0]
    dexes = ["pumpswap"] if pump and rng.random() < 0.7 else []
    while len(dexes) < count:
        pick = rng.choices(list(weights), weights=list(weights.values()))[0]
        if pick not in dexes:
            dexes.append(pick)
    if pump and rng.random() < 0.3 and len(dexes) < 4:
        dexes.append("pumpfun")  # its graduated bonding curve
    return [(d, None) for d in dexes]


def _pools(
    rng: random.Random, draft: _Draft, young: bool, pump: bool, created: float, now: float,
    liquidity: float, volume: float, change_h24: float,
) -> tuple[PoolSpec, ...]:  # fmt: skip
    plan = _pool_plan(rng, draft, young, pump)
    active = [i for i, (dex, _) in enumerate(plan) if not (dex == "pumpfun" and len(plan) > 1)]
    raw = sorted((rng.uniform(0.15, 1.0) ** 2 for _ in active), reverse=True)
    raw[0] += 0.6
    shares = {i: share / sum(raw) for i, share in zip(active, raw, strict=True)}
    fractions = (rng.uniform(0.2, 0.6), rng.uniform(0.1, 0.35), rng.uniform(0.05, 0.14))
    changes = _changes(rng, change_h24)
    pools = []
    for i, (dex, address) in enumerate(plan):
        share = shares.get(i)
        born = created if dex == "pumpfun" or i == 0 else created + rng.uniform(0.05, 0.6) * (now - created)
        born = min(born, now - 600)
        if share is None:  # a graduated bonding curve: little liquidity, no recent trades
            liq, vols = min(liquidity * 0.05, 9000.0), (0.0, 0.0, volume * 0.002, volume * 0.004)
        else:
            liq = liquidity * share
            vols = _volumes(volume * share * rng.uniform(0.8, 1.25), fractions, rng)
        age = now - born
        pools.append(
            PoolSpec(
                address=address or base58.b58encode(rng.randbytes(32)).decode(), mint=draft.mint, dex=dex,
                quote_mint=_quote(rng, dex), created_at=born, skew=rng.uniform(-0.002, 0.002),
                liquidity_usd=liq, volume=_clamp_to_age(vols, age), change=_clamp_to_age(changes, age),
                trade_usd=10 ** rng.uniform(1.3, 2.7), buy_share=rng.uniform(0.4, 0.65),
                sources=_pool_sources(rng, draft.pool_sources, i),
            )
        )  # fmt: skip
    return tuple(pools)


def _quote(rng: random.Random, dex: str) -> str:
    return SOL.mint if dex in ("pumpswap", "pumpfun") or rng.random() < 0.85 else USDC.mint


def _pool_sources(rng: random.Random, pool_sources: str, index: int) -> frozenset[str]:
    if pool_sources != "both":
        return frozenset({DS if pool_sources == "ds" else GT})
    roll = rng.random() if index else 1.0
    return frozenset({DS} if roll < 0.075 else {GT} if roll < 0.15 else {DS, GT})


def _volumes(h24: float, fractions: tuple[float, float, float], rng: random.Random) -> tuple[float, ...]:
    h6 = h24 * fractions[0] * rng.uniform(0.9, 1.1)
    h1 = h6 * fractions[1] * rng.uniform(0.9, 1.1)
    return (h1 * fractions[2] * rng.uniform(0.85, 1.15), h1, h6, h24)


def _changes(rng: random.Random, h24: float) -> tuple[float, ...]:
    h6 = h24 * rng.uniform(0.1, 0.7) + rng.uniform(-5, 5)
    h1 = h6 * rng.uniform(0.05, 0.4) + rng.uniform(-3, 3)
    m5 = h1 * rng.uniform(0.0, 0.4) + rng.uniform(-1.5, 1.5)
    return tuple(max(v, -95.0) for v in (m5, h1, h6, h24))


def _clamp_to_age(values: tuple[float, ...], age: float) -> tuple[float, ...]:
    """A pool younger than a window reports, for it, the figure of the shortest window covering its age."""
    out = list(values)
    for i, window in enumerate(WINDOWS):
        if WINDOW_SECONDS[window] >= age:
            out[i + 1 :] = [out[i]] * (len(out) - i - 1)
            break
    return tuple(out)
