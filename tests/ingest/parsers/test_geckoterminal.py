"""Tests for tokens/ingest/parsers/geckoterminal.py on every recorded GeckoTerminal sample, plus OHLCV and damaged input."""

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
    assert_token_sane,
    call_tolerantly,
    mutated,
)
from tokens.ingest.parsers.geckoterminal import (
    parse_ohlcv,
    parse_pool_discovery,
    parse_pools,
    parse_tokens_multi,
)
from tokens.ingest.parsers.parsing import MalformedPayload
from tokens.records import REFERENCE_MINTS, SOL_MINT, USDC_MINT, Candle

pytestmark = pytest.mark.pure

NOW = 1791473400.0
GARY = "8ZCmwpW3MtC5UpNcZf7U4HMvRNTo71syU11BDiAFpump"
HIGGS = "DoVAVzViX8Bjy3r15nwikSaSbzE6dV4ovd28aWpJpump"
GARY_POOL = "2uZuTQEjcXcR1ESwMdGTpqEwM5PCekEwrSNVRPc1EhS1"
GARY_CURVE = "FLhP2iCq9TNSxtUhE2aVs3DHnh9ihkJCzXaY2nePkeLu"
WET = "H1q6vF9X2ewo7XxqJ2qb2uTdwkjDLAWF1Y3SefRAUTGZ"

NEW_2025_B = "geckoterminal/new_pools-solana-include-base_token-quote_token-dex-2025-09-08-b.json"
NEW_2025_A = "geckoterminal/new_pools-solana-include-base_token-quote_token-dex-2025-09-09-a.json"
NEW_2026 = "geckoterminal/new_pools-solana-include-base_token-quote_token-dex-2026-10-08-partial.json"
BLACKBULL = "geckoterminal/pool-object-BlackBull-SOL-pumpswap-likely-networks-trending_pools-2026-01-fragment-partial.json"
HACHI = (
    "geckoterminal/pool-object-HACHI-SOL-meteora-likely-networks-trending_pools-2026-01-fragment-partial.json"
)
POOL_GARY = "geckoterminal/pool-solana-pumpswap-Gary-include-base_token-quote_token-dex-2026-10-08.json"
TOP_2024 = "geckoterminal/pools-solana-top-likely-sort-h24_tx_count_desc-no-include-2024-06-partial.json"
WET_POOLS = "geckoterminal/token-pools-solana-WET-7-pools-trimmed-attributes-2026-09-14-partial.json"
TOKEN_GARY = "geckoterminal/token-solana-Gary-include-top_pools-2026-10-08.json"
TOKENS_MULTI = "geckoterminal/tokens-multi-solana-2-mints-Gary-HIGGS-2026-10-08.json"
TRENDING = "geckoterminal/trending_pools-solana-include-base_token-2026-10-08-partial.json"
POOL_SAMPLES = [NEW_2025_B, NEW_2025_A, NEW_2026, BLACKBULL, HACHI, POOL_GARY, TOP_2024, WET_POOLS, TRENDING]
TOKEN_SAMPLES = [TOKEN_GARY, TOKENS_MULTI]


def pools_sample(name: str) -> Any:
    payload = load_sample(name)
    # The two fragments are bare elements of a pools list, recorded without the {"data": [...]} document.
    return {"data": [payload]} if name in (BLACKBULL, HACHI) else payload


def by_address(name: str) -> dict[str, Any]:
    return {pool.address: pool for pool in parse_pools(pools_sample(name), NOW)}


# ---------------------------------------------------------------------------------------------------
# Pools


@pytest.mark.parametrize("name", POOL_SAMPLES)
def test_every_pool_sample_parses_to_sane_pools(name: str) -> None:
    payload = pools_sample(name)
    pools = parse_pools(payload, NOW)
    data = payload["data"] if isinstance(payload["data"], list) else [payload["data"]]
    assert [p.address for p in pools] == [resource["attributes"]["address"] for resource in data]
    for pool in pools:
        assert_pool_sane(pool)
        assert pool.source == "geckoterminal" and pool.fetched_at == NOW


