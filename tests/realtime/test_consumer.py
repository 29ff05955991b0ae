"""Tests of realtime/consumers.py with WebsocketCommunicator on the real channel layer and Redis."""

from __future__ import annotations

import asyncio

import pytest

from realtime import eventlog
from tests.factories import event_snapshot, event_token, mint, moved
from tokens.infra import redis_clients

A, B, C = mint(1), mint(2), mint(3)


def universe():
    return [event_token(A, price=1.0), event_token(B, price=2.0), event_token(C, price=3.0)]


async def seeded(commit):
    """A first refresh (3 token.added, seqs 1-3) and the snapshot it made."""
    first = event_snapshot(universe())
    await commit(None, first)
    return first


def moved_snapshot(previous, **prices):
    """`previous` with A/B/C moved to the given prices (keyword a/b/c)."""
    mints = {"a": A, "b": B, "c": C}
    tokens = [
        moved(t, price=prices[k]) if (k := next(k for k, m in mints.items() if m == mint_)) in prices else t
        for mint_, t in previous.tokens.items()
    ]
    return event_snapshot(tokens)


async def frames(comm, timeout=1.0):
    """Every frame received until `timeout` passes with nothing new (receive_nothing, because a
    receive timeout would cancel the application)."""
    out = []
    while not await comm.receive_nothing(timeout=timeout, interval=0.01):
        out.append(await comm.receive_json_from(timeout=5))
    return out


def events_of(received):
    return [e for f in received if f["type"] == "batch" for e in f["events"]]


async def test_welcome_carries_the_current_seq(ws, commit):
    await seeded(commit)
    client = await ws()
    assert client.welcome == {"type": "welcome", "seq": 3}


async def test_subscribe_all_gets_snapshot_then_update_and_price_change(ws, commit):
    first = await seeded(commit)
    client = await ws()
    await client.send_json_to({"action": "subscribe", "all": True})
    snap = await client.receive_json_from(timeout=5)
    assert snap["type"] == "snapshot" and snap["seq"] == 3
    assert sorted(t["token_address"] for t in snap["tokens"]) == sorted([A, B, C])
    await commit(first, moved_snapshot(first, a=1.10))
    (batch,) = await frames(client)
    assert batch["type"] == "batch"
    assert [(e["type"], e["seq"]) for e in batch["events"]] == [
        ("token.update", 4),
        ("token.price_change", 5),
    ]
    update, alert = batch["events"]
    assert update["changes"]["price_usd"] == [1.0, 1.10]
    assert alert["change_pct"] == pytest.approx(10.0) and alert["price_usd"] == 1.10
    assert "token" not in alert  # docs/api.md §4: the `all` subscriber holds the token already


async def test_three_percent_move_is_an_update_without_alert(ws, commit):
    first = await seeded(commit)
    client = await ws()
    await client.send_json_to({"action": "subscribe", "all": True})
    await client.receive_json_from(timeout=5)
    await commit(first, moved_snapshot(first, a=1.03))
    assert [e["type"] for e in events_of(await frames(client))] == ["token.update"]


async def test_token_subscriptions_get_only_their_tokens_in_one_frame(ws, commit):
    first = await seeded(commit)
    client = await ws()
    untracked = mint(77)
    await client.send_json_to({"action": "subscribe", "tokens": [A, B, untracked]})
    snap = await client.receive_json_from(timeout=5)
    assert sorted(t["token_address"] for t in snap["tokens"]) == sorted([A, B])  # tracked ones only
    second = moved_snapshot(first, a=1.10, b=2.02, c=3.5)
    await commit(first, second)
    received = await frames(client)
    assert len(received) == 1  # A's and B's events of one refresh share a frame
    assert [(e["type"], e["token_address"]) for e in events_of(received)] == [
        ("token.update", A),
        ("token.price_change", A),
        ("token.update", B),
    ]
    # the untracked mint's events start when it appears
    await commit(second, event_snapshot([*second.tokens.values(), event_token(untracked)]))
    assert [(e["type"], e["token_address"]) for e in events_of(await frames(client))] == [
        ("token.added", untracked)
    ]


