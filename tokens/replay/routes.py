"""Maps an upstream request (source, path, query) to its status and JSON body, limits included (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tokens.replay import discovery
from tokens.replay import history as replay_history
from tokens.replay import render_dexscreener as dexscreener
from tokens.replay import render_geckoterminal as geckoterminal
from tokens.replay import render_jupiter as jupiter
from tokens.replay.market import MarketView
from tokens.replay.world import DS, GT, JUP

Query = dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def route(source: str, path: str, query: Query, view: MarketView) -> Reply:
    """The upstream's answer to GET {base}{path}?{query}."""
    return {DS: _dexscreener, JUP: _jupiter, GT: _geckoterminal}[source](path, query, view)


def _param(query: Query, name: str, default: str | None = None) -> str | None:
    values = query.get(name)
    return values[-1] if values else default


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _int_param(query: Query, name: str, default: int, low: int, high: int) -> int | None:
    """The parameter as an int within [low, high]; None when it is not."""
    text = _param(query, name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        return None
    return value if low <= value <= high else None


# DexScreener ---------------------------------------------------------------------------------

_DS_FIXED: dict[str, Callable[[MarketView], Any]] = {
    "/token-boosts/top/v1": dexscreener.boosts_top,
    "/token-boosts/latest/v1": dexscreener.boosts_latest,
    "/token-profiles/latest/v1": dexscreener.profiles_latest,
}


def _dexscreener(path: str, query: Query, view: MarketView) -> Reply:
    if path in _DS_FIXED:
        return Reply(200, _DS_FIXED[path](view))
    if path == "/latest/dex/search":
        return Reply(200, dexscreener.search(view, _param(query, "q", "") or ""))
    if match := re.fullmatch(r"/tokens/v1/([^/]+)/([^/]+)", path):
        chain, mints = match.group(1), _csv(match.group(2))
        if len(mints) > dexscreener.MAX_TOKENS:
            return Reply(
                400, {"error": f"Too many token addresses: at most {dexscreener.MAX_TOKENS} are allowed"}
            )
        return Reply(200, dexscreener.tokens_v1(view, mints) if chain == "solana" else [])
    if match := re.fullmatch(r"/token-pairs/v1/([^/]+)/([^/,]+)", path):
        chain, mint = match.groups()
        return Reply(200, dexscreener.token_pairs(view, mint) if chain == "solana" else [])
    return Reply(404, {"error": "Not found"})


# Jupiter -------------------------------------------------------------------------------------


def _jupiter(path: str, query: Query, view: MarketView) -> Reply:
    if path in ("/price/v3", "/price/v3/"):
        ids = _csv(_param(query, "ids", "") or "")
        if not ids:
            return Reply(400, {"error": "Query parameter ids is required"})
        if len(ids) > jupiter.MAX_PRICE_IDS:
            return Reply(400, {"error": f"Too many ids: at most {jupiter.MAX_PRICE_IDS} are allowed"})
        return Reply(200, jupiter.price_v3(view, ids))
    if path == "/tokens/v2/search":
        terms = _csv(_param(query, "query", "") or "")
        if not terms:
            return Reply(400, {"error": "Query parameter query is required"})
        if len(terms) > jupiter.MAX_SEARCH_MINTS:
            return Reply(400, {"error": f"Too many mints: at most {jupiter.MAX_SEARCH_MINTS} are allowed"})
        return Reply(200, jupiter.search(view, terms))
    if match := re.fullmatch(r"/tokens/v2/([a-z]+)/([0-9a-z]+)", path):
        category, interval = match.groups()
        if category not in discovery.JUPITER_CATEGORIES:
            return Reply(404, {"error": "Not found"})
        if interval not in discovery.JUPITER_INTERVALS:
            return Reply(400, {"error": f"Invalid interval {interval!r}: use 5m, 1h, 6h or 24h"})
        limit = _int_param(query, "limit", jupiter.DEFAULT_LIST_LIMIT, 1, jupiter.MAX_LIST_LIMIT)
        if limit is None:
            return Reply(400, {"error": f"limit must be an integer from 1 to {jupiter.MAX_LIST_LIMIT}"})
        return Reply(200, jupiter.token_list(view, category, interval, limit))
    return Reply(404, {"error": "Not found"})


# GeckoTerminal -------------------------------------------------------------------------------


def _gt_error(status: int, title: str) -> Reply:
    return Reply(status, {"errors": [{"status": str(status), "title": title}]})


def _geckoterminal(path: str, query: Query, view: MarketView) -> Reply:
    match = re.fullmatch(r"/networks/([^/]+)(/.*)", path)
    if not match:
        return _gt_error(404, "Not Found")
    network, rest = match.groups()
    if network != "solana":
        return _gt_error(404, "Network not found")
    include = set(_csv(_param(query, "include", "") or ""))
    if rest in ("/trending_pools", "/pools", "/new_pools"):
        return _gt_pool_list(rest, query, include, view)
    if match := re.fullmatch(r"/tokens/multi/([^/]+)", rest):
        mints = _csv(match.group(1))
        if len(mints) > geckoterminal.MAX_ADDRESSES:
            return _gt_error(400, "Exceeded maximum number of addresses")
        return Reply(200, geckoterminal.tokens_multi(view, mints, include))
    if match := re.fullmatch(r"/pools/([^/]+)/ohlcv/([a-z]+)", rest):
        address, timeframe = match.groups()
        if timeframe in ("minute", "hour"):
            return _gt_intraday(address, timeframe, query, view)
        if timeframe != "day":
            return _gt_error(400, "The replay upstream serves only the day timeframe")
        limit = _int_param(query, "limit", 100, 1, 1000)
        if limit is None:
            return _gt_error(400, "limit must be an integer from 1 to 1000")
        try:
            doc = geckoterminal.ohlcv_day(view, address, limit, _param(query, "token"))
        except ValueError:
            return _gt_error(400, "token must be base, quote or one of the pool's token addresses")
        return Reply(200, doc) if doc else _gt_error(404, "Not Found")
    return _gt_error(404, "Not Found")


def _gt_intraday(address: str, timeframe: str, query: Query, view: MarketView) -> Reply:
    """/pools/{pool}/ohlcv/{minute|hour}?aggregate=&limit=&before_timestamp=&token= (tokens/replay/history.py)."""
    aggregates = replay_history.TIMEFRAMES[timeframe][1]
    aggregate = _int_param(query, "aggregate", 1, 1, 1000)
    if aggregate is None or aggregate not in aggregates:
        return _gt_error(400, f"aggregate must be one of {', '.join(map(str, aggregates))} for {timeframe}")
    limit = _int_param(query, "limit", 100, 1, replay_history.MAX_LIMIT)
    if limit is None:
        return _gt_error(400, f"limit must be an integer from 1 to {replay_history.MAX_LIMIT}")
    before = None
    if _param(query, "before_timestamp") is not None:
        before = _int_param(query, "before_timestamp", 0, 0, 10**11)
        if before is None:
            return _gt_error(400, "before_timestamp must be Unix seconds")
    doc = geckoterminal.ohlcv_intraday(
        view, address, timeframe, aggregate, limit, before, _param(query, "token", None)
    )
    if isinstance(doc, str):
        return _gt_error(400, doc)
    return Reply(200, doc) if doc else _gt_error(404, "Not Found")


def _gt_pool_list(rest: str, query: Query, include: set[str], view: MarketView) -> Reply:
    page = _int_param(query, "page", 1, 1, 10_000)
    if page is None:
        return _gt_error(400, "page must be a positive integer")
    if page > discovery.GT_MAX_PAGE:
        return _gt_error(400, f"Page limit exceeded: the maximum page is {discovery.GT_MAX_PAGE}")
    if rest == "/trending_pools":
        pools = discovery.gt_trending_pools(view)
    elif rest == "/new_pools":
        pools = discovery.gt_new_pools(view)
    else:
        sort = _param(query, "sort", "h24_tx_count_desc") or "h24_tx_count_desc"
        if sort not in discovery.GT_POOL_SORTS:
            return _gt_error(400, f"Invalid sort: use one of {', '.join(discovery.GT_POOL_SORTS)}")
        pools = discovery.gt_top_pools(view, sort)
    return Reply(200, geckoterminal.pools_document(view, discovery.gt_page(pools, page), include))
