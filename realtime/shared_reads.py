"""Reads shared by every caller of one event-loop tick: one Redis round trip for a storm of callers.

When thousands of clients connect and subscribe at once, each would make the same reads (the
current seq for its welcome and catch-up, the current snapshot, the log after the same mark) and
they queue for the pooled Redis connections: in bench/bench_ws_stack.py 5,000 subscribes took
minutes and some waited past the pool's timeout. A `SharedPerTick` read is started at the next
tick of the event loop after the first caller asked, and every caller that asked meanwhile gets
its result. It starts after each of them asked, so each gets a value read after its call, as
with a read of its own: the guarantees of the consumer (the groups joined before the snapshot is
read, the log read to its end after the snapshot's mark) hold for every caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class SharedPerTick(Generic[T]):
    """`await shared(*key)`: `fetch(*key)`, once per key and tick for all the callers of that tick."""

    def __init__(self, fetch: Callable[..., Awaitable[T]]) -> None:
        self.fetch = fetch
        self._asked: dict[tuple[asyncio.AbstractEventLoop, tuple[Hashable, ...]], asyncio.Future[T]] = {}
        self._running: set[asyncio.Task[None]] = set()

    async def __call__(self, *key: Hashable) -> T:
        loop = asyncio.get_running_loop()
        slot = (loop, key)
        result = self._asked.get(slot)
        if result is None:
            result = self._asked[slot] = loop.create_future()
            result.add_done_callback(_retrieve)  # no "exception never retrieved" if every caller left
            loop.call_soon(self._start, slot, result)
        return await asyncio.shield(result)  # a caller cancelled leaves the read to the others

    def _start(
        self, slot: tuple[asyncio.AbstractEventLoop, tuple[Hashable, ...]], result: asyncio.Future[T]
    ) -> None:
        del self._asked[slot]  # callers from now on share the next read
        task = asyncio.ensure_future(self._run(slot[1], result))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, key: tuple[Hashable, ...], result: asyncio.Future[T]) -> None:
        try:
            value = await self.fetch(*key)
        except asyncio.CancelledError:
            result.cancel()
            raise
        except Exception as exc:
            if not result.done():
                result.set_exception(exc)
        else:
            if not result.done():
                result.set_result(value)


def _retrieve(future: asyncio.Future[object]) -> None:
    if not future.cancelled():
        future.exception()