async def test_unsubscribe_stops_events(ws, commit):
    first = await seeded(commit)
    client = await ws()
    await client.send_json_to({"action": "subscribe", "tokens": [A, B]})
    await client.receive_json_from(timeout=5)
    await client.send_json_to({"action": "unsubscribe", "tokens": [A]})
    await commit(first, moved_snapshot(first, a=1.5, b=2.5))
    assert {e["token_address"] for e in events_of(await frames(client))} == {B}
    await client.send_json_to({"action": "subscribe", "all": True})
    await client.receive_json_from(timeout=5)
    await client.send_json_to({"action": "unsubscribe", "all": True})
    third = event_snapshot([moved(t, price=9.0) for t in first.tokens.values()])
    await commit(first, third)
    assert {e["token_address"] for e in events_of(await frames(client))} == {B}  # back to its tokens


async def test_alerts_subscription_receives_only_alerts(ws, commit):
    first = await seeded(commit)
    client = await ws()
    await client.send_json_to({"action": "subscribe", "alerts": True})
    snap = await client.receive_json_from(timeout=5)
    assert snap == {"type": "snapshot", "seq": 3, "tokens": []}
    await commit(first, moved_snapshot(first, a=1.10, b=2.02))
    assert [(e["type"], e["token_address"]) for e in events_of(await frames(client))] == [
        ("token.price_change", A)
    ]


async def test_overlapping_subscriptions_never_duplicate(ws, commit):
    first = await seeded(commit)
    client = await ws()
    await client.send_json_to({"action": "subscribe", "alerts": True, "tokens": [A]})
    await client.receive_json_from(timeout=5)
    second = moved_snapshot(first, a=1.10, b=2.5)
    await commit(first, second)
    got = events_of(await frames(client))
    assert sorted(e["seq"] for e in got) == [4, 5, 7]  # A update, A alert, B alert (not B update)
    await client.send_json_to({"action": "subscribe", "all": True})
    await client.receive_json_from(timeout=5)
    await commit(second, moved_snapshot(second, a=1.5, b=3.0))
    got = events_of(await frames(client))
    seqs = [e["seq"] for e in got]
    assert seqs == sorted(set(seqs)) == list(range(8, 12))


async def test_resume_replays_exactly_the_missed_events(ws, commit):
    first = await seeded(commit)
    second = moved_snapshot(first, a=1.10)
    await commit(first, second)  # 4, 5
    await commit(second, moved_snapshot(second, b=2.5))  # 6, 7
    client = await ws()
    await client.send_json_to({"action": "subscribe", "all": True})
    await client.receive_json_from(timeout=5)
    await client.send_json_to({"action": "resume", "since": 2})
    assert [e["seq"] for e in events_of(await frames(client))] == [3, 4, 5, 6, 7]


async def test_resume_filters_by_subscription_and_precedes_live_events(ws, commit):
    first = await seeded(commit)
    second = moved_snapshot(first, a=1.10, b=2.5)
    await commit(first, second)  # 4 A update, 5 A alert, 6 B update, 7 B alert
    client = await ws()
    await client.send_json_to({"action": "subscribe", "tokens": [B]})
    await client.receive_json_from(timeout=5)
    await client.send_json_to({"action": "resume", "since": 0})
    live = asyncio.create_task(commit(second, moved_snapshot(second, a=2.0, b=5.0)))  # 8..11
    received = await frames(client)
    await live
    seqs = [e["seq"] for e in events_of(received)]
    assert seqs == [2, 6, 7, 10, 11]  # B only, replay first, nothing twice


async def test_live_events_already_replayed_are_dropped(ws, commit):
    first = await seeded(commit)
    client = await ws()
    await client.send_json_to({"action": "subscribe", "all": True})
    await client.receive_json_from(timeout=5)
    consumer_sees_late = asyncio.create_task(commit(first, moved_snapshot(first, a=1.10)))
    await client.send_json_to({"action": "resume", "since": 0})
    await consumer_sees_late
    seqs = [e["seq"] for e in events_of(await frames(client))]
    assert seqs == sorted(set(seqs)) == [1, 2, 3, 4, 5]


