"""Tests for tokens/ingest/parsers/jupiter.py on every recorded Jupiter sample, plus odd and damaged input."""

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
    assert_token_sane,
    call_tolerantly,
    mutated,
)
from tokens.ingest.parsers.jupiter import parse_prices, parse_search, parse_token_list
from tokens.ingest.parsers.parsing import MalformedPayload
from tokens.records import SOL_MINT, USDT_MINT, WINDOWS, DiscoveryItem, Safety

pytestmark = pytest.mark.pure

NOW = 1791473400.0
GARY = "8ZCmwpW3MtC5UpNcZf7U4HMvRNTo71syU11BDiAFpump"
HIGGS = "DoVAVzViX8Bjy3r15nwikSaSbzE6dV4ovd28aWpJpump"
JUP = "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN"
GARY_POOL = "2uZuTQEjcXcR1ESwMdGTpqEwM5PCekEwrSNVRPc1EhS1"

PRICE_V3 = [
    "jupiter/price-v3-JUP-SOL-docs-example-2025-06-no-createdAt-liquidity.json",
    "jupiter/price-v3-SOL-JUP-docs-example-with-createdAt-liquidity-rounded.json",
    "jupiter/price-v3-ids-Gary-HIGGS-SOL-2026-10-08.json",
]
PRICE_V2 = [
    "jupiter/price-v2-api-jup-ag-ids-META-real-capture-compact.json",
    "jupiter/price-v2-ids-JUP-SOL-vsToken-SOL-docs-example-2024-11.json",
    "jupiter/price-v2-ids-SOL-JUP-usd-docs-example-2024-11.json",
    "jupiter/price-v2-lite-api-ids-JUP-SOL-real-capture-from-py-comment.json",
    "jupiter/price-v2-lite-api-ids-USDT-SOL-real-capture-from-py-comment.json",
    "jupiter/price-v2-lite-api-ids-hSOL-real-capture-from-py-comment.json",
    "jupiter/price-v2-showExtraInfo-SOL-JUP-docs-example-2024-11-14.json",
]
RECENT = "jupiter/tokens-v2-recent-2026-10-08-partial.json"
SEARCH_JUP_ELEMENT = "jupiter/tokens-v2-search-JUP-single-element-docs-example-2026-02-partial.json"
SEARCH_SOL = "jupiter/tokens-v2-search-SOL-docs-example-2025-06-25-converted-from-js-literal.json"
SEARCH_GARY = "jupiter/tokens-v2-search-query-mint-Gary-pumpfun-graduated-2026-10-08.json"
TOPTRENDING = "jupiter/tokens-v2-toptrending-1h-limit-3-2026-10-08.json"
TOKEN_LISTS = [RECENT, SEARCH_SOL, SEARCH_GARY, TOPTRENDING]


def token_list(name: str) -> Any:
    payload = load_sample(name)
    # The docs block for /search?query=JUP holds one element of the array the endpoint returns.
    return [payload] if name == SEARCH_JUP_ELEMENT else payload


# ---------------------------------------------------------------------------------------------------
# Price API


@pytest.mark.parametrize("name", PRICE_V3 + PRICE_V2)
def test_every_price_sample_parses(name: str) -> None:
    payload = load_sample(name)
    keyed = payload.get("data", payload)
    quotes = parse_prices(payload, NOW)
    assert set(quotes) == set(keyed)
    for mint, quote in quotes.items():
        assert_token_sane(quote)
        assert quote.mint == mint and quote.source == "jupiter" and quote.fetched_at == NOW
        assert quote.price_usd is not None


def test_price_v3_live_capture() -> None:
    quotes = parse_prices(load_sample(PRICE_V3[2]), NOW)
    assert list(quotes) == [GARY, HIGGS, SOL_MINT]
    gary = quotes[GARY]
    assert gary.price_usd == 0.0006045832382767856
    assert gary.liquidity_usd == 33202.63967757389
    assert gary.decimals == 6
    assert gary.windows["h24"].price_change_pct == 103.36546871813934
    assert all(gary.windows[w].price_change_pct is None for w in ("m5", "h1", "h6"))
    assert gary.created_at == 1791466106.0  # "2026-10-08T13:28:26Z", DexScreener's pairCreatedAt / 1000
    assert (gary.name, gary.symbol, gary.market_cap_usd, gary.top_pool) == (None, None, None, None)
    assert quotes[SOL_MINT].created_at == 1717577725.527 and quotes[SOL_MINT].decimals == 9
    assert quotes[HIGGS].windows["h24"].price_change_pct == -49.19203340836786


