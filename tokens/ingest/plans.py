"""Fetch plans: which calls each source makes in one refresh, within its per-refresh allowance."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from django.conf import settings

from tokens.ingest import backfill
from tokens.ingest.parsers import dexscreener, geckoterminal, jupiter
from tokens.ingest.run import SourceRun, update_universe
from tokens.ingest.sources import DEXSCREENER, GECKOTERMINAL, JUPITER
from tokens.ingest.universe import calls_per_refresh
from tokens.records import SOL_MINT, DiscoveryItem, PoolQuote, TokenQuote
from tokens.store import ingested


def _store_pools(run: SourceRun, pools: Iterable[PoolQuote] | None) -> None:
    for pool in pools or ():
        run.snapshot.pools[pool.address] = pool


def _finish_discovery(run: SourceRun, items: list[DiscoveryItem], read: set[str] | None = None) -> None:
    """Save this source's discovery and re-rank the universe.

    `read` names the lists this round read (default: those that came back); items of lists not
    read this round are kept, so paged lists can be read a few pages per round.
    """
    read = {item.list_name for item in items} if read is None else read
    if items or read:
        kept = [item for item in ingested.load_discovery(run.source) if item.list_name not in read]
        ingested.save_discovery(run.source, kept + items)
    run.universe = update_universe()


# --- DexScreener ---------------------------------------------------------------------------------


def _dex_discovery(run: SourceRun) -> int:
    """Boost and profile lists (discovery budget) and the configured searches (market budget)."""
    items: list[DiscoveryItem] = []
    try:
        for list_name, parser in (
            ("boosts_top", dexscreener.parse_boosts),
            ("boosts_latest", dexscreener.parse_boosts),
            ("profiles_latest", dexscreener.parse_profiles),
        ):
            payload = run.call(DEXSCREENER.path(list_name), budget="discovery")
            items += run.parse(parser, payload, list_name) or []
        for query in settings.DEXSCREENER_SEARCH_QUERIES:
            payload = run.call(DEXSCREENER.path("search"), {"q": query}, budget="market")
            pools = run.parse(dexscreener.parse_pairs, payload, run.started) or []
            _store_pools(run, pools)
            items += dexscreener.discovery_from_pairs(pools, f"search:{query}")
    finally:
        _finish_discovery(run, items)
    return len(settings.DEXSCREENER_SEARCH_QUERIES)


def refresh_dexscreener(run: SourceRun) -> None:
    allowance = calls_per_refresh(DEXSCREENER.budget("market").per_minute, settings.REFRESH_SECONDS)
    if run.discovery_due():
        allowance -= _dex_discovery(run)
    used = 0
    for batch in run.sweep("tokens", run.universe, DEXSCREENER.batch_size, max(allowance, 1)):
        used += 1
        payload = run.call(DEXSCREENER.path("tokens", mints=",".join(batch)), budget="market")
        _store_pools(run, run.parse(dexscreener.parse_pairs, payload, run.started))
    # The slow sweep of every pool of a token uses whatever the refresh has left.
    for (mint,) in run.sweep("token-pairs", run.universe, 1, allowance - used):
        payload = run.call(DEXSCREENER.path("token_pairs", mint=mint), budget="market")
        _store_pools(run, run.parse(dexscreener.parse_pairs, payload, run.started))


# --- Jupiter -------------------------------------------------------------------------------------

JUPITER_LISTS = (("toptrending", "1h"), ("toptraded", "24h"), ("toporganicscore", "1h"))


def _merge_token_quote(run: SourceRun, quote: TokenQuote, price_only: bool) -> None:
    """Keep list metadata when a price arrives, and the price when list metadata arrives."""
    old = run.snapshot.tokens.get(quote.mint)
    if old is None:
        run.snapshot.tokens[quote.mint] = quote
        return
    if price_only:
        windows = dict(old.windows)
        h24 = quote.windows.get("h24")
        if h24 is not None and h24.price_change_pct is not None:
            windows["h24"] = dataclasses.replace(
                windows.get("h24") or h24, price_change_pct=h24.price_change_pct
            )
        run.snapshot.tokens[quote.mint] = dataclasses.replace(
            old,
            price_usd=quote.price_usd,
            liquidity_usd=quote.liquidity_usd if quote.liquidity_usd is not None else old.liquidity_usd,
            created_at=old.created_at or quote.created_at,
            decimals=quote.decimals if quote.decimals is not None else old.decimals,
            windows=windows,
            fetched_at=quote.fetched_at,
        )
    else:
        run.snapshot.tokens[quote.mint] = dataclasses.replace(
            quote, price_usd=quote.price_usd or old.price_usd
        )


def _jupiter_discovery(run: SourceRun) -> int:
    """The three top lists: candidates plus each token's metadata (name, icon, market cap, stats)."""
    items: list[DiscoveryItem] = []
    try:
        for category, interval in JUPITER_LISTS:
            payload = run.call(JUPITER.path("list", category=category, interval=interval), {"limit": 100})
            parsed = run.parse(jupiter.parse_token_list, payload, f"{category}:{interval}", run.started)
            if parsed:
                items += parsed[0]
                for quote in parsed[1]:
                    _merge_token_quote(run, quote, price_only=False)
    finally:
        _finish_discovery(run, items)
    return len(JUPITER_LISTS)