async def test_resume_after_trimming_requires_resync(ws, commit, settings, monkeypatch):
    settings.EVENT_LOG_SECONDS = 1
    monkeypatch.setattr(eventlog, "EVENT_LOG_MIN_SECONDS", 0)
    first = await seeded(commit)
    await asyncio.sleep(1.1)
    await commit(first, moved_snapshot(first, a=1.10))  # trims seqs 1-3
    client = await ws()
    await client.send_json_to({"action": "subscribe", "all": True})
    await client.receive_json_from(timeout=5)
    await client.send_json_to({"action": "resume", "since": 1})
    assert await client.receive_json_from(timeout=5) == {"type": "resync_required", "seq": 5}
    await client.send_json_to({"action": "resume", "since": 3})  # still kept: 4, 5
    assert [e["seq"] for e in events_of(await frames(client))] == [4, 5]


async def test_resume_ahead_of_the_current_seq_requires_resync(ws, commit):
    await seeded(commit)
    client = await ws()
    await client.send_json_to({"action": "resume", "since": 99})
    assert await client.receive_json_from(timeout=5) == {"type": "resync_required", "seq": 3}
    await client.send_json_to({"action": "resume", "since": 3})
    assert await frames(client, timeout=0.3) == []


async def test_ping(ws):
    client = await ws()
    await client.send_json_to({"action": "ping"})
    assert await client.receive_json_from(timeout=5) == {"type": "pong"}


BAD_FRAMES = [
    ("{not json", "invalid_json"),
    ("[1, 2]", "bad_request"),
    ('{"action": "dance"}', "unknown_action"),
    ("{}", "unknown_action"),
    ('{"action": "subscribe"}', "bad_request"),
    ('{"action": "subscribe", "all": "yes"}', "bad_request"),
    ('{"action": "subscribe", "tokens": "abc"}', "bad_request"),
    ('{"action": "subscribe", "tokens": ["not-a-mint"]}', "invalid_mint"),
    ('{"action": "subscribe", "tokens": ["0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl"]}', "invalid_mint"),
    ('{"action": "subscribe", "tokens": ["11111111111111111111111111111111111"]}', "invalid_mint"),
    ('{"action": "resume", "since": -1}', "bad_request"),
    ('{"action": "resume", "since": "5"}', "bad_request"),
    ('{"action": "resume"}', "bad_request"),
    ('{"action": "subscribe", "all": true, "pad": "' + "x" * 70_000 + '"}', "message_too_large"),
]


@pytest.mark.parametrize(("text", "code"), BAD_FRAMES)
async def test_bad_frames_get_an_error_and_the_connection_stays_usable(ws, commit, text, code):
    first = await seeded(commit)
    client, bystander = await ws(), await ws()
    await bystander.send_json_to({"action": "subscribe", "all": True})
    await bystander.receive_json_from(timeout=5)
    await client.send_to(text_data=text)
    error = await client.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == code and error["message"]
    await client.send_json_to({"action": "subscribe", "all": True})
    assert (await client.receive_json_from(timeout=5))["type"] == "snapshot"
    await commit(first, moved_snapshot(first, a=1.10))
    assert [e["seq"] for e in events_of(await frames(client))] == [4, 5]
    assert [e["seq"] for e in events_of(await frames(bystander, timeout=0.2))] == [4, 5]  # saw nothing else


async def test_binary_frame_is_an_error(ws):
    client = await ws()
    await client.send_to(bytes_data=b"\x00\x01")
    assert (await client.receive_json_from(timeout=5))["code"] == "bad_request"
    await client.send_json_to({"action": "ping"})
    assert await client.receive_json_from(timeout=5) == {"type": "pong"}