def test_price_v3_original_shape_without_created_at_and_liquidity() -> None:
    quotes = parse_prices(load_sample(PRICE_V3[0]), NOW)
    jup = quotes[JUP]
    assert (jup.price_usd, jup.decimals, jup.liquidity_usd, jup.created_at) == (
        0.4056018512541055,
        6,
        None,
        None,
    )
    assert quotes[SOL_MINT].windows["h24"].price_change_pct == 1.2907622140620008


def test_price_v3_docs_example_with_created_at() -> None:
    quotes = parse_prices(load_sample(PRICE_V3[1]), NOW)
    assert quotes[SOL_MINT].liquidity_usd == 621679197.67 and quotes[SOL_MINT].price_usd == 147.48
    assert quotes[JUP].created_at == pytest.approx(1717757802.584)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (PRICE_V2[0], {"METADDFL6wWMWEoKTFJwcThTbUmtarRJZjRpzUvkxhr": 1994.355333534}),
        (PRICE_V2[2], {SOL_MINT: 210.1953115, JUP: 1.084247}),
        (PRICE_V2[3], {SOL_MINT: 160.2152955, JUP: 0.462691}),
        (PRICE_V2[4], {SOL_MINT: 159.770767, USDT_MINT: 1.000075}),
        (PRICE_V2[5], {"he1iusmfkpAdwvxLNGV8Y1iSbj4rUy6yMhEA3fotn9A": 174.280552478}),
        (PRICE_V2[6], {SOL_MINT: 210.7344625, JUP: 1.08808}),  # extraInfo is ignored
    ],
)
def test_price_v2_shape(name: str, expected: dict[str, float]) -> None:
    quotes = parse_prices(load_sample(name), NOW)
    assert {mint: q.price_usd for mint, q in quotes.items()} == expected
    for quote in quotes.values():
        assert quote.liquidity_usd is None and quote.windows["h24"].price_change_pct is None


def test_price_v2_with_vs_token_is_read_as_usd_and_never_requested() -> None:
    # With vsToken=SOL the prices are in SOL and nothing in the body says so; the service never sends it.
    quotes = parse_prices(load_sample(PRICE_V2[1]), NOW)
    assert quotes[SOL_MINT].price_usd == 1.0 and quotes[JUP].price_usd == 0.005158283466279884


def test_tokens_jupiter_omits_or_nulls_are_absent() -> None:
    live = load_sample(PRICE_V3[2])
    # Asked for three mints; Jupiter omitted HIGGS (no reliable price) and gave Gary no usdPrice.
    del live[HIGGS]
    live[GARY] = {**live[GARY], "usdPrice": None}
    assert list(parse_prices(live, NOW)) == [SOL_MINT]
    v2 = {
        "data": {SOL_MINT: {"id": SOL_MINT, "type": "derivedPrice", "price": "150.5"}, JUP: None},
        "timeTaken": 0.01,
    }
    assert list(parse_prices(v2, NOW)) == [SOL_MINT]
    assert parse_prices({}, NOW) == {}
    assert parse_prices({"data": {}}, NOW) == {}
    assert parse_prices({"data": None}, NOW) == {}


def test_prices_skip_odd_entries() -> None:
    payload = {
        GARY: {
            "usdPrice": "0.0006",
            "liquidity": "NaN",
            "priceChange24h": "x",
            "decimals": 6.5,
            "createdAt": "soon",
        },
        HIGGS: {"usdPrice": 0},
        JUP: "not an object",
        "not-a-mint": {"usdPrice": 1.0},
        SOL_MINT: {"usdPrice": True},
    }
    quotes = parse_prices(payload, NOW)
    assert list(quotes) == [GARY]
    gary = quotes[GARY]
    assert_token_sane(gary)
    assert (gary.price_usd, gary.liquidity_usd, gary.decimals, gary.created_at) == (0.0006, None, None, None)
    assert gary.windows["h24"].price_change_pct is None


