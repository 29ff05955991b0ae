"""Tests for tokens/ingest/parsers/dexscreener.py on every recorded DexScreener sample, plus odd and damaged input."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import load_sample
from tests.ingest.parsers.test_parsing import (
    ODD_VALUES,
    PROPERTY,
    assert_pool_sane,
    call_tolerantly,
    mutated,
)
from tokens.ingest.parsers.dexscreener import discovery_from_pairs, parse_boosts, parse_pairs, parse_profiles
from tokens.ingest.parsers.parsing import MalformedPayload
from tokens.records import SOL_MINT, USDC_MINT, WINDOWS, DiscoveryItem

pytestmark = pytest.mark.pure

NOW = 1791473400.0
HIGGS = "DoVAVzViX8Bjy3r15nwikSaSbzE6dV4ovd28aWpJpump"
GARY = "8ZCmwpW3MtC5UpNcZf7U4HMvRNTo71syU11BDiAFpump"
POPDOG = "EATGZHJViJsk7nEKkrdJicwNbfpkJfAtmrEmrjXR8NBj"
GUDB = "2zcGjrs2eTw3rqpND9jaaXGcW45mTvbFLVWZSKu7Mz8K"

PAIRS_SAMPLES = [
    "dexscreener/latest-dex-pairs-solana-2-pair-csv-pair-null-2024-08.json",
    "dexscreener/latest-dex-pairs-solana-pumpswap-HIGGS-2026-10-08.json",
    "dexscreener/latest-dex-search-q-HIGGS-2026-10-08-partial.json",
    "dexscreener/latest-dex-search-q-mint-PKIN-raydium-clmm-meteora-dlmm-2025-01-converted-from-python-literal.json",
    "dexscreener/latest-dex-search-q-mint-UFC-no-info-2025-01-converted-from-python-literal.json",
    "dexscreener/latest-dex-tokens-or-pairs-solana-POPDOG-5-pairs-token-as-quote-2024-07.json",
    "dexscreener/token-pairs-v1-solana-Gary-pumpswap-plus-pumpfun-curve-2026-10-08-partial.json",
    "dexscreener/tokens-v1-solana-SOL-raydium-no-fdv-mcap-2026-09-03.json",
    "dexscreener/tokens-v1-solana-batch-3-mints-pumpswap-pumpfun-2026-10-08-partial.json",
    "dexscreener/tokens-v1-solana-single-mint-raydium-clmm-new-pair-2025-03-26.json",
]
BOOST_SAMPLES = [
    "dexscreener/token-boosts-latest-v1-2026-10-08-partial.json",
    "dexscreener/token-boosts-top-v1-2026-10-08-partial.json",
]
PROFILE_SAMPLES = [
    "dexscreener/token-profiles-latest-v1-2026-10-08-partial.json",
    "dexscreener/token-profiles-latest-v1-mixed-chains-2025-03-26-partial.json",
]


def by_address(payload: Any) -> dict[str, Any]:
    return {pool.address: pool for pool in parse_pairs(payload, NOW)}


@pytest.mark.parametrize("name", PAIRS_SAMPLES)
def test_every_pairs_sample_parses_to_sane_solana_pools(name: str) -> None:
    pools = parse_pairs(load_sample(name), NOW)
    assert pools
    for pool in pools:
        assert_pool_sane(pool)
        assert pool.source == "dexscreener" and pool.fetched_at == NOW
        assert set(pool.windows) == set(WINDOWS)
    assert len({pool.address for pool in pools}) == len(pools)


def test_pairs_csv_with_pair_null_2024() -> None:
    pools = by_address(load_sample(PAIRS_SAMPLES[0]))
    assert list(pools) == [
        "AR6ocEMeRwMM3oJPKpL1B3zqGbEoW9ArQaawKAmdNwwT",
        "rsgk14nKcavQwPiSNhDRt6qn3hE9WUjNDCmZi9TbjSF",
    ]
    sym = pools["AR6ocEMeRwMM3oJPKpL1B3zqGbEoW9ArQaawKAmdNwwT"]
    assert (sym.base_mint, sym.base_symbol, sym.base_name) == (
        "TrnnxPQvYkMtakCYGToFHs1uYMqumpWeE93W9fFpump",
        "sym",
        "symmetry",
    )
    assert (sym.quote_mint, sym.quote_symbol, sym.dex_id) == (SOL_MINT, "SOL", "raydium")
    assert sym.liquidity_usd == 98992.13
    assert sym.fdv_usd == 709489.0
    assert sym.market_cap_usd is None  # no marketCap key in 2024-era payloads
    assert sym.price_usd == 0.0007094 and sym.price_native == 0.000004873
    assert sym.quote_price_usd == pytest.approx(0.0007094 / 0.000004873)
    assert sym.created_at == 1724367939.0
    assert (
        sym.icon
        == "https://dd.dexscreener.com/ds-data/tokens/solana/TrnnxPQvYkMtakCYGToFHs1uYMqumpWeE93W9fFpump.png"
    )
    assert (sym.windows["h1"].buys, sym.windows["h1"].sells) == (1994, 1715)
    assert sym.windows["m5"].volume_usd == 36029.97
    assert sym.windows["h24"].price_change_pct == 1075.0
    assert sym.windows["h6"].txns == 215025 + 13551


def test_pairs_and_pair_of_one_pool_are_one_pool() -> None:
    payload = load_sample(PAIRS_SAMPLES[1])
    assert payload["pair"]["pairAddress"] == payload["pairs"][0]["pairAddress"]
    (pool,) = parse_pairs(payload, NOW)
    assert (pool.address, pool.base_mint, pool.dex_id) == (
        "BFrSZakeqNzVtM3EFhroo4eRhagmmWN8BRntiQKFH6Ru",
        HIGGS,
        "pumpswap",
    )
    assert (pool.fdv_usd, pool.market_cap_usd, pool.liquidity_usd) == (855167.0, 855186.0, 119336.33)
    # No trades in the last 5 minutes: the counts and volume are real zeros, the absent change is unknown.
    m5 = pool.windows["m5"]
    assert (m5.buys, m5.sells, m5.volume_usd, m5.price_change_pct) == (0, 0, 0.0, None)
    assert pool.windows["h1"].price_change_pct == -2.14


def test_only_the_pair_key_is_enough() -> None:
    payload = load_sample(PAIRS_SAMPLES[1])
    del payload["pairs"]
    assert [p.address for p in parse_pairs(payload, NOW)] == ["BFrSZakeqNzVtM3EFhroo4eRhagmmWN8BRntiQKFH6Ru"]


def test_search_drops_the_robinhood_chain_pair() -> None:
    payload = load_sample(PAIRS_SAMPLES[2])
    assert {pair["chainId"] for pair in payload["pairs"]} == {"solana", "robinhood"}
    pools = parse_pairs(payload, NOW)
    assert [(p.address, p.dex_id) for p in pools] == [
        ("BFrSZakeqNzVtM3EFhroo4eRhagmmWN8BRntiQKFH6Ru", "pumpswap"),
        ("DQyGMAGx8nB6ykixotLNFC6eVVQjrMqz7AkRyinNkEm1", "meteora-dlmm"),
    ]
    dlmm = pools[1]
    assert dlmm.liquidity_usd == 69049.32 and dlmm.market_cap_usd == 860635.0
    assert dlmm.windows["m5"].volume_usd == 5008.29 and dlmm.windows["h1"].sells == 189
    items = discovery_from_pairs(pools, "search:HIGGS")
    assert items == [
        DiscoveryItem(HIGGS, "dexscreener", "search:HIGGS", 0, "BFrSZakeqNzVtM3EFhroo4eRhagmmWN8BRntiQKFH6Ru")
    ]


def test_search_by_mint_raydium_clmm_and_meteora_dlmm() -> None:
    pools = by_address(load_sample(PAIRS_SAMPLES[3]))
    clmm = pools["EDE4v78Zjo54DfhcbWM8nmFrLWSTVGgBcjg8UWh5Fsdv"]
    dlmm = pools["9GLWwRU9g7qscQQp65ZBHy6syKuyaytbEbHQeh1sqZ3p"]
    assert (clmm.dex_id, dlmm.dex_id) == ("raydium-clmm", "meteora-dlmm")
    assert clmm.liquidity_usd == 2173910.21 and clmm.windows["h24"].price_change_pct == 8849.0
    assert clmm.windows["h1"].volume_usd == 5736842.83 and clmm.windows["m5"].buys == 234
    assert dlmm.market_cap_usd == 9051828.0 and dlmm.windows["m5"].sells == 28
    assert clmm.base_symbol == dlmm.base_symbol == "PKIN"


def test_pair_without_info_has_no_icon() -> None:
    (pool,) = parse_pairs(load_sample(PAIRS_SAMPLES[4]), NOW)
    assert pool.icon is None
    assert (pool.base_symbol, pool.liquidity_usd, pool.market_cap_usd) == ("UFC", 115446.83, 805274.0)
    assert pool.windows["h1"].buys == 2765


def test_popdog_as_quote_token_prices_the_quote_from_price_native() -> None:
    pools = by_address(load_sample(PAIRS_SAMPLES[5]))
    assert len(pools) == 5
    gudb = pools["AzaL1asDMvigv33gNJFEvnp79ZfLHfGbCak5A8PdB4Ln"]
    assert (gudb.base_mint, gudb.quote_mint, gudb.quote_symbol) == (GUDB, POPDOG, "POPDOG")
    assert gudb.price_native == 0.009335  # POPDOG per GUDB, not SOL
    assert gudb.dex_id == "orca"  # label "wp" names no separate kind
    # priceUsd / priceNative is POPDOG's USD price, consistent with POPDOG's own top pair ($0.003025).
    assert gudb.quote_price_usd == pytest.approx(0.0000283 / 0.009335)
    assert gudb.quote_price_usd == pytest.approx(
        pools["FmLmM2C3svyMmRwzTmnEjGnA5cD4YBLuPoQPixqZJG15"].price_usd, rel=0.01
    )
    assert pools["AMvrH5vfgksadVGemr3ndTBzM5Ma7F5Gw4eNxFBZCnjZ"].dex_id == "meteora-damm"  # label DYN
    assert pools["9UW9cMDLnxPhoRAVPGSxaRRQ83hyqxrv3DkoURza74rm"].dex_id == "meteora-dlmm"
    assert pools["AMvrH5vfgksadVGemr3ndTBzM5Ma7F5Gw4eNxFBZCnjZ"].liquidity_usd == 1.95
    assert all(p.market_cap_usd is None for p in pools.values())
    items = discovery_from_pairs(list(pools.values()), "search:POPDOG")
    assert [(i.mint, i.rank) for i in items] == [(POPDOG, 0), (GUDB, 1)]


def test_token_pairs_pumpfun_curve_has_no_liquidity() -> None:
    pools = by_address(load_sample(PAIRS_SAMPLES[6]))
    swap = pools["2uZuTQEjcXcR1ESwMdGTpqEwM5PCekEwrSNVRPc1EhS1"]
    curve = pools["FLhP2iCq9TNSxtUhE2aVs3DHnh9ihkJCzXaY2nePkeLu"]
    assert (swap.dex_id, curve.dex_id) == ("pumpswap", "pumpfun")
    assert swap.liquidity_usd == 73411.54 and swap.windows["h1"].buys == 4370
    assert curve.liquidity_usd is None  # no `liquidity` key on the bonding curve, not 0
    assert curve.windows["m5"].price_change_pct is None and curve.windows["h1"].price_change_pct is None
    assert curve.windows["h6"].price_change_pct == 597.0 and curve.windows["h1"].volume_usd == 0.0
    assert curve.created_at == swap.created_at == 1791466106.0
    assert swap.base_name == "Gary the Cat" and swap.base_mint == curve.base_mint == GARY


def test_tokens_v1_sol_reference_pair_has_no_fdv_or_cap() -> None:
    (pool,) = parse_pairs(load_sample(PAIRS_SAMPLES[7]), NOW)
    assert (pool.base_mint, pool.quote_mint, pool.dex_id) == (SOL_MINT, USDC_MINT, "raydium")
    assert pool.fdv_usd is None and pool.market_cap_usd is None
    assert pool.price_usd == 100.17 and pool.liquidity_usd == 14247194.46
    assert pool.quote_price_usd == pytest.approx(1.0, rel=1e-3)
    assert discovery_from_pairs([pool], "search:SOL") == []  # SOL/USDC: both are reference mints


def test_tokens_v1_batch_with_pumpfun_curve() -> None:
    pools = by_address(load_sample(PAIRS_SAMPLES[8]))
    curve = pools["CGKuGqwMBzeqKDsrMh9Z6QN6JiHZxux758TzyrCN14Kq"]
    assert curve.dex_id == "pumpfun" and curve.liquidity_usd is None and curve.base_symbol == ".TAYLORSWIFT"
    assert curve.market_cap_usd == 8526.48 and curve.windows["m5"].buys == 262
    fifth = pools["AbmM7CLAKn3rUz8DXT1HPfRpgkqJVXDm6E7iMkWGK7A3"]
    assert fifth.liquidity_usd == 4468.0 and isinstance(fifth.liquidity_usd, float)
    assert fifth.windows["h24"].sells == 522 and fifth.windows["m5"].price_change_pct == -88.42


def test_tokens_v1_single_new_clmm_pair() -> None:
    (pool,) = parse_pairs(load_sample(PAIRS_SAMPLES[9]), NOW)
    assert pool.dex_id == "raydium-clmm" and pool.icon is None
    assert (pool.price_usd, pool.price_native, pool.liquidity_usd) == (0.000147, 0.00000102, 20581.61)
    assert (pool.fdv_usd, pool.market_cap_usd) == (147018.0, 147018.0)
    h1 = pool.windows["h1"]
    assert (h1.volume_usd, h1.buys, h1.sells, h1.txns, h1.price_change_pct) == (3519.31, 28, 13, 41, 104.0)
    assert pool.created_at == 1742991620.0


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        42,
        None,
        True,
        {"schemaVersion": "1.0.0"},
        {"errors": [{"status": "429", "title": "Too Many Requests"}]},
        {"error": "Internal error"},
        {"pairs": "oops"},
        {"pairs": {"a": 1}},
    ],
)
def test_parse_pairs_rejects_wrong_top_level_shapes(payload: Any) -> None:
    with pytest.raises(MalformedPayload):
        parse_pairs(payload, NOW)


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"schemaVersion": "1.0.0", "pairs": None},
        {"pairs": None, "pair": None},
        {"pairs": []},
        {"pair": None},
    ],
)
def test_parse_pairs_not_found_is_empty(payload: Any) -> None:
    assert parse_pairs(payload, NOW) == []


def test_parse_pairs_skips_odd_items_and_keeps_unknowns_none() -> None:
    good = load_sample(PAIRS_SAMPLES[9])[0]
    odd = copy.deepcopy(good)
    odd.update(pairAddress="5io9sGtFUQFkhjp1hqQH5Yo6G1qLVVdttg33KjGbJVxR", priceUsd="NaN", priceNative="0")
    odd.update(labels="CLMM", txns={"m5": "x", "h1": None}, volume=[1, 2], priceChange={"h24": "abc"})
    odd.update(liquidity={"usd": -5}, fdv=0, marketCap=None, pairCreatedAt="soon", info={"imageUrl": ""})
    no_chain = {k: v for k, v in good.items() if k != "chainId"}
    bad_address = {
        **good,
        "pairAddress": "0x288b1b69cc7ef57402b8c49f83bbf135108877c596215fb42ac30ecf16cbe0d5",
    }
    no_base = {**good, "baseToken": None}
    pools = parse_pairs([None, "x", 3, [], no_chain, bad_address, no_base, good, odd, good], NOW)
    assert [p.address for p in pools] == [good["pairAddress"], odd["pairAddress"]]
    weird = pools[1]
    assert_pool_sane(weird)
    assert weird.dex_id == "raydium"  # labels that are not a list are ignored
    assert (weird.price_usd, weird.price_native, weird.quote_price_usd) == (None, None, None)
    assert (weird.liquidity_usd, weird.fdv_usd, weird.market_cap_usd, weird.created_at, weird.icon) == (
        None,
    ) * 5
    assert all(
        w.volume_usd is None and w.buys is None and w.price_change_pct is None for w in weird.windows.values()
    )


def test_boosts_latest_keeps_solana_in_order() -> None:
    items = parse_boosts(load_sample(BOOST_SAMPLES[0]), "boosts_latest")
    assert items == [
        DiscoveryItem("7nLukVng5teXze14rum9v57juXLjUp7JJnCveko1pump", "dexscreener", "boosts_latest", 0),
        DiscoveryItem("Bz6wXonBzHNLqLr4v8FaqtfEtSfr27iua7YeM6Qgpump", "dexscreener", "boosts_latest", 1),
    ]  # the ethereum item is dropped; the item without icon/links is kept


def test_boosts_top_drops_robinhood() -> None:
    items = parse_boosts(load_sample(BOOST_SAMPLES[1]), "boosts_top")
    assert [(i.mint, i.rank) for i in items] == [
        ("DwcXyhEcSvzWgakDKpetZLFvbAHutpGpzhbU4iempump", 0),
        ("5tCju6YNxHq5zrA6tGndr6F7TK42mpUFmeE31cSFpump", 1),
    ]


def test_profiles_keep_solana_only() -> None:
    latest = parse_profiles(load_sample(PROFILE_SAMPLES[0]), "profiles_latest")
    assert [(i.mint, i.rank, i.list_name) for i in latest] == [
        ("B9CiaENLsnu48MJTdeQBzT6Nuaw51uavLL5DgQ9ij7f5", 0, "profiles_latest"),
        ("7qCo5pmqU4UmxN2EBzDE1FFLhot9NNi91wSvnjYFiFTH", 1, "profiles_latest"),
    ]
    mixed = parse_profiles(load_sample(PROFILE_SAMPLES[1]), "profiles_latest")
    assert [i.mint for i in mixed] == [
        "ENK9rDXuLW4YsaA4ZyzHkPR9pBJpgY7Q416SfjGxDLfx",
        "FeFKV9XUpUHFJTR1gXsQHWxo6eTghREGQpJtanr4pump",
    ]  # the bsc profile is dropped


def test_boosts_deduplicate_and_skip_odd_items() -> None:
    payload = [
        {"chainId": "solana", "tokenAddress": GARY},
        {"chainId": "solana", "tokenAddress": "not-a-mint"},
        None,
        {"chainId": "ethereum", "tokenAddress": HIGGS},
        {"chainId": "solana"},
        {"chainId": "solana", "tokenAddress": GARY},
        {"chainId": "solana", "tokenAddress": HIGGS, "totalAmount": "lots"},
    ]
    assert [(i.mint, i.rank) for i in parse_boosts(payload, "b")] == [(GARY, 0), (HIGGS, 1)]


@pytest.mark.parametrize("parser", [parse_boosts, parse_profiles])
@pytest.mark.parametrize(
    "payload", ["x", None, 5, {"pairs": []}, {"errors": [{"status": "500"}]}, {"error": "rate limited"}]
)
def test_lists_reject_wrong_top_level_shapes(parser: Any, payload: Any) -> None:
    with pytest.raises(MalformedPayload):
        parser(payload, "x")


@given(st.data(), st.sampled_from(PAIRS_SAMPLES))
@PROPERTY
def test_parse_pairs_survives_damaged_samples(data: st.DataObject, name: str) -> None:
    pools = call_tolerantly(parse_pairs, data.draw(mutated(load_sample(name))), NOW)
    for pool in pools or []:
        assert_pool_sane(pool)
    for item in discovery_from_pairs(pools or [], "search"):
        assert item.rank >= 0


@given(
    st.data(),
    st.sampled_from(BOOST_SAMPLES + PROFILE_SAMPLES),
    st.sampled_from([parse_boosts, parse_profiles]),
)
@PROPERTY
def test_discovery_lists_survive_damaged_samples(data: st.DataObject, name: str, parser: Any) -> None:
    items = call_tolerantly(parser, data.draw(mutated(load_sample(name))), "x")
    if items is not None:
        assert [i.rank for i in items] == list(range(len(items)))
        assert len({i.mint for i in items}) == len(items)


@given(st.sampled_from(ODD_VALUES))
@PROPERTY
def test_odd_top_level_values_only_raise_malformed(value: Any) -> None:
    for parser, args in ((parse_pairs, (NOW,)), (parse_boosts, ("x",)), (parse_profiles, ("x",))):
        result = call_tolerantly(parser, value, *args)
        assert result is None or isinstance(result, list)
