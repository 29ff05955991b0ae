"""DexScreener's JSON for the synthetic market: pairs, tokens/v1, token-pairs/v1, search, boosts, profiles (pure).

Quirks kept from the recorded samples: prices are strings, volumes/liquidity JSON numbers; keys are
dropped rather than nulled (`liquidity` on pump.fun curve pairs, `info` on pairs under an hour old,
`fdv`/`marketCap` on SOL/USDC, `priceChange.m5/h1` without trades, `labels` unless CLMM/DLMM/wp).
"""

from __future__ import annotations

from typing import Any

from tokens.replay import cosmetics, discovery, templates
from tokens.replay.formats import ds_number, ds_price
from tokens.replay.known import DS_DEX, QUOTES, SOL
from tokens.replay.market import MarketView, PoolState, TokenState
from tokens.replay.world import DS, WINDOWS

MAX_TOKENS = 30
SEARCH_LIMIT = 30
_CDN = "https://cdn.dexscreener.com"


def pair(view: MarketView, pool: PoolState) -> dict[str, Any]:
    """One pair object, as DexScreener reports this pool (with its ±0.5% noise)."""
    spec = pool.spec
    if spec.address == view.sol_pool.spec.address:
        return _sol_pair(view)
    token = view.tokens[spec.mint]
    dex_id, labels = DS_DEX[spec.dex]
    quote = QUOTES[spec.quote_mint]
    price = pool.price_usd * view.noise(DS, spec.address + ":price") * view.source_factor(DS, spec.mint)
    out: dict[str, Any] = {
        "chainId": "solana",
        "dexId": dex_id,
        "url": f"https://dexscreener.com/solana/{spec.address.lower()}",
        "pairAddress": spec.address,
    }
    if labels:
        out["labels"] = list(labels)
    out["baseToken"] = {"address": token.spec.mint, "name": token.spec.name, "symbol": token.spec.symbol}
    out["quoteToken"] = {"address": quote.mint, "name": quote.name, "symbol": quote.symbol}
    out.update(_market_fields(view, pool, price))
    if spec.dex != "pumpfun":
        liquidity = pool.liquidity_usd * view.noise(DS, spec.address + ":liquidity")
        out["liquidity"] = {
            "usd": ds_number(liquidity),
            "base": ds_number(liquidity / 2 / price, 0),
            "quote": ds_number(liquidity / 2 / pool.quote_price_usd, 4),
        }
    out["fdv"] = ds_number(price * token.spec.total_supply)
    out["marketCap"] = ds_number(price * token.spec.circ_supply)
    out["pairCreatedAt"] = int(spec.created_at * 1000)
    if view.at - token.spec.created_at > 3600:
        out["info"] = _info(view, token)
    if token.spec.boost:
        out["boosts"] = {"active": token.spec.boost}
    return out


def _market_fields(view: MarketView, pool: PoolState, price: float) -> dict[str, Any]:
    volume_noise = view.noise(DS, pool.spec.address + ":volume")
    traded = {w: pool.buys[w] + pool.sells[w] > 0 for w in WINDOWS}
    return {
        "priceNative": ds_price(price / pool.quote_price_usd),
        "priceUsd": ds_price(price),
        "txns": {w: {"buys": pool.buys[w], "sells": pool.sells[w]} for w in WINDOWS},
        "volume": {w: ds_number(pool.volume[w] * volume_noise) for w in reversed(WINDOWS)},
        "priceChange": {w: ds_number(pool.change[w]) for w in WINDOWS if traded[w] or w in ("h6", "h24")},
    }


def _info(view: MarketView, token: TokenState) -> dict[str, Any]:
    spec = token.spec
    info: dict[str, Any] = {
        "imageUrl": f"{_CDN}/cms/images/{cosmetics.image_id(spec)}?width=800&height=800&quality=95&format=auto"
    }
    if cosmetics.has_header(spec):
        header = cosmetics.image_id(spec, "header")
        info["header"] = f"{_CDN}/cms/images/{header}?width=1500&height=500&quality=95&format=auto"
    info["openGraph"] = f"{_CDN}/token-images/og/solana/{spec.mint}?timestamp={int(view.at // 300 * 300_000)}"
    site, tw = cosmetics.website(spec), cosmetics.twitter(spec)
    info["websites"] = [{"url": site, "label": "Website"}] if site else []
    info["socials"] = [{"url": tw, "type": "twitter"}] if tw else []
    return info


def _sol_pair(view: MarketView) -> dict[str, Any]:
    """The SOL/USDC pair: the recorded one's static parts with live price, volume and liquidity."""
    out = templates.ds_sol_pair()
    pool = view.sol_pool
    price = pool.price_usd * view.noise(DS, pool.spec.address + ":price")
    market = _market_fields(view, pool, price)
    market["priceNative"] = f"{price:.4f}"
    liquidity = pool.liquidity_usd * view.noise(DS, pool.spec.address + ":liquidity")
    out.update(market)
    out["liquidity"] = {
        "usd": ds_number(liquidity),
        "base": ds_number(liquidity / 2 / price, 0),
        "quote": ds_number(liquidity / 2, 0),
    }
    return out