@pytest.mark.parametrize(
    "payload",
    [
        "x",
        None,
        [],
        [{"usdPrice": 1}],
        3.5,
        {"error": "Invalid ids"},
        {"errors": ["bad"]},
        {"message": "Too many requests", "code": 429},
        {"data": "x"},
        {"data": []},
    ],
)
def test_prices_reject_wrong_top_level_shapes(payload: Any) -> None:
    with pytest.raises(MalformedPayload):
        parse_prices(payload, NOW)


# ---------------------------------------------------------------------------------------------------
# Tokens API v2


@pytest.mark.parametrize("name", [*TOKEN_LISTS, SEARCH_JUP_ELEMENT])
def test_every_token_list_sample_parses(name: str) -> None:
    items, quotes = parse_token_list(token_list(name), "toptrending:1h", NOW)
    assert len(quotes) == len(token_list(name))
    for quote in quotes:
        assert_token_sane(quote)
        assert quote.source == "jupiter" and quote.fetched_at == NOW and set(quote.windows) == set(WINDOWS)
    assert [i.rank for i in items] == list(range(len(items)))
    assert all(i.source == "jupiter" and i.list_name == "toptrending:1h" for i in items)


def test_toptrending() -> None:
    items, quotes = parse_token_list(load_sample(TOPTRENDING), "toptrending:1h", NOW)
    assert [(i.mint, i.rank, i.pool_address) for i in items] == [
        ("pumpCmXqMfrsAkQ5r49WcJnRayYRqmXz6ae8H7H9Dfn", 0, "GLZRp9CSaLeVUf9y3BKfv8b4QnivkL7sY7jTfQk8waQS"),
        ("A7bdiYdS5GjqGFtxf17ppRHtDKPkkRqbKtR27dxvQXaS", 1, "BZH1orReudrgfarHGa34W8vCpgRiRSTU7gZN5kSR4SmL"),
        ("98sMhvDwXj1RQi5c5Mndm3vPe9cBqPrbLaufMXFNMh5g", 2, "Sm2A5vdaggSFeUyhP4oGq3iVT9uokrssa3x4zwxSHRJ"),
    ]
    pump = quotes[0]
    assert (pump.name, pump.symbol, pump.decimals) == ("Pump", "PUMP", 6)
    assert pump.icon == "https://ipfs.io/ipfs/bafkreibyb3hcn7gglvdqpmklfev3fut3eqv3kje54l3to3xzxxbgpt5wjm"
    assert (pump.price_usd, pump.market_cap_usd, pump.fdv_usd) == (
        0.0056604533653325005,
        2624876340.571281,
        4693700078.893659,
    )
    assert pump.liquidity_usd == 40953205.49039197
    h1 = pump.windows["h1"]
    assert h1.volume_usd == pytest.approx(5543893.952384296 + 3839375.0908541367)
    assert (h1.buys, h1.sells, h1.price_change_pct) == (16882, 17101, 4.864430578959309)
    assert pump.volume_24h_usd == pytest.approx(44634813.16256659 + 45227394.72836559)
    assert pump.created_at == 1752153028.0  # createdAt "2025-07-10T13:10:28Z"
    assert quotes[1].windows["m5"].sells == 285 and quotes[2].windows["h6"].buys == 17502


def test_recent_tokens_are_sparse() -> None:
    items, quotes = parse_token_list(load_sample(RECENT), "recent", NOW)
    altruists, hedge, hedge_pump = quotes
    # Brand-new token: no price, cap, liquidity or stats at all.
    assert (altruists.price_usd, altruists.market_cap_usd, altruists.fdv_usd, altruists.liquidity_usd) == (
        None,
    ) * 4
    assert all(w.volume_usd is None and w.buys is None for w in altruists.windows.values())
    assert altruists.volume_24h_usd is None
    assert altruists.top_pool == "4y58AmpZwjiZ4gEr5ibYtR2S1JmFqiFZ9wGD3bPS9Bi2"
    assert hedge.price_usd == 4.6228117147547495e-06 and hedge.windows["m5"].sells == 4
    # Sparse stats: only buys were reported, so sells and the change are unknown; volume is the buy side.
    m5 = hedge_pump.windows["m5"]
    assert (m5.buys, m5.sells, m5.price_change_pct) == (1, None, None)
    assert m5.volume_usd == 53.985223033657576
    assert hedge_pump.icon is None
    # A pump.fun curve: firstPool.id is the mint. It is kept as top_pool but is no pool to look up.
    assert hedge_pump.top_pool == hedge_pump.mint == "Cdjau3dXXw1eC44vyMtUkSff4Q4kMD9dwZcWhk4Rpump"
    assert [(i.mint, i.pool_address) for i in items] == [
        (altruists.mint, "4y58AmpZwjiZ4gEr5ibYtR2S1JmFqiFZ9wGD3bPS9Bi2"),
        (hedge.mint, None),
        (hedge_pump.mint, None),
    ]
    assert hedge_pump.created_at == 1791473880.0


