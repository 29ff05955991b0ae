"""Redis stopped for 20 s under a running stack (its own redis-server, restarted empty): health says
why with 503, REST keeps serving the last snapshot (never a 500), and everything is live again within
30 s of Redis coming back — WebSocket clients included (resumed or told to resync)."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.ops.metrics_text import Scrape
from tests.ops.stack import new_stack
from tests.ops.stream import AllStream
from tests.processes import wait_for

pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 20.0
RECOVERY_SECONDS = 30.0


@pytest.fixture
def stack(replay, tmp_path):
    replay.control("POST", "motion", {"enabled": True})
    stack = new_stack(tmp_path, replay.urls())
    try:
        with ThreadPoolExecutor(3) as pool:
            jobs = [pool.submit(stack.add_web), pool.submit(stack.add_web), pool.submit(stack.add_worker)]
            for job in jobs:
                job.result()
        stack.start_beat()
        yield stack
    finally:
        stack.stop()


def _during_outage(stack, served_ids: dict[str, int]) -> None:
    """Poll every web process while Redis is down: 503 health naming Redis, REST from memory."""
    deadline = time.monotonic() + OUTAGE_SECONDS
    polls = 0
    while time.monotonic() < deadline:
        for web in stack.webs:
            health = web.get("/api/health/")
            assert health.status_code == 503, health.text
            assert any("Redis" in reason for reason in health.json()["reasons"]), health.json()
            tokens = web.get("/api/tokens/?limit=3")
            assert tokens.status_code == 200, tokens.text
            assert tokens.json()["meta"]["snapshot_id"] == served_ids[web.url]
            scrape = Scrape(web.get("/metrics").text)
            assert scrape.value("mds_redis_up") == 0
        polls += 1
        time.sleep(1.0)
    assert polls >= 5


async def test_redis_outage_and_recovery(stack):
    await asyncio.to_thread(
        wait_for, lambda: all(w.get("/api/health/").ok for w in stack.webs), 45, 0.5, "healthy"
    )
    client = AllStream(stack.webs[0].url)
    await client.start()
    try:
        await client.wait_events(1, timeout=20)
        served = {w.url: w.get("/api/tokens/?limit=3").json()["meta"]["snapshot_id"] for w in stack.webs}
        stack.redis_proc.stop()
        await asyncio.to_thread(_during_outage, stack, served)
        await asyncio.to_thread(stack.restart_redis)
        back_at = time.time()
        seen_before = len(client.events)

        state: dict[str, object] = {}

        def live_again() -> bool:
            state["health"] = [w.get("/api/health/").status_code for w in stack.webs]
            state["current"] = stack.current_id()
            state["events"] = (
                seen_before,
                len(client.events),
                client.frames[-5:],
                client.closes,
                client.resyncs,
                client.gaps,
                client.last_seq,
                client.errors[:3],
            )
            return state["health"] == [200, 200] and state["current"] and len(client.events) > seen_before

        try:
            await asyncio.to_thread(wait_for, live_again, RECOVERY_SECONDS, 0.5, "health, snapshots, events")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {state}") from None
        recovered_in = time.time() - back_at
    finally:
        await client.stop()
    assert recovered_in < RECOVERY_SECONDS
    new_ids = {w.get("/api/tokens/?limit=3").json()["meta"]["snapshot_id"] for w in stack.webs}
    assert min(new_ids) > max(served.values()), "snapshot ids keep increasing after Redis lost its data"
    # Redis came back empty: the seq counter restarted, so the client was told to resync (or, had
    # the log survived, its resume covered the gap) — never a silent gap.
    assert client.resyncs or not client.gaps
    assert all(p.alive() for p in [*stack.workers, stack.beat])
    # ~50 API requests per web process met a dead Redis; each warning family logs once per 30 s.
    for web in stack.webs:
        messages = [line.get("message", "") for line in stack.json_logs(web.proc)]
        down = [m for m in messages if "Redis unavailable" in m]
        assert 1 <= len(down) <= 4, down
        assert any("Redis answers" in m for m in messages), messages[-20:]
