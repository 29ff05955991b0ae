"""GeckoTerminal's JSON:API documents for the synthetic market: pool lists, tokens/multi, daily and intraday OHLCV (pure).

Quirks kept from the recorded samples: ids are "solana_<address>", numbers are decimal strings (prices
with the full float expansion), counts are ints, `included` holds de-duplicated token/dex records
only when `include=` asks for them, pump.fun curve pools have null native/quote prices, and
`market_cap_usd` is often null. tokens/multi's `total_reserve_in_usd` is the token's side of its pools'
reserves (half of each pool), not their liquidity; its top_pools names only each token's first top pool.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from tokens.replay import cosmetics, history, templates
from tokens.replay.formats import gt_change, gt_decimal, gt_short, iso_z, stable_bytes, stable_unit
from tokens.replay.known import GT_DEX, QUOTES, SOL, SOL_PRICE_USD, USDC
from tokens.replay.market import MarketView, PoolState, TokenState
from tokens.replay.world import GT

MAX_ADDRESSES = 30
_WINDOWS = ("m5", "m15", "m30", "h1", "h6", "h24")
_INTERPOLATED = {"m15": 2 / 11, "m30": 5 / 11}  # share of the way from the m5 figure to the h1 figure
_USDC_RECORD = {
    "id": f"solana_{USDC.mint}",
    "type": "token",
    "attributes": {
        "address": USDC.mint, "name": USDC.name, "symbol": USDC.symbol, "decimals": USDC.decimals,
        "image_url": "https://coin-images.coingecko.com/coins/images/6319/large/usdc.png?1696506694",
        "coingecko_coin_id": "usd-coin",
    },
}  # fmt: skip


def gt_id(address: str) -> str:
    return f"solana_{address}"


def _ref(kind: str, address: str) -> dict[str, Any]:
    return {"data": {"id": gt_id(address), "type": kind}}


def _base(view: MarketView, pool: PoolState) -> tuple[str, str]:
    """(name, symbol) of the pool's base token."""
    token = view.tokens.get(pool.spec.mint)
    return (token.spec.name, token.spec.symbol) if token else (SOL.name, SOL.symbol)


def gt_price(view: MarketView, pool: PoolState) -> float:
    return (
        pool.price_usd * view.noise(GT, pool.spec.address + ":price") * view.source_factor(GT, pool.spec.mint)
    )


def _windowed(m5: float, h1: float, rest: dict[str, float]) -> dict[str, float]:
    values = {"m5": m5, "h1": h1} | rest | {w: m5 + (h1 - m5) * share for w, share in _INTERPOLATED.items()}
    return {w: values[w] for w in _WINDOWS}


def pool_resource(view: MarketView, pool: PoolState, token_price: bool = False) -> dict[str, Any]:
    """One `type: "pool"` resource; `token_price` adds the token-endpoint attribute token_price_usd."""
    spec = pool.spec
    price = gt_price(view, pool)
    attributes = _price_attributes(view, pool, price)
    attributes |= {
        "address": spec.address,
        "name": f"{_base(view, pool)[1]} / {QUOTES[spec.quote_mint].symbol}",
        "pool_created_at": iso_z(spec.created_at),
    }
    if token_price:
        attributes["token_price_usd"] = attributes["base_token_price_usd"]
    attributes |= _market_attributes(view, pool, price)
    relationships = {
        "base_token": _ref("token", spec.mint),
        "quote_token": _ref("token", spec.quote_mint),
        "dex": {"data": {"id": GT_DEX[spec.dex][0], "type": "dex"}},
    }
    return {
        "id": gt_id(spec.address),
        "type": "pool",
        "attributes": attributes,
        "relationships": relationships,
    }


