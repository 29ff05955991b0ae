"""Tests for tokens/merge/core.py (with its pools, figures and checks modules): pure, no Redis."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Any

import base58
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import load_sample
from tokens.merge.core import merge_sources
from tokens.merge.pools import POOL_FRESH_SECONDS, POOL_SOURCE_ORDER, pool_d7
from tokens.records import (
    SOL_MINT,
    USDC_MINT,
    Candle,
    PoolQuote,
    SourceSnapshot,
    TokenQuote,
    WindowStats,
)
from tokens.tokenjson import token_detail_dict

pytestmark = pytest.mark.pure

NOW = 1_790_000_000.0
DAY = 86_400


def mint(n: int) -> str:
    return base58.b58encode(bytes([n % 256, n // 256]) * 16).decode()


TOKEN, OTHER, THIRD = mint(1), mint(2), mint(3)
P1, P2, P3, P4 = mint(101), mint(102), mint(103), mint(104)


def win(volume=None, buys=None, sells=None, change=None) -> WindowStats:
    return WindowStats(volume, buys, sells, change)


def pool(source: str, address: str, base: str = TOKEN, quote: str = SOL_MINT, **kw: Any) -> PoolQuote:
    kw.setdefault("dex_id", "raydium")
    kw.setdefault("fetched_at", NOW - 10)
    return PoolQuote(source=source, address=address, base_mint=base, quote_mint=quote, **kw)


def token(source: str, mint_: str = TOKEN, **kw: Any) -> TokenQuote:
    kw.setdefault("fetched_at", NOW - 10)
    return TokenQuote(source=source, mint=mint_, **kw)


def snap(source: str, *items: PoolQuote | TokenQuote, candles=None, fetched_at=NOW - 5) -> SourceSnapshot:
    s = SourceSnapshot(source=source, fetched_at=fetched_at, candles=dict(candles or {}))
    for item in items:
        if isinstance(item, PoolQuote):
            s.pools[item.address] = item
        else:
            s.tokens[item.mint] = item
    return s


def merge(*snaps: SourceSnapshot, universe=(TOKEN,), **kw: Any):
    return merge_sources({s.source: s for s in snaps}, list(universe), now=NOW, **kw)


def daily(
    closes_and_volumes: list[tuple[float | None, float | None]], newest: int = 1_789_948_800
) -> list[Candle]:
    """Consecutive daily candles, newest first."""
    return [Candle(newest - i * DAY, c, c, c, c, v) for i, (c, v) in enumerate(closes_and_volumes)]


# --- pools: de-duplication and sums ------------------------------------------------------------


def test_a_pool_reported_by_two_sources_counts_once():
    shared_ds = pool(
        "dexscreener",
        P1,
        price_usd=1.0,
        liquidity_usd=1000.0,
        fetched_at=NOW - 30,
        windows={"h24": win(500.0, 10, 5, 3.0)},
    )
    shared_gt = pool(
        "geckoterminal",
        P1,
        price_usd=1.1,
        liquidity_usd=1100.0,
        fetched_at=NOW - 20,
        windows={"h24": win(550.0, 11, 6, 4.0)},
    )
    own = pool("dexscreener", P2, price_usd=1.0, liquidity_usd=100.0, windows={"h24": win(50.0, 1, 2)})
    t = merge(snap("dexscreener", shared_ds, own), snap("geckoterminal", shared_gt)).tokens[TOKEN]
    # Both quotes of P1 are fresh, so DexScreener's (the preferred source) counts, once, plus P2.
    assert t.liquidity_usd == pytest.approx(1000.0 + 100.0)
    h24 = t.windows["h24"]
    assert (h24.volume_usd, h24.buys, h24.sells, h24.txns) == (pytest.approx(550.0), 11, 7, 18)
    assert h24.price_change_pct == 3.0  # the most liquid pool's, preferred quote
    assert [p.address for p in t.pools] == [P1, P2]
    assert t.pools[0].sources == ["dexscreener", "geckoterminal"]
    assert t.sources == ["dexscreener", "geckoterminal"]


def test_window_sums_skip_unknowns_and_all_unknown_stays_none():
    a = pool(
        "dexscreener",
        P1,
        liquidity_usd=10.0,
        windows={
            "m5": win(1.0, 1, None),
            "h1": win(None, None, None),
            "h6": win(6.0, 2, 3),
            "h24": win(24.0, 4, 5),
        },
    )
    b = pool(
        "dexscreener",
        P2,
        liquidity_usd=5.0,
        windows={
            "m5": win(2.0, None, 1),
            "h1": win(None, None, None),
            "h6": win(None, 1, 1),
            "h24": win(1.0, 0, 0),
        },
    )
    w = merge(snap("dexscreener", a, b)).tokens[TOKEN].windows
    assert (w["m5"].volume_usd, w["m5"].buys, w["m5"].sells) == (3.0, 1, 1)
    assert (w["h1"].volume_usd, w["h1"].buys, w["h1"].sells, w["h1"].txns) == (None, None, None, None)
    assert (w["h6"].volume_usd, w["h6"].buys, w["h6"].sells) == (6.0, 3, 4)
    assert (w["h24"].volume_usd, w["h24"].txns) == (25.0, 9)
    assert w["d7"] == WindowStats()  # no candles: all None


def test_a_pool_whose_sources_disagree_on_the_base_is_oriented_once():
    ds = pool(
        "dexscreener",
        P1,
        TOKEN,
        SOL_MINT,
        price_usd=2.0,
        quote_price_usd=150.0,
        liquidity_usd=1e4,
        windows={"h24": win(100.0, 7, 3, 5.0)},
    )
    gt = pool(
        "geckoterminal",
        P1,
        SOL_MINT,
        TOKEN,
        price_usd=150.0,
        quote_price_usd=2.0,
        liquidity_usd=1e4,
        fetched_at=NOW,
        windows={"h24": win(100.0, 3, 7, -1.0)},
    )
    t = merge(snap("dexscreener", ds), snap("geckoterminal", gt)).tokens[TOKEN]
    assert t.price_usd == 2.0 and len(t.pools) == 1
    assert (t.windows["h24"].buys, t.windows["h24"].sells) == (7, 3)  # GT's counts flipped to TOKEN's side
    assert t.windows["h24"].price_change_pct == 5.0  # GT's change was SOL's, so it is not used


# --- quote side --------------------------------------------------------------------------------


def test_quote_side_pools_use_the_quote_price_and_swap_buys_and_sells():
    main = pool(
        "dexscreener",
        P1,
        TOKEN,
        SOL_MINT,
        price_usd=0.003,
        liquidity_usd=2000.0,
        windows={"h24": win(100.0, 10, 20, 50.0)},
    )
    as_quote = pool(
        "dexscreener",
        P2,
        OTHER,
        TOKEN,
        base_symbol="GUDB",
        price_usd=2.8e-05,
        quote_price_usd=0.0031,
        liquidity_usd=500.0,
        windows={"h24": win(10.0, 1, 4, -90.0)},
    )
    sol_base = pool(
        "dexscreener",
        P3,
        SOL_MINT,
        TOKEN,
        price_usd=150.0,
        quote_price_usd=0.003,
        liquidity_usd=1e6,
        windows={"h24": win(1e5, 100, 100, 1.0)},
    )
    result = merge(snap("dexscreener", main, as_quote, sol_base), universe=[TOKEN, OTHER])
    t = result.tokens[TOKEN]
    assert [p.address for p in t.pools] == [P1, P2]  # a SOL-based pool is not TOKEN's
    assert t.liquidity_usd == 2500.0
    h24 = t.windows["h24"]
    assert (h24.volume_usd, h24.buys, h24.sells) == (110.0, 14, 21)
    assert h24.price_change_pct == 50.0  # never the quote-side pool's (it is GUDB's change)
    assert t.price_usd == pytest.approx((0.003 * 2000 + 0.0031 * 500) / 2500)
    view = t.pools[1]
    assert (view.quote_mint, view.quote_symbol, view.price_usd) == (OTHER, "GUDB", 0.0031)
    assert result.tokens[OTHER].price_usd == 2.8e-05  # the same pool is OTHER's as its base


# --- cross-source checks -----------------------------------------------------------------------


def test_a_wildly_off_source_is_excluded_but_still_listed():
    ds = pool(
        "dexscreener",
        P1,
        price_usd=7.32,
        liquidity_usd=800_000.0,  # the deepest pool, but only the excluded source quotes it
        market_cap_usd=7.32e9,
        windows={"h24": win(10.0)},
    )
    gt_pool = pool(
        "geckoterminal", P2, price_usd=0.00146, liquidity_usd=50_000.0, windows={"h24": win(900.0)}
    )
    gt = token("geckoterminal", price_usd=0.00146, market_cap_usd=1.46e6)
    jup = token("jupiter", price_usd=0.00150)
    t = merge(snap("dexscreener", ds), snap("geckoterminal", gt, gt_pool), snap("jupiter", jup)).tokens[TOKEN]
    assert t.sources == ["dexscreener", "geckoterminal", "jupiter"]
    assert t.by_source["dexscreener"].excluded is True
    assert t.by_source["dexscreener"].price_usd == 7.32
    assert not t.by_source["geckoterminal"].excluded and not t.by_source["jupiter"].excluded
    assert t.price_usd == pytest.approx(0.00146)  # only the GT pool feeds the price
    assert t.market_cap_usd == pytest.approx(1.46e6)  # the excluded source's cap is not used
    assert t.liquidity_usd == 850_000.0  # sums still count every distinct pool
    assert t.pair_address == P2  # the top pool is the deepest one a non-excluded source quotes
    assert [p.address for p in t.pools] == [P2, P1]
    detail = token_detail_dict(t)
    assert detail["by_source"]["dexscreener"]["excluded"] is True


def test_two_sources_disagreeing_keep_the_one_with_more_liquidity():
    ds = pool("dexscreener", P1, price_usd=1.0, liquidity_usd=100_000.0)
    jup = token("jupiter", price_usd=1000.0, liquidity_usd=1_000.0)
    t = merge(snap("dexscreener", ds), snap("jupiter", jup)).tokens[TOKEN]
    assert t.price_usd == 1.0
    assert t.by_source["jupiter"].excluded and not t.by_source["dexscreener"].excluded


def test_two_sources_disagreeing_with_unknown_liquidity_prefer_jupiter():
    ds = pool("dexscreener", P1, price_usd=1.0)  # a bonding curve: no liquidity
    jup = token("jupiter", price_usd=50.0)
    t = merge(snap("dexscreener", ds), snap("jupiter", jup)).tokens[TOKEN]
    assert t.price_usd == 50.0
    assert t.by_source["dexscreener"].excluded


def test_sources_within_the_factor_are_all_kept():
    ds = pool("dexscreener", P1, price_usd=1.0, liquidity_usd=1000.0)
    jup = token("jupiter", price_usd=2.5)
    t = merge(snap("dexscreener", ds), snap("jupiter", jup)).tokens[TOKEN]
    assert not any(sp.excluded for sp in t.by_source.values())
    assert t.price_usd == 1.0  # the price is the pools'; Jupiter only votes


def test_a_pool_far_from_the_consensus_does_not_feed_the_price():
    good = pool("dexscreener", P1, price_usd=1.0, liquidity_usd=10_000.0)
    stale = pool("dexscreener", P2, price_usd=40.0, liquidity_usd=100.0)  # DexScreener's own price: 1.39
    jup = token("jupiter", price_usd=1.02)
    gt = token("geckoterminal", price_usd=0.99)
    t = merge(snap("dexscreener", good, stale), snap("jupiter", jup), snap("geckoterminal", gt)).tokens[TOKEN]
    assert t.price_usd == 1.0


def test_pools_without_liquidity_only_count_when_nothing_else_exists():
    deep = pool("dexscreener", P1, price_usd=1.0, liquidity_usd=1000.0)
    curve = pool("dexscreener", P2, price_usd=2.0, liquidity_usd=0.0)
    assert merge(snap("dexscreener", deep, curve)).tokens[TOKEN].price_usd == 1.0
    t = merge(snap("dexscreener", curve)).tokens[TOKEN]
    assert t.price_usd == 2.0 and t.liquidity_usd is None  # a 0 reserve is "unknown", not 0


# --- SOL ---------------------------------------------------------------------------------------


def test_sol_conversions_use_jupiters_sol_price():
    p = pool("dexscreener", P1, price_usd=3.0, liquidity_usd=600.0, market_cap_usd=3e6)
    jup = snap("jupiter", token("jupiter", SOL_MINT, price_usd=150.0))
    result = merge(snap("dexscreener", p), jup)
    t = result.tokens[TOKEN]
    assert result.sol_price_usd == 150.0
    assert t.price_sol == pytest.approx(0.02)
    assert t.market_cap_sol == pytest.approx(20_000.0)
    assert t.liquidity_sol == pytest.approx(4.0)
    assert token_detail_dict(t)["volume_sol"] is None  # volume unknown


def test_sol_price_falls_back_to_the_deepest_sol_dollar_pool():
    shallow = pool("dexscreener", P1, SOL_MINT, USDC_MINT, price_usd=140.0, liquidity_usd=1e5)
    deep = pool(
        "geckoterminal", P2, USDC_MINT, SOL_MINT, price_usd=1.0, quote_price_usd=151.0, liquidity_usd=1e7
    )
    t = pool("dexscreener", P3, price_usd=1.51, liquidity_usd=10.0)
    result = merge(snap("dexscreener", shallow, t), snap("geckoterminal", deep))
    assert result.sol_price_usd == 151.0
    assert result.tokens[TOKEN].price_sol == pytest.approx(0.01)


def test_unknown_values_stay_none_never_zero():
    jup = token("jupiter", price_usd=0.5)  # Jupiter's price alone; no SOL price anywhere
    result = merge(snap("jupiter", jup, fetched_at=None))
    t = result.tokens[TOKEN]
    assert result.sol_price_usd is None and result.data_fetched_at is None
    assert t.price_usd == 0.5
    for name in (
        "price_sol",
        "market_cap_usd",
        "market_cap_sol",
        "fdv_usd",
        "liquidity_usd",
        "liquidity_sol",
        "protocol",
        "pair_address",
        "pair_created_at",
        "token_name",
    ):
        assert getattr(t, name) is None, name
    for stats in t.windows.values():
        assert (stats.volume_usd, stats.buys, stats.sells, stats.txns, stats.price_change_pct) == (None,) * 5
    data = token_detail_dict(t, "5m")
    assert data["volume_usd"] is None and data["transaction_count"] is None and data["pools"] == []


def test_token_level_figures_fill_in_when_pools_have_none():
    p = pool("dexscreener", P1, price_usd=1.0, liquidity_usd=100.0, windows={"h24": win(10.0, 1, 1)})
    jup = token("jupiter", price_usd=1.0, windows={"h24": win(99.0, 5, 5, -12.5), "m5": win(1.0, 2, 3, 0.5)})
    w = merge(snap("dexscreener", p), snap("jupiter", jup)).tokens[TOKEN].windows
    assert (w["h24"].volume_usd, w["h24"].txns, w["h24"].price_change_pct) == (10.0, 2, -12.5)
    assert (w["m5"].volume_usd, w["m5"].buys, w["m5"].sells, w["m5"].price_change_pct) == (1.0, 2, 3, 0.5)


# --- 7 days ------------------------------------------------------------------------------------


def test_7d_volume_sums_the_last_seven_candles_and_change_is_close_vs_seven_days_earlier():
    rows = daily(
        [
            (2.0, 10.0),
            (1.9, 10.0),
            (1.8, 10.0),
            (1.7, 10.0),
            (1.6, 10.0),
            (1.5, 10.0),
            (1.4, 10.0),
            (1.0, 1000.0),
        ]
    )
    short = daily([(2.1, 5.0), (2.0, None)])
    deep = pool("geckoterminal", P1, price_usd=2.0, liquidity_usd=1000.0)
    young = pool("geckoterminal", P2, price_usd=2.0, liquidity_usd=5000.0)  # most liquid, only 2 candles
    bare = pool("dexscreener", P3, price_usd=2.0, liquidity_usd=100.0)  # no candles
    gt = snap("geckoterminal", deep, young, candles={P1: rows, P2: short})
    t = merge(gt, snap("dexscreener", bare)).tokens[TOKEN]
    d7 = t.windows["d7"]
    assert d7.volume_usd == pytest.approx(70.0 + 5.0)
    assert d7.price_change_pct == pytest.approx(100.0)  # 2.0 vs 1.0, from the pool that goes back 7 days
    assert (d7.buys, d7.sells, d7.txns) == (None, None, None)
    assert token_detail_dict(t, "7d")["transaction_count"] is None
    views = {v.address: v for v in t.pools}
    assert views[P3].windows.get("d7") is None and views[P1].windows["d7"].volume_usd == 70.0


def test_pool_d7_handles_gaps_nulls_and_unsorted_rows():
    newest = 1_789_948_800
    rows = [
        Candle(newest - 9 * DAY, 1.0, 1.0, 1.0, 1.0, 7.0),
        Candle(newest, 3.0, 3.0, 3.0, 3.0, 1.0),
        Candle(newest - 2 * DAY, None, None, None, None, None),
        Candle(newest - 6 * DAY, 2.0, 2.0, 2.0, 2.0, 2.0),
    ]
    assert pool_d7(rows) == (3.0, pytest.approx(200.0))  # the close carried over from 9 days ago
    assert pool_d7(rows[1:]) == (3.0, None)  # nothing 7 days old
    assert pool_d7([]) == (None, None)


# --- identity, protocol, market cap ------------------------------------------------------------


def test_protocol_pair_and_identity_come_from_the_most_liquid_pool_and_token_metadata():
    clmm = pool(
        "dexscreener",
        P1,
        dex_id="raydium-clmm",
        price_usd=1.0,
        liquidity_usd=9000.0,
        created_at=NOW - 99,
        base_name="Pool Name",
        base_symbol="PN",
        icon="https://i/pool.png",
    )
    amm = pool("dexscreener", P2, dex_id="raydium", price_usd=1.0, liquidity_usd=10.0, base_name="Other")
    gt = token("geckoterminal", name="Gecko Name", symbol="GN")
    t = merge(snap("dexscreener", clmm, amm), snap("geckoterminal", gt)).tokens[TOKEN]
    assert (t.protocol, t.dex_id, t.pair_address, t.pair_created_at) == (
        "Raydium CLMM",
        "raydium-clmm",
        P1,
        NOW - 99,
    )
    assert (t.token_name, t.token_ticker, t.icon) == ("Gecko Name", "GN", "https://i/pool.png")
    assert token_detail_dict(t)["protocol"] == "Raydium CLMM"


def test_market_cap_is_never_the_fdv():
    p = pool("dexscreener", P1, price_usd=1.0, liquidity_usd=1e4, fdv_usd=1e6)
    gt = token("geckoterminal", price_usd=1.0, fdv_usd=1e6, market_cap_usd=None)
    t = merge(snap("dexscreener", p), snap("geckoterminal", gt)).tokens[TOKEN]
    assert t.market_cap_usd is None and t.fdv_usd == pytest.approx(1e6)


def test_market_cap_prefers_geckoterminal_and_moves_with_the_merged_price():
    p = pool("dexscreener", P1, price_usd=2.0, liquidity_usd=1e5, market_cap_usd=1.8e6, fdv_usd=2e6)
    gt = token("geckoterminal", price_usd=1.0, market_cap_usd=0.8e6, fdv_usd=1e6)  # supply 800k of 1M
    jup = token("jupiter", price_usd=2.0, market_cap_usd=1.7e6, fdv_usd=2e6)
    t = merge(snap("dexscreener", p), snap("geckoterminal", gt), snap("jupiter", jup)).tokens[TOKEN]
    assert t.price_usd == 2.0
    assert t.market_cap_usd == pytest.approx(1.6e6)  # GT's supply x the merged price
    assert t.fdv_usd == pytest.approx(2e6)
    assert t.by_source["geckoterminal"].market_cap_usd == 0.8e6  # by_source keeps each source's own


def test_market_cap_with_an_odd_supply_or_an_absurd_liquidity_ratio_is_dropped():
    p = pool("dexscreener", P1, price_usd=1.0, liquidity_usd=1e4, market_cap_usd=1e6)
    gt = token("geckoterminal", price_usd=1.0, market_cap_usd=5e8)  # a supply 500x the others'
    jup = token("jupiter", price_usd=1.0, market_cap_usd=1.1e6)
    t = merge(snap("dexscreener", p), snap("geckoterminal", gt), snap("jupiter", jup)).tokens[TOKEN]
    assert t.market_cap_usd == pytest.approx(1.1e6)  # GT's is the outlier, Jupiter's comes next
    thin = pool("dexscreener", P1, price_usd=1.0, liquidity_usd=20.0, market_cap_usd=2e9)
    assert merge(snap("dexscreener", thin)).tokens[TOKEN].market_cap_usd is None  # 10^8 x its liquidity
    above_fdv = token("jupiter", price_usd=1.0, market_cap_usd=3e6, fdv_usd=1e6)
    assert merge(snap("jupiter", above_fdv)).tokens[TOKEN].market_cap_usd is None


# --- universe, data age, robustness -------------------------------------------------------------


def test_universe_order_duplicates_and_mints_nobody_reported():
    a = pool("dexscreener", P1, OTHER, price_usd=1.0)
    b = pool("dexscreener", P2, TOKEN, price_usd=2.0)
    jup = snap("jupiter", token("jupiter", THIRD, price_usd=3.0), fetched_at=NOW - 1)
    result = merge(
        snap("dexscreener", a, b, fetched_at=NOW - 9),
        jup,
        snap("geckoterminal", fetched_at=None),
        universe=[TOKEN, mint(9), OTHER, TOKEN, THIRD],
    )
    assert list(result.tokens) == [TOKEN, OTHER, THIRD]
    assert result.data_fetched_at == NOW - 1
    assert all(t.updated_at == NOW for t in result.tokens.values())


def test_non_finite_inputs_never_leak():
    nan, inf = float("nan"), float("inf")
    p = pool(
        "dexscreener",
        P1,
        price_usd=nan,
        quote_price_usd=inf,
        liquidity_usd=nan,
        market_cap_usd=inf,
        windows={"h24": win(nan, 1, 2, inf), "h1": win(-5.0, None, None, nan)},
    )
    q = pool("geckoterminal", P2, price_usd=1.0, liquidity_usd=inf, windows={"h24": win(inf)})
    jup = token("jupiter", price_usd=nan, liquidity_usd=inf, market_cap_usd=nan)
    result = merge(
        snap("dexscreener", p),
        snap("geckoterminal", q, candles={P2: daily([(nan, inf)] * 8)}),
        snap("jupiter", jup, token("jupiter", SOL_MINT, price_usd=nan)),
    )
    assert_all_finite(token_detail_dict(result.tokens[TOKEN], "24h"))
    assert_all_finite(token_detail_dict(result.tokens[TOKEN], "7d"))
    assert result.tokens[TOKEN].price_usd == 1.0


def assert_all_finite(value: Any) -> None:
    if isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, dict):
        for v in value.values():
            assert_all_finite(v)
    elif isinstance(value, list):
        for v in value:
            assert_all_finite(v)


# --- properties --------------------------------------------------------------------------------

MINTS = [mint(i) for i in range(1, 6)]
POOLS = [mint(200 + i) for i in range(12)]
SOURCE_NAMES = ("dexscreener", "geckoterminal", "jupiter")
maybe_float = st.one_of(
    st.none(), st.floats(min_value=1e-9, max_value=1e9), st.sampled_from([0.0, float("nan"), float("inf")])
)


@st.composite
def source_snapshots(draw) -> dict[str, SourceSnapshot]:
    """Random sources over a few mints, with pools shared across sources (same base/quote per address)."""
    layout = {
        a: (draw(st.sampled_from(MINTS)), draw(st.sampled_from([SOL_MINT, USDC_MINT, *MINTS]))) for a in POOLS
    }
    snaps = {}
    for name in SOURCE_NAMES:
        s = SourceSnapshot(name, fetched_at=draw(st.none() | st.floats(NOW - 100, NOW)))
        for address in draw(st.lists(st.sampled_from(POOLS), unique=True, max_size=8)):
            base, quote = layout[address]
            windows = {
                k: win(
                    draw(maybe_float),
                    draw(st.none() | st.integers(0, 99)),
                    draw(st.none() | st.integers(0, 99)),
                    draw(maybe_float),
                )
                for k in draw(st.lists(st.sampled_from(["m5", "h1", "h6", "h24"]), unique=True))
            }
            s.pools[address] = pool(
                name,
                address,
                base,
                quote,
                price_usd=draw(maybe_float),
                quote_price_usd=draw(maybe_float),
                liquidity_usd=draw(maybe_float),
                market_cap_usd=draw(maybe_float),
                fdv_usd=draw(maybe_float),
                fetched_at=draw(st.floats(NOW - 100, NOW)),
                windows=windows,
                dex_id=draw(st.sampled_from(["raydium", "raydium-clmm", "pumpswap"])),
            )
            if draw(st.booleans()):
                s.candles[address] = daily(
                    [(draw(maybe_float), draw(maybe_float)) for _ in range(draw(st.integers(0, 9)))]
                )
        for m in draw(st.lists(st.sampled_from(MINTS), unique=True, max_size=3)):
            s.tokens[m] = token(
                name,
                m,
                price_usd=draw(maybe_float),
                market_cap_usd=draw(maybe_float),
                fdv_usd=draw(maybe_float),
                symbol=draw(st.none() | st.just("T")),
            )
        snaps[name] = s
    return snaps


PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(source_snapshots(), st.permutations(MINTS))
def test_property_liquidity_is_the_sum_over_distinct_pools(snaps, universe):
    result = merge_sources(snaps, universe, now=NOW)
    quotes_by_pool: dict[str, list] = {}
    for s in snaps.values():
        for address, q in s.pools.items():
            quotes_by_pool.setdefault(address, []).append(q)
    for m, t in result.tokens.items():
        expected: dict[str, tuple] = {}
        for address, quotes in quotes_by_pool.items():
            q0 = quotes[0]
            if not (q0.base_mint == m or (q0.quote_mint == m and q0.base_mint not in (SOL_MINT, USDC_MINT))):
                continue
            newest = max(q.fetched_at for q in quotes)
            # The merge's preference: fresh quotes first, DexScreener before GeckoTerminal, then freshest.
            ordered = sorted(
                quotes,
                key=lambda q, newest=newest: (
                    newest - q.fetched_at > POOL_FRESH_SECONDS,
                    POOL_SOURCE_ORDER.get(q.source, 9),
                    -q.fetched_at,
                    q.source,
                ),
            )
            liqs = [
                q.liquidity_usd
                for q in ordered
                if q.liquidity_usd is not None and 0 < q.liquidity_usd < math.inf
            ]
            if liqs:
                expected[address] = (None, None, liqs[0])
        if expected:
            assert t.liquidity_usd == pytest.approx(sum(v[2] for v in expected.values()))
        assert len({p.address for p in t.pools}) == len(t.pools)


@PROPERTY
@given(source_snapshots(), st.permutations(MINTS), st.randoms(use_true_random=False))
def test_property_result_does_not_depend_on_source_order(snaps, universe, rng):
    names = list(snaps)
    rng.shuffle(names)
    first = merge_sources(snaps, universe, now=NOW)
    second = merge_sources({n: snaps[n] for n in names}, universe, now=NOW)
    assert first.sol_price_usd == second.sol_price_usd
    assert {m: token_detail_dict(t) for m, t in first.tokens.items()} == {
        m: token_detail_dict(t) for m, t in second.tokens.items()
    }


@PROPERTY
@given(source_snapshots(), st.lists(st.sampled_from([*MINTS, mint(77)]), max_size=8))
def test_property_every_universe_mint_with_data_appears_once_and_nothing_is_nan(snaps, universe):
    result = merge_sources(snaps, universe, now=NOW)
    reported = {m for s in snaps.values() for m in s.tokens} | {
        m
        for s in snaps.values()
        for q in s.pools.values()
        for m in (q.base_mint, q.quote_mint if q.base_mint not in (SOL_MINT, USDC_MINT) else q.base_mint)
    }
    assert list(result.tokens) == list(dict.fromkeys(m for m in universe if m in reported))
    for t in result.tokens.values():
        assert t.sources == sorted(t.sources) and set(t.by_source) == set(t.sources)
        for timeframe in ("5m", "1h", "6h", "24h", "7d"):
            data = token_detail_dict(t, timeframe)
            assert_all_finite(data)
            for key in ("price_usd", "liquidity_usd", "market_cap_usd", "fdv_usd"):
                assert data[key] is None or data[key] > 0
    assert result.sol_price_usd is None or math.isfinite(result.sol_price_usd)


# --- real recorded samples through the real parsers ---------------------------------------------

GARY = "8ZCmwpW3MtC5UpNcZf7U4HMvRNTo71syU11BDiAFpump"
HIGGS = "DoVAVzViX8Bjy3r15nwikSaSbzE6dV4ovd28aWpJpump"


def test_recorded_samples_through_the_real_parsers():
    from tokens.ingest.parsers import dexscreener, geckoterminal, jupiter

    ds = SourceSnapshot("dexscreener", fetched_at=NOW - 4)
    for name in (
        "token-pairs-v1-solana-Gary-pumpswap-plus-pumpfun-curve-2026-10-08-partial.json",
        "tokens-v1-solana-batch-3-mints-pumpswap-pumpfun-2026-10-08-partial.json",
    ):
        ds.pools.update(
            {q.address: q for q in dexscreener.parse_pairs(load_sample(f"dexscreener/{name}"), NOW - 4)}
        )
    gt = SourceSnapshot("geckoterminal", fetched_at=NOW - 6)
    quotes, pools = geckoterminal.parse_tokens_multi(
        load_sample("geckoterminal/tokens-multi-solana-2-mints-Gary-HIGGS-2026-10-08.json"), NOW - 6
    )
    pools += geckoterminal.parse_pools(
        load_sample(
            "geckoterminal/pool-solana-pumpswap-Gary-include-base_token-quote_token-dex-2026-10-08.json"
        ),
        NOW - 6,
    )
    gt.tokens.update({q.mint: q for q in quotes})
    gt.pools.update({q.address: q for q in pools})
    jup = SourceSnapshot("jupiter", fetched_at=NOW - 2)
    jup.tokens.update(
        jupiter.parse_prices(load_sample("jupiter/price-v3-ids-Gary-HIGGS-SOL-2026-10-08.json"), NOW - 2)
    )

    result = merge_sources({"dexscreener": ds, "geckoterminal": gt, "jupiter": jup}, [GARY, HIGGS], now=NOW)
    assert result.sol_price_usd == pytest.approx(108.31695332710045)
    assert result.data_fetched_at == NOW - 2
    gary, higgs = result.tokens[GARY], result.tokens[HIGGS]
    assert gary.sources == higgs.sources == ["dexscreener", "geckoterminal", "jupiter"]
    assert not any(sp.excluded for t in (gary, higgs) for sp in t.by_source.values())
    # Gary: the PumpSwap pool is reported by both DexScreener and GeckoTerminal and counts once; the
    # stale bonding curve (no liquidity, price 30x lower) neither adds liquidity nor moves the price.
    assert [p.address for p in gary.pools][:1] == ["2uZuTQEjcXcR1ESwMdGTpqEwM5PCekEwrSNVRPc1EhS1"]
    assert gary.pools[0].sources == ["dexscreener", "geckoterminal"]
    assert gary.liquidity_usd == pytest.approx(73411.54)  # DexScreener's quote of it is the fresher one
    assert gary.price_usd == pytest.approx(0.0006941)
    assert (gary.protocol, gary.token_name, gary.token_ticker) == ("PumpSwap", "Gary the Cat", "Gary")
    assert gary.windows["h24"].volume_usd == pytest.approx(968844.91 + 5066.66)
    assert gary.market_cap_usd == pytest.approx(690008.0)  # DexScreener's: the only real market cap
    assert gary.fdv_usd == pytest.approx(712244.176474127 / 0.0007164769698 * gary.price_usd)
    assert gary.price_sol == pytest.approx(gary.price_usd / 108.31695332710045)
    # HIGGS: one DexScreener pair, GeckoTerminal token figures, Jupiter's price votes.
    assert higgs.price_usd == pytest.approx(0.0008832)
    assert higgs.market_cap_usd == pytest.approx(851626.271041817 / 0.0008795969709 * 0.0008832)
    assert higgs.liquidity_usd == pytest.approx(119336.33)
    assert higgs.windows["h24"].price_change_pct == pytest.approx(-48.65)
    assert higgs.by_source["jupiter"].price_usd == pytest.approx(0.0008559214683299623)
    assert_all_finite(token_detail_dict(higgs))


def test_bench_input_builds_and_merges_quickly_enough_to_be_sane():
    """A smoke check of bench/bench_merge.py's input (the timing target itself is the bench's job)."""
    spec = importlib.util.spec_from_file_location(
        "bench_merge", Path(__file__).resolve().parents[2] / "bench" / "bench_merge.py"
    )
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    sources, universe = bench.build(200, 3)
    result = merge_sources(sources, universe, now=bench.NOW)
    assert len(result.tokens) == 200
    assert sum(sp.excluded for t in result.tokens.values() for sp in t.by_source.values()) >= 1


def test_pool_values_do_not_flap_as_two_sources_take_turns_being_freshest():
    def merged(ds_at, gt_at):
        ds = pool("dexscreener", P1, price_usd=1.0, liquidity_usd=1000.0, fetched_at=ds_at)
        gt = pool("geckoterminal", P1, price_usd=1.004, liquidity_usd=1004.0, fetched_at=gt_at)
        t = merge(snap("dexscreener", ds), snap("geckoterminal", gt)).tokens[TOKEN]
        return t.price_usd, t.liquidity_usd

    assert merged(NOW - 5, NOW - 20) == merged(NOW - 20, NOW - 5) == (1.0, 1000.0)
    # A preferred quote that has gone stale gives way to the fresher one.
    assert merged(NOW - 500, NOW - 5) == (1.004, 1004.0)


# --- GeckoTerminal's one-sided total_reserve_in_usd (issue 12, item 3) ------------------------


def _gecko_only(sample_name: str):
    from tokens.ingest.parsers.geckoterminal import parse_tokens_multi

    quotes, pools = parse_tokens_multi(load_sample(sample_name), NOW - 10)
    gt = snap("geckoterminal", *quotes, *pools)
    return merge(gt, universe=[q.mint for q in quotes])


GARY = "8ZCmwpW3MtC5UpNcZf7U4HMvRNTo71syU11BDiAFpump"
GARY_ONE_SIDED = 37803.383883382807061160214137  # tokens/multi's total_reserve_in_usd of the Gary sample


def test_gecko_only_token_liquidity_is_its_top_pools_not_the_one_sided_reserve() -> None:
    result = _gecko_only("geckoterminal/token-solana-Gary-include-top_pools-2026-10-08.json")
    gary = result.tokens[GARY]
    assert gary.liquidity_usd != pytest.approx(GARY_ONE_SIDED)
    # The two included top pools' reserve_in_usd: the pumpswap pool (73.5k) and the bonding curve.
    assert gary.liquidity_usd == pytest.approx(73520.3799 + 9559.7117)


def test_gecko_only_token_without_pools_has_unknown_liquidity_never_the_one_sided_reserve() -> None:
    result = _gecko_only("geckoterminal/tokens-multi-solana-2-mints-Gary-HIGGS-2026-10-08.json")
    assert [t.liquidity_usd for t in result.tokens.values()] == [None, None]
    assert all(t.liquidity_sol is None for t in result.tokens.values())


def test_gecko_one_sided_reserve_does_not_weigh_its_price_in_the_vote() -> None:
    # DexScreener's pool holds 50k; GeckoTerminal (no pools included) says a one-sided 900k. The two prices
    # disagree wildly: the vote must follow the source with real liquidity behind it, not the 900k figure.
    ds = snap("dexscreener", pool("dexscreener", P1, price_usd=1.0, liquidity_usd=50_000.0))
    gt_payload = load_sample("geckoterminal/tokens-multi-solana-2-mints-Gary-HIGGS-2026-10-08.json")
    gt_payload["data"] = gt_payload["data"][:1]
    gt_payload["data"][0]["attributes"]["address"] = TOKEN
    gt_payload["data"][0]["id"] = f"solana_{TOKEN}"
    gt_payload["data"][0]["attributes"].update(price_usd="100.0", total_reserve_in_usd="900000")
    from tokens.ingest.parsers.geckoterminal import parse_tokens_multi

    (gt_quote,), _ = parse_tokens_multi(gt_payload, NOW - 10)
    t = merge(ds, snap("geckoterminal", gt_quote)).tokens[TOKEN]
    assert t.price_usd == pytest.approx(1.0)
    assert t.by_source["geckoterminal"].excluded
    assert t.liquidity_usd == pytest.approx(50_000.0)


def test_7d_change_of_a_quote_side_token_comes_from_its_own_candles() -> None:
    """OHLCV fetched with token=<mint> for a pool where the token is the quote side (issue 12, item 4)."""
    own = daily(
        [
            (2.0, 10.0),
            (1.9, 10.0),
            (1.8, 10.0),
            (1.7, 10.0),
            (1.6, 10.0),
            (1.5, 10.0),
            (1.4, 10.0),
            (1.0, 1.0),
        ]
    )
    other = daily([(5.0, 10.0)] * 8)  # the base token's candles: flat
    quote_side = pool(
        "geckoterminal", P1, base=OTHER, quote=TOKEN, price_usd=5.0, quote_price_usd=2.0, liquidity_usd=1e4
    )
    gt = snap("geckoterminal", quote_side, candles={P1: other})
    gt.quote_candles = {P1: own}
    result = merge(gt, universe=(TOKEN, OTHER))
    assert result.tokens[TOKEN].windows["d7"].price_change_pct == pytest.approx(100.0)
    assert result.tokens[OTHER].windows["d7"].price_change_pct == pytest.approx(0.0)
    # Without its own candles the quote-side token has no 7d change (never the base token's).
    gt.quote_candles = {}
    assert merge(gt, universe=(TOKEN, OTHER)).tokens[TOKEN].windows["d7"].price_change_pct is None
