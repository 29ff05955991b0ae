"""Cross-source checks for merging: each source's own view of a token, outlier votes, market cap and FDV.

Price vote: each source's own price (its token-level price, else its pools' liquidity-weighted price) is
compared with the anchor: the median of those prices (with an even count, the geometric mean of the middle
two; if those two differ by more than `factor`, the price of the one with more liquidity behind it, ties by
TRUST_ORDER). A source more than `factor` away from the anchor (either way) is excluded.

Market cap / FDV: candidates in CAP_ORDER (token-level figure, else the source's most liquid own pool's),
excluded sources left out, never FDV for market cap. Each candidate implies a supply (figure / the price it
was computed at); candidates whose supply is more than `factor` off the anchor supply (same vote as above,
ties by CAP_ORDER) are dropped, and the first one left is re-based on the merged price (merged price *
its supply), so the cap moves with the published price. A figure whose ratio to the token's liquidity is
outside [MIN_CAP_PER_LIQUIDITY, MAX_CAP_PER_LIQUIDITY] (a thin pool's absurd price, a wrong supply) is
skipped, as is a market cap above the chosen FDV.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from math import isfinite, sqrt
from typing import Any

from tokens.merge.pools import MergedPool
from tokens.numbers import finite, non_negative, positive
from tokens.records import PoolQuote, TokenQuote

TRUST_ORDER = ("jupiter", "geckoterminal", "dexscreener")  # price-vote ties; token-level fallbacks
CAP_ORDER = ("geckoterminal", "jupiter", "dexscreener")
MAX_CAP_PER_LIQUIDITY = 10_000.0
MIN_CAP_PER_LIQUIDITY = 0.1
CAP_ABOVE_FDV_TOLERANCE = 1.02


_ORDER_MEMO: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = {}


def ordered(names: Any, preference: tuple[str, ...]) -> list[str]:
    """`names` in `preference` order, then any others by name."""
    memo_key = (tuple(names), preference)
    found = _ORDER_MEMO.get(memo_key)
    if found is None:
        rank = {name: i for i, name in enumerate(preference)}
        found = sorted(memo_key[0], key=lambda s: (rank.get(s, len(rank)), s))
        if len(_ORDER_MEMO) < 256:
            _ORDER_MEMO[memo_key] = found
    return found


@dataclass(slots=True)
class SourceView:
    """One source's own figures for one token: add its pool quotes, then `finish()` sets the results."""

    source: str
    token: TokenQuote | None = None
    fetched_at: float | None = None
    # accumulated from pools
    weighted: float = 0.0
    weight: float = 0.0
    plain: float = 0.0
    plain_count: int = 0
    pool_liquidity: float | None = None
    pool_volume_24h: float | None = None
    cap_pool: PoolQuote | None = None  # its most liquid pool with the token as base and a cap or FDV
    cap_pool_liquidity: float = -1.0
    # results
    price: float | None = None
    liquidity: float | None = None
    volume_24h: float | None = None
    market_cap: tuple[float | None, float | None] = (None, None)  # (value, the price it goes with)
    fdv: tuple[float | None, float | None] = (None, None)

    def add_pool(self, q: PoolQuote, is_base: bool) -> None:
        price = positive(q.price_usd if is_base else q.quote_price_usd)
        liquidity = positive(q.liquidity_usd)
        if price is not None:
            if liquidity:
                self.weighted += price * liquidity
                self.weight += liquidity
            else:
                self.plain += price
                self.plain_count += 1
        if liquidity is not None:
            self.pool_liquidity = liquidity + (self.pool_liquidity or 0.0)
        h24 = q.windows.get("h24")
        volume = non_negative(h24.volume_usd) if h24 is not None else None
        if volume is not None:
            self.pool_volume_24h = volume + (self.pool_volume_24h or 0.0)
        if self.fetched_at is None or q.fetched_at > self.fetched_at:
            self.fetched_at = q.fetched_at
        if is_base and (q.market_cap_usd or q.fdv_usd) and (liquidity or 0.0) > self.cap_pool_liquidity:
            self.cap_pool, self.cap_pool_liquidity = q, liquidity or 0.0

    def finish(self) -> None:
        tq = self.token
        self.price = positive(tq.price_usd) if tq is not None else None
        if self.price is None:
            if self.weight > 0:
                self.price = finite(self.weighted / self.weight)
            elif self.plain_count:
                self.price = finite(self.plain / self.plain_count)
        self.liquidity = positive(tq.liquidity_usd) if tq is not None else None
        if self.liquidity is None:
            self.liquidity = finite(self.pool_liquidity)
        self.volume_24h = self._token_volume() if tq is not None else None
        if self.volume_24h is None:
            self.volume_24h = finite(self.pool_volume_24h)
        self.market_cap = self._own_cap("market_cap_usd")
        self.fdv = self._own_cap("fdv_usd")

    def _token_volume(self) -> float | None:
        tq = self.token
        assert tq is not None
        volume = non_negative(tq.volume_24h_usd)
        h24 = tq.windows.get("h24")
        return volume if volume is not None or h24 is None else non_negative(h24.volume_usd)

    def _own_cap(self, field: str) -> tuple[float | None, float | None]:
        """(this source's market_cap_usd or fdv_usd for the token, the price it goes with)."""
        tq = self.token
        if tq is not None and (value := positive(getattr(tq, field))) is not None:
            return value, positive(tq.price_usd) or self.price
        pool = self.cap_pool
        if pool is not None and (value := positive(getattr(pool, field))) is not None:
            return value, positive(pool.price_usd)
        return None, None


