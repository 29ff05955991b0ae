"""End to end: a real daphne process, real WebSocket clients (websockets), real Redis and layer."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.factories import event_snapshot, event_token, mint, moved
from tests.realtime.conftest import commit_sync

A, B = mint(1), mint(2)


@contextlib.asynccontextmanager
async def client(server, **kwargs):
    async with connect(f"{server.url}/ws/tokens/", origin=server.origin, max_size=None, **kwargs) as conn:
        welcome = orjson.loads(await asyncio.wait_for(conn.recv(), 5))
        assert welcome["type"] == "welcome"
        conn.welcome = welcome
        yield conn


async def recv(conn, timeout=5.0):
    return orjson.loads(await asyncio.wait_for(conn.recv(), timeout))


async def send(conn, payload):
    await conn.send(orjson.dumps(payload).decode())


async def events_until(conn, last_seq, timeout=10.0):
    """Batch events until the one with seq `last_seq` has arrived."""
    events = []
    async with asyncio.timeout(timeout):
        while not events or events[-1]["seq"] < last_seq:
            frame = await recv(conn, timeout)
            assert frame["type"] == "batch", frame
            events.extend(frame["events"])
    return events


async def commit(previous, current):
    return await asyncio.to_thread(commit_sync, previous, current)


async def subscribed_all(conn):
    await send(conn, {"action": "subscribe", "all": True})
    snapshot = await recv(conn)
    assert snapshot["type"] == "snapshot"
    return snapshot


async def test_price_move_reaches_a_real_client(daphne_server):
    first = event_snapshot([event_token(A, price=1.0), event_token(B)])
    await commit(None, first)
    async with client(daphne_server) as conn:
        assert conn.welcome["seq"] == 2
        snapshot = await subscribed_all(conn)
        assert {t["token_address"] for t in snapshot["tokens"]} == {A, B}
        await commit(first, event_snapshot([moved(first.tokens[A], price=1.10), first.tokens[B]]))
        events = await events_until(conn, 4)
    assert [(e["type"], e["seq"]) for e in events] == [("token.update", 3), ("token.price_change", 4)]
    assert events[1]["change_pct"] == pytest.approx(10.0)


async def test_foreign_origin_is_refused_during_the_handshake(daphne_server):
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{daphne_server.url}/ws/tokens/", origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403


async def test_reconnect_and_resume_gets_exactly_what_was_missed(daphne_server):
    snaps = [event_snapshot([event_token(A, price=1.0)])]
    await commit(None, snaps[0])
    async with client(daphne_server) as conn:
        await subscribed_all(conn)
        snaps.append(event_snapshot([moved(snaps[-1].tokens[A], price=1.2)]))
        await commit(snaps[-2], snaps[-1])
        seen = await events_until(conn, 3)
    last_seen = seen[-1]["seq"]
    for price in (1.5, 1.6):  # missed while away: 4, 5 (alert), 6, 7 (alert)
        snaps.append(event_snapshot([moved(snaps[-1].tokens[A], price=price)]))
        await commit(snaps[-2], snaps[-1])
    async with client(daphne_server) as conn:
        await subscribed_all(conn)
        await send(conn, {"action": "resume", "since": last_seen})
        replayed = await events_until(conn, 7)
        snaps.append(event_snapshot([moved(snaps[-1].tokens[A], price=1.61)]))
        await commit(snaps[-2], snaps[-1])
        live = await events_until(conn, 8)
    assert [e["seq"] for e in replayed] == [4, 5, 6, 7]
    assert [e["seq"] for e in live] == [8]


async def test_bad_frames_leave_the_connection_and_the_others_working(daphne_server):
    first = event_snapshot([event_token(A, price=1.0)])
    await commit(None, first)
    async with client(daphne_server) as bad, client(daphne_server) as good:
        await subscribed_all(good)
        for frame, code in [
            ("{oops", "invalid_json"),
            ('{"action": "fly"}', "unknown_action"),
            ('{"action": "subscribe", "tokens": ["xyz"]}', "invalid_mint"),
            ("x" * 70_000, "message_too_large"),
        ]:
            await bad.send(frame)
            assert (await recv(bad))["code"] == code
        await bad.send(b"\x00binary")
        assert (await recv(bad))["code"] == "bad_request"
        await subscribed_all(bad)
        await commit(first, event_snapshot([moved(first.tokens[A], price=1.01)]))
        assert [e["seq"] for e in await events_until(good, 2)] == [2]
        assert [e["seq"] for e in await events_until(bad, 2)] == [2]


async def test_frame_over_the_server_limit_closes_only_that_client(daphne_server):
    async with client(daphne_server) as huge, client(daphne_server) as other:
        # The server may close while the 2 MB are still being sent: then the send itself fails.
        with pytest.raises(ConnectionClosed) as closed:
            await huge.send("x" * (2 * 1024 * 1024))
            await recv(huge)
        assert closed.value.rcvd is None or closed.value.rcvd.code == 1009
        await send(other, {"action": "ping"})
        assert await recv(other) == {"type": "pong"}


def tiny_receive_buffer_socket(server) -> socket.socket:
    host, port = server.url.removeprefix("ws://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    return sock


def churn(i: int):
    """Alternating universes of 300 tokens: each refresh is 300 token.added + 300 token.removed."""
    base = 1000 + (i % 2) * 300
    return event_snapshot([event_token(mint(base + k), name="N" * 200) for k in range(300)])


@pytest.mark.slow
async def test_a_client_that_stops_reading_is_closed_and_the_others_lose_nothing(daphne_server):
    previous = churn(0)
    await commit(None, previous)
    async with (
        client(daphne_server, sock=tiny_receive_buffer_socket(daphne_server), max_queue=1) as slow,
        client(daphne_server) as fast,
    ):
        await send(slow, {"action": "subscribe", "all": True})
        await subscribed_all(fast)
        received = []
        last = 300
        for i in range(1, 40):  # ~200 KB per refresh
            current = churn(i)
            events = await commit(previous, current)
            previous, last = current, events[-1]["seq"]
            received += await events_until(fast, last)
            if slow.state.name == "CLOSED" or "closing slow WebSocket client" in daphne_server.log():
                break
        assert "closing slow WebSocket client" in daphne_server.log()
        assert [e["seq"] for e in received] == list(range(301, last + 1))  # nothing lost, no duplicates
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(30):
                while True:
                    await slow.recv()
        code = closed.value.rcvd.code if closed.value.rcvd else None
        assert code in (4008, None)  # the close frame, unless the server had to drop the socket


@pytest.mark.slow
async def test_an_idle_connection_still_gets_the_next_refresh(daphne_server):
    """The layer's receive loop idles in BZPOPMIN for 5 s at a time; it must not die of it."""
    first = event_snapshot([event_token(A, price=1.0)])
    await commit(None, first)
    async with client(daphne_server) as conn:
        await subscribed_all(conn)
        await asyncio.sleep(12)
        await commit(first, event_snapshot([moved(first.tokens[A], price=1.2)]))
        assert [e["seq"] for e in await events_until(conn, 3)] == [2, 3]
    assert "Exception inside application" not in daphne_server.log()
    assert "relay receive failed" not in daphne_server.log()
