"""The replay upstream's synthetic market and rendered payloads, without HTTP (tokens/replay/*)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import base58
import pytest

from tokens.replay import discovery
from tokens.replay.app import ReplayApp
from tokens.replay.faults import Fault, FaultTable, parse_fault, parse_fault_flag
from tokens.replay.formats import ds_price, gt_decimal, is_mint
from tokens.replay.market import MarketState, market_view, wave
from tokens.replay.traffic import RateWindow
from tokens.replay.world import DS, GT, JUP, build_universe

pytestmark = pytest.mark.pure

NOW = 1_795_000_000.0
GARY = "8ZCmwpW3MtC5UpNcZf7U4HMvRNTo71syU11BDiAFpump"
HIGGS = "DoVAVzViX8Bjy3r15nwikSaSbzE6dV4ovd28aWpJpump"
SOL = "So11111111111111111111111111111111111111112"
UNKNOWN = base58.b58encode(bytes(range(32))).decode()


@pytest.fixture(scope="module")
def app() -> ReplayApp:
    return ReplayApp(seed=7, n_tokens=300, motion=False, jupiter_rpm=0, now=NOW)


def get(app: ReplayApp, source: str, path: str, query: str = "") -> tuple[int, Any]:
    response = app.upstream(source, path, query, NOW)
    return response.status, json.loads(response.body)


def keys_of(objects: list[dict[str, Any]]) -> set[str]:
    return {key for obj in objects for key in obj}


# --- the universe ----------------------------------------------------------------------------------


def test_universe_is_deterministic_from_the_seed():
    a, b, c = build_universe(7, 50, NOW), build_universe(7, 50, NOW), build_universe(8, 50, NOW)
    assert [t.mint for t in a.tokens] == [t.mint for t in b.tokens]
    assert [p.liquidity_usd for t in a.tokens for p in t.pools] == [
        p.liquidity_usd for t in b.tokens for p in t.pools
    ]
    assert [t.mint for t in a.tokens][6:] != [t.mint for t in c.tokens][6:]


def test_mints_and_pool_addresses_are_unique_valid_base58(app):
    universe = app.universe
    assert len(universe.tokens) == 300
    mints = [t.mint for t in universe.tokens]
    assert len(set(mints)) == 300
    assert all(len(base58.b58decode(m)) == 32 for m in mints)
    pools = [p.address for t in universe.tokens for p in t.pools]
    assert len(set(pools)) == len(pools) and all(is_mint(p) for p in pools)
    assert all(1 <= len(t.pools) <= 4 for t in universe.tokens)


def test_real_sample_tokens_keep_their_names_and_pools(app):
    gary, higgs = app.universe.by_mint[GARY], app.universe.by_mint[HIGGS]
    assert (gary.name, gary.symbol) == ("Gary the Cat", "Gary")
    assert (higgs.name, higgs.symbol) == ("Higgspad", "HIGGS")
    assert [p.address for p in gary.pools] == [
        "2uZuTQEjcXcR1ESwMdGTpqEwM5PCekEwrSNVRPc1EhS1",
        "FLhP2iCq9TNSxtUhE2aVs3DHnh9ihkJCzXaY2nePkeLu",
    ]
    assert [p.dex for p in higgs.pools] == ["pumpswap", "meteora-dlmm"]
    assert set(gary.sources) == {DS, JUP, GT}


def test_small_universes_hold_the_first_tokens():
    universe = build_universe(7, 3, NOW)
    assert [t.mint for t in universe.tokens][:2] == [GARY, HIGGS]
    assert len(universe.tokens) == 3


def test_dexes_quotes_and_source_visibility_are_mixed(app):
    tokens = app.universe.tokens
    dexes = Counter(p.dex for t in tokens for p in t.pools)
    assert set(dexes) == {"raydium", "raydium-clmm", "pumpswap", "meteora-dlmm", "orca", "pumpfun"}
    quotes = Counter(p.quote_mint for t in tokens for p in t.pools)
    assert quotes[SOL] > 0.8 * sum(quotes.values()) and len(quotes) == 2
    ds_only = sum(1 for t in tokens if DS in t.sources and GT not in t.sources)
    gt_only = sum(1 for t in tokens if GT in t.sources and DS not in t.sources)
    jupiter = sum(1 for t in tokens if JUP in t.sources)
    assert 15 <= ds_only <= 45 and 15 <= gt_only <= 45
    assert 0.83 * 300 <= jupiter <= 0.95 * 300
    assert any(len(t.sources) == 1 for t in tokens)
    partial_pools = [
        p for t in tokens if DS in t.sources and GT in t.sources for p in t.pools if len(p.sources) == 1
    ]
    assert partial_pools, "some pools of two-source tokens are seen by only one source"


def test_discovery_lists_the_service_reads_cover_the_whole_universe(app):
    seen: set[str] = set()
    for path in ("/token-boosts/top/v1", "/token-boosts/latest/v1", "/token-profiles/latest/v1"):
        items = get(app, DS, path)[1]
        assert 25 <= len(items) <= 32
        seen |= {i["tokenAddress"] for i in items if i["chainId"] == "solana"}
    for path in ("/tokens/v2/toptrending/1h", "/tokens/v2/toptraded/24h", "/tokens/v2/toporganicscore/1h"):
        items = get(app, JUP, path, "limit=100")[1]
        assert len(items) == 100
        seen |= {i["id"] for i in items}
    for path, query in (("trending_pools", ""), ("pools", "sort=h24_volume_usd_desc&"), ("new_pools", "")):
        for page in range(1, 11):
            data = get(app, GT, f"/networks/solana/{path}", f"{query}include=base_token&page={page}")[1][
                "data"
            ]
            assert len(data) == 20
            seen |= {p["relationships"]["base_token"]["data"]["id"].removeprefix("solana_") for p in data}
    assert {t.mint for t in app.universe.tokens} <= seen


def test_geckoterminal_lists_rank_by_volume_and_recency(app):
    view = app.view(NOW)
    by_volume = discovery.gt_top_pools(view, "h24_volume_usd_desc")
    assert view.sol_pool.spec.address in [p.spec.address for p in by_volume[:5]]
    assert [p.volume["h24"] for p in by_volume] == sorted((p.volume["h24"] for p in by_volume), reverse=True)
    newest = discovery.gt_new_pools(view)
    assert [p.spec.created_at for p in newest] == sorted((p.spec.created_at for p in newest), reverse=True)


# --- motion and moves ------------------------------------------------------------------------------


def test_wave_starts_at_zero_and_stays_small():
    assert wave(7, "x", 0, (0.01, 0.03, 0.06)) == 0
    assert all(abs(wave(7, "x", t, (0.01, 0.03, 0.06))) <= 0.2 for t in range(0, 7200, 37))


def test_motion_moves_prices_within_a_second_grid_and_freezes_when_off():
    universe = build_universe(7, 20, NOW)
    state = MarketState.start(NOW, motion=True)
    first, same_second, later = (market_view(universe, state, NOW + dt) for dt in (0.1, 0.9, 45))
    assert first.tokens[GARY].price_usd == same_second.tokens[GARY].price_usd
    assert first.tokens[GARY].price_usd == pytest.approx(universe.by_mint[GARY].price_usd)
    assert later.tokens[GARY].price_usd != first.tokens[GARY].price_usd
    assert later.tokens[GARY].pools[0].volume["m5"] != first.tokens[GARY].pools[0].volume["m5"]
    state.set_motion(False, NOW + 45)
    frozen = market_view(universe, state, NOW + 500)
    assert frozen.tokens[GARY].price_usd == later.tokens[GARY].price_usd
    state.set_motion(True, NOW + 500)
    assert market_view(universe, state, NOW + 500).tokens[GARY].price_usd == later.tokens[GARY].price_usd


def test_windows_stay_ordered_and_young_pools_repeat_figures(app):
    view = app.view(NOW)
    for pool in view.pools.values():
        v = pool.volume
        assert 0 <= v["m5"] <= v["h1"] <= v["h6"] <= v["h24"]
        if NOW - pool.spec.created_at < 6 * 3600:
            assert v["h6"] == v["h24"] and pool.change["h6"] == pool.change["h24"]


def test_move_changes_price_everywhere_and_adds_5m_volume_to_every_window():
    app = ReplayApp(seed=7, n_tokens=20, motion=False, now=NOW)
    before = app.view(NOW).tokens[HIGGS]
    ds_before = float(get(app, DS, f"/tokens/v1/solana/{HIGGS}")[1][0]["priceUsd"])
    app.move(HIGGS, 1.10, 5.0)
    after = app.view(NOW).tokens[HIGGS]
    assert after.price_usd == pytest.approx(before.price_usd * 1.10)
    assert all(
        a.price_usd == pytest.approx(b.price_usd * 1.10)
        for a, b in zip(after.pools, before.pools, strict=True)
    )
    assert after.volume("m5") == pytest.approx(before.volume("m5") * 5)
    extra = after.volume("m5") - before.volume("m5")
    assert after.volume("h1") == pytest.approx(before.volume("h1") + extra)
    assert after.volume("h24") == pytest.approx(before.volume("h24") + extra)
    assert float(get(app, DS, f"/tokens/v1/solana/{HIGGS}")[1][0]["priceUsd"]) == pytest.approx(
        ds_before * 1.1, rel=2e-3
    )
    app.move(HIGGS, 2.0, None, source=JUP)
    assert get(app, JUP, "/price/v3", f"ids={HIGGS}")[1][HIGGS]["usdPrice"] == pytest.approx(
        after.price_usd * 2, rel=6e-3
    )
    assert app.view(NOW).tokens[HIGGS].price_usd == pytest.approx(after.price_usd)
    app.reset(NOW)
    assert app.view(NOW).tokens[HIGGS].price_usd == pytest.approx(before.price_usd)


# --- runtime switches ------------------------------------------------------------------------------


def test_fault_table_counts_down_and_parses_flags():
    table = FaultTable()
    table.set(JUP, Fault("429", retry_after=7, count=2))
    assert [f.mode if f else None for f in (table.take(JUP), table.take(JUP), table.take(JUP))] == [
        "429",
        "429",
        None,
    ]
    assert table.take(DS) is None
    assert parse_fault_flag("geckoterminal=slow:2.5") == (GT, Fault("slow", delay=2.5))
    assert parse_fault_flag("jupiter=429:30") == (JUP, Fault("429", retry_after=30.0))
    for bad in (
        {"source": "binance", "mode": "429"},
        {"source": JUP, "mode": "404"},
        {"source": JUP, "mode": "500", "count": 0},
        [],
    ):
        with pytest.raises(ValueError):
            parse_fault(bad)


def test_rate_window_refuses_beyond_its_limit_with_retry_after():
    window = RateWindow(limit=2)
    assert window.hit(100.0)[0] and window.hit(101.0)[0]
    allowed, headers = window.hit(102.0)
    assert not allowed and headers["x-ratelimit-remaining"] == "0" and headers["Retry-After"] == "58"
    assert headers["x-ratelimit-reset"] == "160"
    assert window.hit(160.5)[0]


def test_number_formats_match_the_upstreams():
    assert (
        ds_price(0.000008058) == "0.000008058"
        and ds_price(100.1749) == "100.17"
        and ds_price(0.00069412) == "0.0006941"
    )
    assert gt_decimal(0.5) == "0.5" and gt_decimal(0.0) == "0.0" and "e" not in gt_decimal(1.234e-9)