def source_views(
    entries: list[tuple[MergedPool, bool]], token_quotes: Mapping[str, TokenQuote]
) -> dict[str, SourceView]:
    """Every reporting source's own view of the token, by source name."""
    views = {name: SourceView(name, token=tq, fetched_at=tq.fetched_at) for name, tq in token_quotes.items()}
    for pool, is_base in entries:
        for q in pool.quotes:
            view = views.get(q.source)
            if view is None:
                view = views[q.source] = SourceView(q.source)
            view.add_pool(q, is_base)
    for view in views.values():
        view.finish()
    return views


def anchor_of(values: list[float], factor: float, prefer: Callable[[float, float], float]) -> float | None:
    """The median of positive `values`; with an even count the geometric mean of the middle two, or, when
    those two differ by more than `factor`, `prefer(lower, higher)` (the tie rule)."""
    if len(values) < 2:
        return values[0] if values else None
    ranked = sorted(values)
    mid = len(ranked) // 2
    if len(ranked) % 2:
        return ranked[mid]
    a, b = ranked[mid - 1], ranked[mid]
    return a * sqrt(b / a) if b <= a * factor else prefer(a, b)


def is_outlier(value: float, anchor: float, factor: float) -> bool:
    return value > anchor * factor or value * factor < anchor


def price_vote(views: Mapping[str, SourceView], factor: float) -> tuple[float | None, set[str]]:
    """(anchor price, excluded sources) from every source's own price."""
    priced = [view for view in views.values() if view.price is not None]
    if len(priced) < 2:
        return (priced[0].price if priced else None), set()

    def rank(view: SourceView) -> tuple[float, int, str]:
        liquidity = view.liquidity if view.liquidity is not None else -1.0
        trust = TRUST_ORDER.index(view.source) if view.source in TRUST_ORDER else len(TRUST_ORDER)
        return -liquidity, trust, view.source

    def prefer(a: float, b: float) -> float:
        return min((v for v in priced if v.price in (a, b)), key=rank).price or a

    anchor = anchor_of([v.price for v in priced if v.price is not None], factor, prefer)
    assert anchor is not None
    return anchor, {v.source for v in priced if v.price is not None and is_outlier(v.price, anchor, factor)}


def choose_caps(
    views: Mapping[str, SourceView],
    excluded: set[str],
    price: float | None,
    liquidity: float | None,
    factor: float,
) -> tuple[float | None, float | None]:
    """(market_cap_usd, fdv_usd) for the token, by the rules in this module's docstring."""
    names = ordered(views, CAP_ORDER)
    if excluded:
        names = [name for name in names if name not in excluded]
    fdv = _pick([views[n].fdv for n in names], price, liquidity, factor, None)
    mcap = _pick([views[n].market_cap for n in names], price, liquidity, factor, fdv)
    return mcap, fdv


def _pick(
    candidates: list[tuple[float | None, float | None]],
    price: float | None,
    liquidity: float | None,
    factor: float,
    ceiling: float | None,
) -> float | None:
    """The first candidate (value, price it was computed at) that passes the checks, re-based on `price`."""
    values: list[tuple[float, float | None]] = []
    for value, at_price in candidates:
        if value is not None:
            values.append((value, positive(value / at_price) if at_price else None))
    supplies = [supply for _, supply in values if supply is not None]
    anchor = anchor_of(supplies, factor, lambda a, b: a if supplies.index(a) < supplies.index(b) else b)
    for value, supply in values:
        if supply is not None:
            if anchor is not None and is_outlier(supply, anchor, factor):
                continue
            if price is not None:
                value = price * supply
        if not isfinite(value) or (ceiling is not None and value > ceiling * CAP_ABOVE_FDV_TOLERANCE):
            continue
        if liquidity and not MIN_CAP_PER_LIQUIDITY <= value / liquidity <= MAX_CAP_PER_LIQUIDITY:
            continue
        return value
    return None
