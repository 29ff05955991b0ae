"""GET /api/tokens/ and /api/tokens/{mint}/: parameters, errors, cursors, meta, detail, browsable API."""

from __future__ import annotations

import time

import pytest

from tests.factories import make_token, mint_for, publish
from tokens.records import PoolView, SourcePrice, SourceStatus, WindowStats

TOKEN_KEYS = {
    "token_address", "token_name", "token_ticker", "icon", "protocol", "pair_address", "pair_created_at",
    "price_usd", "price_sol", "market_cap_usd", "market_cap_sol", "fdv_usd", "liquidity_usd", "liquidity_sol",
    "volume_usd", "volume_sol", "transaction_count", "buys", "sells", "price_change", "price_1hr_change",
    "price_24h_change", "holder_count", "top_holders_pct", "mint_authority_disabled",
    "freeze_authority_disabled", "verified", "organic_score", "sources", "updated_at",
}  # fmt: skip


def volumes(body):
    return [t["volume_usd"] for t in body["results"]]


def walk(client, url):
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        pages.append(response.json())
        url = pages[-1]["next"]
    return pages


def test_list_defaults_and_meta(client):
    snap = publish([make_token(i, volume=float(i)) for i in range(60)])
    response = client.get("/api/tokens/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert len(body["results"]) == 50 and body["previous"] is None and "cursor=" in body["next"]
    assert volumes(body) == [float(i) for i in range(59, 9, -1)]
    assert set(body["results"][0]) == TOKEN_KEYS
    meta = body["meta"]
    assert meta["count"] == 60 and meta["timeframe"] == "24h" and meta["ordering"] == "-volume"
    assert meta["snapshot_id"] == snap.id and meta["stale"] is False and 0 <= meta["age_seconds"] < 5
    assert meta["sources"]["jupiter"] == {"ok": True, "fetched_at": meta["generated_at"], "error": None}


def test_meta_age_is_since_newest_fetch_and_stale_after_ttl(client, settings):
    now = time.time()
    publish(
        [make_token(1)],
        data_fetched_at=now - 100,
        sources={"dexscreener": SourceStatus(ok=False, fetched_at=now - 100, error="HTTP 500")},
    )
    meta = client.get("/api/tokens/").json()["meta"]
    assert 99 < meta["age_seconds"] < 110 and meta["stale"] is True
    assert (
        meta["sources"]["dexscreener"]["error"] == "HTTP 500"
        and meta["sources"]["dexscreener"]["ok"] is False
    )


def test_no_snapshot_answers_503_with_a_reason(client):
    response = client.get("/api/tokens/?timeframe=1h")
    assert response.status_code == 503 and int(response["Retry-After"]) >= 1
    body = response.json()
    assert "No market data yet" in body["detail"]
    assert (
        body["meta"]["stale"] is True
        and body["meta"]["snapshot_id"] is None
        and body["meta"]["timeframe"] == "1h"
    )
    assert client.get(f"/api/tokens/{mint_for(1)}/").status_code == 503


@pytest.mark.parametrize(
    ("query", "param", "says"),
    [
        ("timeframe=7x", "timeframe", '"7x" is not a valid choice. Choose one of 5m, 1h, 6h, 24h, 7d.'),
        ("ordering=name", "ordering", "Choose one of volume, -volume"),
        ("ordering=--volume", "ordering", "is not a valid choice"),
        ("limit=0", "limit", "from 1 to 200"),
        ("limit=10000", "limit", "from 1 to 200"),
        ("limit=ten", "limit", "from 1 to 200"),
        ("min_liquidity=-1", "min_liquidity", "non-negative"),
        ("min_volume=abc", "min_volume", "non-negative number"),
        ("min_market_cap=nan", "min_market_cap", "non-negative number"),
        ("max_market_cap=inf", "max_market_cap", "non-negative number"),
        ("protocol=ray%20dium!", "protocol", "dex ids"),
        ("cursor=garbage", "cursor", "Invalid cursor."),
        ("cursor=" + "a:b" * 400, "cursor", "Invalid cursor."),
        # Given empty is a value outside the schema's enum or type, not "use the default".
        ("timeframe=", "timeframe", '"" is not a valid choice.'),
        ("ordering=", "ordering", '"" is not a valid choice.'),
        ("limit=", "limit", "from 1 to 200"),
        ("min_volume=", "min_volume", "non-negative number"),
    ],
)
def test_bad_input_is_400_naming_the_parameter(client, query, param, says):
    publish([make_token(1)])
    response = client.get(f"/api/tokens/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [param] and says in body[param][0]


def test_all_bad_parameters_are_reported_together(client):
    body = client.get("/api/tokens/?timeframe=x&limit=0&min_volume=-2").json()
    assert set(body) == {"timeframe", "limit", "min_volume"}


def test_walking_next_then_previous(client):
    publish(
        [make_token(i, volume=float(i % 7), liquidity_usd=None if i % 5 == 0 else 1.0) for i in range(23)]
    )
    pages = walk(client, "/api/tokens/?limit=5&ordering=volume&min_liquidity=0")
    mints = [t["token_address"] for p in pages for t in p["results"]]
    assert len(mints) == len(set(mints)) == pages[0]["meta"]["count"] == 18
    assert [len(p["results"]) for p in pages] == [5, 5, 5, 3]
    back = [pages[-1]]
    while back[-1]["previous"]:
        back.append(client.get(back[-1]["previous"]).json())
    assert [p["results"] for p in back[::-1]] == [p["results"] for p in pages]


def test_cursor_survives_a_refresh_between_pages(client):
    publish([make_token(i, volume=float(i)) for i in range(10)])
    first = client.get("/api/tokens/?limit=4").json()
    publish([make_token(i, volume=float(i)) for i in range(10) if i != 9] + [make_token(9, volume=-1.0)])
    rest = walk(client, first["next"])
    seen = [t["token_address"] for t in first["results"]] + [
        t["token_address"] for p in rest for t in p["results"]
    ]
    assert seen == [mint_for(i) for i in (9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9)]  # only 9, which moved, repeats


def test_cursor_of_another_query_or_tampered_is_invalid(client):
    publish([make_token(i, volume=float(i)) for i in range(10)])
    nxt = client.get("/api/tokens/?limit=2&ordering=-volume").json()["next"]
    cursor = nxt.split("cursor=")[1].split("&")[0]
    assert client.get(f"/api/tokens/?limit=2&ordering=volume&cursor={cursor}").json() == {
        "cursor": ["Invalid cursor."]
    }
    assert client.get(f"/api/tokens/?limit=2&timeframe=1h&cursor={cursor}").status_code == 400
    tampered = cursor.replace("L", "M", 1) if "L" in cursor else "Q" + cursor[1:]
    assert client.get(f"/api/tokens/?limit=2&cursor={tampered}").json() == {"cursor": ["Invalid cursor."]}
    assert client.get(f"/api/tokens/?limit=9&cursor={cursor}").status_code == 200  # limit may change


def test_filters(client):
    publish(
        [
            make_token(
                1, token_name="Dog Wif Hat", token_ticker="WIF", dex_id="raydium-clmm", liquidity_usd=5e5
            ),
            make_token(2, token_name="Bonk", token_ticker="BONK", dex_id="orca", liquidity_usd=None),
            make_token(3, token_name="Popcat", token_ticker="POP", dex_id="pumpswap", market_cap_usd=None),
            make_token(4, token_name="Tiny", token_ticker="TNY", dex_id="meteora-dlmm", volume=1.0),
        ]
    )

    def tickers(query):
        response = client.get(f"/api/tokens/?{query}")
        assert response.status_code == 200, response.content
        return sorted(t["token_ticker"] for t in response.json()["results"])

    assert tickers("q=wif") == ["WIF"]
    assert tickers("q=  bOnK ") == ["BONK"]
    assert tickers(f"q={mint_for(3)}") == ["POP"]
    assert tickers("protocol=raydium") == ["WIF"]
    assert tickers("protocol=orca,%20PUMPSWAP") == ["BONK", "POP"]
    assert tickers("protocol=meteora") == ["TNY"]
    assert tickers("min_liquidity=100000") == ["WIF"]
    assert tickers("min_liquidity=0") == ["POP", "TNY", "WIF"]
    assert tickers("min_volume=10") == ["BONK", "POP", "WIF"]
    assert tickers("min_market_cap=0&max_market_cap=1e9") == ["BONK", "TNY", "WIF"]
    assert tickers("max_market_cap=10") == []


def test_timeframe_selects_the_window(client):
    windows = {
        "m5": WindowStats(5.0, 1, 0, 0.5),
        "h24": WindowStats(24.0, 2, 1, 2.4),
        "d7": WindowStats(700.0),
    }
    publish([make_token(1, windows=windows)])
    five = client.get("/api/tokens/?timeframe=5m").json()["results"][0]
    assert (five["volume_usd"], five["transaction_count"], five["price_change"]) == (5.0, 1, 0.5)
    week = client.get("/api/tokens/?timeframe=7d").json()["results"][0]
    assert (week["volume_usd"], week["transaction_count"], week["buys"]) == (700.0, None, None)
    hour = client.get("/api/tokens/?timeframe=1h").json()["results"][0]
    assert hour["volume_usd"] is None  # unknown is null, never 0


def test_detail_with_pools_and_by_source(client):
    pool = PoolView(
        address=mint_for("pool"), dex_id="raydium-clmm", protocol="Raydium CLMM", quote_mint=mint_for("sol"),
        quote_symbol="SOL", price_usd=0.001, liquidity_usd=2e4, windows={"h24": WindowStats(volume_usd=99.0)},
        sources=["dexscreener", "geckoterminal"],
    )  # fmt: skip
    by_source = {
        "jupiter": SourcePrice(
            price_usd=0.5, market_cap_usd=None, volume_24h_usd=None, fetched_at=1.7e9, excluded=True
        )
    }
    publish([make_token(1, pools=[pool], by_source=by_source)])
    response = client.get(f"/api/tokens/{mint_for(1)}/?timeframe=1h")
    assert response.status_code == 200 and response["ETag"]
    body = response.json()
    assert set(body) == TOKEN_KEYS | {"pools", "by_source"}
    assert body["pools"][0]["dex"] == "Raydium CLMM" and body["pools"][0]["volume_usd"]["24h"] == 99.0
    assert body["pools"][0]["sources"] == ["dexscreener", "geckoterminal"]
    assert (
        body["by_source"]["jupiter"]["excluded"] is True and body["by_source"]["jupiter"]["price_usd"] == 0.5
    )


@pytest.mark.parametrize("mint", ["abc", "0OIl" * 11, "1" * 45, mint_for(1)[:-1] + "0", "%F0%9F%92%A9"])
def test_detail_malformed_mint_is_400(client, mint):
    publish([make_token(1)])
    response = client.get(f"/api/tokens/{mint}/")
    assert response.status_code == 400
    assert "base58" in response.json()["mint"][0]


def test_detail_unknown_mint_is_404_and_bad_timeframe_400(client):
    publish([make_token(1)])
    assert client.get(f"/api/tokens/{mint_for(2)}/").status_code == 404
    assert list(client.get(f"/api/tokens/{mint_for(1)}/?timeframe=2d").json()) == ["timeframe"]


def test_browsable_api_renders_html(client):
    publish([make_token(1)])
    for path in ("/api/", "/api/tokens/", f"/api/tokens/{mint_for(1)}/", "/api/health/"):
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, path
        assert response["Content-Type"].startswith("text/html")
        if path.startswith("/api/tokens/"):
            assert b"Token 1" in response.content


def test_schema_and_docs(client):
    schema = client.get("/api/schema/?format=json").json()
    params = {p["name"] for p in schema["paths"]["/api/tokens/"]["get"]["parameters"]}
    assert params == {
        "timeframe", "ordering", "limit", "cursor", "q", "protocol",
        "min_liquidity", "min_volume", "min_market_cap", "max_market_cap",
        "min_holders", "max_top_holders_pct", "verified", "safe",
    }  # fmt: skip
    responses = schema["paths"]["/api/tokens/"]["get"]["responses"]
    assert {"200", "304", "400", "429", "503"} <= set(responses)
    assert client.get("/api/docs/").status_code == 200


def test_cors_allowed_origin(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://screener.example"]
    publish([make_token(1)])
    response = client.get("/api/tokens/", HTTP_ORIGIN="https://screener.example")
    assert response["Access-Control-Allow-Origin"] == "https://screener.example"
    assert "Access-Control-Allow-Origin" not in client.get("/api/tokens/", HTTP_ORIGIN="https://evil.example")


@pytest.mark.parametrize("path", ["/api/tokens/", "/api/tokens/{mint}/"])
def test_the_browsable_api_never_shows_the_internal_data_time_header(client, path):
    token = make_token(1)
    publish([token])
    response = client.get(path.format(mint=token.token_address), HTTP_ACCEPT="text/html")
    page = response.content.decode()
    assert response.status_code == 200 and "X-Snapshot-Id" in page  # the page does print headers
    assert "X-Data-Fetched-At" not in page
    assert response["X-Data-Fetched-At"]  # still there for the ASGI response cache, which drops it