def _price_attributes(view: MarketView, pool: PoolState, price: float) -> dict[str, Any]:
    """The six price attributes; a pump.fun curve has no native or quote-relative prices."""
    spec = pool.spec
    curve = spec.dex == "pumpfun"
    quote_usd = pool.quote_price_usd * view.noise(GT, spec.address + ":quote")
    sol_usd = quote_usd if spec.quote_mint == SOL.mint else view.sol_price_usd * view.noise(GT, "sol")
    sol_usd = price if spec.mint == SOL.mint else sol_usd
    in_quote = price / quote_usd
    return {
        "base_token_price_usd": gt_decimal(price),
        "base_token_price_native_currency": None if curve else gt_short(price / sol_usd, 18),
        "quote_token_price_usd": gt_decimal(quote_usd),
        "quote_token_price_native_currency": gt_short(quote_usd / sol_usd, 18),
        "base_token_price_quote_token": None if curve else gt_short(in_quote, 10),
        "quote_token_price_base_token": None if curve else gt_short(1 / in_quote, 15),
    }


def _market_attributes(view: MarketView, pool: PoolState, price: float) -> dict[str, Any]:
    spec = pool.spec
    token = view.tokens.get(spec.mint)
    mcap_known = token is not None and stable_unit(spec.mint, "gt-mcap") < 0.4
    volume_noise = view.noise(GT, spec.address + ":volume")
    changes = _windowed(pool.change["m5"], pool.change["h1"], _long(pool.change))
    volumes = _windowed(pool.volume["m5"], pool.volume["h1"], _long(pool.volume))
    reserve = round(pool.liquidity_usd * view.noise(GT, spec.address + ":liquidity"), 4)
    return {
        "fdv_usd": gt_short(price * token.spec.total_supply) if token else None,
        "market_cap_usd": gt_short(price * token.spec.circ_supply) if token and mcap_known else None,
        "price_change_percentage": {w: gt_change(v) for w, v in changes.items()},
        "transactions": _transactions(pool),
        "volume_usd": {w: gt_short(v * volume_noise) for w, v in volumes.items()},
        "reserve_in_usd": gt_short(reserve),
    }


def _long(values: dict[str, float]) -> dict[str, float]:
    return {"h6": values["h6"], "h24": values["h24"]}


def _transactions(pool: PoolState) -> dict[str, dict[str, int]]:
    out = {}
    for w in _WINDOWS:
        if w in _INTERPOLATED:
            share = _INTERPOLATED[w]
            buys = round(pool.buys["m5"] + (pool.buys["h1"] - pool.buys["m5"]) * share)
            sells = round(pool.sells["m5"] + (pool.sells["h1"] - pool.sells["m5"]) * share)
        else:
            buys, sells = pool.buys[w], pool.sells[w]
        out[w] = {
            "buys": buys,
            "sells": sells,
            "buyers": math.ceil(buys * 0.6),
            "sellers": math.ceil(sells * 0.7),
        }
    return out


def token_record(view: MarketView, mint: str) -> dict[str, Any]:
    """An `included` token record."""
    if mint == USDC.mint:
        return dict(_USDC_RECORD)
    recorded = templates.gt_token_record(mint)
    if recorded:
        return recorded
    spec = view.tokens[mint].spec
    image = f"https://assets.geckoterminal.com/{cosmetics.image_id(spec).lower()}"
    attributes = {
        "address": mint, "name": spec.name, "symbol": spec.symbol, "decimals": spec.decimals,
        "image_url": image if stable_unit(mint, "gt-image") < 0.8 else None, "coingecko_coin_id": None,
    }  # fmt: skip
    return {"id": gt_id(mint), "type": "token", "attributes": attributes}


def dex_record(dex: str) -> dict[str, Any]:
    slug, name = GT_DEX[dex]
    return {"id": slug, "type": "dex", "attributes": {"name": name}}


def pools_document(view: MarketView, pools: list[PoolState], include: set[str]) -> dict[str, Any]:
    """A pool-list page: {"data": [...], "included": [...]} (`included` only when asked for)."""
    doc: dict[str, Any] = {"data": [pool_resource(view, pool) for pool in pools]}
    if include:
        included: dict[tuple[str, str], dict[str, Any]] = {}
        for pool in pools:
            if "base_token" in include:
                included.setdefault(("token", pool.spec.mint), token_record(view, pool.spec.mint))
            if "quote_token" in include:
                included.setdefault(("token", pool.spec.quote_mint), token_record(view, pool.spec.quote_mint))
            if "dex" in include:
                included.setdefault(("dex", pool.spec.dex), dex_record(pool.spec.dex))
        doc["included"] = list(included.values())
    return doc


