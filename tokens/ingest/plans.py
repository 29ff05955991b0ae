"""Fetch plans: which calls each source makes in one refresh (per-purpose shares of its budget; see shares.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

from tokens.ingest import backfill
from tokens.ingest.parsers import dexscreener, geckoterminal, jupiter
from tokens.ingest.run import SourceRun, update_universe
from tokens.ingest.shares import Purpose, Shares
from tokens.ingest.sources import DEXSCREENER, GECKOTERMINAL, JUPITER
from tokens.ingest.universe import calls_per_refresh
from tokens.records import REFERENCE_MINTS, SOL_MINT, Candle, DiscoveryItem, PoolQuote, Safety, TokenQuote
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


# A purpose of a source's calls and the plan step that spends them: step(run, calls).
PurposeStep = tuple[Purpose, Callable[[SourceRun, int], None]]


def run_purposes(
    run: SourceRun,
    per_minute: int,
    purposes: list[PurposeStep],
    discovery: Callable[[SourceRun], object] | None = None,
) -> None:
    """Discovery when due (charged to the first purpose), then each purpose with the calls its bucket
    holds plus what the purposes before it left unused this refresh (tokens/ingest/shares.py)."""
    shares = Shares(run.source, [purpose for purpose, _ in purposes], per_minute)
    try:
        if discovery is not None and run.discovery_due():
            before = run.calls
            try:
                discovery(run)
            finally:
                shares.charge(purposes[0][0].name, run.calls - before)
        for purpose, step in purposes:
            offered = shares.available(purpose.name)
            before = run.calls
            try:
                if offered > 0:
                    step(run, offered)
            finally:
                shares.spent(purpose.name, offered, run.calls - before)
    finally:
        shares.save()


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
                    run.snapshot.safety_read_at[quote.mint] = run.started
    finally:
        _finish_discovery(run, items)
    return len(JUPITER_LISTS)


def _jupiter_prices(run: SourceRun, calls: int) -> None:
    """Price v3 over the universe, SOL in every batch (the SOL price of the whole snapshot)."""
    mints = [m for m in run.universe if m != SOL_MINT]
    for batch in run.sweep("price", mints, JUPITER.batch_size - 1, calls):
        ids = [SOL_MINT, *batch]
        payload = run.call(JUPITER.path("price"), {"ids": ",".join(ids)})
        prices = run.parse(jupiter.parse_prices, payload, run.started)
        if prices is None:
            continue
        for mint in ids:
            quote = prices.get(mint) or TokenQuote("jupiter", mint, fetched_at=run.started)
            _merge_token_quote(run, quote, price_only=True)


def safety_due(run: SourceRun) -> list[str]:
    """Tracked mints whose safety data is older than SAFETY_REFRESH_SECONDS (never read first, then oldest)."""
    read_at = run.snapshot.safety_read_at
    oldest = run.started - settings.SAFETY_REFRESH_SECONDS
    due = [m for m in run.universe if m not in REFERENCE_MINTS and read_at.get(m, 0.0) <= oldest]
    return sorted(due, key=lambda m: read_at.get(m, 0.0))


def _jupiter_safety(run: SourceRun, calls: int) -> None:
    """Token search for the mints whose holder and authority data is due, up to 100 a call."""
    due = safety_due(run)
    for i in range(0, min(len(due), calls * SEARCH_BATCH), SEARCH_BATCH):
        batch = due[i : i + SEARCH_BATCH]
        payload = run.call(JUPITER.path("search"), {"query": ",".join(batch)})
        found = run.parse(jupiter.parse_search, payload, run.started)
        if found is None:
            continue
        by_mint = {q.mint: q for q in found}
        for mint in batch:
            quote = by_mint.get(mint)
            old = run.snapshot.tokens.get(mint)
            if quote is None:  # Jupiter does not know it: all six unknown
                if old is not None:
                    run.snapshot.tokens[mint] = dataclasses.replace(old, safety=Safety())
            elif old is None:
                run.snapshot.tokens[mint] = quote
            else:
                run.snapshot.tokens[mint] = dataclasses.replace(old, safety=quote.safety)
            run.snapshot.safety_read_at[mint] = run.started


SEARCH_BATCH = 100  # mints per token search


def safety_share() -> float:
    """Jupiter's share for safety data: twice what re-reading a full universe every
    SAFETY_REFRESH_SECONDS needs (the discovery lists bring much of it for free), at most a quarter."""
    calls_per_minute = (
        -(-settings.TOKEN_UNIVERSE_MAX // SEARCH_BATCH) * 60.0 / settings.SAFETY_REFRESH_SECONDS
    )
    return min(0.25, 2.0 * calls_per_minute / max(JUPITER.budget().per_minute, 1))


# What Jupiter's calls are spent on, in priority order (see GECKO_PURPOSES).
JUPITER_PURPOSES: list[PurposeStep] = [
    (Purpose("prices", lambda: 1.0 - safety_share()), _jupiter_prices),
    (Purpose("safety", safety_share), _jupiter_safety),
]


def refresh_jupiter(run: SourceRun) -> None:
    run_purposes(run, JUPITER.budget().per_minute, JUPITER_PURPOSES, _jupiter_discovery)


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


def _multi_request(batch: list[str]) -> tuple[str, dict[str, Any]]:
    return GECKOTERMINAL.path("tokens_multi", mints=",".join(batch)), {"include": "top_pools"}


def _ohlcv_requests(
    run: SourceRun,
) -> tuple[dict[str, str], Callable[[list[str]], tuple[str, dict[str, Any]]]]:
    """Each tracked mint's top pool, and the daily-OHLCV request of that pool, asked with token=<mint>
    so the candles follow the token's own side of the pool."""
    top_pool = {m: q.top_pool for m in run.universe if (q := run.snapshot.tokens.get(m)) and q.top_pool}

    def request(batch: list[str]) -> tuple[str, dict[str, Any]]:
        mint = batch[0]
        return GECKOTERMINAL.path("ohlcv_day", pool=top_pool[mint]), {"limit": 8, "token": mint}

    return top_pool, request