def test_trending_pools_with_included_base_tokens() -> None:
    pools = by_address(TRENDING)
    jean = pools["4R8CiMnJWDNoes3fQi1ccPFJygPXazaHaWpHrN3rZeNj"]
    assert (jean.base_mint, jean.quote_mint, jean.dex_id) == (
        "GTBxUiw6wJdmmkCGZgRHLyYxqu1vG4KtRpeox6yDpump",
        SOL_MINT,
        "pumpswap",
    )
    assert (jean.base_symbol, jean.base_name) == ("JEANPHIL", "Jean Phil")  # from `included`
    assert jean.quote_symbol == "SOL"  # the quote token is not included: from the name "JEANPHIL / SOL"
    assert (
        jean.icon == "https://coin-images.coingecko.com/coins/images/102179093/large/jean_phil.jpg?1791149822"
    )
    assert jean.liquidity_usd == 323058.2126
    assert jean.price_usd == pytest.approx(0.0045743173688987090647724732560203084122623902139317760082755654)
    assert jean.quote_price_usd == pytest.approx(108.943621950805129965132657239749776270504131645)
    assert jean.price_native == 0.00004226933734
    assert (jean.fdv_usd, jean.market_cap_usd) == (4474087.93468161, 4474087.93468164)
    assert jean.created_at == 1789844819.0  # "2026-09-19T19:06:59Z"
    h1 = jean.windows["h1"]
    assert (h1.buys, h1.sells, h1.volume_usd, h1.price_change_pct) == (262, 310, 105574.472778528, -0.825)
    assert jean.windows["h24"].volume_usd == 730136.616152565 and jean.windows["h6"].price_change_pct == 3.144
    assert pools["DTkPR6dKZz2ZNgjBXLCaU7YSvnv1cbTAZnMbEXgnV3Ri"].market_cap_usd is None  # null
    items = parse_pool_discovery(pools_sample(TRENDING), "trending")
    assert [(i.mint, i.rank, i.pool_address, i.source) for i in items] == [
        (
            "GTBxUiw6wJdmmkCGZgRHLyYxqu1vG4KtRpeox6yDpump",
            0,
            "4R8CiMnJWDNoes3fQi1ccPFJygPXazaHaWpHrN3rZeNj",
            "geckoterminal",
        ),
        (
            "Ca5VuKu5NyyFkixnewTnokmzXpmNuG8Mk5odwHJypRNq",
            1,
            "DTkPR6dKZz2ZNgjBXLCaU7YSvnv1cbTAZnMbEXgnV3Ri",
            "geckoterminal",
        ),
        (
            "HbPDWSqu8hpVMX6gMjwMDGe5rVgicWo3Qh3Jaojypump",
            2,
            "745ATaSSWxvry5qt1XVv9eXuG884hDvNJfvA2o82dNBi",
            "geckoterminal",
        ),
    ]


def test_new_pools_2025_09_09_nan_and_null_prices() -> None:
    payload = load_sample(NEW_2025_A)
    greg_raw = payload["data"][0]["attributes"]
    assert (
        greg_raw["base_token_price_native_currency"] == "NaN"
        and greg_raw["base_token_price_quote_token"] is None
    )
    pools = by_address(NEW_2025_A)
    assert len(pools) == 20
    greg = pools["HwXZkhyeGPaLurvrkM29rFrVYomih5M6kfJZtw5PGTBg"]
    assert greg.dex_id == "pumpfun"  # GeckoTerminal's "pump-fun"
    assert greg.price_native is None and greg.fdv_usd is None and greg.market_cap_usd is None
    assert greg.liquidity_usd is None  # reserve "0.0" on a bonding curve: unknown, not zero
    assert greg.price_usd == pytest.approx(
        0.0000566673284218277368707532612867396024960039002528290815078515286
    )
    assert greg.quote_price_usd == pytest.approx(212.765083062004910721176365289786593436894737249)
    assert (greg.windows["m5"].buys, greg.windows["m5"].sells) == (20, 0)  # a real zero stays 0
    assert greg.windows["m5"].volume_usd == 7662.1937296048
    sauce = pools["J8c3h3nQRDEsCkBc1iFsxrL5bJ2bQBHNPMfbgEvLfyKa"]
    assert sauce.price_native is None  # "0.0": no price is zero
    assert sauce.dex_id == "meteora" and sauce.fdv_usd == 1918420.601
    heaven = next(p for p in pools.values() if p.dex_id == "heaven")
    assert heaven.base_symbol == "soljak" and heaven.quote_price_usd == 212.53
    dih = next(p for p in pools.values() if p.base_symbol == "DIH")
    assert dih.icon is None  # image_url null
    # A pump.fun token calling itself "USDC" is discovered by its mint, not mistaken for USDC.
    fake_usdc = next(p for p in pools.values() if p.base_symbol == "USDC")
    assert fake_usdc.base_mint not in REFERENCE_MINTS
    items = parse_pool_discovery(payload, "new_pools")
    assert fake_usdc.base_mint in [i.mint for i in items]
    assert [i.rank for i in items] == list(range(20))  # 20 pools, 20 distinct base tokens


