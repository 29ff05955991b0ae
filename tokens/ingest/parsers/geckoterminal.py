"""GeckoTerminal parsers: JSON:API pools, tokens and OHLCV -> PoolQuote / TokenQuote / Candle records (pure, no I/O).

Quirks handled (see docs/upstream-notes.md §C):
- Ids carry the network: "solana_<address>"; the prefix is stripped, and a resource of another network
  (whose id then is no Solana address) is skipped.
- `data` is an array for lists and one object for a single pool or token; `included` (token and dex records)
  is present only when `include=` was sent, so symbols otherwise come from the pool name "BASE / QUOTE".
- All prices, volumes and reserves are decimal strings of up to ~70 significant digits, sometimes null or
  "NaN" (bonding-curve pools in new_pools); they become floats or None.
- `reserve_in_usd` is "0.0" on bonding-curve pools (pump-fun, meteora-dbc) that do hold funds: GeckoTerminal
  does not know their reserve, so a zero reserve is read as unknown (None). Likewise a zero price, FDV or
  market cap means unknown. Zero volumes and trade counts are real and kept.
- Windows are optional (2024 payloads lack h6 transactions); a missing one stays None.
- `tokens/multi`'s `total_reserve_in_usd` is one side's reserve (the requested token's), so it is never read
  as liquidity (docs/api.md §2): a token quote's liquidity is unknown; its included top pools carry theirs.
- Error bodies `{"errors": [{"status", "title"}]}` raise MalformedPayload.
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
    strip_network_prefix,
    to_count,
    to_float,
    to_non_negative,
    to_positive,
    to_str,
    to_ts,
    window_stats,
)
from tokens.records import WINDOWS, Candle, DiscoveryItem, PoolQuote, TokenQuote, WindowStats

SOURCE = "geckoterminal"
NETWORK = "solana"
_OHLCV_ROW = 6  # [unix_ts, open, high, low, close, volume_usd]


def parse_pools(payload: Any, fetched_at: float) -> list[PoolQuote]:
    """Pools of trending_pools, pools, new_pools, token pools (lists) or one pool's detail (an object)."""
    resources = _resources(payload, "geckoterminal pools")
    tokens = _token_index(as_list(payload.get("included")))
    return _pools(resources, tokens, fetched_at)


def parse_pool_discovery(payload: Any, list_name: str) -> list[DiscoveryItem]:
    """Candidate mints of a pool list, in order: each pool's base (its quote when the base is SOL/USDC/USDT)."""
    return discovery_from_pools(parse_pools(payload, 0.0), list_name)


def parse_tokens_multi(payload: Any, fetched_at: float) -> tuple[list[TokenQuote], list[PoolQuote]]:
    """/tokens/multi/{mints}?include=top_pools or /tokens/{mint}?include=top_pools -> tokens and their pools."""
    resources = _resources(payload, "geckoterminal tokens")
    included = as_list(payload.get("included"))
    token_resources = [r for r in resources if r.get("type", "token") == "token"]
    # The requested tokens name the base tokens of their own top pools too.
    tokens_by_mint = {**_token_index(included), **_token_index(token_resources)}
    quotes: list[TokenQuote] = []
    seen: set[str] = set()
    for resource in token_resources:
        quote = _token_quote(resource, fetched_at)
        if quote is not None and quote.mint not in seen:
            seen.add(quote.mint)
            quotes.append(quote)
    pool_resources = [as_dict(r) for r in included if as_dict(r).get("type") == "pool"]
    return quotes, _pools(pool_resources, tokens_by_mint, fetched_at)


