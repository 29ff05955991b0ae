"""GET /api/tokens/{mint}/candles/ in process: parameters, 400s, 404, paging, ETag/304, browsable API.

Marked `database`: run on SQLite and again on PostgreSQL. The live-stack tests (the real pipeline,
the ASGI cache) are in tests/history/test_candles_live.py.
"""

from __future__ import annotations

import time

import pytest

from tests.factories import make_token, mint_for, publish
from tokens.history import store
from tokens.history.candles import INTERVAL_NAMES, align

pytestmark = [pytest.mark.database, pytest.mark.django_db]

CANDLE_KEYS = {"t", "open", "high", "low", "close", "volume_usd", "liquidity_usd", "market_cap_usd", "source"}


def record(prices: list[float], step: float = 60.0, start: float | None = None, seed: int = 1):
    """Publish one snapshot per price, `step` seconds apart, ending now; record each one's candles."""
    start = start if start is not None else time.time() - step * len(prices)
    snap = None
    for i, price in enumerate(prices):
        snap = publish([make_token(seed, price_usd=price)], generated_at=start + i * step)
        store.record_snapshot(snap)
    return snap


def url(seed: int = 1, query: str = "") -> str:
    return f"/api/tokens/{mint_for(seed)}/candles/" + (f"?{query}" if query else "")


def test_defaults_shape_and_order(client, api_rate):
    record([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], step=60)
    response = client.get(url())
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"token_address", "interval", "previous", "candles"}
    assert body["interval"] == "5m" and body["token_address"] == mint_for(1) and body["previous"] is None
    ts = [c["t"] for c in body["candles"]]
    assert ts == sorted(ts) and all(t % 300 == 0 for t in ts)
    assert all(set(c) == CANDLE_KEYS and c["source"] == "merged" for c in body["candles"])
    assert response["ETag"].startswith('W/"') and response["Cache-Control"].startswith("public, max-age=")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("interval=2m", "interval"),
        ("interval=", "interval"),
        ("interval=1M", "interval"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=abc", "limit"),
        ("limit=", "limit"),
        ("before=-1", "before"),
        ("before=soon", "before"),
        ("before=1e9", "before"),
        ("before=", "before"),
        ("before=100000000001", "before"),
    ],
)
def test_bad_parameters_are_400_naming_them(client, api_rate, query, name):
    record([1.0])
    response = client.get(url(query=query))
    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body) == [name] and isinstance(body[name], list) and body[name][0]


def test_bad_interval_message_lists_the_choices(client, api_rate):
    record([1.0])
    body = client.get(url(query="interval=7x")).json()
    assert body == {"interval": ['"7x" is not a valid choice. Choose one of 1m, 5m, 15m, 1h, 4h, 1d.']}


def test_malformed_mint_400_and_never_tracked_404(client, api_rate):
    record([1.0])
    assert client.get("/api/tokens/0OIl/candles/").status_code == 400
    assert list(client.get("/api/tokens/abc/candles/").json()) == ["mint"]
    response = client.get(url(seed=999))
    assert response.status_code == 404 and "never been tracked" in response.json()["detail"]


def test_a_tracked_token_without_candles_yet_is_200_empty(client, api_rate):
    publish([make_token(5, price_usd=None)])
    body = client.get(url(seed=5)).json()
    assert body["candles"] == [] and body["previous"] is None


def test_a_token_no_longer_tracked_keeps_its_history(client, api_rate):
    record([1.0, 2.0])
    publish([make_token(2)])  # token 1 left the universe
    response = client.get(url(query="interval=1m"))
    assert response.status_code == 200 and len(response.json()["candles"]) == 2


def test_paging_with_previous_walks_every_candle_once(client, api_rate):
    record([float(i + 1) for i in range(25)], step=60)
    seen, link = [], url(query="interval=1m&limit=7")
    while link:
        body = client.get(link).json()
        seen = [c["t"] for c in body["candles"]] + seen
        link = body["previous"]
        if link:
            assert "interval=1m" in link and "limit=7" in link and f"before={body['candles'][0]['t']}" in link
    assert len(seen) == 25 and seen == sorted(set(seen))
    assert [c["close"] for c in client.get(url(query="interval=1m&limit=1000")).json()["candles"]] == [
        float(i + 1) for i in range(25)
    ]


def test_before_and_intervals_are_consistent(client, api_rate):
    start = align(time.time(), "1h") - 3 * 3600
    prices = [1.0 + (i % 17) * 0.1 + (i // 40) for i in range(160)]
    record(prices, step=60, start=start + 7)
    minutes = client.get(url(query="interval=1m&limit=1000")).json()["candles"]
    for interval in INTERVAL_NAMES[1:]:
        longer = client.get(url(query=f"interval={interval}&limit=1000")).json()["candles"]
        assert [c["t"] for c in longer] == sorted({align(m["t"], interval) for m in minutes})
        for bar in longer:
            covered = [m for m in minutes if align(m["t"], interval) == bar["t"]]
            assert bar["open"] == covered[0]["open"] and bar["close"] == covered[-1]["close"]
            assert bar["high"] == max(m["high"] for m in covered)
            assert bar["low"] == min(m["low"] for m in covered)
    cut = minutes[50]["t"]
    older = client.get(url(query=f"interval=1m&before={cut}&limit=1000")).json()["candles"]
    assert older == minutes[:50]


def test_etag_304_and_new_etag_after_a_snapshot(client, api_rate):
    record([1.0, 2.0])
    first = client.get(url())
    again = client.get(url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again["ETag"] == first["ETag"]
    record([3.0], start=time.time())
    changed = client.get(url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert changed.json()["candles"][-1]["close"] == 3.0


def test_browsable_api(client, api_rate):
    record([1.0])
    response = client.get(url(), HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and b"Token Candles" in response.content
    assert mint_for(1).encode() in response.content
    assert response["Content-Type"].startswith("text/html")
