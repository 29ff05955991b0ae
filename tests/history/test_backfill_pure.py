"""Pure parts of the backfill: the replay's price path as OHLCV, parse_ohlcv on minute/hour rows, roll-ups."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokens.history.candles import align
from tokens.ingest.backfill import bars_from_candles
from tokens.ingest.parsers.geckoterminal import parse_ohlcv
from tokens.records import Candle
from tokens.replay import history

pytestmark = pytest.mark.pure

POOL = "7qbRF6YsyGuLUVs6Y1q64bdVrfe4ZcUUz1JRdoVNUJnm"
MINT = "So11111111111111111111111111111111111111112"
NOW = 1_796_169_600 + 13 * 3600 + 17 * 60 + 31


def rows(timeframe, aggregate, limit=200, before=None, current=1.5):
    return history.ohlcv_rows(
        POOL, "base", 1.0, current, NOW - 30 * 86400, NOW, 10.0, timeframe, aggregate, limit, before
    )


def doc(raw_rows):
    return {"data": {"id": "x", "type": "ohlcv_request_response",
                     "attributes": {"ohlcv_list": [history.rendered(r, POOL) for r in raw_rows]}}}  # fmt: skip


def test_aggregates_are_roll_ups_of_the_minutes():
    minutes = {r[0]: r for r in rows("minute", 1, limit=1000)}
    for timeframe, aggregate in (("minute", 5), ("minute", 15), ("hour", 1)):
        length = history.TIMEFRAMES[timeframe][0] * aggregate
        for t, o, h, lo, c, v in rows(timeframe, aggregate, limit=10):
            covered = [minutes[m] for m in sorted(minutes) if t <= m < t + length]
            assert covered, (timeframe, aggregate, t)
            assert (o, c) == (covered[0][1], covered[-1][4])
            assert h == max(r[2] for r in covered) and lo == min(r[3] for r in covered)
            assert v == pytest.approx(sum(r[5] for r in covered))


def test_rows_are_newest_first_aligned_skip_idle_intervals_and_end_at_the_current_price():
    got = rows("minute", 1, limit=1000)
    ts = [r[0] for r in got]
    assert ts == sorted(ts, reverse=True) and all(t % 60 == 0 for t in ts)
    assert ts[0] == align(NOW, "1m") and got[0][4] == 1.5  # the open candle closes at the market price
    gaps = [a - b for a, b in itertools.pairwise(ts)]
    assert max(gaps) > 60  # some minutes had no trade: no candle for them
    assert all(not history.traded(POOL, t + 60) for a, t in itertools.pairwise(ts) if a - t == 120)


def test_before_timestamp_and_limit():
    newest = rows("minute", 1, limit=50)
    older = rows("minute", 1, limit=50, before=newest[-1][0])
    assert len(newest) == len(older) == 50 and older[0][0] < newest[-1][0]
    assert rows("hour", 4, limit=3) == rows("hour", 4, limit=3)  # deterministic


def test_parse_ohlcv_reads_minute_rows_with_strings_numbers_and_nulls():
    raw = rows("minute", 1, limit=300)
    rendered = doc(raw)["data"]["attributes"]["ohlcv_list"]
    assert any(isinstance(r[1], str) for r in rendered) and any(isinstance(r[1], float) for r in rendered)
    assert any(r[5] is None for r in rendered)
    parsed = parse_ohlcv(doc(raw))
    assert [c.ts for c in parsed] == [r[0] for r in raw]
    for candle, row in zip(parsed, raw, strict=True):
        assert (candle.open, candle.high, candle.low, candle.close) == pytest.approx(row[1:5], rel=1e-12)


def test_parse_ohlcv_skips_malformed_rows_and_keeps_one_per_timestamp():
    payload = {"data": {"attributes": {"ohlcv_list": [
        [1796169660, "1.5", 2, "1", 1.2, None], [1796169660, 9, 9, 9, 9, 9], ["soon", 1, 1, 1, 1, 1],
        [1796169600, None, None, None, None, None], [1796169540, 1, 1, 1, 1], "x",
    ]}}}  # fmt: skip
    parsed = parse_ohlcv(payload)
    assert [c.ts for c in parsed] == [1796169660, 1796169600]
    assert parsed[0] == Candle(1796169660, 1.5, 2.0, 1.0, 1.2, None)


def test_bars_from_candles_rolls_up_and_drops_partly_covered_candles():
    raw = rows("minute", 1, limit=1000)
    candles = parse_ohlcv(doc(raw))
    bars = bars_from_candles(MINT, "1m", candles, ("5m", "15m"))
    by = {}
    for b in bars:
        by.setdefault(b.interval, []).append(b)
    assert {b.source for b in bars} == {"geckoterminal"}
    oldest = min(b.t for b in by["1m"])
    assert all(b.t >= oldest for b in by["5m"] + by["15m"])
    five = {b.t: b for b in by["5m"]}
    expected = {
        r[0]: r
        for r in history.ohlcv_rows(
            POOL, "base", 1.0, 1.5, NOW - 30 * 86400, NOW, 10.0, "minute", 5, 1000, None
        )
    }
    for t, b in five.items():
        assert (b.open, b.high, b.low, b.close) == pytest.approx(expected[t][1:5], rel=1e-12)


@given(st.lists(st.tuples(st.integers(0, 5000), st.floats(0.1, 10)), max_size=30))
def test_bars_from_candles_skips_rows_without_prices(points):
    candles = [Candle(1796169600 + 60 * i, p, p, p, None if i % 3 == 0 else p, 1.0) for i, p in points]
    bars = bars_from_candles(MINT, "1m", candles, ())
    assert {b.t for b in bars} == {c.ts for c in candles if c.close is not None}


def test_bars_from_candles_leaves_out_candles_still_open():
    candles = parse_ohlcv(doc(rows("minute", 1, limit=100)))
    bars = bars_from_candles(MINT, "1m", candles, ("5m", "15m"), now=NOW)
    assert bars and all(b.t + {"1m": 60, "5m": 300, "15m": 900}[b.interval] <= NOW for b in bars)
    assert align(NOW, "1m") not in {b.t for b in bars if b.interval == "1m"}
