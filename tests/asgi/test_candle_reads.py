"""Candle reads over real HTTP: the ASGI fast path (tokens/api/candle_reads.py) answers as Django
would, and the response cache keeps candle answers by `candles:written`, not by snapshot.

A live web process of its own (under each WEB_SERVER) on a SQLite file this test writes candles
into directly, so what the process serves comes only from rows and ids set here.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from django.core.cache import cache

from tests.factories import make_token, mint_for, publish
from tests.ops.metrics_text import Scrape
from tests.processes import fresh_database_url, start_web_server, wait_for
from tokens.api.candle_reads import wants_json
from tokens.history.store import KEY_WRITTEN

MINT = mint_for(41)
URL = f"/api/tokens/{MINT}/candles/?interval=1m&limit=5"
JSON = {"Accept": "application/json"}
# Per answer or per server, not part of what the two paths must agree on.
VOLATILE = {"date", "server", "x-response-cache", "etag", "x-snapshot-id"}


@pytest.fixture(scope="module")
def candle_server(web_server, tmp_path_factory):
    directory = tmp_path_factory.mktemp("candle-reads")
    url = fresh_database_url(directory)
    server = start_web_server(directory, web_server, DATABASE_URL=url, API_THROTTLE_RATE="1000000/min")
    server.db = url.removeprefix("sqlite:///")
    yield server
    server.proc.stop()


def insert(db: str, mint: str, closes: list[float], end: int | None = None) -> list[int]:
    """One 1m candle per close, the last in the minute before `end`; returns their starts."""
    end = end if end is not None else int(time.time()) // 60 * 60
    starts = [end - 60 * (len(closes) - i) for i in range(len(closes))]
    with sqlite3.connect(db) as conn:
        conn.executemany(
            'INSERT OR REPLACE INTO tokens_pricecandle (mint, "interval", t, open, high, low, close, source) '
            "VALUES (?, '1m', ?, ?, ?, ?, ?, 'merged')",
            [(mint, t, c, c * 1.5, c / 2, c) for t, c in zip(starts, closes, strict=True)],
        )
    return starts


def fast_reads(server) -> float:
    return Scrape(server.get("/metrics").text).value("mds_candle_reads_total", path="fast")


def test_the_fast_path_answers_what_django_answered(candle_server):
    publish([make_token(41)])
    insert(candle_server.db, MINT, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    cache.set(KEY_WRITTEN, 1000, timeout=None)
    django = candle_server.get(URL, headers=JSON)  # the first read of these headers: Django's
    assert django.status_code == 200, django.text
    assert django.headers["X-Response-Cache"] == "miss"
    assert [c["close"] for c in django.json()["candles"]] == [3.0, 4.0, 5.0, 6.0, 7.0]
    assert f"before={django.json()['candles'][0]['t']}" in django.json()["previous"]

    fast_before = fast_reads(candle_server)
    cache.set(KEY_WRITTEN, 1001, timeout=None)  # the next write: the entry turns stale
    stale = candle_server.get(URL, headers=JSON)
    assert stale.headers["X-Response-Cache"] == "hit" and stale.headers["ETag"] == django.headers["ETag"]
    wait_for(lambda: candle_server.get(URL, headers=JSON).headers["X-Snapshot-Id"] == "1001",
             what="the rebuilt entry")  # fmt: skip
    fast = candle_server.get(URL, headers=JSON)
    assert fast_reads(candle_server) > fast_before  # rebuilt by the fast path, not by Django
    assert fast.content == django.content
    assert {k.lower(): v for k, v in fast.headers.items() if k.lower() not in VOLATILE} == {
        k.lower(): v for k, v in django.headers.items() if k.lower() not in VOLATILE
    }
    assert fast.headers["ETag"] == django.headers["ETag"].replace('"c1000.', '"c1001.')

    again = candle_server.get(URL, headers={**JSON, "If-None-Match": fast.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == fast.headers["ETag"]


def test_a_miss_on_the_fast_path_reads_the_database(candle_server):
    publish([make_token(42)])
    mint = mint_for(42)
    starts = insert(candle_server.db, mint, [10.0, 20.0, 30.0])
    cache.set(KEY_WRITTEN, 2000, timeout=None)
    candle_server.get(f"/api/tokens/{mint}/candles/?interval=1m", headers=JSON)  # learn these headers
    fast_before = fast_reads(candle_server)
    got = candle_server.get(
        f"/api/tokens/{mint}/candles/?interval=1m&limit=2&before={starts[2]}", headers=JSON
    )
    assert got.status_code == 200 and got.headers["X-Response-Cache"] == "miss"
    assert fast_reads(candle_server) == fast_before + 1
    body = got.json()
    assert [c["t"] for c in body["candles"]] == starts[:2] and body["previous"] is None
    assert body["candles"][0] == {"t": starts[0], "open": 10.0, "high": 15.0, "low": 5.0, "close": 10.0,
                                  "volume_usd": None, "liquidity_usd": None, "market_cap_usd": None,
                                  "source": "merged"}  # fmt: skip


def test_candle_answers_outlive_snapshots_until_the_next_write(candle_server):
    publish([make_token(43)])
    mint = mint_for(43)
    insert(candle_server.db, mint, [1.0, 2.0])
    cache.set(KEY_WRITTEN, 3000, timeout=None)
    url = f"/api/tokens/{mint}/candles/?interval=1m"
    first = candle_server.get(url, headers=JSON)
    publish([make_token(43, price_usd=9.0)])  # a snapshot whose candles are not stored yet
    assert candle_server.get(url, headers=JSON).headers["X-Response-Cache"] == "hit"
    insert(candle_server.db, mint, [3.0], end=int(time.time()) // 60 * 60 + 60)  # the write lands…
    cache.set(KEY_WRITTEN, 3001, timeout=None)  # …then its id
    wait_for(lambda: candle_server.get(url, headers=JSON).json()["candles"][-1]["close"] == 3.0,
             what="the candles of the new write")  # fmt: skip
    assert first.json()["candles"][-1]["close"] == 2.0


@pytest.mark.parametrize(
    ("query", "headers", "status"),
    [
        ("interval=1m", {"Accept": "text/html"}, 200),  # the browsable API
        ("interval=1m&format=json", JSON, 200),
        ("interval=7m", JSON, 400),
        ("interval=1m&limit=0", JSON, 400),
        ("interval=1m&before=-1", JSON, 400),
    ],
)
def test_what_the_fast_path_hands_to_django(candle_server, query, headers, status):
    publish([make_token(44)])
    mint = mint_for(44)
    insert(candle_server.db, mint, [1.0])
    cache.set(KEY_WRITTEN, 4000, timeout=None)
    candle_server.get(f"/api/tokens/{mint}/candles/?interval=5m", headers=JSON)  # learn JSON headers
    before = Scrape(candle_server.get("/metrics").text).value("mds_candle_reads_total", path="django")
    got = candle_server.get(f"/api/tokens/{mint}/candles/?{query}", headers=headers)
    assert got.status_code == status, got.text
    after = Scrape(candle_server.get("/metrics").text).value("mds_candle_reads_total", path="django")
    assert after == before + 1


def test_an_untracked_mint_is_djangos_404(candle_server):
    cache.set(KEY_WRITTEN, 5000, timeout=None)
    candle_server.get(f"/api/tokens/{mint_for(45)}/candles/", headers=JSON)
    got = candle_server.get(f"/api/tokens/{mint_for(46)}/candles/", headers=JSON)
    assert got.status_code == 404 and got.json() == {
        "detail": f"Token {mint_for(46)} has never been tracked."
    }


@pytest.mark.parametrize(
    ("accept", "json"),
    [
        (None, True),
        (b"application/json", True),
        (b"*/*", True),
        (b"application/json; indent=4, */*;q=0.8", True),
        (b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        (b"application/xml", False),
    ],
)
def test_wants_json_follows_drfs_choice(accept, json):
    headers = [(b"accept", accept)] if accept is not None else []
    assert wants_json({"headers": headers}) is json