def top_pool(view: MarketView, mint: str) -> PoolState | None:
    """GeckoTerminal's top pool of a token: its GeckoTerminal-visible pool with the most 24h volume."""
    if mint == SOL.mint:
        return view.sol_pool
    token = view.tokens.get(mint)
    pools = [p for p in token.pools if GT in p.spec.sources] if token else []
    return max(pools, key=lambda p: p.volume["h24"]) if pools else None


def tokens_multi(view: MarketView, mints: list[str], include: set[str]) -> dict[str, Any]:
    """/tokens/multi/{mints}?include=top_pools; mints GeckoTerminal does not know are ignored."""
    data, included = [], []
    for mint in dict.fromkeys(mints):
        pool = top_pool(view, mint)
        if pool is None:
            continue
        data.append(_token_resource(view, mint, pool))
        if "top_pools" in include:
            included.append(pool_resource(view, pool, token_price=True))
    doc: dict[str, Any] = {"data": data}
    if "top_pools" in include:
        doc["included"] = included
    return doc


def _token_resource(view: MarketView, mint: str, pool: PoolState) -> dict[str, Any]:
    token = view.tokens.get(mint)
    price = gt_price(view, pool)
    record = token_record(view, mint)
    attributes = dict(record["attributes"])
    gt_pools = [p for p in token.pools if GT in p.spec.sources] if token else [pool]
    supply = token.spec.total_supply if token else 5.9e8
    decimals = attributes["decimals"]
    attributes |= {
        "total_supply": f"{round(supply * 10**decimals):.1f}",
        "normalized_total_supply": gt_short(supply),
        "price_usd": gt_short(price, 13),
        "fdv_usd": gt_short(price * supply),
        # One side's reserve (this token's half of each pool), as the real API means it: not liquidity.
        "total_reserve_in_usd": gt_decimal(sum(0.5 * p.liquidity_usd * view.noise(GT, p.spec.address + ":liquidity") for p in gt_pools)),
        "volume_usd": {"h24": gt_short(sum(p.volume["h24"] * view.noise(GT, p.spec.address + ":volume") for p in gt_pools))},
        "market_cap_usd": pool_resource(view, pool)["attributes"]["market_cap_usd"],
    }  # fmt: skip
    if token and token.spec.pump:
        attributes["launchpad_details"] = _launchpad(token)
    relationships = {"top_pools": {"data": [{"id": gt_id(pool.spec.address), "type": "pool"}]}}
    return {"id": gt_id(mint), "type": "token", "attributes": attributes, "relationships": relationships}


def _launchpad(token: TokenState) -> dict[str, Any]:
    graduated = [p for p in token.pools if p.spec.dex != "pumpfun"]
    if not graduated:
        percent = round(20 + 75 * stable_unit(token.spec.mint, "curve"), 2)
        return {"graduation_percentage": percent, "completed": False, "completed_at": None, "migrated_destination_pool_address": None}  # fmt: skip
    pool = min(graduated, key=lambda p: p.spec.created_at)
    return {
        "graduation_percentage": 100.0,
        "completed": True,
        "completed_at": iso_z(pool.spec.created_at, millis=True),
        "migrated_destination_pool_address": pool.spec.address,
    }


QUIET_DAY_SHARE = 0.15  # share of a pool's past days (before yesterday) without trades: no candle