def test_new_pools_2025_09_08_names_icons_and_dexes() -> None:
    pools = parse_pools(load_sample(NEW_2025_B), NOW)
    assert len(pools) == 20
    obr = pools[0]
    assert (obr.address, obr.base_symbol, obr.base_name) == (
        "FCPVZaM7wfBZ6dLriSPBuatA9sEBWxWMWUnWXvd2qEVT",
        "OBR",
        "Open BackRooms",
    )
    assert obr.icon == "https://assets.geckoterminal.com/pj9emkxaji9hrpajo4lcvfi2amn8"
    assert obr.liquidity_usd == 13118.8683 and obr.quote_symbol == "SOL"
    assert {p.dex_id for p in pools} == {"pumpfun", "pumpswap", "fluxbeam", "raydium", "meteora-dbc"}
    trump = next(p for p in pools if p.dex_id == "fluxbeam")
    assert (trump.base_name, trump.icon) == ("OFFICIAL TRUMP", None)
    assert all(p.market_cap_usd is None for p in pools)


def test_new_pools_2026_bonding_curves_and_partial_included() -> None:
    pools = parse_pools(load_sample(NEW_2026), NOW)
    dbc, damm, panda = pools
    assert (dbc.dex_id, damm.dex_id, panda.dex_id) == ("meteora-dbc", "meteora-damm-v2", "meteora-dbc")
    assert dbc.liquidity_usd is None and panda.liquidity_usd is None  # "0.0" reserves
    assert dbc.price_native is None  # null native prices on the curve
    assert dbc.price_usd == pytest.approx(
        0.0000336975402892474935741168842050479097005333850422637769405374544
    )
    assert (dbc.base_symbol, dbc.base_name, dbc.icon) == ("Altruists", "The Altruists", None)
    # `included` was trimmed: these base tokens are not in it, so only the pool name's symbols are known.
    assert (damm.base_symbol, damm.base_name, damm.quote_symbol) == ("Altruists", None, "SOL")
    assert (panda.base_symbol, panda.base_name) == ("PANDA", None)
    assert damm.liquidity_usd == 1.30974124283537 and damm.price_native == 9.0610128e-12
    assert panda.fdv_usd == 0.004956633164
    assert dbc.windows["h24"].buys == 7 and dbc.windows["h24"].sells == 0


@pytest.mark.parametrize(
    ("name", "address", "base", "dex", "liquidity", "market_cap"),
    [
        (
            BLACKBULL,
            "4MgPmqHbWsCKiV7NhGYvwqXFpP1afo5NWPugaGe9hvzv",
            "2oCxjpWWEmCuNaXiBSVahUKP1xRMRAiBfCg98YyHpump",
            "pumpswap",
            83612.7976,
            469615.263709051,
        ),
        (
            HACHI,
            "DqAfrGV2GBxpGRsq6Xk1z9ojRncqgLeeVPaKg5bCc24Z",
            "x95HN3DWvbfCBtTjGm587z8suK3ec6cwQwgZNLbWKyp",
            "meteora",
            217073.6843,
            15103287.0795712,
        ),
    ],
)
def test_pool_fragments_with_network_relationship(
    name: str, address: str, base: str, dex: str, liquidity: float, market_cap: float
) -> None:
    (pool,) = parse_pools(pools_sample(name), NOW)
    assert (pool.address, pool.base_mint, pool.quote_mint, pool.dex_id) == (address, base, SOL_MINT, dex)
    assert (pool.liquidity_usd, pool.market_cap_usd) == (liquidity, market_cap)
    assert pool.base_name is None and pool.icon is None  # no `included`
    assert pool.quote_symbol == "SOL"
    assert pool.windows["m5"].price_change_pct is not None and set(pool.windows) == {"m5", "h1", "h6", "h24"}