def test_search_gary_graduated_pool_is_the_top_pool() -> None:
    items, (gary,) = parse_token_list(load_sample(SEARCH_GARY), "search", NOW)
    assert gary.mint == GARY and gary.top_pool == GARY_POOL  # graduatedPool, not firstPool (= the mint)
    assert items == [DiscoveryItem(GARY, "jupiter", "search", 0, GARY_POOL)]
    assert gary.created_at == 1791466106.0
    assert (gary.market_cap_usd, gary.liquidity_usd) == (603658.3857636394, 33279.655184057425)
    assert gary.windows["m5"].volume_usd == pytest.approx(10156.344837355846 + 11532.920981434045)
    assert gary.windows["h24"].price_change_pct == 104.26110868709809


def test_search_sol_is_a_quote_but_not_a_discovery() -> None:
    items, (sol,) = parse_token_list(load_sample(SEARCH_SOL), "search", NOW)
    assert items == []
    assert (sol.mint, sol.symbol, sol.decimals, sol.price_usd) == (SOL_MINT, "SOL", 9, 145.47114211747515)
    assert sol.top_pool == "58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2"
    assert sol.windows["h24"].buys == 15125444 and sol.windows["h24"].sells == 17582713


def test_single_search_element_has_only_24h_stats() -> None:
    _, (jup,) = parse_token_list(token_list(SEARCH_JUP_ELEMENT), "search", NOW)
    assert all(jup.windows[w].volume_usd is None and jup.windows[w].buys is None for w in ("m5", "h1", "h6"))
    assert jup.windows["h24"].volume_usd == pytest.approx(1811347.33 + 1997486.55)
    assert (jup.windows["h24"].buys, jup.windows["h24"].sells) == (34025, 31278)
    assert jup.created_at == pytest.approx(1717757802.584)


def test_created_at_falls_back_to_the_first_pool() -> None:
    payload = load_sample(TOPTRENDING)
    del payload[0]["createdAt"]
    _, quotes = parse_token_list(payload, "t", NOW)
    assert quotes[0].created_at == 1752333086.0  # firstPool.createdAt "2025-07-12T15:11:26Z"


def test_token_list_skips_odd_items_and_duplicates() -> None:
    good = load_sample(SEARCH_GARY)[0]
    odd = copy.deepcopy(load_sample(TOPTRENDING)[0])
    odd.update(usdPrice="NaN", mcap=-1, fdv="", liquidity=None, decimals="six", firstPool="x", icon=7)
    odd.update(stats5m="x", stats1h={"buyVolume": "12.5", "numBuys": -3, "priceChange": True}, stats24h=[])
    payload = [None, "x", {"id": "nope"}, {"name": "no id"}, good, odd, good]
    items, quotes = parse_token_list(payload, "t", NOW)
    assert [q.mint for q in quotes] == [GARY, odd["id"]]
    assert [i.rank for i in items] == [0, 1]
    weird = quotes[1]
    assert_token_sane(weird)
    assert (weird.price_usd, weird.market_cap_usd, weird.fdv_usd, weird.decimals, weird.icon) == (None,) * 5
    assert weird.top_pool is None
    h1 = weird.windows["h1"]
    assert (h1.volume_usd, h1.buys, h1.price_change_pct) == (12.5, None, None)


@pytest.mark.parametrize(
    "payload",
    ["x", None, 1, {"error": "Internal Server Error"}, {"tokens": []}, load_sample(SEARCH_JUP_ELEMENT)],
)
def test_token_list_rejects_wrong_top_level_shapes(payload: Any) -> None:
    with pytest.raises(MalformedPayload):
        parse_token_list(payload, "t", NOW)


def test_empty_token_list() -> None:
    assert parse_token_list([], "t", NOW) == ([], [])


# ---------------------------------------------------------------------------------------------------
# Damaged samples


