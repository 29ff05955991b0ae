"""Tests for tokens/history/candles.py: alignment, folding and roll-up (pure, property-style)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokens.history.candles import INTERVAL_NAMES, INTERVALS, Bar, align, fold, observe, roll_up

pytestmark = pytest.mark.pure

MINT = "So11111111111111111111111111111111111111112"
times = st.integers(min_value=1_600_000_000, max_value=1_900_000_000)
prices = st.floats(min_value=1e-12, max_value=1e6, allow_nan=False, allow_infinity=False)
intervals = st.sampled_from(INTERVAL_NAMES)


def test_alignment_examples():
    t = 1796169600 + 4 * 3600 + 37 * 60 + 12  # a day start + 04:37:12
    assert align(t, "1m") == 1796169600 + 4 * 3600 + 37 * 60
    assert align(t, "5m") == 1796169600 + 4 * 3600 + 35 * 60
    assert align(t, "15m") == 1796169600 + 4 * 3600 + 30 * 60
    assert align(t, "1h") == 1796169600 + 4 * 3600
    assert align(t, "4h") == 1796169600 + 4 * 3600
    assert align(t + 3 * 3600, "4h") == 1796169600 + 4 * 3600  # 07:37 is in the 04:00 candle
    assert align(t, "1d") == 1796169600
    assert 1796169600 % 86400 == 0


@given(times, intervals)
def test_align_is_the_start_of_the_interval_holding_the_instant(ts, interval):
    start = align(ts, interval)
    assert start <= ts < start + INTERVALS[interval]
    assert start % INTERVALS[interval] == 0
    assert align(start, interval) == start


@given(times, st.floats(min_value=0, max_value=0.999), intervals)
def test_align_of_fractional_seconds(ts, frac, interval):
    assert align(ts + frac, interval) == align(ts, interval)


@given(st.lists(st.tuples(st.integers(0, 3599), prices), min_size=1, max_size=60))
def test_folding_observations_gives_first_last_and_extremes(observations):
    hour = 1_796_169_600
    observations.sort(key=lambda o: o[0])
    bar = None
    for offset, price in observations:
        part = observe(MINT, "1h", hour + offset, price)
        bar = part if bar is None else fold(bar, part)
    prices_seen = [p for _, p in observations]
    assert (bar.open, bar.close) == (prices_seen[0], prices_seen[-1])
    assert (bar.high, bar.low) == (max(prices_seen), min(prices_seen))
    assert bar.t == hour


def test_fold_keeps_the_last_known_liquidity_and_refuses_other_candles():
    a = observe(MINT, "1m", 60, 1.0, liquidity_usd=10.0, market_cap_usd=100.0)
    b = observe(MINT, "1m", 90, 2.0, liquidity_usd=None, market_cap_usd=200.0)
    folded = fold(a, b)
    assert (folded.liquidity_usd, folded.market_cap_usd) == (10.0, 200.0)
    with pytest.raises(ValueError):
        fold(a, observe(MINT, "1m", 120, 1.0))


@given(st.lists(st.tuples(st.integers(0, 86400 * 3), prices), min_size=1, max_size=200), intervals)
def test_roll_up_is_consistent_with_the_minutes_it_covers(observations, interval):
    base = 1_796_169_600
    minutes: dict[int, Bar] = {}
    for offset, price in sorted(observations, key=lambda o: o[0]):
        part = observe(MINT, "1m", base + offset, price)
        minutes[part.t] = part if part.t not in minutes else fold(minutes[part.t], part)
    rolled = roll_up(minutes.values(), interval)
    assert [b.t for b in rolled] == sorted({align(t, interval) for t in minutes})  # no empty interval
    for bar in rolled:
        covered = [m for t, m in sorted(minutes.items()) if align(t, interval) == bar.t]
        assert bar.open == covered[0].open
        assert bar.close == covered[-1].close
        assert bar.high == max(m.high for m in covered)
        assert bar.low == min(m.low for m in covered)
    # rolling up in steps gives the same as rolling up at once
    if interval != "1m":
        via_5m = roll_up(roll_up(minutes.values(), "5m"), interval)
        assert [(b.t, b.open, b.high, b.low, b.close) for b in via_5m] == [
            (b.t, b.open, b.high, b.low, b.close) for b in rolled
        ]


def test_roll_up_refuses_longer_candles_and_adds_known_volumes():
    with pytest.raises(ValueError):
        roll_up([observe(MINT, "1h", 0, 1.0)], "5m")
    a = Bar(MINT, "1m", 0, 1, 2, 0.5, 1.5, 10.0, source="geckoterminal")
    b = Bar(MINT, "1m", 60, 1.5, 3, 1, 2, None, source="geckoterminal")
    c = Bar(MINT, "1m", 120, 2, 2, 2, 2, 5.0, source="merged")
    (five,) = roll_up([c, a, b], "5m")
    assert (five.open, five.high, five.low, five.close, five.volume_usd) == (1, 3, 0.5, 2, 15.0)
    assert five.source == "merged"