def test_pools_of_other_networks_are_skipped() -> None:
    # Cross-network lists carry relationships.network; an SVM chain's addresses would pass as mints.
    other_network = copy.deepcopy(load_sample(BLACKBULL))
    other_network["relationships"]["network"]["data"]["id"] = "eclipse"
    other_prefix = copy.deepcopy(load_sample(HACHI))
    other_prefix["id"] = other_prefix["id"].replace("solana_", "eclipse_")
    both = {"data": [other_network, other_prefix, load_sample(HACHI)]}
    assert [p.address for p in parse_pools(both, NOW)] == ["DqAfrGV2GBxpGRsq6Xk1z9ojRncqgLeeVPaKg5bCc24Z"]


def test_hachi_symbol_and_tiny_price() -> None:
    (pool,) = parse_pools(pools_sample(HACHI), NOW)
    assert pool.base_symbol == "$HACHI"
    assert pool.price_usd == pytest.approx(
        1.54252311458763651926517267682885092400383800333641987960431429e-08
    )
    assert pool.windows["h1"].buys == 771


def test_single_pool_detail_is_an_object() -> None:
    payload = load_sample(POOL_GARY)
    assert isinstance(payload["data"], dict)
    (pool,) = parse_pools(payload, NOW)
    assert (pool.address, pool.base_mint, pool.dex_id) == (GARY_POOL, GARY, "pumpswap")
    assert (pool.base_symbol, pool.base_name, pool.quote_symbol) == ("Gary", "Gary the Cat", "SOL")
    assert pool.icon == "https://assets.geckoterminal.com/ti0a2ik1ddk0z7lvyyvuehzze44y"
    assert pool.price_usd == pytest.approx(0.00068690435344692)
    assert pool.quote_price_usd == pytest.approx(109.12939424955077)
    assert (pool.fdv_usd, pool.market_cap_usd, pool.liquidity_usd) == (659272.511055906, None, 73520.3799)
    assert pool.created_at == 1791466106.0
    assert pool.windows["h1"].buys == 4160 and pool.windows["m5"].volume_usd == 3163.6932136982


def test_top_pools_2024_without_h6_transactions() -> None:
    pools = by_address(TOP_2024)
    trump = pools["7sXvhsvzmuxomqdFAU6fzxY3bukX9KkVcWWCLSw51osX"]
    assert (trump.base_symbol, trump.quote_symbol, trump.base_name) == ("Trump", "SOL", None)
    assert (
        trump.windows["h6"].buys is None and trump.windows["h6"].sells is None
    )  # no h6 transactions in 2024
    assert trump.windows["h6"].volume_usd == 0.0 and trump.windows["h24"].price_change_pct == -99.98
    assert trump.windows["h24"].buys == 27679 and trump.fdv_usd == 1.71958095
    sol_usdc = pools["83v8iPyZihDEjDdY8RdZddyZNyUtXngz69Lgo9Kt5d6d"]
    assert (sol_usdc.base_mint, sol_usdc.quote_mint, sol_usdc.dex_id) == (SOL_MINT, USDC_MINT, "orca")
    assert sol_usdc.price_usd == 151.45 and sol_usdc.quote_price_usd == 1.00108266092773
    items = parse_pool_discovery(load_sample(TOP_2024), "pools")
    assert [i.mint for i in items] == [
        "C1XRDFrD9EYNUvi69SD9tZs4nvq3oVWNACUfFHpwWu3y",
        "5qpPeXdMrK5JPWVE8eUxzW8xbFpYyZE8TEJ8fUw22hpE",
    ]  # SOL / USDC has no meme side


