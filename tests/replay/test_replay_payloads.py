"""The replay upstream's payloads have the recorded samples' shapes, quirks and limits (tokens/replay/render_*)."""

from __future__ import annotations

import itertools
import json
from typing import Any

import base58
import pytest

from tests.conftest import load_sample
from tokens.replay.app import ReplayApp
from tokens.replay.world import DS, GT, JUP

pytestmark = pytest.mark.pure

NOW = 1_795_000_000.0
GARY = "8ZCmwpW3MtC5UpNcZf7U4HMvRNTo71syU11BDiAFpump"
HIGGS = "DoVAVzViX8Bjy3r15nwikSaSbzE6dV4ovd28aWpJpump"
SOL = "So11111111111111111111111111111111111111112"
UNKNOWN = base58.b58encode(bytes(range(32))).decode()
DS_PAIR_SAMPLES = (
    "dexscreener/tokens-v1-solana-batch-3-mints-pumpswap-pumpfun-2026-10-08-partial.json",
    "dexscreener/token-pairs-v1-solana-Gary-pumpswap-plus-pumpfun-curve-2026-10-08-partial.json",
    "dexscreener/tokens-v1-solana-SOL-raydium-no-fdv-mcap-2026-09-03.json",
)


@pytest.fixture(scope="module")
def app() -> ReplayApp:
    return ReplayApp(seed=7, n_tokens=300, motion=False, jupiter_rpm=0, now=NOW)


def get(app: ReplayApp, source: str, path: str, query: str = "") -> tuple[int, Any]:
    response = app.upstream(source, path, query, NOW)
    return response.status, json.loads(response.body)


def keys_of(objects: list[dict[str, Any]]) -> set[str]:
    return {key for obj in objects for key in obj}


def token_with(app: ReplayApp, predicate) -> Any:
    return next(t for t in app.view(NOW).tokens.values() if predicate(t))


# --- DexScreener -----------------------------------------------------------------------------------


def test_dexscreener_pairs_have_the_sample_shape(app):
    sample_pairs = [p for name in DS_PAIR_SAMPLES for p in load_sample(name)]
    sample_pairs += load_sample("dexscreener/latest-dex-search-q-HIGGS-2026-10-08-partial.json")["pairs"]
    mints = [t.spec.mint for t in list(app.view(NOW).tokens.values())[:30]]
    status, pairs = get(app, DS, f"/tokens/v1/solana/{','.join(mints)}")
    assert status == 200 and pairs
    assert keys_of(pairs) <= keys_of(sample_pairs) | {"boosts"}
    assert keys_of([p["info"] for p in pairs if "info" in p]) <= keys_of([p["info"] for p in sample_pairs])
    for pair in pairs:
        assert list(pair["volume"]) == ["h24", "h6", "h1", "m5"]
        assert set(pair["txns"]) == {"m5", "h1", "h6", "h24"}
        assert isinstance(pair["priceUsd"], str) and "e" not in pair["priceUsd"].lower()
        assert isinstance(pair["priceNative"], str) and float(pair["priceNative"]) > 0
        assert all(isinstance(v, int | float) for v in pair["volume"].values())
        assert ("liquidity" in pair) == (pair["dexId"] != "pumpfun")
        assert isinstance(pair["pairCreatedAt"], int) and pair["url"].endswith(pair["pairAddress"].lower())


def test_dexscreener_tokens_v1_gives_each_token_its_top_pair_only(app):
    higgs = app.view(NOW).tokens[HIGGS]
    status, pairs = get(app, DS, f"/tokens/v1/solana/{HIGGS},{UNKNOWN},{GARY},not-a-mint,{HIGGS}")
    assert status == 200
    assert [p["baseToken"]["address"] for p in pairs] == [HIGGS, GARY]
    assert pairs[0]["pairAddress"] == higgs.pools[0].spec.address
    all_pairs = get(app, DS, f"/token-pairs/v1/solana/{HIGGS}")[1]
    assert {p["pairAddress"] for p in all_pairs} == {
        p.spec.address for p in higgs.pools if DS in p.spec.sources
    }
    assert get(app, DS, f"/token-pairs/v1/solana/{UNKNOWN}") == (200, [])
    assert get(app, DS, f"/tokens/v1/solana/{UNKNOWN}") == (200, [])


