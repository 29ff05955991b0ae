"""The whole path: replay upstream -> real refresh tasks and merge -> publish -> daphne -> WebSocket client."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from websockets.asyncio.client import connect

from tests.integration.conftest import replay, replay_server, run_refreshes  # noqa: F401 - fixtures
from tokens.records import SOURCES
from tokens.store import snapshots

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


async def next_events(conn, timeout):
    frame = orjson.loads(await asyncio.wait_for(conn.recv(), timeout))
    assert frame["type"] == "batch", frame
    return frame["events"]


async def test_a_ten_percent_upstream_move_reaches_subscribers_within_two_refreshes(replay, daphne_server):  # noqa: F811
    await asyncio.to_thread(run_refreshes, *SOURCES, rounds=2)
    snapshot = snapshots.current_snapshot()
    token = next(t for t in snapshot.tokens.values() if len(t.sources) == len(SOURCES) and t.price_usd)
    mint, before = token.token_address, token.price_usd
    async with connect(f"{daphne_server.url}/ws/tokens/", origin=daphne_server.origin, max_size=None) as conn:
        assert orjson.loads(await conn.recv())["type"] == "welcome"
        await conn.send(orjson.dumps({"action": "subscribe", "tokens": [mint]}).decode())
        shown = orjson.loads(await conn.recv())
        assert shown["type"] == "snapshot"
        assert shown["tokens"][0]["price_usd"] == pytest.approx(before, rel=1e-9)  # 10 digits
        await asyncio.to_thread(replay.control, "POST", "move", {"mint": mint, "price_factor": 1.10})
        events: list[dict] = []
        for _ in range(2):  # two refresh rounds at most
            await asyncio.to_thread(run_refreshes, *SOURCES)
            while True:
                try:
                    events += await next_events(conn, timeout=1.0)
                except TimeoutError:
                    break
            if any(e["type"] == "token.price_change" for e in events):
                break
    updates = [e for e in events if e["type"] == "token.update" and "price_usd" in e["changes"]]
    alerts = [e for e in events if e["type"] == "token.price_change"]
    assert updates and all(e["token_address"] == mint for e in events)
    assert updates[0]["changes"]["price_usd"][0] == pytest.approx(before)
    # the reference is the price when the token was first seen (the merged price drifts a little
    # while the sources fill in); the alert reports the merged move, possibly partial at first
    assert len(alerts) == 1 and alerts[0]["reference_price_usd"] == pytest.approx(before, rel=0.01)
    assert 5.0 <= alerts[0]["change_pct"] <= 11.0
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs))