def parse_ohlcv(payload: Any) -> list[Candle]:
    """Daily candles of /pools/{pool}/ohlcv/day, newest first; malformed rows are skipped, one per timestamp."""
    if not isinstance(payload, dict):
        raise MalformedPayload(f"geckoterminal ohlcv: expected an object, got {type(payload).__name__}")
    reject_error_body(payload, "geckoterminal ohlcv")
    attributes = as_dict(payload.get("data")).get("attributes")
    if not isinstance(attributes, dict) or "ohlcv_list" not in attributes:
        raise MalformedPayload("geckoterminal ohlcv: no data.attributes.ohlcv_list")
    rows = attributes["ohlcv_list"]
    if rows is not None and not isinstance(rows, list):
        raise MalformedPayload(f"geckoterminal ohlcv: ohlcv_list is a {type(rows).__name__}, not an array")
    candles: dict[int, Candle] = {}
    for row in rows or []:
        candle = _candle(row)
        if candle is not None and candle.ts not in candles:
            candles[candle.ts] = candle
    return sorted(candles.values(), key=lambda c: c.ts, reverse=True)


def _candle(row: Any) -> Candle | None:
    if not isinstance(row, list | tuple) or len(row) != _OHLCV_ROW:
        return None
    ts = to_ts(row[0]) if to_float(row[0]) is not None else None  # numbers only, not date strings
    if ts is None or int(ts) <= 0:
        return None
    return Candle(
        ts=int(ts),
        open=to_positive(row[1]),
        high=to_positive(row[2]),
        low=to_positive(row[3]),
        close=to_positive(row[4]),
        volume_usd=to_non_negative(row[5]),
    )


def _resources(payload: Any, what: str) -> list[dict[str, Any]]:
    """The primary resources of a JSON:API document (`data` as an array or one object)."""
    if not isinstance(payload, dict):
        raise MalformedPayload(f"{what}: expected a JSON:API object, got {type(payload).__name__}")
    reject_error_body(payload, what)
    if "data" not in payload:
        raise MalformedPayload(f"{what}: object has no 'data' (keys: {list(payload)[:5]})")
    data = payload["data"]
    if data is None:
        return []
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return [as_dict(resource) for resource in data]
    raise MalformedPayload(f"{what}: 'data' is a {type(data).__name__}")


def _token_index(resources: list[Any]) -> dict[str, dict[str, Any]]:
    """Mint -> attributes of the `type: "token"` records."""
    index: dict[str, dict[str, Any]] = {}
    for resource in map(as_dict, resources):
        if resource.get("type") != "token":
            continue
        attributes = as_dict(resource.get("attributes"))
        mint = _address(resource, attributes)
        if mint is not None:
            index.setdefault(mint, attributes)
    return index


def _address(resource: dict[str, Any], attributes: dict[str, Any]) -> str | None:
    """The resource's Solana address: `attributes.address`, else its id without the "solana_" prefix."""
    resource_id = resource.get("id")
    if isinstance(resource_id, str) and "_" in resource_id and not resource_id.startswith(f"{NETWORK}_"):
        return None  # another network's resource
    address = attributes.get("address")
    if not is_mint(address):
        address = strip_network_prefix(resource_id) if isinstance(resource_id, str) else None
    return address if is_mint(address) else None


def _related_id(relationships: dict[str, Any], name: str) -> str | None:
    """The id of a to-one relationship, e.g. relationships.base_token.data.id, prefix stripped."""
    related = as_dict(as_dict(relationships.get(name)).get("data")).get("id")
    return strip_network_prefix(related) if isinstance(related, str) else None


def _first_pool(relationships: dict[str, Any]) -> str | None:
    """The first valid address of the to-many relationships.top_pools.data."""
    for related in as_list(as_dict(relationships.get("top_pools")).get("data")):
        related_id = as_dict(related).get("id")
        address = strip_network_prefix(related_id) if isinstance(related_id, str) else None
        if is_mint(address):
            return address
    return None


def _pools(
    resources: list[dict[str, Any]], tokens: dict[str, dict[str, Any]], fetched_at: float
) -> list[PoolQuote]:
    pools: list[PoolQuote] = []
    seen: set[str] = set()
    for resource in resources:
        pool = _pool(resource, tokens, fetched_at)
        if pool is not None and pool.address not in seen:
            seen.add(pool.address)
            pools.append(pool)
    return pools