def test_dexscreener_quirks(app):
    sol = get(app, DS, f"/tokens/v1/solana/{SOL}")[1][0]
    assert sol["quoteToken"]["symbol"] == "USDC" and "fdv" not in sol and "marketCap" not in sol
    assert 140 < float(sol["priceUsd"]) < 160
    clmm = token_with(
        app, lambda t: any(p.spec.dex == "raydium-clmm" and DS in p.spec.sources for p in t.pools)
    )
    pairs = get(app, DS, f"/token-pairs/v1/solana/{clmm.spec.mint}")[1]
    assert any(p["dexId"] == "raydium" and p.get("labels") == ["CLMM"] for p in pairs)
    young = token_with(app, lambda t: NOW - t.spec.created_at < 3600 and DS in t.spec.sources)
    assert all("info" not in p for p in get(app, DS, f"/token-pairs/v1/solana/{young.spec.mint}")[1])
    curve = get(app, DS, f"/token-pairs/v1/solana/{GARY}")[1][1]
    assert curve["dexId"] == "pumpfun" and "liquidity" not in curve and "m5" not in curve["priceChange"]


def test_dexscreener_over_30_mints_is_a_400(app):
    mints = [t.mint for t in app.universe.tokens[:31]]
    status, body = get(app, DS, f"/tokens/v1/solana/{','.join(mints)}")
    assert status == 400 and "30" in body["error"]
    assert len(get(app, DS, f"/tokens/v1/solana/{','.join(mints[:30])}")[1]) <= 30


def test_dexscreener_search(app):
    status, body = get(app, DS, "/latest/dex/search", "q=higgs")
    assert status == 200 and body["schemaVersion"] == "1.0.0"
    assert body["pairs"] and all(p["baseToken"]["symbol"] == "HIGGS" for p in body["pairs"])
    assert get(app, DS, "/latest/dex/search", "q=")[1]["pairs"] == []
    assert len(get(app, DS, "/latest/dex/search", "q=a")[1]["pairs"]) == 30


def test_dexscreener_boosts_and_profiles_have_the_sample_shape(app):
    for path, sample in (
        ("/token-boosts/top/v1", "token-boosts-top-v1-2026-10-08-partial.json"),
        ("/token-boosts/latest/v1", "token-boosts-latest-v1-2026-10-08-partial.json"),
        ("/token-profiles/latest/v1", "token-profiles-latest-v1-2026-10-08-partial.json"),
    ):
        items = get(app, DS, path)[1]
        recorded = load_sample(f"dexscreener/{sample}")
        assert keys_of(items) == keys_of(recorded)
        assert {i["chainId"] for i in items} > {"solana"}, "other chains are mixed in, as upstream"
    top = get(app, DS, "/token-boosts/top/v1")[1]
    amounts = [i["totalAmount"] for i in top if i["chainId"] == "solana"]
    assert amounts == sorted(amounts, reverse=True) and all("amount" not in i for i in top)


# --- Jupiter ---------------------------------------------------------------------------------------


def test_jupiter_price_v3_is_a_bare_mint_keyed_object(app):
    sample = load_sample("jupiter/price-v3-ids-Gary-HIGGS-SOL-2026-10-08.json")
    unpriced = token_with(app, lambda t: not t.spec.jupiter).spec.mint
    status, body = get(app, JUP, "/price/v3", f"ids={GARY},{HIGGS},{SOL},{UNKNOWN},{unpriced}")
    assert status == 200 and list(body) == [GARY, HIGGS, SOL]
    assert set(body[GARY]) == set(sample[GARY]) and set(body[SOL]) == set(sample[SOL])
    assert isinstance(body[GARY]["usdPrice"], float) and body[GARY]["launchpad"] == "pump.fun"
    assert 140 < body[SOL]["usdPrice"] < 160


def test_jupiter_limits(app):
    mints = ",".join(t.mint for t in app.universe.tokens[:51])
    assert get(app, JUP, "/price/v3", f"ids={mints}")[0] == 400
    assert get(app, JUP, "/price/v3")[0] == 400
    assert get(app, JUP, "/tokens/v2/toptrending/1h", "limit=101")[0] == 400
    assert get(app, JUP, "/tokens/v2/toptrending/2h")[0] == 400
    assert get(app, JUP, "/tokens/v2/topvolume/1h")[0] == 404
    assert len(get(app, JUP, "/tokens/v2/toptraded/5m")[1]) == 50