def test_token_pools_of_wet_including_wet_as_quote() -> None:
    pools = by_address(WET_POOLS)
    assert len(pools) == 7
    ptn = pools["8dAEnVvvbHPoh5fAGrGcMqH75r5wwN1qbHn2FRRcJzqQ"]
    assert (ptn.base_mint, ptn.quote_symbol, ptn.price_native, ptn.fdv_usd) == (WET, "PTN", None, None)
    assert ptn.windows["h6"].buys is None and ptn.windows["h6"].volume_usd is None  # trimmed windows
    assert ptn.windows["h1"].sells == 1823 and ptn.liquidity_usd == 89612.6227
    assert pools["HtCKq4Zvbr3HBnTVF6GJD5CydnJWmeUVFV4PgPQ6VrMV"].dex_id == "raydium-clmm"
    lmeow = pools["YenMA1sYRmgx5E1fEsRcs1gXWyyxvygjw75u61M8NCk"]
    assert (lmeow.base_symbol, lmeow.quote_mint, lmeow.dex_id) == ("LMEOW", WET, "meteora-damm-v2")
    items = parse_pool_discovery(load_sample(WET_POOLS), "token_pools")
    assert [(i.mint, i.rank) for i in items] == [
        (WET, 0),
        ("6eKhUqSm6RjvA6vbk9gEXBGnMRGfyPWUJmg2VQVWpump", 1),
    ]


def test_discovery_uses_the_quote_when_the_base_is_a_reference_mint() -> None:
    payload = load_sample(POOL_GARY)
    rel = payload["data"]["relationships"]
    rel["base_token"], rel["quote_token"] = rel["quote_token"], rel["base_token"]
    (item,) = parse_pool_discovery(payload, "x")
    assert (item.mint, item.pool_address, item.rank) == (GARY, GARY_POOL, 0)


# ---------------------------------------------------------------------------------------------------
# Tokens


def test_token_with_top_pools() -> None:
    (token,), pools = parse_tokens_multi(load_sample(TOKEN_GARY), NOW)
    assert_token_sane(token)
    assert (token.mint, token.name, token.symbol, token.decimals) == (GARY, "Gary the Cat", "Gary", 6)
    assert token.icon == "https://assets.geckoterminal.com/ti0a2ik1ddk0z7lvyyvuehzze44y"
    assert (token.price_usd, token.fdv_usd, token.market_cap_usd) == (0.0006507656584, 646921.073430668, None)
    assert token.liquidity_usd is None  # total_reserve_in_usd (37.8k) is one side's reserve, not liquidity
    assert token.volume_24h_usd == 972218.92195391 and token.windows["h24"].volume_usd == 972218.92195391
    assert token.top_pool == GARY_POOL and token.created_at is None
    assert [p.address for p in pools] == [GARY_POOL, GARY_CURVE]
    swap, curve = pools
    for pool in pools:
        assert_pool_sane(pool)
        assert (pool.base_mint, pool.base_name, pool.icon) == (
            GARY,
            "Gary the Cat",
            token.icon,
        )  # from `data`
    assert (swap.dex_id, curve.dex_id) == ("pumpswap", "pumpfun")
    assert curve.price_native is None and curve.liquidity_usd == 9559.7117
    assert curve.windows["h6"].buys == 11 and curve.windows["h1"].volume_usd == 0.0
    assert swap.windows["h24"].price_change_pct == 478.95


def test_tokens_multi_without_included() -> None:
    tokens, pools = parse_tokens_multi(load_sample(TOKENS_MULTI), NOW)
    assert pools == []
    gary, higgs = tokens
    assert (gary.mint, gary.top_pool, gary.market_cap_usd) == (GARY, GARY_POOL, None)
    assert (higgs.mint, higgs.symbol, higgs.top_pool) == (
        HIGGS,
        "HIGGS",
        "DQyGMAGx8nB6ykixotLNFC6eVVQjrMqz7AkRyinNkEm1",
    )
    assert (higgs.price_usd, higgs.market_cap_usd, higgs.fdv_usd) == (
        0.0008795969709,
        851626.271041817,
        851626.27071467,
    )
    assert higgs.liquidity_usd is None  # never the one-sided total_reserve_in_usd
    assert higgs.volume_24h_usd == 1427175.24244305 and higgs.fetched_at == NOW