async def test_at_most_500_token_subscriptions(ws):
    client = await ws()
    await client.send_json_to({"action": "subscribe", "tokens": [mint(i) for i in range(400)]})
    assert (await client.receive_json_from(timeout=10))["type"] == "snapshot"
    await client.send_json_to({"action": "subscribe", "tokens": [mint(i) for i in range(300, 650)]})
    error = await client.receive_json_from(timeout=5)
    assert error["code"] == "too_many_subscriptions"
    await client.send_json_to({"action": "subscribe", "tokens": [mint(i) for i in range(300, 500)]})
    assert (await client.receive_json_from(timeout=10))["type"] == "snapshot"  # exactly 500 is fine
    await client.send_json_to({"action": "subscribe", "tokens": [mint(i) for i in range(501)]})
    assert (await client.receive_json_from(timeout=5))["code"] == "too_many_subscriptions"


@pytest.mark.parametrize("origin", [b"http://evil.example", b"https://testserver.evil.example", None])
async def test_foreign_or_missing_origin_is_refused(ws, origin):
    client = await ws(origin=origin, expect_welcome=False)
    assert client.connected is False


async def test_disconnect_leaves_every_group(ws, commit):
    from channels.layers import get_channel_layer

    from realtime.relay import group_relay

    await seeded(commit)
    client, other = await ws(), await ws()
    await client.send_json_to({"action": "subscribe", "alerts": True, "tokens": [A, B]})
    await client.receive_json_from(timeout=5)
    await other.send_json_to({"action": "subscribe", "tokens": [A]})
    await other.receive_json_from(timeout=5)
    relay = group_relay()
    groups = ("tokens.alerts", f"token.{A}", f"token.{B}")
    assert all(g in relay.members for g in groups)
    await client.disconnect(timeout=0.3)
    await asyncio.sleep(0.2)  # the last member out leaves the layer's group in the background
    # still wanted by the other connection (and the end marker of refreshes, for its frame)
    assert set(relay.members) == {f"token.{A}", "tokens.refreshed"}
    layer = get_channel_layer()
    redis = redis_clients.pooled_async_client()
    assert await redis.zrange(layer._group_key(f"token.{A}"), 0, -1) == [relay.channel.encode()]
    for group in ("tokens.alerts", f"token.{B}"):
        assert await redis.zrange(layer._group_key(group), 0, -1) == []


