"""merge_sources: the sources' snapshots -> one Token per universe mint (pure; no I/O, no Django).

How each figure is made (docs/api.md §3; pool de-duplication in tokens/merge/pools.py, sums and price in
tokens/merge/figures.py, cross-source votes, market cap and FDV in tokens/merge/checks.py):
- volume, liquidity, buys, sells per window: sums over the token's distinct pools (a pool quoted by two
  sources counts once; None values are skipped; all None -> the first token-level figure in TRUST_ORDER, if
  any). 7d: the pools' daily candles (see pools.pool_d7); buys/sells unknown.
- price: liquidity-weighted mean of the token's pool prices, leaving out quotes of excluded sources and
  pools more than `outlier_factor` off the sources' anchor price; pools of unknown liquidity only count when
  no pool has one; no pool price -> the anchor (e.g. Jupiter's price alone).
- top pool: the most liquid pool, preferring pools quoted by a non-excluded source; it gives protocol,
  dex_id, pair_address, pair_created_at. price change per window: the most liquid pool where the token is
  the base and the window has one, else the first token-level figure (TRUST_ORDER).
- name, ticker, icon: token-level metadata (TRUST_ORDER), then the pools', most liquid first.
- safety (holders, top holders' share, mint/freeze authority, verified, organic score): Jupiter's, as last read.
- SOL: Jupiter's SOL price, else the deepest SOL/USDC or SOL/USDT pool, else any source's SOL token price.
- Unknown stays None; nothing non-finite comes out.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from tokens.dexes import protocol_name
from tokens.merge.checks import (
    TRUST_ORDER,
    SourceView,
    choose_caps,
    ordered,
    price_vote,
    source_views,
)
from tokens.merge.figures import PoolSide, rank_pools, token_price, token_windows, total_liquidity
from tokens.merge.pools import MergedPool, index_pools, merge_pool, pool_view
from tokens.numbers import finite, positive
from tokens.records import (
    SOL_MINT,
    USDC_MINT,
    USDT_MINT,
    Candle,
    PoolQuote,
    Safety,
    SourcePrice,
    SourceSnapshot,
    Token,
    TokenQuote,
)

_DOLLARS = (USDC_MINT, USDT_MINT)
_NO_SAFETY = Safety()


@dataclass
class MergeResult:
    tokens: dict[str, Token]  # in universe order
    sol_price_usd: float | None
    data_fetched_at: float | None  # newest fetched_at among sources that have succeeded


def merge_sources(
    sources: Mapping[str, SourceSnapshot],
    universe: Sequence[str],
    *,
    now: float,
    outlier_factor: float = 3.0,
) -> MergeResult:
    """One Token per universe mint that some source reported, plus the SOL price and the data age."""
    snaps = [sources[name] for name in sorted(sources)]
    with gc_paused():
        quotes_by_pool, pools_by_mint = index_pools(snaps, set(universe))
        sol = sol_price(sources, quotes_by_pool)
        tokens = merge_universe(snaps, universe, quotes_by_pool, pools_by_mint, sol, now, outlier_factor)
    fetched = [snap.fetched_at for snap in snaps if snap.fetched_at is not None]
    return MergeResult(tokens=tokens, sol_price_usd=sol, data_fetched_at=max(fetched) if fetched else None)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while merging.

    A merge allocates ~10^5 short-lived objects and no reference cycles (reference counting frees them
    all); with the collector on, its generation-2 runs re-walk the whole heap, loaded snapshots included,
    which costs about as much as the merge itself.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def merge_universe(
    snaps: list[SourceSnapshot],
    universe: Sequence[str],
    quotes_by_pool: Mapping[str, list[PoolQuote]],
    pools_by_mint: Mapping[str, list[tuple[str, bool]]],
    sol: float | None,
    now: float,
    factor: float,
) -> dict[str, Token]:
    """Tokens in universe order; each distinct pool is merged once, when a token first needs it."""
    candles: dict[str, list[Candle]] = {}
    quote_candles: dict[str, list[Candle]] = {}
    for snap in snaps:
        for address, rows in snap.candles.items():
            candles.setdefault(address, rows)
        for address, rows in snap.quote_candles.items():
            quote_candles.setdefault(address, rows)
    merged: dict[str, MergedPool] = {}
    tokens: dict[str, Token] = {}
    for mint in universe:
        if mint in tokens:
            continue
        entries = []
        for address, is_base in pools_by_mint.get(mint, ()):
            pool = merged.get(address)
            if pool is None:
                pool = merged[address] = merge_pool(
                    address, quotes_by_pool[address], candles.get(address), quote_candles.get(address)
                )
            entries.append((pool, is_base))
        token_quotes = {tq.source: tq for snap in snaps if (tq := snap.tokens.get(mint)) is not None}
        token = merge_token(mint, entries, token_quotes, sol, now, factor)
        if token is not None:
            tokens[mint] = token
    return tokens


def merge_token(
    mint: str,
    entries: list[PoolSide],
    token_quotes: Mapping[str, TokenQuote],
    sol: float | None,
    now: float,
    factor: float,
) -> Token | None:
    """One token from its distinct pools and its sources' token-level quotes (None if nobody has either)."""
    if not entries and not token_quotes:
        return None
    views = source_views(entries, token_quotes)
    anchor, excluded = price_vote(views, factor)
    ranked = rank_pools(entries, excluded)
    trusted_order = [token_quotes[s] for s in ordered(token_quotes, TRUST_ORDER)]
    fallbacks = [tq for tq in trusted_order if tq.source not in excluded] if excluded else trusted_order
    price = token_price(entries, excluded, anchor, factor)
    liquidity = total_liquidity(entries, fallbacks)
    mcap, fdv = choose_caps(views, excluded, price, liquidity, factor)
    name, ticker, icon = identity(ranked, trusted_order)
    top = ranked[0][0] if ranked else None
    names = sorted(views)
    return Token(
        token_address=mint,
        token_name=name,
        token_ticker=ticker,
        icon=icon,
        protocol=protocol_name(top.dex_id) if top else None,
        dex_id=top.dex_id if top else None,
        pair_address=top.address if top else None,
        pair_created_at=top.created_at if top else None,
        price_usd=price,
        price_sol=in_sol(price, sol),
        market_cap_usd=mcap,
        market_cap_sol=in_sol(mcap, sol),
        fdv_usd=fdv,
        liquidity_usd=liquidity,
        liquidity_sol=in_sol(liquidity, sol),
        windows=token_windows(ranked, fallbacks),
        sources=names,
        updated_at=now,
        pools=[pool_view(p, is_base) for p, is_base in ranked],
        by_source={source: by_source(views[source], source in excluded) for source in names},
        safety=safety_of(token_quotes),
    )