@pytest.mark.parametrize(
    "url",
    [
        "missing.png",
        "https://assets.geckoterminal.com/images/missing.png",
        "https://www.geckoterminal.com/images/missing_small.png?1",
        "/missing_large.png",
        "",
        None,
        42,
    ],
)
def test_placeholder_images_are_none(url: Any) -> None:
    payload = load_sample(TOKENS_MULTI)
    payload["data"][0]["attributes"]["image_url"] = url
    tokens, _ = parse_tokens_multi(payload, NOW)
    assert tokens[0].icon is None


def test_tokens_skip_odd_resources() -> None:
    payload = load_sample(TOKENS_MULTI)
    other_chain = copy.deepcopy(payload["data"][0])
    other_chain["id"] = "eth_0xc9ba3e053733cd027577aa5d23bb630e52eb8ab0"
    other_chain["attributes"]["address"] = "0xc9ba3e053733cd027577aa5d23bb630e52eb8ab0"
    odd = copy.deepcopy(payload["data"][1])
    odd["attributes"].update(price_usd="NaN", total_reserve_in_usd="0.0", volume_usd=None, decimals="x")
    odd["relationships"] = {
        "top_pools": {"data": [None, {"id": "solana_nope"}, {"id": f"solana_{GARY_POOL}"}]}
    }
    payload["data"] = [None, "x", other_chain, {"type": "pool", "id": f"solana_{GARY_POOL}"}, odd, odd]
    payload["included"] = "nope"
    tokens, pools = parse_tokens_multi(payload, NOW)
    assert [t.mint for t in tokens] == [HIGGS] and pools == []
    higgs = tokens[0]
    assert (higgs.price_usd, higgs.liquidity_usd, higgs.volume_24h_usd, higgs.decimals) == (None,) * 4
    assert higgs.top_pool == GARY_POOL  # the first valid id


# ---------------------------------------------------------------------------------------------------
# Wrong shapes and odd items


@pytest.mark.parametrize(
    "payload",
    [
        "<html>",
        None,
        [],
        7,
        {"errors": [{"status": "404", "title": "Not Found"}]},
        {"errors": [{"status": "400", "title": "Exceeded maximum number of addresses"}]},
        {"meta": {}},
        {"data": "x"},
        {"data": 3},
    ],
)
@pytest.mark.parametrize("parser", [parse_pools, parse_tokens_multi])
def test_wrong_top_level_shapes_raise(parser: Any, payload: Any) -> None:
    with pytest.raises(MalformedPayload):
        parser(payload, NOW)


def test_error_body_message_is_clear() -> None:
    with pytest.raises(MalformedPayload, match=r"geckoterminal pools: .*404 Not Found"):
        parse_pools({"errors": [{"status": "404", "title": "Not Found"}]}, NOW)
    with pytest.raises(MalformedPayload, match="geckoterminal pools"):
        parse_pool_discovery("x", "trending")


def test_empty_and_null_data() -> None:
    assert parse_pools({"data": []}, NOW) == []
    assert parse_pools({"data": None}, NOW) == []
    assert parse_pool_discovery({"data": []}, "x") == []
    assert parse_tokens_multi({"data": []}, NOW) == ([], [])


