"""DexScreener parsers: pairs, boosts and profiles JSON -> PoolQuote / DiscoveryItem records (pure, no I/O).

Quirks handled (see docs/upstream-notes.md §A):
- Keys are dropped rather than nulled: `liquidity` on pump.fun bonding curves, `fdv`/`marketCap` on old or
  reference pairs, `priceChange.m5` when nothing traded. Absent stays None, a reported 0 stays 0.
- `priceNative` is in QUOTE-token units (not always SOL), so the quote's USD price is priceUsd / priceNative.
- Search and boost/profile lists mix chains: only `chainId == "solana"` is kept.
- `/latest/dex/pairs` answers with both `pairs` and `pair` (the same pair) or `"pair": null`; pairs are
  de-duplicated by address.
"""

from __future__ import annotations

from typing import Any

from tokens.dexes import normalise_dex_id
from tokens.ingest.parsers.parsing import (
    MalformedPayload,
    as_dict,
    as_list,
    discovery_from_pools,
    is_mint,
    reject_error_body,
    to_non_negative,
    to_positive,
    to_str,
    to_ts,
    window_stats,
)
from tokens.records import DiscoveryItem, PoolQuote

SOURCE = "dexscreener"
CHAIN = "solana"


def parse_pairs(payload: Any, fetched_at: float) -> list[PoolQuote]:
    """Solana pools from /tokens/v1, /token-pairs/v1 (bare arrays), /latest/dex/search and /latest/dex/pairs."""
    pools: list[PoolQuote] = []
    seen: set[str] = set()
    for item in _pair_items(payload):
        pool = _parse_pair(item, fetched_at)
        if pool is not None and pool.address not in seen:
            seen.add(pool.address)
            pools.append(pool)
    return pools


def _pair_items(payload: Any) -> list[Any]:
    if isinstance(payload, list):
        return payload
    if not isinstance(payload, dict):
        raise MalformedPayload(
            f"dexscreener pairs: expected an array or an object, got {type(payload).__name__}"
        )
    reject_error_body(payload, "dexscreener pairs")
    if "pairs" not in payload and "pair" not in payload:
        raise MalformedPayload("dexscreener pairs: object has neither 'pairs' nor 'pair'")
    pairs = payload.get("pairs")
    if pairs is not None and not isinstance(pairs, list):
        raise MalformedPayload(f"dexscreener pairs: 'pairs' is a {type(pairs).__name__}, not an array")
    single = payload.get("pair")
    return [*(pairs or []), *([single] if isinstance(single, dict) else [])]


def _parse_pair(item: Any, fetched_at: float) -> PoolQuote | None:
    """One pair object, or None when it is not a Solana pair with valid pool, base and quote addresses."""
    item = as_dict(item)
    base, quote = as_dict(item.get("baseToken")), as_dict(item.get("quoteToken"))
    address, base_mint, quote_mint = item.get("pairAddress"), base.get("address"), quote.get("address")
    if item.get("chainId") != CHAIN or not (is_mint(address) and is_mint(base_mint) and is_mint(quote_mint)):
        return None
    labels = [label for label in as_list(item.get("labels")) if isinstance(label, str)]
    price_usd, price_native = to_positive(item.get("priceUsd")), to_positive(item.get("priceNative"))
    return PoolQuote(
        source=SOURCE,
        address=address,
        dex_id=normalise_dex_id(to_str(item.get("dexId")), labels),
        base_mint=base_mint,
        quote_mint=quote_mint,
        base_symbol=to_str(base.get("symbol")),
        base_name=to_str(base.get("name")),
        quote_symbol=to_str(quote.get("symbol")),
        price_usd=price_usd,
        quote_price_usd=to_positive(price_usd / price_native) if price_usd and price_native else None,
        price_native=price_native,
        liquidity_usd=to_non_negative(as_dict(item.get("liquidity")).get("usd")),
        fdv_usd=to_positive(item.get("fdv")),
        market_cap_usd=to_positive(item.get("marketCap")),
        created_at=to_ts(item.get("pairCreatedAt")),  # epoch milliseconds
        windows=window_stats(item.get("volume"), item.get("txns"), item.get("priceChange")),
        icon=to_str(as_dict(item.get("info")).get("imageUrl")),
        fetched_at=fetched_at,
    )


def parse_boosts(payload: Any, list_name: str) -> list[DiscoveryItem]:
    """Solana mints of /token-boosts/top/v1 or /token-boosts/latest/v1, in list order."""
    return _discovery_list(payload, list_name, "dexscreener boosts")


def parse_profiles(payload: Any, list_name: str) -> list[DiscoveryItem]:
    """Solana mints of /token-profiles/latest/v1, in list order."""
    return _discovery_list(payload, list_name, "dexscreener profiles")


def _discovery_list(payload: Any, list_name: str, what: str) -> list[DiscoveryItem]:
    """Items `{chainId, tokenAddress, …}`: Solana ones with a valid mint, first occurrence wins, ranks 0, 1, 2…"""
    reject_error_body(payload, what)
    if not isinstance(payload, list):
        raise MalformedPayload(f"{what}: expected an array, got {type(payload).__name__}")
    items: list[DiscoveryItem] = []
    seen: set[str] = set()
    for entry in payload:
        entry = as_dict(entry)
        mint = entry.get("tokenAddress")
        if entry.get("chainId") != CHAIN or not is_mint(mint) or mint in seen:
            continue
        seen.add(mint)
        items.append(DiscoveryItem(mint=mint, source=SOURCE, list_name=list_name, rank=len(items)))
    return items


def discovery_from_pairs(pools: list[PoolQuote], list_name: str) -> list[DiscoveryItem]:
    """Candidate mints of search results: each pair's base token (its quote when the base is SOL/USDC/USDT)."""
    return discovery_from_pools(pools, list_name)
