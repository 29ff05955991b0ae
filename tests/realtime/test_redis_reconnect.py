"""The web process's asyncio Redis clients survive a Redis restart: the first command after it works.

A pooled connection opened before the restart is dead afterwards; the clients must notice and
reconnect instead of failing the first command (a WebSocket `resume` answered with an error frame).
"""

from __future__ import annotations

import asyncio

from realtime import eventlog
from tests.processes import free_port, start_redis
from tokens.asgi.admission import AdmissionBatcher
from tokens.infra import redis_clients


async def test_clients_reconnect_after_a_redis_restart(settings, tmp_path):
    port = free_port()
    redis_proc = start_redis(port, tmp_path)
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    await redis_clients.close_pooled_async_client()
    try:
        batcher = AdmissionBatcher(("current", "written"))
        client = redis_clients.pooled_async_client()
        await client.set("current", 7)
        assert await eventlog.current_seq() == 0
        assert await batcher.check("counter", 60) == ((7, None), 1)

        redis_proc.stop()
        redis_proc = start_redis(port, tmp_path)  # empty: it keeps nothing on disk

        assert await eventlog.current_seq() == 0
        assert await batcher.check("counter", 60) == ((None, None), 1)
        assert await asyncio.wait_for(client.ping(), 5)
    finally:
        await redis_clients.close_pooled_async_client()
        redis_proc.stop()