def test_pools_skip_odd_resources_and_keep_unknowns_none() -> None:
    payload = load_sample(POOL_GARY)
    good = payload["data"]
    other_network = copy.deepcopy(good)
    other_network["id"] = "eth_0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"
    other_network["attributes"]["address"] = "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"
    no_relationships = {k: v for k, v in copy.deepcopy(good).items() if k != "relationships"}
    token_resource = {"id": f"solana_{GARY}", "type": "token", "attributes": {"address": GARY}}
    odd = copy.deepcopy(good)
    odd["id"] = "solana_5io9sGtFUQFkhjp1hqQH5Yo6G1qLVVdttg33KjGbJVxR"
    del odd["attributes"]["address"]  # the id still names the pool
    odd["attributes"].update(
        name=None, base_token_price_usd="NaN", quote_token_price_usd=None, reserve_in_usd="-1"
    )
    odd["attributes"].update(price_change_percentage="x", transactions={"h1": [1]}, volume_usd={"h24": "abc"})
    odd["attributes"].update(pool_created_at="not a date", fdv_usd=True, market_cap_usd="0")
    odd["relationships"]["dex"] = None
    payload["data"] = [None, 5, other_network, no_relationships, token_resource, good, odd, good]
    pools = parse_pools(payload, NOW)
    assert [p.address for p in pools] == [GARY_POOL, "5io9sGtFUQFkhjp1hqQH5Yo6G1qLVVdttg33KjGbJVxR"]
    weird = pools[1]
    assert_pool_sane(weird)
    assert (weird.base_symbol, weird.base_name, weird.quote_symbol) == (
        "Gary",
        "Gary the Cat",
        "SOL",
    )  # included
    assert weird.dex_id == "unknown"
    assert (weird.price_usd, weird.quote_price_usd, weird.liquidity_usd, weird.fdv_usd) == (None,) * 4
    assert (weird.market_cap_usd, weird.created_at) == (None, None)
    assert all(
        w.volume_usd is None and w.buys is None and w.price_change_pct is None for w in weird.windows.values()
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("WET / PTN", ("WET", "PTN")),
        ("SOL / USDC 0.01%", ("SOL", "USDC")),
        ("$HACHI / SOL", ("$HACHI", "SOL")),
        ("A / B / C", ("A", "B / C")),
        ("no slash", (None, None)),
    ],
)
def test_symbols_from_the_pool_name(name: str, expected: tuple[Any, Any]) -> None:
    payload = load_sample(TOP_2024)
    payload["data"][0]["attributes"]["name"] = name
    pool = parse_pools(payload, NOW)[0]
    assert (pool.base_symbol, pool.quote_symbol) == expected


# ---------------------------------------------------------------------------------------------------
# OHLCV (no recorded sample: the shape is the one in docs/api.md §2)

DAY = 86400
T0 = 1791417600  # 2026-10-08T00:00:00Z


def ohlcv(rows: Any) -> dict[str, Any]:
    return {
        "data": {
            "id": "b6a3c0f7-3d4b-4a0e-9d1c-0d7c2f5b8e11",
            "type": "ohlcv_request_response",
            "attributes": {"ohlcv_list": rows},
        },
        "meta": {
            "base": {"address": GARY, "name": "Gary the Cat", "symbol": "Gary", "coingecko_coin_id": None},
            "quote": {
                "address": SOL_MINT,
                "name": "Wrapped SOL",
                "symbol": "SOL",
                "coingecko_coin_id": "wrapped-solana",
            },
        },
    }


def test_ohlcv_mixed_values_newest_first() -> None:
    rows = [
        [T0, 0.00065, 0.00071, 0.0006, 0.00069, 972218.92],
        [T0 - DAY, "0.00011", "0.0007", "0.0001", "0.00065", "1500000.5"],
        [T0 - 3 * DAY, None, None, None, None, None],
        [T0 - 2 * DAY, 1e-05, 2e-05, "NaN", 1.5e-05, 0],
    ]
    candles = parse_ohlcv(ohlcv(rows))
    assert candles == [
        Candle(T0, 0.00065, 0.00071, 0.0006, 0.00069, 972218.92),
        Candle(T0 - DAY, 0.00011, 0.0007, 0.0001, 0.00065, 1500000.5),
        Candle(T0 - 2 * DAY, 1e-05, 2e-05, None, 1.5e-05, 0.0),
        Candle(T0 - 3 * DAY, None, None, None, None, None),
    ]
    assert all(type(c.ts) is int for c in candles)


def test_ohlcv_skips_malformed_rows_and_duplicates() -> None:
    rows = [
        [T0 - DAY, 1, 2, 0.5, 1.5, 10],
        [T0, 1, 2, 0.5, 1.5],  # too short
        [T0, 1, 2, 0.5, 1.5, 10, 11],  # too long
        ["yesterday", 1, 2, 0.5, 1.5, 10],  # ts not numeric
        ["2026-10-08T00:00:00Z", 1, 2, 0.5, 1.5, 10],  # a date string is not the documented unix ts
        [None, 1, 2, 0.5, 1.5, 10],
        [True, 1, 2, 0.5, 1.5, 10],
        [-T0, 1, 2, 0.5, 1.5, 10],
        "row",
        None,
        {"ts": T0},
        [str(T0), "3", "4", "2", "3.5", "-7"],  # ts as a string is still a number; negative volume unknown
        [T0 - DAY, 9, 9, 9, 9, 9],  # duplicate day: the first row wins
        [(T0 - 2 * DAY) * 1000, 1, 1, 1, 1, 1],  # milliseconds
    ]
    candles = parse_ohlcv(ohlcv(rows))
    assert [c.ts for c in candles] == [T0, T0 - DAY, T0 - 2 * DAY]
    assert candles[0] == Candle(T0, 3.0, 4.0, 2.0, 3.5, None)
    assert candles[1].close == 1.5