def ohlcv_day(view: MarketView, address: str, limit: int, token: str | None = None) -> dict[str, Any] | None:
    """/pools/{pool}/ohlcv/day?limit=N&token=…: daily candles, newest first; None for an unknown pool.

    `token` picks the side whose price the candles follow: `base` (default) or the base mint, `quote` or
    the quote mint. Days without trades are left out, as GeckoTerminal does. A token that is not in the
    pool raises ValueError.
    """
    pool = view.pools.get(address)
    if pool is None or GT not in pool.spec.sources:
        return None
    spec = pool.spec
    if token in (None, "", "base", spec.mint):
        side = "base"
    elif token in ("quote", spec.quote_mint):
        side = "quote"
    else:
        raise ValueError(f"token {token!r} is not in pool {address}")
    today = int(view.at // 86400 * 86400)
    days = min(limit, (today - int(spec.created_at // 86400 * 86400)) // 86400 + 1)
    if side == "base":
        reference = pool.price_usd / (1 + pool.change["h24"] / 100)  # the price 24 hours ago
        closes = [gt_price(view, pool), reference]
        swing = 0.7
    else:
        quote_now = pool.quote_price_usd * view.noise(GT, spec.address + ":quote")
        closes = [quote_now, quote_now * (1 + 0.04 * (stable_unit(spec.quote_mint, "qday", 0) - 0.5))]
        swing = 0.06
    for day in range(1, days):
        walk = ("day", day) if side == "base" else ("quote-day", day)
        closes.append(closes[-1] * math.exp(-swing * (stable_unit(spec.address, *walk) - 0.5)))
    rows = []
    for day in range(days):
        if day >= 2 and stable_unit(spec.address, "quiet", day) < QUIET_DAY_SHARE:
            continue  # no trades that day: GeckoTerminal sends no candle
        close = closes[day]
        open_ = closes[day + 1] if day + 1 < days else close * (1 - 0.3 * stable_unit(spec.address, "open"))
        wick = 0.1 * stable_unit(spec.address, "wick", day)
        volume = pool.volume["h24"] * (
            (view.at - today) / 86400 if day == 0 else 0.5 + stable_unit(spec.address, "vol", day)
        )
        rows.append(
            [
                today - day * 86400,
                open_,
                max(open_, close) * (1 + wick),
                min(open_, close) * (1 - wick),
                close,
                volume,
            ]
        )
    return {
        "data": {
            "id": str(
                uuid.UUID(
                    bytes=stable_bytes(
                        spec.address, today, limit, *(() if side == "base" else (side,)), length=16
                    )
                )
            ),
            "type": "ohlcv_request_response",
            "attributes": {"ohlcv_list": rows},
        },
        "meta": {"base": _meta(view, spec.mint), "quote": _meta(view, spec.quote_mint)},
    }


def _meta(view: MarketView, mint: str) -> dict[str, Any]:
    attributes = token_record(view, mint)["attributes"]
    return {key: attributes[key] for key in ("address", "name", "symbol", "coingecko_coin_id")}


def ohlcv_intraday(
    view: MarketView,
    address: str,
    timeframe: str,
    aggregate: int,
    limit: int,
    before: int | None,
    token: str | None,
) -> dict[str, Any] | str | None:
    """/pools/{pool}/ohlcv/{minute|hour}: candles of the side `token` names (base, quote or an address)
    on the pool's known price path (tokens/replay/history.py), newest first.

    None for an unknown pool; an error text for a `token` that is neither side of the pool.
    """
    pool = view.pools.get(address)
    if pool is None or GT not in pool.spec.sources:
        return None
    spec = pool.spec
    if token in (None, "", "base", spec.mint):
        side, mint = "base", spec.mint
        state = view.tokens.get(spec.mint)
        start = (state.spec.price_usd if state else pool.price_usd) * (1 + spec.skew)
        current = gt_price(view, pool)
    elif token in ("quote", spec.quote_mint):
        side, mint = "quote", spec.quote_mint
        start = SOL_PRICE_USD if spec.quote_mint == SOL.mint else 1.0
        current = pool.quote_price_usd
    else:
        return "token must be base, quote or the address of one of the pool's two tokens"
    rows = history.ohlcv_rows(
        spec.address, side, start, current, spec.created_at, view.at, pool.volume["h24"] / 1440,
        timeframe, aggregate, limit, before,
    )  # fmt: skip
    return {
        "data": {
            "id": str(
                uuid.UUID(
                    bytes=stable_bytes(spec.address, timeframe, aggregate, limit, before, side, length=16)
                )
            ),
            "type": "ohlcv_request_response",
            "attributes": {"ohlcv_list": [history.rendered(r, spec.address) for r in rows]},
        },
        "meta": {"base": _meta(view, spec.mint), "quote": _meta(view, spec.quote_mint), "side": mint},
    }
