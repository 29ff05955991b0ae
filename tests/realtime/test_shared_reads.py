"""realtime/shared_reads.py: the callers of one tick share one read, started after the last of them."""

from __future__ import annotations

import asyncio

import pytest

from realtime.shared_reads import SharedPerTick

pytestmark = pytest.mark.pure


class Source:
    def __init__(self) -> None:
        self.value = 0
        self.reads: list[tuple] = []
        self.fail = False

    async def read(self, *key):
        self.reads.append(key)
        await asyncio.sleep(0)
        if self.fail:
            raise RuntimeError("redis down")
        return (self.value, key)


async def test_the_callers_of_one_tick_share_one_read_per_key():
    source = Source()
    shared = SharedPerTick(source.read)
    results = await asyncio.gather(shared(1), shared(1), shared(2), shared(1))
    assert source.reads == [(1,), (2,)]
    assert results == [(0, (1,)), (0, (1,)), (0, (2,)), (0, (1,))]


async def test_the_read_starts_after_every_caller_asked_and_a_later_caller_gets_a_new_one():
    source = Source()
    shared = SharedPerTick(source.read)
    first = asyncio.ensure_future(shared())
    source.value = 1  # changed after the first ask, before the read: the read sees it
    second = asyncio.ensure_future(shared())
    assert await first == await second == (1, ())
    source.value = 2
    assert await shared() == (2, ())
    assert len(source.reads) == 2


async def test_a_failed_read_fails_every_caller_and_the_next_read_is_tried_again():
    source = Source()
    source.fail = True
    shared = SharedPerTick(source.read)
    results = await asyncio.gather(shared(), shared(), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    source.fail = False
    assert await shared() == (0, ())


async def test_a_caller_cancelled_leaves_the_read_to_the_others():
    source = Source()
    shared = SharedPerTick(source.read)
    leaving = asyncio.ensure_future(shared())
    staying = asyncio.ensure_future(shared())
    await asyncio.sleep(0)
    leaving.cancel()
    assert await staying == (0, ())
    with pytest.raises(asyncio.CancelledError):
        await leaving