async def test_redis_down_gives_an_error_frame_not_a_crash(ws, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    client = await ws()

    async def broken():
        raise RedisConnectionError("down")

    monkeypatch.setattr(eventlog, "current_seq", broken)
    await client.send_json_to({"action": "resume", "since": 1})
    assert (await client.receive_json_from(timeout=5))["code"] == "unavailable"
    await client.send_json_to({"action": "ping"})
    assert await client.receive_json_from(timeout=5) == {"type": "pong"}


async def test_a_subscribe_redis_failed_gets_no_batch_before_the_snapshot_of_its_retry(
    ws, commit, monkeypatch
):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from realtime import consumers

    first = await seeded(commit)
    client = await ws()
    read = consumers.snapshot_tokens_json

    def broken(mints):
        raise RedisConnectionError("down")

    monkeypatch.setattr(consumers, "snapshot_tokens_json", broken)
    await client.send_json_to({"action": "subscribe", "tokens": [A]})
    assert (await client.receive_json_from(timeout=5))["code"] == "unavailable"
    second = moved_snapshot(first, a=1.5)
    await commit(first, second)
    assert await frames(client) == []  # no snapshot yet, so no events to apply to it
    monkeypatch.setattr(consumers, "snapshot_tokens_json", read)
    await client.send_json_to({"action": "subscribe", "tokens": [A]})
    snap = await client.receive_json_from(timeout=5)
    assert snap["type"] == "snapshot" and [t["price_usd"] for t in snap["tokens"]] == [1.5]
    await commit(second, moved_snapshot(second, a=1.6))
    events = events_of(await frames(client))
    assert events and all(e["seq"] > snap["seq"] and e["token_address"] == A for e in events)


def figures(value):
    """Every float anywhere in a decoded frame."""
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from figures(v)
    elif isinstance(value, list):
        for v in value:
            yield from figures(v)


async def test_all_batches_leave_the_alerts_token_out_the_others_get_it_with_ten_digits(ws, commit):
    from tests.realtime.test_wire import significant_digits

    first = event_snapshot([event_token(A, price=1.2345678901234567), event_token(B, price=2.0)])
    await commit(None, first)
    everything, alerts_only, one_token = await ws(), await ws(), await ws()
    await everything.send_json_to({"action": "subscribe", "all": True})
    await alerts_only.send_json_to({"action": "subscribe", "alerts": True})
    await one_token.send_json_to({"action": "subscribe", "tokens": [A]})
    snapshots = [await c.receive_json_from(timeout=5) for c in (everything, alerts_only, one_token)]
    await commit(first, event_snapshot([moved(first.tokens[A], price=1.3581234567890123), first.tokens[B]]))
    received = {
        name: events_of(await frames(c))
        for name, c in [("all", everything), ("alerts", alerts_only), ("token", one_token)]
    }
    alert_of = {
        name: next(e for e in events if e["type"] == "token.price_change")
        for name, events in received.items()
    }
    assert "token" not in alert_of["all"]
    assert alert_of["alerts"]["token"]["price_usd"] == alert_of["token"]["token"]["price_usd"] == 1.358123457
    assert {k: v for k, v in alert_of["alerts"].items() if k != "token"} == alert_of["all"]
    update = next(e for e in received["all"] if e["type"] == "token.update")
    assert update["changes"]["price_usd"] == [1.23456789, 1.358123457]
    shown = list(figures(snapshots)) + [f for events in received.values() for f in figures(events)]
    assert shown and all(significant_digits(f) <= 10 for f in shown)


async def test_resume_on_all_replays_alerts_without_their_token(ws, commit):
    first = await seeded(commit)
    client = await ws()
    await client.send_json_to({"action": "subscribe", "all": True})
    await client.receive_json_from(timeout=5)
    await commit(first, moved_snapshot(first, a=1.10))
    await frames(client)
    await client.send_json_to({"action": "resume", "since": 3})
    events = events_of(await frames(client))
    assert [e["type"] for e in events] == ["token.update", "token.price_change"]
    assert "token" not in events[1]
    other = await ws()
    await other.send_json_to({"action": "subscribe", "alerts": True})
    await other.receive_json_from(timeout=5)
    await other.send_json_to({"action": "resume", "since": 3})
    (replayed,) = events_of(await frames(other))
    assert replayed["type"] == "token.price_change" and replayed["token"]["token_address"] == A


async def test_a_subscribe_between_the_pointer_flip_and_the_events_waits_for_the_snapshots_seq(ws, commit):
    """The merge makes a snapshot current a moment before it logs that snapshot's events: the
    `snapshot` frame must carry the seq of those events, and none of them may follow it."""
    from realtime.events import Thresholds
    from realtime.publish import publish_changes
    from tokens.store import snapshots

    first = await seeded(commit)
    second = moved_snapshot(first, a=1.10)
    await asyncio.to_thread(snapshots.publish_snapshot, second)  # flipped; its events not logged yet
    client = await ws()
    await client.send_json_to({"action": "subscribe", "all": True})
    await asyncio.sleep(0.3)
    assert await client.receive_nothing(timeout=0.1)  # waiting for the snapshot's mark
    await asyncio.to_thread(publish_changes, first, second, Thresholds())  # seqs 4, 5
    snap = await client.receive_json_from(timeout=5)
    assert snap["type"] == "snapshot" and snap["seq"] == 5
    assert next(t for t in snap["tokens"] if t["token_address"] == A)["price_usd"] == 1.10
    assert events_of(await frames(client)) == []
    await commit(second, moved_snapshot(second, a=1.2))
    assert [e["seq"] for e in events_of(await frames(client))] == [6, 7]
