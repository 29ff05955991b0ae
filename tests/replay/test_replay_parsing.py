"""The replay upstream's payloads parse with the service's own parsers into the market's true values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tokens.ingest.parsers import dexscreener, geckoterminal, jupiter
from tokens.replay.app import ReplayApp
from tokens.replay.world import DS, GT, JUP

pytestmark = pytest.mark.pure

NOW = 1_795_000_000.0
REL = 0.0056  # the source's ±0.5% noise, a ±0.2% pool skew is inside the true pool price already, DS rounding


@pytest.fixture(scope="module")
def app() -> ReplayApp:
    return ReplayApp(seed=7, n_tokens=120, motion=False, jupiter_rpm=0, now=NOW)


def get(app: ReplayApp, source: str, path: str, query: str = "") -> Any:
    response = app.upstream(source, path, query, NOW)
    assert response.status == 200, response.body[:200]
    return json.loads(response.body)


def seen_by_all(app: ReplayApp) -> list[str]:
    return [t.mint for t in app.universe.tokens if set(t.sources) == {DS, JUP, GT}][:30]


def test_dexscreener_pairs_parse_into_the_true_pool_values(app):
    view = app.view(NOW)
    payload = [
        pair for mint in seen_by_all(app)[:10] for pair in get(app, DS, f"/token-pairs/v1/solana/{mint}")
    ]
    pools = dexscreener.parse_pairs(payload, NOW)
    assert len(pools) == len(payload)
    for quote in pools:
        pool = view.pools[quote.address]
        assert quote.dex_id == pool.spec.dex
        assert (quote.base_mint, quote.quote_mint) == (pool.spec.mint, pool.spec.quote_mint)
        assert quote.price_usd == pytest.approx(pool.price_usd, rel=REL)
        assert quote.windows["h24"].volume_usd == pytest.approx(pool.volume["h24"], rel=REL)
        if pool.spec.dex == "pumpfun":
            assert quote.liquidity_usd is None
        else:
            assert quote.liquidity_usd == pytest.approx(pool.liquidity_usd, rel=REL)
    boosts = dexscreener.parse_boosts(get(app, DS, "/token-boosts/top/v1"), "boosts-top")
    assert boosts and all(item.mint in app.universe.by_mint for item in boosts)


def test_geckoterminal_documents_parse_into_the_true_values(app):
    view = app.view(NOW)
    mints = seen_by_all(app)
    doc = get(app, GT, f"/networks/solana/tokens/multi/{','.join(mints)}", "include=top_pools")
    tokens, pools = geckoterminal.parse_tokens_multi(doc, NOW)
    assert [t.mint for t in tokens] == mints and len(pools) == len(mints)
    for quote in pools:
        pool = view.pools[quote.address]
        assert quote.price_usd == pytest.approx(pool.price_usd, rel=REL)
        assert quote.windows["h1"].volume_usd == pytest.approx(pool.volume["h1"], rel=REL)
    listed = geckoterminal.parse_pools(
        get(app, GT, "/networks/solana/new_pools", "include=base_token,quote_token,dex"), NOW
    )
    assert len(listed) == 20 and all(q.address in view.pools for q in listed)
    address = view.tokens[mints[0]].pools[0].spec.address
    candles = geckoterminal.parse_ohlcv(
        get(app, GT, f"/networks/solana/pools/{address}/ohlcv/day", "limit=8")
    )
    assert candles and candles[0].close == pytest.approx(view.pools[address].price_usd, rel=REL)


def test_jupiter_payloads_parse_into_the_true_values(app):
    view = app.view(NOW)
    mints = seen_by_all(app)
    prices = jupiter.parse_prices(get(app, JUP, "/price/v3", f"ids={','.join(mints)}"), NOW)
    assert set(prices) == set(mints)
    for mint, quote in prices.items():
        assert quote.price_usd == pytest.approx(view.tokens[mint].price_usd, rel=REL)
    items, quotes = jupiter.parse_token_list(
        get(app, JUP, "/tokens/v2/toptrending/1h", "limit=100"), "trending", NOW
    )
    assert [i.rank for i in items] == list(range(len(items))) and len(quotes) == len(items)
    assert all(q.price_usd == pytest.approx(view.tokens[q.mint].price_usd, rel=REL) for q in quotes)