def test_jupiter_token_lists_have_the_sample_shape_and_sparse_stats(app):
    samples = load_sample("jupiter/tokens-v2-toptrending-1h-limit-3-2026-10-08.json")
    samples += load_sample("jupiter/tokens-v2-search-query-mint-Gary-pumpfun-graduated-2026-10-08.json")
    samples += load_sample("jupiter/tokens-v2-recent-2026-10-08-partial.json")
    items = get(app, JUP, "/tokens/v2/toporganicscore/24h", "limit=100")[1]
    # A top-level freezeAuthority names a live freeze authority (docs: upstream notes §B), as mintAuthority does.
    assert keys_of(items) <= keys_of(samples) | {"freezeAuthority"}
    stats = [i[key] for i in items for key in ("stats5m", "stats1h", "stats6h", "stats24h") if key in i]
    assert keys_of(stats) <= keys_of([s["stats1h"] for s in samples if "stats1h" in s])
    assert all(value != 0 for s in stats for value in s.values())
    traded = get(app, JUP, "/tokens/v2/toptraded/24h", "limit=100")[1]
    volumes = [i["stats24h"]["buyVolume"] + i["stats24h"]["sellVolume"] for i in traded]
    assert volumes == sorted(volumes, reverse=True)


# --- GeckoTerminal ---------------------------------------------------------------------------------


def test_geckoterminal_pool_pages_have_the_sample_shape(app):
    sample = load_sample(
        "geckoterminal/new_pools-solana-include-base_token-quote_token-dex-2026-10-08-partial.json"
    )
    status, doc = get(app, GT, "/networks/solana/new_pools", "include=base_token,quote_token,dex&page=2")
    assert status == 200 and len(doc["data"]) == 20
    assert keys_of([p["attributes"] for p in doc["data"]]) == keys_of(
        [p["attributes"] for p in sample["data"]]
    )
    for pool in doc["data"]:
        assert pool["id"] == f"solana_{pool['attributes']['address']}"
        assert isinstance(pool["attributes"]["volume_usd"]["h24"], str)
        assert isinstance(pool["attributes"]["transactions"]["h1"]["buys"], int)
    ids = [(r["type"], r["id"]) for r in doc["included"]]
    assert len(ids) == len(set(ids)) and {t for t, _ in ids} == {"token", "dex"}
    assert "included" not in get(app, GT, "/networks/solana/trending_pools")[1]
    only_base = get(app, GT, "/networks/solana/trending_pools", "include=base_token")[1]["included"]
    assert {r["type"] for r in only_base} == {"token"}


def test_geckoterminal_curve_pools_have_null_native_prices(app):
    curve = next(p for p in app.view(NOW).tokens[GARY].pools if p.spec.dex == "pumpfun")
    pages = [get(app, GT, "/networks/solana/new_pools", f"include=dex&page={n}")[1] for n in range(1, 11)]
    pools = [p for doc in pages for p in doc["data"] if p["relationships"]["dex"]["data"]["id"] == "pump-fun"]
    assert pools and all(p["attributes"]["base_token_price_quote_token"] is None for p in pools)
    assert curve.spec.dex == "pumpfun"


def test_geckoterminal_limits(app):
    assert get(app, GT, "/networks/solana/new_pools", "page=11")[0] == 400
    assert get(app, GT, "/networks/solana/pools", "sort=nonsense")[0] == 400
    mints = ",".join(t.mint for t in app.universe.tokens[:31])
    status, body = get(app, GT, f"/networks/solana/tokens/multi/{mints}")
    assert status == 400 and body["errors"][0]["status"] == "400"
    assert get(app, GT, "/networks/ethereum/new_pools")[0] == 404


def test_geckoterminal_tokens_multi_names_one_top_pool_per_token(app):
    sample = load_sample("geckoterminal/tokens-multi-solana-2-mints-Gary-HIGGS-2026-10-08.json")
    status, doc = get(app, GT, f"/networks/solana/tokens/multi/{GARY},{UNKNOWN},{HIGGS}", "include=top_pools")
    assert status == 200 and [t["id"] for t in doc["data"]] == [f"solana_{GARY}", f"solana_{HIGGS}"]
    assert keys_of([t["attributes"] for t in doc["data"]]) == keys_of(
        [t["attributes"] for t in sample["data"]]
    )
    assert all(len(t["relationships"]["top_pools"]["data"]) == 1 for t in doc["data"])
    assert [p["id"] for p in doc["included"]] == [
        t["relationships"]["top_pools"]["data"][0]["id"] for t in doc["data"]
    ]
    assert all("token_price_usd" in p["attributes"] for p in doc["included"])


