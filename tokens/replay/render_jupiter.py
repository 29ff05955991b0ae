"""Jupiter's JSON for the synthetic market: Price API v3, Tokens API v2 category lists and search (pure).

Quirks kept from the recorded samples: price v3 is a top-level object keyed by mint with no wrapper,
tokens Jupiter cannot price are omitted; token stats objects are sparse (zero/unknown keys are left
out, organic figures only for tokens with an organic score); small prices are plain floats; `audit.*Disabled`
appear only when true, and a top-level `mintAuthority`/`freezeAuthority` names an authority still held.
"""

from __future__ import annotations

from typing import Any

from tokens.replay import cosmetics, discovery
from tokens.replay.formats import iso_nanos, iso_z, stable_address, stable_slug, stable_unit
from tokens.replay.known import SOL, USDC
from tokens.replay.market import MarketView, TokenState
from tokens.replay.world import JUP

MAX_PRICE_IDS = 50
MAX_SEARCH_MINTS = 100
MAX_LIST_LIMIT = 100
DEFAULT_LIST_LIMIT = 50
TOKEN_2022 = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
_STATS = {"5m": "m5", "1h": "h1", "6h": "h6", "24h": "h24"}
_REFERENCE_CREATED = {SOL.mint: "2024-06-05T08:55:25.527Z", USDC.mint: "2024-06-05T08:55:25.527Z"}


def block_id(at: float) -> int:
    """A Solana slot that advances ~2.5 per second."""
    return int((at - 1_600_000_000) * 2.5)


def usd_price(view: MarketView, token: TokenState) -> float:
    return (
        token.price_usd
        * view.noise(JUP, token.spec.mint + ":price")
        * view.source_factor(JUP, token.spec.mint)
    )


def price_v3(view: MarketView, mints: list[str]) -> dict[str, Any]:
    """/price/v3?ids=: {mint: {createdAt, liquidity, usdPrice, blockId, decimals, priceChange24h[, launchpad]}}."""
    out: dict[str, Any] = {}
    for mint in dict.fromkeys(mints):
        if mint in (SOL.mint, USDC.mint):
            out[mint] = _reference_price(view, mint)
            continue
        token = view.tokens.get(mint)
        if token is None or not token.spec.jupiter:
            continue  # "tokens without a reliable price are omitted"
        entry: dict[str, Any] = {
            "createdAt": iso_z(token.spec.created_at),
            "liquidity": token.liquidity_usd * view.noise(JUP, mint + ":liquidity"),
            "usdPrice": usd_price(view, token),
            "blockId": block_id(view.at) - int(stable_unit(mint, view.elapsed) * 40),
            "decimals": token.spec.decimals,
            "priceChange24h": token.change("h24") * view.noise(JUP, mint + ":change"),
        }
        if token.spec.pump:
            entry["launchpad"] = "pump.fun"
        out[mint] = entry
    return out


def _reference_price(view: MarketView, mint: str) -> dict[str, Any]:
    sol = mint == SOL.mint
    price = view.sol_price_usd * view.noise(JUP, mint + ":price") if sol else 0.99995
    return {
        "createdAt": _REFERENCE_CREATED[mint],
        "liquidity": 958_039_589.33713 if sol else 1_204_417_335.5,
        "usdPrice": price,
        "blockId": block_id(view.at),
        "decimals": SOL.decimals if sol else USDC.decimals,
        "priceChange24h": view.sol_pool.change["h24"] if sol else 0.0011,
    }


def token_list(view: MarketView, category: str, interval: str, limit: int) -> list[dict[str, Any]]:
    """/tokens/v2/{category}/{interval}?limit=N."""
    return [token_info(view, t) for t in discovery.jupiter_list(view, category, interval, limit)]


def search(view: MarketView, mints: list[str]) -> list[dict[str, Any]]:
    """/tokens/v2/search?query={mints}: the token object of each mint Jupiter knows, in query order."""
    out = []
    for mint in dict.fromkeys(mints):
        token = view.tokens.get(mint)
        if token is not None and token.spec.jupiter:
            out.append(token_info(view, token))
    return out


def freeze_disabled(mint: str, pump: bool) -> bool:
    """About one non-pump token in five keeps its freeze authority."""
    return pump or stable_unit(mint, "freeze-authority") >= 0.2