def test_ohlcv_empty() -> None:
    assert parse_ohlcv(ohlcv([])) == []
    assert parse_ohlcv(ohlcv(None)) == []


@pytest.mark.parametrize(
    "payload",
    [
        "x",
        None,
        [],
        {},
        {"data": None},
        {"data": []},
        {"data": {"attributes": None}},
        {"data": {"attributes": {}}},
        {"data": {"attributes": {"ohlcv_list": "x"}}},
        {"errors": [{"status": "404", "title": "Not Found"}]},
    ],
)
def test_ohlcv_wrong_shapes_raise(payload: Any) -> None:
    with pytest.raises(MalformedPayload):
        parse_ohlcv(payload)


@given(
    st.lists(
        st.one_of(
            st.lists(
                st.one_of(
                    st.none(),
                    st.integers(-(10**20), 10**20),
                    st.floats(),
                    st.text(max_size=12),
                    st.booleans(),
                ),
                min_size=0,
                max_size=8,
            ),
            st.none(),
            st.text(max_size=5),
        ),
        max_size=30,
    )
)
@PROPERTY
def test_ohlcv_random_rows(rows: list[Any]) -> None:
    candles = parse_ohlcv(ohlcv(rows))
    stamps = [c.ts for c in candles]
    assert stamps == sorted(set(stamps), reverse=True)
    for candle in candles:
        assert candle.ts > 0
        for value in (candle.open, candle.high, candle.low, candle.close):
            assert value is None or value > 0
        assert candle.volume_usd is None or candle.volume_usd >= 0


# ---------------------------------------------------------------------------------------------------
# Damaged samples


@given(st.data(), st.sampled_from(POOL_SAMPLES))
@PROPERTY
def test_parse_pools_survives_damaged_samples(data: st.DataObject, name: str) -> None:
    payload = data.draw(mutated(pools_sample(name)))
    for pool in call_tolerantly(parse_pools, payload, NOW) or []:
        assert_pool_sane(pool)
    items = call_tolerantly(parse_pool_discovery, payload, "x") or []
    assert [i.rank for i in items] == list(range(len(items)))
    assert not any(i.mint in REFERENCE_MINTS for i in items)


@given(st.data(), st.sampled_from(TOKEN_SAMPLES))
@PROPERTY
def test_parse_tokens_multi_survives_damaged_samples(data: st.DataObject, name: str) -> None:
    result = call_tolerantly(parse_tokens_multi, data.draw(mutated(load_sample(name))), NOW)
    if result is not None:
        tokens, pools = result
        for token in tokens:
            assert_token_sane(token)
        for pool in pools:
            assert_pool_sane(pool)


@given(st.data())
@PROPERTY
def test_parse_ohlcv_survives_damaged_payloads(data: st.DataObject) -> None:
    payload = ohlcv([[T0, 1, 2, 0.5, 1.5, 10], [T0 - DAY, "1", "2", "0.5", "1.5", "10"]])
    candles = call_tolerantly(parse_ohlcv, data.draw(mutated(payload)))
    assert candles is None or all(isinstance(c, Candle) for c in candles)


@given(st.sampled_from(ODD_VALUES))
@PROPERTY
def test_odd_top_level_values_only_raise_malformed(value: Any) -> None:
    assert call_tolerantly(parse_pools, value, NOW) is None
    assert call_tolerantly(parse_pool_discovery, value, "x") is None
    assert call_tolerantly(parse_tokens_multi, value, NOW) is None
    assert call_tolerantly(parse_ohlcv, value) is None
