"""Per-request admission for the ASGI response cache: current snapshot id + throttle count, batched.

It reads the current snapshot id (owned by tokens/store/snapshots.py) and increments throttle
counters only through tokens/asgi/throttle.py's `queue_increment`.

Every request needs two facts from Redis: the current ids (the snapshot, and the last snapshot
whose candles are stored; read after it arrived) and its count on the per-IP throttle counter.
Requests that arrive in the same event-loop tick share one pipelined round trip: one MGET of the
ids and one INCRBY per distinct counter, whose result
is split back so each request gets exactly the count it would have got alone. Under load this
turns N round trips into one without loosening either check; at low load it is one round trip
per request, as before.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import redis.asyncio as aioredis

from tokens.asgi.throttle import queue_increment
from tokens.infra.redis_clients import new_async_client


class AdmissionBatcher:
    """Collect (counter key) requests during one loop tick, answer them with one pipeline."""

    def __init__(self, id_keys: tuple[str, ...]) -> None:
        self.id_keys = id_keys
        self._pending: list[tuple[str | None, int, asyncio.Future]] = []
        self._scheduled = False
        self._redis: aioredis.Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task] = set()

    def _client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        if self._redis is None or self._loop is not loop:
            self._redis = new_async_client(
                socket_connect_timeout=1, socket_timeout=2, health_check_interval=10
            )
            self._loop = loop
            self._pending, self._scheduled = [], False
        return self._redis

    async def check(
        self, counter_key: str | None, duration: int = 0
    ) -> tuple[tuple[int | None, ...], int | None]:
        """(the ids of `id_keys`, this request's count on `counter_key` of a `duration`-second window).

        The count is None when no key is given (throttling off).
        """
        client = self._client()
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending.append((counter_key, duration, future))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush, client)
        return await future

    def _flush(self, client: aioredis.Redis) -> None:
        batch, self._pending, self._scheduled = self._pending, [], False
        task = asyncio.ensure_future(self._run(client, batch))
        self._tasks.add(task)  # keep a reference until done
        task.add_done_callback(self._tasks.discard)

    async def _run(self, client: aioredis.Redis, batch: list[tuple[str | None, int, asyncio.Future]]) -> None:
        totals = Counter(key for key, _, _ in batch if key is not None)
        durations = {key: duration for key, duration, _ in batch if key is not None}
        try:
            pipe = client.pipeline(transaction=False)
            pipe.mget(self.id_keys)
            for key, n in totals.items():
                queue_increment(pipe, key, n, durations[key])
            results = await pipe.execute()
        except Exception as exc:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        current = tuple(int(v) if v is not None else None for v in results[0])
        # The i-th request of a key in this batch gets (final count - batch share + i).
        next_count: dict[str, Any] = {}
        for i, key in enumerate(totals):
            next_count[key] = int(results[1 + 2 * i]) - totals[key] + 1
        for key, _, future in batch:
            if future.done():
                continue
            if key is None:
                future.set_result((current, None))
            else:
                future.set_result((current, next_count[key]))
                next_count[key] += 1