def _pool(resource: dict[str, Any], tokens: dict[str, dict[str, Any]], fetched_at: float) -> PoolQuote | None:
    """One pool resource, or None when it is not a Solana pool with valid pool, base and quote addresses."""
    attributes = as_dict(resource.get("attributes"))
    relationships = as_dict(resource.get("relationships"))
    address = _address(resource, attributes)
    base_mint = _related_id(relationships, "base_token")
    quote_mint = _related_id(relationships, "quote_token")
    if resource.get("type", "pool") != "pool" or _related_id(relationships, "network") not in (None, NETWORK):
        return None
    if not (address and is_mint(base_mint) and is_mint(quote_mint)):
        return None
    base, quote = tokens.get(base_mint, {}), tokens.get(quote_mint, {})
    base_symbol, quote_symbol = _symbols_from_name(attributes.get("name"))
    return PoolQuote(
        source=SOURCE,
        address=address,
        dex_id=normalise_dex_id(_related_id(relationships, "dex")),
        base_mint=base_mint,
        quote_mint=quote_mint,
        base_symbol=to_str(base.get("symbol")) or base_symbol,
        base_name=to_str(base.get("name")),
        quote_symbol=to_str(quote.get("symbol")) or quote_symbol,
        price_usd=to_positive(attributes.get("base_token_price_usd")),
        quote_price_usd=to_positive(attributes.get("quote_token_price_usd")),
        price_native=to_positive(attributes.get("base_token_price_quote_token")),
        liquidity_usd=to_positive(attributes.get("reserve_in_usd")),  # "0.0" on bonding curves = unknown
        fdv_usd=to_positive(attributes.get("fdv_usd")),
        market_cap_usd=to_positive(attributes.get("market_cap_usd")),
        created_at=to_ts(attributes.get("pool_created_at")),
        windows=window_stats(
            attributes.get("volume_usd"),
            attributes.get("transactions"),
            attributes.get("price_change_percentage"),
        ),
        icon=_image(base.get("image_url")),
        fetched_at=fetched_at,
    )


def _symbols_from_name(name: Any) -> tuple[str | None, str | None]:
    """Symbols from a pool name: "BASE / QUOTE", optionally with a fee ("SOL / USDC 0.01%")."""
    text = to_str(name)
    if text is None or " / " not in text:
        return None, None
    base, quote = text.split(" / ", 1)
    words = quote.split()
    if len(words) > 1 and words[-1].endswith("%"):
        quote = " ".join(words[:-1])
    return to_str(base), to_str(quote)


def _image(url: Any) -> str | None:
    """An image URL, or None for null and GeckoTerminal's "missing.png"/"missing_small.png" placeholders."""
    text = to_str(url)
    if text is None:
        return None
    filename = text.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()
    return None if filename.startswith("missing") else text


def _token_quote(resource: dict[str, Any], fetched_at: float) -> TokenQuote | None:
    """One token resource of /tokens/multi or /tokens/{mint}, or None without a valid address."""
    attributes = as_dict(resource.get("attributes"))
    mint = _address(resource, attributes)
    if mint is None:
        return None
    volume_24h = to_non_negative(as_dict(attributes.get("volume_usd")).get("h24"))
    windows = {window: WindowStats() for window in WINDOWS}
    windows["h24"].volume_usd = volume_24h
    return TokenQuote(
        source=SOURCE,
        mint=mint,
        name=to_str(attributes.get("name")),
        symbol=to_str(attributes.get("symbol")),
        icon=_image(attributes.get("image_url")),
        price_usd=to_positive(attributes.get("price_usd")),
        market_cap_usd=to_positive(attributes.get("market_cap_usd")),
        fdv_usd=to_positive(attributes.get("fdv_usd")),
        # `total_reserve_in_usd` is the reserve of this token's side only, summed over its pools: not
        # liquidity. The token's liquidity comes from its pools' `reserve_in_usd` (included top pools).
        liquidity_usd=None,
        volume_24h_usd=volume_24h,
        windows=windows,
        decimals=to_count(attributes.get("decimals")),
        top_pool=_first_pool(as_dict(resource.get("relationships"))),
        fetched_at=fetched_at,
    )
