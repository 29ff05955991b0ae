"""Tests of tokens/ingest/shares.py: each purpose gets its share at any refresh period (pure bucket math)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokens.ingest.shares import Purpose, Shares, accrue, capacity


def simulate(per_minute: int, shares: dict[str, float], period: float, seconds: float) -> dict[str, int]:
    """Calls each purpose makes when refreshed every `period` s and spending every whole call it holds."""
    purposes = [Purpose(name, share) for name, share in shares.items()]
    levels = {p.name: capacity(per_minute * p.current_share() / 60, period) for p in purposes}
    made = dict.fromkeys(shares, 0)
    t = 0.0
    while t < seconds:
        levels = accrue(levels, purposes, per_minute, period, period)
        for name in shares:
            calls = math.floor(levels[name] + 1e-9)
            made[name] += calls
            levels[name] -= calls
        t += period
    return made


@pytest.mark.pure
@given(
    per_minute=st.integers(min_value=6, max_value=600),
    share=st.floats(min_value=0.01, max_value=0.99),
    period=st.floats(min_value=0.5, max_value=30.0),
)
def test_every_purpose_gets_its_share_at_any_refresh_period(per_minute, share, period):
    minutes = 10
    made = simulate(per_minute, {"a": 1 - share, "b": share}, period, minutes * 60)
    for name, s in (("a", 1 - share), ("b", share)):
        expected = per_minute * s * minutes
        cap = capacity(per_minute * s / 60, period)
        step = per_minute * s * period / 60  # the last refresh may end up to one period past the ten minutes
        assert expected - cap - 1 - step <= made[name] <= expected + cap + 1 + step


@pytest.mark.pure
def test_the_three_second_ohlcv_share_no_longer_truncates_to_zero():
    # GeckoTerminal 30/min at REFRESH_SECONDS=3: 1.5 calls a refresh, 0.3 of them for OHLCV.
    made = simulate(30, {"tokens": 0.8, "ohlcv": 0.2}, 3.0, 600)
    assert made["ohlcv"] >= 55 and made["tokens"] >= 235
    assert sum(made.values()) <= 30 * 10 + 3


@pytest.mark.pure
def test_a_bucket_never_holds_more_than_its_capacity():
    purposes = [Purpose("x", 0.5)]
    levels = accrue({}, purposes, 60, 3600, 10)
    assert levels["x"] == capacity(0.5, 10) == 11.0
    assert accrue({"x": 0.0}, purposes, 60, -5, 10)["x"] == 0.0  # clocks going back earn nothing


@pytest.mark.pure
def test_a_share_read_from_a_setting_is_read_each_time():
    value = {"share": 0.1}
    purpose = Purpose("ohlcv", lambda: value["share"])
    assert purpose.current_share() == 0.1
    value["share"] = 7.0
    assert purpose.current_share() == 1.0  # clamped to 0..1


def test_unused_calls_go_to_the_next_purpose_and_the_buckets_persist_in_redis(settings):
    settings.REFRESH_SECONDS = 10
    purposes = [Purpose("first", 0.5), Purpose("second", 0.5), Purpose("spare-only", 0.0)]
    shares = Shares("testsource", purposes, 60, now=1000.0)
    assert shares.available("first") == 11  # a new bucket starts full: 1 + two refreshes' worth
    shares.spent("first", 11, 3)  # it had little to do: 8 calls are spare
    assert shares.available("second") == 11 + 8
    shares.spent("second", 19, 15)  # 11 of its own, 4 borrowed from the first's bucket
    assert shares.available("spare-only") == 4  # a share of 0 gets what the others left
    shares.spent("spare-only", 4, 4)
    shares.save()
    later = Shares("testsource", purposes, 60, now=1005.0)  # five seconds later: 2.5 calls earned each
    assert later.levels["first"] == pytest.approx(11 - 3 - 4 - 4 + 2.5)
    assert later.levels["second"] == pytest.approx(0 + 2.5)
    assert later.levels["spare-only"] == 0.0


def test_the_first_purpose_borrows_one_call_while_its_debt_is_under_a_bucket(settings):
    settings.REFRESH_SECONDS = 10
    purposes = [Purpose("first", 0.5), Purpose("second", 0.5)]
    shares = Shares("testsource", purposes, 60, now=1000.0)
    shares.charge("first", 11 + 5)  # a discovery burst: five calls of debt
    shares.charge("second", 11)
    assert shares.available("first") == 1  # progress every refresh
    shares.spent("first", 1, 1)
    assert shares.available("second") == 0  # only the first purpose borrows
    shares.charge("first", 10)  # debt of 16 > capacity 11: no more borrowing
    assert shares.available("first") == 0
