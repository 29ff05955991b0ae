"""The WebSocket `candles` subscription (realtime/candle_feed.py): frames, errors, live `candle` frames.

Real channel layer, Redis and database (transactional: the consumer reads in its own thread).
"""

from __future__ import annotations

import time

import pytest
from asgiref.sync import sync_to_async

from realtime.candle_feed import MAX_CANDLE_TOKENS, changed_mints, publish_open_candles
from tests.factories import make_snapshot, make_token, mint_for
from tokens.history import store

pytestmark = [pytest.mark.database, pytest.mark.django_db(transaction=True)]

A = mint_for(1)


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    """The database connections these tests open in worker threads end with the test (a later test
    without database access must not find one open)."""
    yield
    from django.db import connections

    # the consumer's reads and these writes ran in asgiref's shared executor threads
    for _ in range(8):
        await sync_to_async(connections.close_all, thread_sensitive=False)()
    await sync_to_async(connections.close_all)()


def write(snapshot_id: int, at: float, price: float, previous=None):
    snap = make_snapshot([make_token(1, price_usd=price)], snapshot_id=snapshot_id, generated_at=at)
    stored = store.record_snapshot(snap)
    publish_open_candles(previous, snap, stored)
    return snap


async def next_frame(comm, timeout=5.0):
    return await comm.receive_json_from(timeout=timeout)


async def test_subscribe_gets_the_newest_candles_then_live_candle_frames(ws):
    start = time.time() - 600
    snaps = [
        await sync_to_async(write, thread_sensitive=False)(i + 1, start + 60 * i, 1.0 + i) for i in range(5)
    ]
    comm = await ws()
    await comm.send_json_to({"action": "subscribe", "candles": {"tokens": [A], "interval": "1m"}})
    frame = await next_frame(comm)
    assert frame["type"] == "candles" and frame["token_address"] == A and frame["interval"] == "1m"
    assert [c["close"] for c in frame["candles"]] == [1.0, 2.0, 3.0, 4.0, 5.0]
    # a price move lands: the open candle changes and one `candle` frame says so
    now = time.time()
    await sync_to_async(write, thread_sensitive=False)(6, now, 9.0, snaps[-1])
    live = await next_frame(comm)
    assert live["type"] == "candle" and live["interval"] == "1m" and live["token_address"] == A
    assert live["candle"]["close"] == 9.0 and live["candle"]["t"] == int(now // 60) * 60
    # a snapshot that changes nothing sends nothing
    same = make_snapshot([make_token(1, price_usd=9.0)], snapshot_id=7, generated_at=now + 0.1)
    await sync_to_async(publish_open_candles, thread_sensitive=False)(
        None, same, await sync_to_async(store.record_snapshot, thread_sensitive=False)(same)
    )
    assert await comm.receive_nothing(timeout=0.5)


async def test_longer_intervals_and_unsubscribe(ws):
    now = time.time()
    first = await sync_to_async(write, thread_sensitive=False)(1, now - 1, 2.0)
    comm = await ws()
    await comm.send_json_to({"action": "subscribe", "candles": {"tokens": [A], "interval": "1h"}})
    frame = await next_frame(comm)
    assert frame["interval"] == "1h" and frame["candles"][-1]["close"] == 2.0
    await sync_to_async(write, thread_sensitive=False)(2, now, 0.5, first)
    live = await next_frame(comm)
    assert live["interval"] == "1h" and (live["candle"]["low"], live["candle"]["close"]) == (0.5, 0.5)
    assert live["candle"]["open"] == frame["candles"][-1]["open"]
    await comm.send_json_to({"action": "unsubscribe", "candles": {"tokens": [A], "interval": "1h"}})
    await comm.send_json_to({"action": "ping"})
    assert (await next_frame(comm))["type"] == "pong"
    await sync_to_async(write, thread_sensitive=False)(3, now + 0.2, 7.0)
    assert await comm.receive_nothing(timeout=0.5)


@pytest.mark.parametrize(
    ("candles", "code"),
    [
        ({"tokens": [A], "interval": "2m"}, "bad_request"),
        ({"tokens": [A], "interval": 5}, "bad_request"),
        (
            {"tokens": [mint_for(i) for i in range(MAX_CANDLE_TOKENS + 1)], "interval": "1m"},
            "too_many_subscriptions",
        ),
        ({"tokens": ["not-a-mint"], "interval": "1m"}, "invalid_mint"),
        ({"tokens": [], "interval": "1m"}, "bad_request"),
        ("all", "bad_request"),
    ],
)
async def test_bad_candle_subscriptions_get_an_error_frame_and_the_connection_stays(ws, candles, code):
    comm = await ws()
    await comm.send_json_to({"action": "subscribe", "candles": candles})
    frame = await next_frame(comm)
    assert frame["type"] == "error" and frame["code"] == code, frame
    await comm.send_json_to({"action": "ping"})
    assert (await next_frame(comm))["type"] == "pong"


async def test_at_most_twenty_tokens_over_several_subscribes(ws):
    comm = await ws()
    tokens = [mint_for(i) for i in range(MAX_CANDLE_TOKENS)]
    await comm.send_json_to({"action": "subscribe", "candles": {"tokens": tokens, "interval": "5m"}})
    got = [await next_frame(comm) for _ in tokens]
    assert [f["type"] for f in got] == ["candles"] * MAX_CANDLE_TOKENS and all(
        f["candles"] == [] for f in got
    )
    await comm.send_json_to({"action": "subscribe", "candles": {"tokens": [mint_for(99)], "interval": "5m"}})
    frame = await next_frame(comm)
    assert frame["type"] == "error" and frame["code"] == "too_many_subscriptions"


@pytest.mark.pure
def test_changed_mints_only_when_a_figure_moved_or_a_minute_opened():
    t = 1_796_169_600
    a = make_snapshot([make_token(1, price_usd=1.0), make_token(2, price_usd=2.0)], generated_at=t + 1)
    b = make_snapshot([make_token(1, price_usd=1.5), make_token(2, price_usd=2.0)], generated_at=t + 2)
    c = make_snapshot([make_token(1, price_usd=1.5), make_token(2, price_usd=2.0)], generated_at=t + 61)
    assert changed_mints(a, b) == {mint_for(1)}
    assert changed_mints(b, c) == {mint_for(1), mint_for(2)}
    assert changed_mints(None, a) == {mint_for(1), mint_for(2)}
