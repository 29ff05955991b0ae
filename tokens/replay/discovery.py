"""The synthetic market's discovery lists: which tokens/pools each upstream list shows, in order (pure).

Every token has a "home" list (universe.HOME_LISTS) that ranks it first, so the lists the service
reads (DexScreener boosts and profiles, Jupiter toptrending/toporganicscore, GeckoTerminal
trending_pools/new_pools) together show every token; the other lists rank by live values.
"""

from __future__ import annotations

from tokens.replay.formats import stable_unit
from tokens.replay.market import MarketView, PoolState, TokenState
from tokens.replay.world import DS, GT, JUP

DS_LIST_SIZE = 28  # Solana items; the recorded lists also carry a couple of other chains' items
JUPITER_CATEGORIES = ("toptrending", "toptraded", "toporganicscore")
JUPITER_INTERVALS = {"5m": "m5", "1h": "h1", "6h": "h6", "24h": "h24"}
GT_PAGE_SIZE = 20
GT_MAX_PAGE = 10
GT_POOL_SORTS = ("h24_tx_count_desc", "h24_volume_usd_desc")


def _ds_tokens(view: MarketView) -> list[TokenState]:
    return [t for t in view.tokens.values() if t.spec.pools_seen_by(DS)]


def ds_boosts_top(view: MarketView) -> list[TokenState]:
    """Tokens with the most boost (home tokens carry 100 or more, the rest less)."""
    boosted = [t for t in _ds_tokens(view) if t.spec.boost]
    boosted.sort(key=lambda t: (-t.spec.boost, t.spec.mint))
    return boosted[:DS_LIST_SIZE]


def ds_boosts_latest(view: MarketView) -> list[TokenState]:
    """Most recently boosted tokens: home tokens first, then by a seeded boost time."""
    boosted = [t for t in _ds_tokens(view) if t.spec.boost]
    boosted.sort(
        key=lambda t: (t.spec.home != "ds-boosts-latest", stable_unit(view.seed, t.spec.mint, "boost"))
    )
    return boosted[:DS_LIST_SIZE]


def ds_profiles_latest(view: MarketView) -> list[TokenState]:
    """Most recently updated profiles: home tokens first, then a seeded third of the others."""
    tokens = [
        t
        for t in _ds_tokens(view)
        if t.spec.home == "ds-profiles" or stable_unit(view.seed, t.spec.mint, "profile") < 0.3
    ]
    tokens.sort(
        key=lambda t: (t.spec.home != "ds-profiles", stable_unit(view.seed, t.spec.mint, "profile-at"))
    )
    return tokens[:DS_LIST_SIZE]


def jupiter_list(view: MarketView, category: str, interval: str, limit: int) -> list[TokenState]:
    """Jupiter's /tokens/v2/{category}/{interval}: trending or organic score (home first) or traded volume."""
    window = JUPITER_INTERVALS[interval]
    tokens = [t for t in view.tokens.values() if t.spec.jupiter]

    def score(t: TokenState) -> float:
        jitter = 10 * stable_unit(view.seed, t.spec.mint, category, interval)
        if category == "toptrending":
            return t.spec.trending + jitter + (1000 if t.spec.home == "jup-trending" else 0)
        if category == "toporganicscore":
            return t.spec.organic + jitter + (1000 if t.spec.home == "jup-organic" else 0)
        return t.volume(window) * view.noise(JUP, t.spec.mint + ":volume")  # as Jupiter reports it

    tokens.sort(key=lambda t: (-score(t), t.spec.mint))
    return tokens[:limit]


def gt_pools(view: MarketView) -> list[PoolState]:
    """Every pool GeckoTerminal knows, the SOL/USDC pool included."""
    return [view.sol_pool] + [p for t in view.tokens.values() for p in t.pools if GT in p.spec.sources]


def gt_trending_pools(view: MarketView) -> list[PoolState]:
    """By a seeded trending score; each gt-trending home token's top pool ranks first."""
    homes = {
        t.spec.pools_seen_by(GT)[0].address for t in view.tokens.values() if t.spec.home == "gt-trending"
    }

    def score(pool: PoolState) -> float:
        token = view.tokens.get(pool.spec.mint)
        base = token.spec.trending * stable_unit(view.seed, pool.spec.address, "trend") if token else 0.0
        return base + (1000 if pool.spec.address in homes else 0)

    return _top(sorted(gt_pools(view), key=lambda p: (-score(p), p.spec.address)))


def gt_top_pools(view: MarketView, sort: str) -> list[PoolState]:
    """/networks/solana/pools: by 24h volume or by 24h transaction count."""
    if sort == "h24_volume_usd_desc":
        key = lambda p: (-p.volume["h24"], p.spec.address)  # noqa: E731
    else:
        key = lambda p: (-(p.buys["h24"] + p.sells["h24"]), p.spec.address)  # noqa: E731
    return _top(sorted(gt_pools(view), key=key))


def gt_new_pools(view: MarketView) -> list[PoolState]:
    """Newest pools first (gt-new home tokens are the youngest by construction)."""
    return _top(sorted(gt_pools(view), key=lambda p: (-p.spec.created_at, p.spec.address)))


def gt_page(pools: list[PoolState], page: int) -> list[PoolState]:
    start = (page - 1) * GT_PAGE_SIZE
    return pools[start : start + GT_PAGE_SIZE]


def _top(pools: list[PoolState]) -> list[PoolState]:
    return pools[: GT_PAGE_SIZE * GT_MAX_PAGE]
