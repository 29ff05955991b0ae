"""Tests of tokens/ingest/http.py's policy: Retry-After parsing, the retry wait, when to stop retrying."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tenacity import RetryCallState, Retrying

from tokens.ingest.http import RateLimited, SourceClient, TransientError, _Wait, parse_retry_after

pytestmark = pytest.mark.pure


# --- parse_retry_after ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), (" 7 ", 7.0), ("0", 0.0), ("1.5", 1.5), ("-3", 0.0)],
)
def test_delta_seconds(value, seconds):
    assert parse_retry_after(value) == seconds


@pytest.mark.parametrize("value", [None, "", "soon", "Mon, 99 Foo 2026", "12s"])
def test_absent_or_unreadable_is_none(value):
    assert parse_retry_after(value) is None


def test_http_date_counts_from_now():
    now = 1_790_000_000.0
    when = format_datetime(datetime.fromtimestamp(now + 45, UTC), usegmt=True)
    assert parse_retry_after(when, now=now) == pytest.approx(45.0)


def test_http_date_in_the_past_is_zero():
    now = 1_790_000_000.0
    when = format_datetime(datetime.fromtimestamp(now - 600, UTC), usegmt=True)
    assert parse_retry_after(when, now=now) == 0.0


@given(st.integers(min_value=0, max_value=10**7))
def test_any_delta_round_trips(n):
    assert parse_retry_after(str(n)) == float(n)


@pytest.mark.parametrize("text", ["NaN", "nan", "inf", "-Infinity", "1e999"])
def test_non_finite_is_unreadable(text):
    assert parse_retry_after(text) is None


@given(st.text(max_size=30))
def test_never_raises_and_never_negative(text):
    seconds = parse_retry_after(text, now=1_790_000_000.0)
    assert seconds is None or seconds >= 0.0


# --- the wait between attempts and when to stop ---------------------------------------------------


def _state(attempt: int, exc: BaseException, elapsed: float = 0.0) -> RetryCallState:
    """The state tenacity hands to wait/stop after attempt number `attempt` raised `exc`."""
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.start_time = time.monotonic() - elapsed
    state.set_exception((type(exc), exc, None))
    state.outcome_timestamp = state.start_time + elapsed
    return state


@given(st.integers(min_value=1, max_value=30))
def test_backoff_is_jittered_below_its_exponential_cap(attempt):
    wait = _Wait(base=0.5, cap=8.0)(_state(attempt, TransientError("jupiter", "HTTP 502")))
    assert 0.0 <= wait <= min(8.0, 0.5 * 2 ** (attempt - 1))


@given(st.floats(min_value=0.0, max_value=120.0), st.integers(min_value=1, max_value=5))
def test_a_429_waits_at_least_its_retry_after(retry_after, attempt):
    wait = _Wait()(_state(attempt, RateLimited("dexscreener", retry_after)))
    assert retry_after <= wait <= retry_after + 0.25


def _client(**kwargs) -> SourceClient:
    return SourceClient("dexscreener", "http://127.0.0.1:9", **kwargs)


def test_stops_after_max_attempts():
    client = _client(max_attempts=3, deadline=60.0)
    error = TransientError("dexscreener", "HTTP 503")
    assert not client._should_stop(_state(1, error))
    assert not client._should_stop(_state(2, error))
    assert client._should_stop(_state(3, error))


def test_stops_when_a_retry_after_would_pass_the_deadline():
    client = _client(max_attempts=5, deadline=25.0)
    assert not client._should_stop(_state(1, RateLimited("dexscreener", 20.0), elapsed=2.0))
    assert client._should_stop(_state(1, RateLimited("dexscreener", 30.0), elapsed=0.0))
    assert client._should_stop(_state(2, RateLimited("dexscreener", 5.0), elapsed=21.0))


def test_stops_once_the_deadline_has_passed_even_without_a_retry_after():
    client = _client(max_attempts=5, deadline=10.0)
    assert client._should_stop(_state(2, TransientError("dexscreener", "timeout"), elapsed=10.5))
    assert not client._should_stop(_state(2, TransientError("dexscreener", "timeout"), elapsed=9.0))