def test_geckoterminal_ohlcv_is_newest_first(app):
    old = token_with(app, lambda t: NOW - t.spec.created_at > 10 * 86400 and GT in t.pools[0].spec.sources)
    pool = old.pools[0]
    status, doc = get(app, GT, f"/networks/solana/pools/{pool.spec.address}/ohlcv/day", "limit=8")
    assert status == 200 and doc["data"]["type"] == "ohlcv_request_response"
    rows = doc["data"]["attributes"]["ohlcv_list"]
    assert 2 <= len(rows) <= 8 and [r[0] for r in rows] == sorted((r[0] for r in rows), reverse=True)
    assert all(r[0] % 86400 == 0 and r[3] <= min(r[1], r[4]) <= max(r[1], r[4]) <= r[2] for r in rows)
    assert rows[0][4] == pytest.approx(pool.price_usd, rel=6e-3)
    assert doc["meta"]["base"]["address"] == old.spec.mint
    assert get(app, GT, f"/networks/solana/pools/{UNKNOWN}/ohlcv/day")[0] == 404


def _ohlcv(app, address: str, query: str) -> tuple[int, Any]:
    return get(app, GT, f"/networks/solana/pools/{address}/ohlcv/day", query)


def test_geckoterminal_ohlcv_honours_token_side(app):
    old = token_with(app, lambda t: NOW - t.spec.created_at > 10 * 86400 and GT in t.pools[0].spec.sources)
    pool = old.pools[0]
    address = pool.spec.address
    default = _ohlcv(app, address, "limit=8")[1]["data"]["attributes"]["ohlcv_list"]
    assert _ohlcv(app, address, "limit=8&token=base")[1]["data"]["attributes"]["ohlcv_list"] == default
    by_mint = _ohlcv(app, address, f"limit=8&token={old.spec.mint}")[1]
    assert by_mint["data"]["attributes"]["ohlcv_list"] == default
    for query in ("limit=8&token=quote", f"limit=8&token={pool.spec.quote_mint}"):
        status, doc = _ohlcv(app, address, query)
        rows = doc["data"]["attributes"]["ohlcv_list"]
        assert status == 200 and rows
        assert rows[0][4] == pytest.approx(pool.quote_price_usd, rel=6e-3)  # the quote token's price
        assert rows[0][4] != pytest.approx(default[0][4], rel=0.5)
    status, doc = _ohlcv(app, address, f"limit=8&token={UNKNOWN}")
    assert status == 400 and doc["errors"][0]["status"] == "400"


def test_geckoterminal_ohlcv_skips_days_without_trades(app):
    """GeckoTerminal leaves out empty intervals: some pools' daily lists have gaps."""
    view = app.view(NOW)
    gaps = 0
    for pool in list(view.pools.values())[:200]:
        if GT not in pool.spec.sources or NOW - pool.spec.created_at < 10 * 86400:
            continue
        rows = _ohlcv(app, pool.spec.address, "limit=8")[1]["data"]["attributes"]["ohlcv_list"]
        stamps = [r[0] for r in rows]
        assert stamps[0] == NOW // 86400 * 86400  # today's open candle is always there
        gaps += any(a - b > 86400 for a, b in itertools.pairwise(stamps))
    assert gaps > 0


# --- consistency across sources --------------------------------------------------------------------


def test_every_source_reports_the_same_pool_values_within_half_a_percent(app):
    view = app.view(NOW)
    mints = [m for m, t in view.tokens.items() if set(t.spec.sources) == {DS, JUP, GT}][:30]
    ds = {p["pairAddress"]: p for p in get(app, DS, f"/tokens/v1/solana/{','.join(mints)}")[1]}
    gt = get(app, GT, f"/networks/solana/tokens/multi/{','.join(mints)}", "include=top_pools")[1]["included"]
    jup = get(app, JUP, "/price/v3", f"ids={','.join(mints)}")[1]
    for address, pair in ds.items():
        pool = view.pools[address]
        assert float(pair["priceUsd"]) == pytest.approx(pool.price_usd, rel=0.0056)
        assert pair["volume"]["h24"] == pytest.approx(pool.volume["h24"], rel=0.0051)
    for resource in gt:
        pool = view.pools[resource["attributes"]["address"]]
        assert float(resource["attributes"]["base_token_price_usd"]) == pytest.approx(
            pool.price_usd, rel=0.0051
        )
        assert float(resource["attributes"]["reserve_in_usd"]) == pytest.approx(
            pool.liquidity_usd, rel=0.0051
        )
    for mint, entry in jup.items():
        assert entry["usdPrice"] == pytest.approx(view.tokens[mint].price_usd, rel=0.0051)