@given(st.data(), st.sampled_from(PRICE_V3 + PRICE_V2))
@PROPERTY
def test_parse_prices_survives_damaged_samples(data: st.DataObject, name: str) -> None:
    quotes = call_tolerantly(parse_prices, data.draw(mutated(load_sample(name))), NOW)
    for mint, quote in (quotes or {}).items():
        assert quote.mint == mint and quote.price_usd is not None
        assert_token_sane(quote)


@given(st.data(), st.sampled_from([*TOKEN_LISTS, SEARCH_JUP_ELEMENT]))
@PROPERTY
def test_parse_token_list_survives_damaged_samples(data: st.DataObject, name: str) -> None:
    result = call_tolerantly(parse_token_list, data.draw(mutated(token_list(name))), "t", NOW)
    if result is not None:
        items, quotes = result
        for quote in quotes:
            assert_token_sane(quote)
        assert [i.rank for i in items] == list(range(len(items)))


@given(st.sampled_from(ODD_VALUES))
@PROPERTY
def test_odd_top_level_values_only_raise_malformed(value: Any) -> None:
    assert call_tolerantly(parse_prices, value, NOW) in (None, {})
    assert call_tolerantly(parse_token_list, value, "t", NOW) in (None, ([], []))


# ---------------------------------------------------------------------------------------------------
# Safety data (issue 12): holderCount, isVerified, organicScore, audit.*


def _safety_by_mint(name: str) -> dict[str, Any]:
    payload = load_sample(name)
    return {q.mint: q.safety for q in parse_token_list(payload, "x", NOW)[1]}


def test_safety_of_the_gary_search_sample() -> None:
    (quote,) = parse_search(load_sample(SEARCH_GARY), NOW)
    assert quote.mint == GARY
    assert quote.safety == Safety(
        holder_count=2988,
        top_holders_pct=2.1511197909622957,
        mint_authority_disabled=True,
        freeze_authority_disabled=True,
        verified=False,  # no isVerified, tags ["unknown", "token-2022"]
        organic_score=0.0,
    )


def test_safety_of_the_toptrending_sample_names_a_live_mint_authority() -> None:
    safety = _safety_by_mint(TOPTRENDING)
    held = next(s for m, s in safety.items() if m.startswith("A7bdiYdS"))
    assert held.mint_authority_disabled is False  # top-level mintAuthority named, no audit flag
    assert held.freeze_authority_disabled is True
    assert (held.holder_count, held.verified) == (131312, True)
    assert held.top_holders_pct == pytest.approx(35.01294918933429)
    assert held.organic_score == pytest.approx(97.0466080379766)


def test_safety_of_recent_tokens_keeps_missing_values_unknown() -> None:
    safety = _safety_by_mint(RECENT)
    no_top = next(s for m, s in safety.items() if m.startswith("G5pUPqCZ"))
    assert no_top.top_holders_pct is None and no_top.holder_count == 6
    sus = next(s for m, s in safety.items() if m.startswith("8RScxJmd"))
    assert sus.top_holders_pct == 100.0 and sus.verified is False


def test_safety_is_unknown_where_jupiter_says_nothing() -> None:
    (entry,) = load_sample(SEARCH_GARY)
    for key in ("holderCount", "audit", "isVerified", "tags", "organicScore"):
        entry.pop(key, None)
    (quote,) = parse_search([entry], NOW)
    assert quote.safety == Safety()


@pytest.mark.parametrize(
    ("patch", "field", "expected"),
    [
        ({"holderCount": -3}, "holder_count", None),
        ({"holderCount": "12"}, "holder_count", 12),
        ({"audit": {"topHoldersPercentage": 140}}, "top_holders_pct", None),
        ({"audit": {"topHoldersPercentage": "NaN"}}, "top_holders_pct", None),
        ({"audit": "nope"}, "mint_authority_disabled", None),
        ({"audit": {}, "freezeAuthority": "not-an-address"}, "freeze_authority_disabled", None),
        ({"audit": {"freezeAuthorityDisabled": False}}, "freeze_authority_disabled", False),
        ({"isVerified": "yes", "tags": None}, "verified", None),
        ({"organicScore": 101}, "organic_score", None),
    ],
)
def test_safety_values_out_of_shape_are_unknown(patch: dict[str, Any], field: str, expected: Any) -> None:
    (entry,) = load_sample(SEARCH_GARY)
    entry.update(patch)
    (quote,) = parse_search([entry], NOW)
    assert getattr(quote.safety, field) == expected