def _store_candles(run: SourceRun, pool_address: str, mint: str, candles: list[Candle]) -> None:
    pool = run.snapshot.pools.get(pool_address)
    if pool is not None and pool.quote_mint == mint and pool.base_mint != mint:
        run.snapshot.quote_candles[pool_address] = candles
    else:
        run.snapshot.candles[pool_address] = candles


def _gecko_tokens(run: SourceRun, calls: int) -> None:
    """tokens/multi over the universe (with each token's top pools); batches asked within the cache
    window are passed over."""
    for _, path, params in run.fresh_sweep(
        "multi", run.universe, GECKOTERMINAL.batch_size, calls, _multi_request
    ):
        parsed = run.parse(geckoterminal.parse_tokens_multi, run.call(path, params), run.started)
        if parsed:
            for quote in parsed[0]:
                run.snapshot.tokens[quote.mint] = quote
            _store_pools(run, parsed[1])


def _gecko_ohlcv(run: SourceRun, calls: int) -> None:
    """Daily OHLCV of each tracked token's top pool, for the 7-day figures."""
    top_pool, ohlcv_request = _ohlcv_requests(run)
    for (mint,), path, params in run.fresh_sweep("ohlcv", list(top_pool), 1, calls, ohlcv_request):
        candles = run.parse(geckoterminal.parse_ohlcv, run.call(path, params))
        if candles is not None:
            _store_candles(run, top_pool[mint], mint, candles)


# What GeckoTerminal's calls are spent on, in priority order, each with its share of the budget.
# A purpose plugs in with one line, e.g. `(Purpose("backfill", 0.0), backfill_step)` last: a purpose of
# share 0 gets only the calls the others leave in a refresh (step(run, calls) spends at most `calls`).
GECKO_PURPOSES: list[PurposeStep] = [
    (Purpose("tokens", lambda: 1.0 - settings.OHLCV_SHARE - settings.BACKFILL_SHARE), _gecko_tokens),
    (Purpose("ohlcv", lambda: settings.OHLCV_SHARE), _gecko_ohlcv),
    # Last and lowest: history backfill of new tokens (tokens/ingest/backfill.py): its own share, and
    # what the market-data purposes leave of theirs.
    (Purpose("backfill", lambda: settings.BACKFILL_SHARE), backfill.backfill_step),
]


def refresh_geckoterminal(run: SourceRun) -> None:
    """Discovery when due, then each purpose's share: no request repeated within the cache window, so
    calls a fresh answer would not need go to the next purpose."""
    run_purposes(run, GECKOTERMINAL.budget().per_minute, GECKO_PURPOSES, _gecko_discovery)


PLANS: dict[str, Callable[[SourceRun], None]] = {
    "dexscreener": refresh_dexscreener,
    "jupiter": refresh_jupiter,
    "geckoterminal": refresh_geckoterminal,
}