def token_info(view: MarketView, token: TokenState) -> dict[str, Any]:
    """One Tokens API v2 item (MintInformation)."""
    spec = token.spec
    mint = spec.mint
    mint_disabled = spec.pump or stable_unit(mint, "mint-authority") < 0.7
    item: dict[str, Any] = {
        "id": mint,
        "name": spec.name,
        "symbol": spec.symbol,
        "icon": f"https://ipfs.io/ipfs/bafkrei{stable_slug(mint, 'ipfs', length=52).lower().replace('-', 'a').replace('_', 'b')}",
        "decimals": spec.decimals,
    }
    if site := cosmetics.website(spec):
        item["website"] = site
    if tw := cosmetics.twitter(spec):
        item["twitter"] = tw
    item["dev"] = stable_address(mint, "dev")
    item["circSupply"] = spec.circ_supply
    item["totalSupply"] = spec.total_supply
    item["tokenProgram"] = TOKEN_2022 if spec.pump else TOKEN_PROGRAM
    if not mint_disabled:
        item["mintAuthority"] = stable_address(mint, "mint-authority")
    if not freeze_disabled(mint, spec.pump):
        item["freezeAuthority"] = stable_address(mint, "freeze-authority")
    item.update(_launch_fields(token))
    price = usd_price(view, token)
    item["holderCount"] = int(10 ** (1.5 + 3 * stable_unit(mint, "holders")))
    item["fdv"] = price * spec.total_supply
    item["mcap"] = price * spec.circ_supply
    item["usdPrice"] = price
    item["priceBlockId"] = block_id(view.at) - int(stable_unit(mint, view.elapsed) * 40)
    item["liquidity"] = token.liquidity_usd * view.noise(JUP, mint + ":liquidity")
    for label, window in _STATS.items():
        stats = _stats(view, token, window)
        if stats:
            item[f"stats{label}"] = stats
    item["firstPool"] = {"id": _first_pool(token), "createdAt": iso_z(spec.created_at)}
    item["audit"] = _audit(token, mint_disabled)
    item["organicScore"] = spec.organic
    item["organicScoreLabel"] = "high" if spec.organic >= 70 else "medium" if spec.organic >= 30 else "low"
    verified = spec.organic >= 80 and view.at - spec.created_at > 30 * 86400
    if verified:
        item["isVerified"] = True
    item["tags"] = (["verified"] if verified else ["unknown"]) + (["token-2022"] if spec.pump else [])
    item["createdAt"] = iso_z(spec.created_at)
    item["updatedAt"] = iso_nanos(view.at - 5 * stable_unit(mint, "updated", view.elapsed))
    return item


def _launch_fields(token: TokenState) -> dict[str, Any]:
    if not token.spec.pump:
        return {}
    out: dict[str, Any] = {"launchpad": "pump.fun"}
    graduated = [p for p in token.pools if p.spec.dex != "pumpfun"]
    if graduated:
        pool = min(graduated, key=lambda p: p.spec.created_at)
        out["graduatedPool"] = pool.spec.address
        out["graduatedAt"] = iso_z(pool.spec.created_at)
    return out


def _first_pool(token: TokenState) -> str:
    if token.spec.pump:
        return token.spec.mint  # a pump.fun bonding curve is keyed by the mint
    return min(token.pools, key=lambda p: p.spec.created_at).spec.address


def _stats(view: MarketView, token: TokenState, window: str) -> dict[str, Any]:
    """Sparse stats for one window: keys whose value is zero or unknown are left out."""
    mint = token.spec.mint
    noise = view.noise(JUP, mint + ":volume")
    buy_volume = sum(p.volume[window] * p.spec.buy_share for p in token.pools) * noise
    sell_volume = token.volume(window) * noise - buy_volume
    buys = sum(p.buys[window] for p in token.pools)
    sells = sum(p.sells[window] for p in token.pools)
    organic = token.spec.organic / 100
    wiggle = 2 * stable_unit(mint, window, "change") - 1
    stats: dict[str, Any] = {
        "priceChange": token.change(window) if buys + sells else 0,
        "holderChange": wiggle * 2 if buys + sells else 0,
        "liquidityChange": wiggle * 5,
        "volumeChange": wiggle * 60,
        "buyVolume": buy_volume,
        "sellVolume": sell_volume,
        "buyOrganicVolume": buy_volume * organic * 0.4 if organic >= 0.3 else 0,
        "sellOrganicVolume": sell_volume * organic * 0.3 if organic >= 0.3 else 0,
        "numBuys": buys,
        "numSells": sells,
        "numTraders": int((buys + sells) * 0.35) + (1 if buys + sells else 0),
        "numOrganicBuyers": int(buys * organic * 0.05) if organic >= 0.3 else 0,
        "numNetBuyers": max(0, int((buys - sells) * 0.3)),
    }
    return {key: value for key, value in stats.items() if value}


def _audit(token: TokenState, mint_disabled: bool) -> dict[str, Any]:
    mint = token.spec.mint
    audit: dict[str, Any] = {}
    if mint_disabled:
        audit["mintAuthorityDisabled"] = True
    if freeze_disabled(mint, token.spec.pump):
        audit["freezeAuthorityDisabled"] = True
    audit["topHoldersPercentage"] = 10 + 60 * stable_unit(mint, "top-holders")
    if token.spec.pump:
        audit["devBalancePercentage"] = 5 * stable_unit(mint, "dev-balance")
    audit["devMints"] = 1 + int(30 * stable_unit(mint, "dev-mints") ** 3)
    return audit
