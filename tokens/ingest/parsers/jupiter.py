"""Jupiter parsers: Price API v3/v2 and Tokens API v2 JSON -> TokenQuote / DiscoveryItem records (pure, no I/O).

Quirks handled (see docs/upstream-notes.md §B):
- Price v3 has no wrapper (mint -> {usdPrice, …}); v2 wraps it in "data" with decimal-string prices and may give
  a mint `null`. Tokens without a reliable price are omitted upstream and so are simply absent here.
- v2 prices are read as USD, the default: the service never sends `vsToken` (with it they would be in that
  token's units and nothing in the body says so).
- Tokens v2 objects are sparse: stats keys with zero/unknown values are omitted, brand-new tokens have no
  price, cap or stats at all. Omitted stays None.
- Safety data (docs/api.md §3): `holderCount`, `organicScore`, `isVerified`, `audit.topHoldersPercentage`,
  `audit.mintAuthorityDisabled`, `audit.freezeAuthorityDisabled`. `audit.*Disabled` appear only when true;
  a top-level `mintAuthority`/`freezeAuthority` appears while the authority is not disabled (then False);
  neither -> unknown (None). `isVerified` appears when true; absent with a `tags` list it is False (the
  "verified" tag decides), absent without tags unknown.
- For a pump.fun token `firstPool.id` is the mint itself (the bonding curve); after graduation `graduatedPool`
  names the real pool, which is then preferred as the token's top pool.
"""

from __future__ import annotations

from typing import Any

from tokens.ingest.parsers.parsing import (
    MalformedPayload,
    as_dict,
    is_mint,
    reject_error_body,
    to_count,
    to_float,
    to_non_negative,
    to_positive,
    to_str,
    to_ts,
)
from tokens.records import REFERENCE_MINTS, WINDOWS, DiscoveryItem, Safety, TokenQuote, WindowStats

SOURCE = "jupiter"
# Tokens v2 stats object per window.
_STATS_KEYS = {"m5": "stats5m", "h1": "stats1h", "h6": "stats6h", "h24": "stats24h"}


def parse_prices(payload: Any, fetched_at: float) -> dict[str, TokenQuote]:
    """Mint -> TokenQuote from GET /price/v3?ids=… (or the deprecated /price/v2 shape); unpriced mints absent."""
    if not isinstance(payload, dict):
        raise MalformedPayload(f"jupiter prices: expected an object, got {type(payload).__name__}")
    reject_error_body(payload, "jupiter prices")
    if "data" in payload:
        return _parse_prices_v2(payload["data"], fetched_at)
    if payload and not any(is_mint(key) for key in payload):
        raise MalformedPayload(f"jupiter prices: no mint keys in object with keys {list(payload)[:5]}")
    quotes: dict[str, TokenQuote] = {}
    for mint, entry in payload.items():
        entry = as_dict(entry)
        price = to_positive(entry.get("usdPrice"))
        if not is_mint(mint) or price is None:
            continue
        windows = _empty_windows()
        windows["h24"].price_change_pct = to_float(entry.get("priceChange24h"))
        quotes[mint] = TokenQuote(
            source=SOURCE,
            mint=mint,
            price_usd=price,
            liquidity_usd=to_non_negative(entry.get("liquidity")),
            windows=windows,
            created_at=to_ts(entry.get("createdAt")),
            decimals=to_count(entry.get("decimals")),
            fetched_at=fetched_at,
        )
    return quotes


