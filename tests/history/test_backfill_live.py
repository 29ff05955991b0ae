"""Backfill against the replay upstream: within GeckoTerminal's budget, highest-ranked first, the source's prices.

Real refresh tasks (Celery's apply, in this process) over loopback HTTP; candles in the test database
(marked `database`: SQLite and PostgreSQL).
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import pytest
import requests

from tests.integration.conftest import max_in_sliding_minute, run_refreshes
from tokens.history import store
from tokens.ingest.parsers.geckoterminal import parse_ohlcv
from tokens.models import PriceCandle
from tokens.records import SOURCES
from tokens.store import ingested

pytestmark = [pytest.mark.slow, pytest.mark.database, pytest.mark.django_db]

RPM = 40


def test_backfill_stays_in_budget_goes_by_rank_and_stores_the_sources_prices(replay, settings):
    settings.GECKOTERMINAL_RPM = RPM
    started = time.time()
    deadline = started + 25
    while time.time() < deadline:
        run_refreshes(*SOURCES)
    gt = replay.requests_since(started, "geckoterminal")
    assert max_in_sliding_minute([r["t"] for r in gt]) <= RPM
    backfills = [r for r in gt if "/ohlcv/minute" in r["path"] or "/ohlcv/hour" in r["path"]]
    assert backfills, "some budget was left for backfill"
    assert len(backfills) < len(gt)  # market data first
    queries = [parse_qs(r["query"]) for r in backfills]
    assert all(q["limit"] == ["1000"] and q["aggregate"] == ["1"] for q in queries)
    mints = list(dict.fromkeys(q["token"][0] for q in queries))
    universe = ingested.load_universe()
    tokens = ingested.load_source("geckoterminal").tokens
    with_pool = [m for m in universe if (q := tokens.get(m)) and q.top_pool]
    assert mints == with_pool[: len(mints)]  # highest-ranked first, none skipped

    # the stored candles are the source's: compare with what the replay serves for the same request
    mint = mints[0]
    pool = tokens[mint].top_pool
    url = f"{replay.base}/geckoterminal/networks/solana/pools/{pool}/ohlcv/minute"
    served = parse_ohlcv(
        requests.get(url, params={"aggregate": 1, "limit": 1000, "token": mint}, timeout=10).json()
    )
    stored = {b.t: b for b in store.newest(mint, "1m", 1000)[0] if b.source == "geckoterminal"}
    assert len(stored) > 100
    compared = 0
    for candle in served[1:]:  # the open candle moves on; every closed one is fixed on the path
        if candle.ts in stored and None not in (candle.open, candle.close):
            b = stored[candle.ts]
            assert (b.open, b.high, b.low, b.close) == (candle.open, candle.high, candle.low, candle.close)
            assert b.volume_usd == candle.volume_usd
            compared += 1
    assert compared > 100
    assert PriceCandle.objects.filter(mint=mint, interval="1h", source="geckoterminal").count() > 24
    for interval in ("5m", "15m", "4h", "1d"):
        assert PriceCandle.objects.filter(mint=mint, interval=interval).exists(), interval


def test_replay_intraday_parameters(replay):
    universe = replay.universe()
    pool = next(
        p for t in universe for p in t["pools"] if "geckoterminal" in p.get("sources", ["geckoterminal"])
    )
    base = f"{replay.base}/geckoterminal/networks/solana/pools/{pool['address']}/ohlcv"
    ok = requests.get(f"{base}/minute", params={"aggregate": 5, "limit": 10}, timeout=10)
    assert ok.status_code == 200 and len(ok.json()["data"]["attributes"]["ohlcv_list"]) == 10
    for params in ({"aggregate": 2}, {"limit": 1001}, {"before_timestamp": "soon"}, {"token": "nope"}):
        assert requests.get(f"{base}/minute", params=params, timeout=10).status_code == 400, params
    assert requests.get(f"{base}/hour", params={"aggregate": 5}, timeout=10).status_code == 400
    quote = requests.get(f"{base}/hour", params={"token": "quote", "limit": 1}, timeout=10).json()
    own = requests.get(f"{base}/hour", params={"token": pool["quote_mint"], "limit": 1}, timeout=10).json()
    assert quote["data"]["attributes"] == own["data"]["attributes"]
    first = requests.get(f"{base}/minute", params={"limit": 5}, timeout=10).json()["data"]["attributes"][
        "ohlcv_list"
    ]
    older = requests.get(
        f"{base}/minute", params={"limit": 5, "before_timestamp": first[-1][0]}, timeout=10
    ).json()["data"]["attributes"]["ohlcv_list"]
    assert older[0][0] < first[-1][0]