def safety_of(token_quotes: Mapping[str, TokenQuote]) -> Safety:
    """Jupiter's safety data of the token as last read; all None when Jupiter has not reported it."""
    jupiter = token_quotes.get("jupiter")
    safety = getattr(jupiter, "safety", None) if jupiter is not None else None
    return safety if safety is not None else _NO_SAFETY


def in_sol(usd: float | None, sol: float | None) -> float | None:
    return finite(usd / sol) if usd is not None and sol else None


def by_source(view: SourceView, excluded: bool) -> SourcePrice:
    # (price_usd, market_cap_usd, volume_24h_usd, fetched_at, excluded), positional: one per source per token
    return SourcePrice(view.price, view.market_cap[0], view.volume_24h, view.fetched_at, excluded)


def identity(
    ranked: list[PoolSide], token_quotes: list[TokenQuote]
) -> tuple[str | None, str | None, str | None]:
    """(name, ticker, icon): token-level metadata first, then the pools', most liquid first."""
    name = ticker = icon = None
    for tq in token_quotes:
        name, ticker, icon = name or tq.name, ticker or tq.symbol, icon or tq.icon
    for pool, is_base in ranked:
        if name and ticker and icon:
            break
        if is_base:
            name, ticker, icon = name or pool.base_name, ticker or pool.base_symbol, icon or pool.icon
        else:
            ticker = ticker or pool.quote_symbol
    return name or None, ticker or None, icon or None


def sol_price(
    sources: Mapping[str, SourceSnapshot], quotes_by_pool: Mapping[str, list[PoolQuote]]
) -> float | None:
    """Jupiter's SOL price, else the deepest SOL/USDC or SOL/USDT pool's, else any source's SOL price."""
    jupiter = sources.get("jupiter")
    sol = jupiter.tokens.get(SOL_MINT) if jupiter is not None else None
    if sol is not None and (price := positive(sol.price_usd)) is not None:
        return price
    best, depth = None, -1.0
    for quotes in quotes_by_pool.values():
        for q in quotes:
            if q.base_mint == SOL_MINT and q.quote_mint in _DOLLARS:
                price = positive(q.price_usd)
            elif q.quote_mint == SOL_MINT and q.base_mint in _DOLLARS:
                price = positive(q.quote_price_usd)
            else:
                continue
            liquidity = positive(q.liquidity_usd) or 0.0
            if price is not None and liquidity > depth:
                best, depth = price, liquidity
    if best is not None:
        return best
    others = (snap.tokens.get(SOL_MINT) for _, snap in sorted(sources.items()))
    return next((p for tq in others if tq is not None and (p := positive(tq.price_usd)) is not None), None)