def refresh_jupiter(run: SourceRun) -> None:
    allowance = calls_per_refresh(JUPITER.budget().per_minute, settings.REFRESH_SECONDS)
    if run.discovery_due():
        allowance -= _jupiter_discovery(run)
    mints = [m for m in run.universe if m != SOL_MINT]
    for batch in run.sweep("price", mints, JUPITER.batch_size - 1, max(allowance, 1)):
        ids = [SOL_MINT, *batch]
        payload = run.call(JUPITER.path("price"), {"ids": ",".join(ids)})
        prices = run.parse(jupiter.parse_prices, payload, run.started)
        if prices is None:
            continue
        for mint in ids:
            quote = prices.get(mint) or TokenQuote("jupiter", mint, fetched_at=run.started)
            _merge_token_quote(run, quote, price_only=True)


# --- GeckoTerminal -------------------------------------------------------------------------------

GECKO_PAGE_SIZE = 20
GECKO_PAGES = [str(page) for page in range(1, 11)]  # the public API serves pages 1..10
GECKO_LISTS = (
    ("trending_pools", {}),
    ("top_volume_pools", {"sort": "h24_volume_usd_desc"}),
    ("new_pools", {}),
)


def _gecko_discovery(run: SourceRun) -> int:
    """Read the next GECKOTERMINAL_DISCOVERY_PAGES pages of each pool list (pages rotate 1..10).

    The first round after a cold start (nothing discovered yet) reads twice as many, so a new
    deployment tracks a full universe within its first refreshes.
    """
    items: list[DiscoveryItem] = []
    read: set[str] = set()
    per_round = settings.GECKOTERMINAL_DISCOVERY_PAGES * (1 if ingested.load_discovery(run.source) else 2)
    pages = next(run.sweep("discovery-pages", GECKO_PAGES, per_round, 1), [])
    try:
        for page in pages:
            for list_name, extra in GECKO_LISTS:
                params = {"include": "base_token,quote_token,dex", "page": page, **extra}
                payload = run.call(GECKOTERMINAL.path(list_name), params)
                _store_pools(run, run.parse(geckoterminal.parse_pools, payload, run.started))
                found = run.parse(geckoterminal.parse_pool_discovery, payload, f"{list_name}:p{page}")
                if found is not None:
                    read.add(f"{list_name}:p{page}")
                    offset = (int(page) - 1) * GECKO_PAGE_SIZE
                    items += [dataclasses.replace(item, rank=item.rank + offset) for item in found]
    finally:
        _finish_discovery(run, items, read)
    return len(pages) * len(GECKO_LISTS)


def refresh_geckoterminal(run: SourceRun) -> None:
    allowance = calls_per_refresh(GECKOTERMINAL.budget().per_minute, settings.REFRESH_SECONDS)
    total = allowance
    if run.discovery_due():
        allowance -= _gecko_discovery(run)
    ohlcv_calls = int(allowance * settings.OHLCV_SHARE) if allowance >= 3 else 0
    for batch in run.sweep("multi", run.universe, GECKOTERMINAL.batch_size, max(allowance - ohlcv_calls, 1)):
        payload = run.call(
            GECKOTERMINAL.path("tokens_multi", mints=",".join(batch)), {"include": "top_pools"}
        )
        parsed = run.parse(geckoterminal.parse_tokens_multi, payload, run.started)
        if parsed:
            for quote in parsed[0]:
                run.snapshot.tokens[quote.mint] = quote
            _store_pools(run, parsed[1])
    top_pools = [q.top_pool for m in run.universe if (q := run.snapshot.tokens.get(m)) and q.top_pool]
    for (pool,) in run.sweep("ohlcv", top_pools, 1, ohlcv_calls):
        payload = run.call(GECKOTERMINAL.path("ohlcv_day", pool=pool), {"limit": 8})
        candles = run.parse(geckoterminal.parse_ohlcv, payload)
        if candles is not None:
            run.snapshot.candles[pool] = candles
    # Last and lowest: history backfill of new tokens, with what the market-data calls left.
    backfill.backfill_step(run, total - run.calls)


PLANS: dict[str, Callable[[SourceRun], None]] = {
    "dexscreener": refresh_dexscreener,
    "jupiter": refresh_jupiter,
    "geckoterminal": refresh_geckoterminal,
}