def _parse_prices_v2(data: Any, fetched_at: float) -> dict[str, TokenQuote]:
    """{"data": {mint: {"id", "type", "price": "1.23"} | null}}: only the price is known."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MalformedPayload(f"jupiter prices v2: 'data' is a {type(data).__name__}, not an object")
    quotes: dict[str, TokenQuote] = {}
    for mint, entry in data.items():
        price = to_positive(as_dict(entry).get("price"))
        if is_mint(mint) and price is not None:
            quotes[mint] = TokenQuote(
                source=SOURCE, mint=mint, price_usd=price, windows=_empty_windows(), fetched_at=fetched_at
            )
    return quotes


def parse_token_list(
    payload: Any, list_name: str, fetched_at: float
) -> tuple[list[DiscoveryItem], list[TokenQuote]]:
    """Tokens v2 arrays (/toptrending|toptraded|toporganicscore/{interval}, /search, /recent).

    Returns the ranked discovery items (SOL/USDC/USDT left out, first occurrence wins) and a TokenQuote for
    every valid item, reference mints included.
    """
    reject_error_body(payload, "jupiter tokens")
    if not isinstance(payload, list):
        raise MalformedPayload(f"jupiter tokens: expected an array, got {type(payload).__name__}")
    items: list[DiscoveryItem] = []
    quotes: list[TokenQuote] = []
    seen: set[str] = set()
    for entry in payload:
        quote = _token_quote(as_dict(entry), fetched_at)
        if quote is None or quote.mint in seen:
            continue
        seen.add(quote.mint)
        quotes.append(quote)
        if quote.mint not in REFERENCE_MINTS:
            pool = quote.top_pool if quote.top_pool != quote.mint else None
            items.append(DiscoveryItem(quote.mint, SOURCE, list_name, rank=len(items), pool_address=pool))
    return items, quotes


def _token_quote(entry: dict[str, Any], fetched_at: float) -> TokenQuote | None:
    """One MintInformation object, or None without a valid `id` mint."""
    mint = entry.get("id")
    if not is_mint(mint):
        return None
    first_pool = as_dict(entry.get("firstPool"))
    windows = {window: _stats_window(entry.get(key)) for window, key in _STATS_KEYS.items()}
    return TokenQuote(
        source=SOURCE,
        mint=mint,
        name=to_str(entry.get("name")),
        symbol=to_str(entry.get("symbol")),
        icon=to_str(entry.get("icon")),
        price_usd=to_positive(entry.get("usdPrice")),
        market_cap_usd=to_positive(entry.get("mcap")),
        fdv_usd=to_positive(entry.get("fdv")),
        liquidity_usd=to_non_negative(entry.get("liquidity")),
        volume_24h_usd=windows["h24"].volume_usd,
        windows=windows,
        created_at=to_ts(entry.get("createdAt")) or to_ts(first_pool.get("createdAt")),
        decimals=to_count(entry.get("decimals")),
        top_pool=_top_pool(entry, first_pool),
        fetched_at=fetched_at,
        safety=parse_safety(entry),
    )


def parse_safety(entry: dict[str, Any]) -> Safety:
    """The six safety values of one Tokens v2 object (pure; unknown stays None)."""
    audit = as_dict(entry.get("audit"))
    top = to_non_negative(audit.get("topHoldersPercentage"))
    organic = to_non_negative(entry.get("organicScore"))
    return Safety(
        holder_count=to_count(entry.get("holderCount")),
        top_holders_pct=top if top is not None and top <= 100 else None,
        mint_authority_disabled=_authority_disabled(entry, audit, "mint"),
        freeze_authority_disabled=_authority_disabled(entry, audit, "freeze"),
        verified=_verified(entry),
        organic_score=organic if organic is not None and organic <= 100 else None,
    )


def _authority_disabled(entry: dict[str, Any], audit: dict[str, Any], kind: str) -> bool | None:
    flag = audit.get(f"{kind}AuthorityDisabled")
    if isinstance(flag, bool):
        return flag
    if is_mint(entry.get(f"{kind}Authority")):
        return False  # the authority is named: not disabled
    return None


def _verified(entry: dict[str, Any]) -> bool | None:
    flag = entry.get("isVerified")
    if isinstance(flag, bool):
        return flag
    tags = entry.get("tags")
    if isinstance(tags, list):
        return "verified" in tags
    return None


def parse_search(payload: Any, fetched_at: float) -> list[TokenQuote]:
    """GET /tokens/v2/search?query={mints}: a TokenQuote (with its safety data) per token Jupiter knows."""
    return parse_token_list(payload, "search", fetched_at)[1]


def _top_pool(entry: dict[str, Any], first_pool: dict[str, Any]) -> str | None:
    """The graduated pool when there is one, else `firstPool.id` — even when that is the mint (a pump.fun curve)."""
    for candidate in (entry.get("graduatedPool"), first_pool.get("id")):
        if is_mint(candidate):
            return candidate
    return None


def _stats_window(stats: Any) -> WindowStats:
    """stats5m/1h/6h/24h: volume = buyVolume + sellVolume (None when both are omitted), counts as given."""
    stats = as_dict(stats)
    buy, sell = to_non_negative(stats.get("buyVolume")), to_non_negative(stats.get("sellVolume"))
    return WindowStats(
        volume_usd=None if buy is None and sell is None else (buy or 0.0) + (sell or 0.0),
        buys=to_count(stats.get("numBuys")),
        sells=to_count(stats.get("numSells")),
        price_change_pct=to_float(stats.get("priceChange")),
    )


def _empty_windows() -> dict[str, WindowStats]:
    return {window: WindowStats() for window in WINDOWS}