def _ranked(pools: list[PoolState]) -> list[PoolState]:
    """Most liquid first, as DexScreener sees it (a curve pair without `liquidity` counts as 0)."""
    return sorted(pools, key=lambda p: (p.spec.dex == "pumpfun", -p.liquidity_usd))


def _ds_pools(view: MarketView, mint: str) -> list[PoolState]:
    if mint == SOL.mint:
        return [view.sol_pool]
    token = view.tokens.get(mint)
    return _ranked([p for p in token.pools if DS in p.spec.sources]) if token else []


def tokens_v1(view: MarketView, mints: list[str]) -> list[dict[str, Any]]:
    """/tokens/v1/solana/{mints}: each known token's top pair, in request order; unknown mints omitted."""
    out = []
    for mint in dict.fromkeys(mints):
        pools = _ds_pools(view, mint)
        if pools:
            out.append(pair(view, pools[0]))
    return out


def token_pairs(view: MarketView, mint: str) -> list[dict[str, Any]]:
    """/token-pairs/v1/solana/{mint}: every pool DexScreener sees for the token."""
    return [pair(view, pool) for pool in _ds_pools(view, mint)]


def search(view: MarketView, query: str) -> dict[str, Any]:
    """/latest/dex/search?q=: pairs whose token name/symbol contains q, or whose mint/pair address is q."""
    q = query.strip().lower()
    matches: list[PoolState] = []
    if q:
        for token in view.tokens.values():
            spec = token.spec
            hit = q in spec.name.lower() or q in spec.symbol.lower() or q == spec.mint.lower()
            pools = [p for p in token.pools if DS in p.spec.sources]
            matches += pools if hit else [p for p in pools if p.spec.address.lower() == q]
        if q in (
            "sol",
            "wrapped sol",
            "usdc",
            "sol/usdc",
            view.sol_pool.spec.address.lower(),
            SOL.mint.lower(),
        ):
            matches.append(view.sol_pool)
    return {"schemaVersion": "1.0.0", "pairs": [pair(view, p) for p in _ranked(matches)[:SEARCH_LIMIT]]}


def _profile_links(token: TokenState) -> list[dict[str, str]]:
    links = []
    if site := cosmetics.website(token.spec):
        links.append({"label": "Website", "url": site})
    if tw := cosmetics.twitter(token.spec):
        links.append({"type": "twitter", "url": tw})
    return links


def _listing(view: MarketView, token: TokenState, full_icon: bool) -> dict[str, Any]:
    spec = token.spec
    icon = cosmetics.image_id(spec)
    item: dict[str, Any] = {
        "url": f"https://dexscreener.com/solana/{spec.mint.lower()}",
        "chainId": "solana",
        "tokenAddress": spec.mint,
        "icon": f"{_CDN}/cms/images/{icon}?width=64&height=64&fit=crop&quality=95&format=auto"
        if full_icon
        else icon,
        "header": f"{_CDN}/cms/images/{cosmetics.image_id(spec, 'header')}?width=600&height=200&fit=crop&quality=95&format=auto",
        "openGraph": f"{_CDN}/token-images/og/solana/{spec.mint}?timestamp={int(view.at // 300 * 300_000)}",
        "description": cosmetics.description(spec),
        "links": _profile_links(token),
    }
    return item


def boosts_top(view: MarketView) -> list[dict[str, Any]]:
    items = [_listing(view, t, False) | {"totalAmount": t.spec.boost} for t in discovery.ds_boosts_top(view)]
    return _mix_chains(items, templates.DS_BOOSTS_TOP)


def boosts_latest(view: MarketView) -> list[dict[str, Any]]:
    items = [
        _listing(view, t, False) | {"totalAmount": t.spec.boost, "amount": min(t.spec.boost, 50)}
        for t in discovery.ds_boosts_latest(view)
    ]
    return _mix_chains(items, templates.DS_BOOSTS_LATEST)


def profiles_latest(view: MarketView) -> list[dict[str, Any]]:
    items = [_listing(view, t, True) | {"cto": False} for t in discovery.ds_profiles_latest(view)]
    return _mix_chains(items, templates.DS_PROFILES_LATEST)


def _mix_chains(items: list[dict[str, Any]], sample_name: str) -> list[dict[str, Any]]:
    """Real lists mix chains: put the recorded non-Solana items in at fixed places."""
    for offset, item in enumerate(templates.other_chain_items(sample_name)):
        items.insert(min(len(items), 1 + 11 * offset), item)
    return items
