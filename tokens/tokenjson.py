"""Renders merged Token records as the public TOKEN / detail JSON objects of docs/api.md (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tokens.records import TIMEFRAMES, PoolView, Safety, Token, WindowStats

_EMPTY = WindowStats()
_NO_SAFETY = Safety()


def iso(ts: float | None) -> str | None:
    """Unix seconds -> '2026-11-20T10:00:00Z' (milliseconds kept when present)."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, tz=UTC)
    if dt.microsecond:
        return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


def window(token: Token, timeframe: str) -> WindowStats:
    return token.windows.get(TIMEFRAMES[timeframe], _EMPTY)


def token_dict(token: Token, timeframe: str = "24h") -> dict[str, Any]:
    """The TOKEN object for one timeframe; unknown values are None, never 0."""
    w = window(token, timeframe)
    sol_per_usd = None
    if token.price_usd and token.price_sol:
        sol_per_usd = token.price_sol / token.price_usd
    volume_sol = w.volume_usd * sol_per_usd if (w.volume_usd is not None and sol_per_usd) else None
    h1 = token.windows.get("h1", _EMPTY)
    h24 = token.windows.get("h24", _EMPTY)
    safety = getattr(token, "safety", None) or _NO_SAFETY  # snapshots merged before the field: unknown
    return {
        "token_address": token.token_address,
        "token_name": token.token_name,
        "token_ticker": token.token_ticker,
        "icon": token.icon,
        "protocol": token.protocol,
        "pair_address": token.pair_address,
        "pair_created_at": iso(token.pair_created_at),
        "price_usd": token.price_usd,
        "price_sol": token.price_sol,
        "market_cap_usd": token.market_cap_usd,
        "market_cap_sol": token.market_cap_sol,
        "fdv_usd": token.fdv_usd,
        "liquidity_usd": token.liquidity_usd,
        "liquidity_sol": token.liquidity_sol,
        "volume_usd": w.volume_usd,
        "volume_sol": volume_sol,
        "transaction_count": w.txns,
        "buys": w.buys,
        "sells": w.sells,
        "price_change": w.price_change_pct,
        "price_1hr_change": h1.price_change_pct,
        "price_24h_change": h24.price_change_pct,
        "holder_count": safety.holder_count,
        "top_holders_pct": safety.top_holders_pct,
        "mint_authority_disabled": safety.mint_authority_disabled,
        "freeze_authority_disabled": safety.freeze_authority_disabled,
        "verified": safety.verified,
        "organic_score": safety.organic_score,
        "sources": list(token.sources),
        "updated_at": iso(token.updated_at),
    }


def pool_dict(pool: PoolView) -> dict[str, Any]:
    return {
        "address": pool.address,
        "dex": pool.protocol,
        "dex_id": pool.dex_id,
        "quote_token": pool.quote_mint,
        "quote_symbol": pool.quote_symbol,
        "price_usd": pool.price_usd,
        "liquidity_usd": pool.liquidity_usd,
        "created_at": iso(pool.created_at),
        "volume_usd": {tf: pool.windows.get(key, _EMPTY).volume_usd for tf, key in TIMEFRAMES.items()},
        "sources": list(pool.sources),
    }


def token_detail_dict(token: Token, timeframe: str = "24h") -> dict[str, Any]:
    """TOKEN plus `pools` and `by_source` for GET /api/tokens/{mint}/."""
    data = token_dict(token, timeframe)
    data["pools"] = [pool_dict(p) for p in token.pools]
    data["by_source"] = {
        name: {
            "price_usd": sp.price_usd,
            "market_cap_usd": sp.market_cap_usd,
            "volume_24h_usd": sp.volume_24h_usd,
            "fetched_at": iso(sp.fetched_at),
            "excluded": sp.excluded,
        }
        for name, sp in token.by_source.items()
    }
    return data
