"""Tests of realtime/relay.py: one channel-layer membership per process and group."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer

from realtime.relay import GroupRelay


class Member:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.got: list[dict] = []

    async def deliver(self, message: dict) -> None:
        if self.fail:
            raise RuntimeError("broken consumer")
        self.got.append(message)


@pytest.fixture
async def relays():
    """New relays for a test, stopped before its event loop closes."""
    made: list[GroupRelay] = []

    def make() -> GroupRelay:
        made.append(GroupRelay())
        return made[-1]

    yield make
    for relay in made:
        await relay.close()


async def wait_until(predicate, timeout=5.0):
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_members_get_group_messages_and_a_failing_one_harms_nobody(relays):
    relay = relays()
    good, bad, other = Member(), Member(fail=True), Member()
    await relay.join("tokens.all", bad)
    await relay.join("tokens.all", good)
    await relay.join("tokens.alerts", other)
    await get_channel_layer().group_send(
        "tokens.all", {"type": "stream.batch", "group": "tokens.all", "n": 1}
    )
    await wait_until(lambda: good.got)
    assert good.got == [{"type": "stream.batch", "group": "tokens.all", "n": 1}]
    assert other.got == []


class FastMember(Member):
    """Takes a message at once unless it says `slow`; those go through deliver()."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__(fail)
        self.at_once: list[dict] = []

    def try_deliver(self, message: dict) -> bool:
        if self.fail:
            raise RuntimeError("broken consumer")
        if message.get("slow"):
            return False
        self.at_once.append(message)
        return True


async def test_a_member_that_takes_a_message_at_once_is_not_awaited_and_a_failing_one_harms_nobody(relays):
    relay = relays()
    bad, fast, plain = FastMember(fail=True), FastMember(), Member()
    for member in (bad, fast, plain):
        await relay.join("tokens.all", member)
    quick = {"type": "stream.batch", "group": "tokens.all", "n": 1}
    slow = {"type": "stream.batch", "group": "tokens.all", "n": 2, "slow": True}
    await relay.fan_out(quick)
    await relay.fan_out(slow)
    assert fast.at_once == [quick] and fast.got == [slow]
    assert plain.got == [quick, slow]


async def test_the_process_joins_the_layer_group_once_and_leaves_with_the_last_member(monkeypatch, relays):
    layer = get_channel_layer()
    calls: list[tuple[str, str]] = []
    real_add, real_discard = layer.group_add, layer.group_discard

    async def add(group, channel):
        calls.append(("add", group))
        await real_add(group, channel)

    async def discard(group, channel):
        calls.append(("discard", group))
        await real_discard(group, channel)

    monkeypatch.setattr(layer, "group_add", add, raising=False)
    monkeypatch.setattr(layer, "group_discard", discard, raising=False)
    relay = relays()
    members = [Member() for _ in range(50)]
    await asyncio.gather(*(relay.join("token.X", m) for m in members))
    assert calls == [("add", "token.X")]
    for m in members[:-1]:
        relay.leave("token.X", m)
    await asyncio.sleep(0.05)
    assert calls == [("add", "token.X")]
    relay.leave("token.X", members[-1])
    await wait_until(lambda: len(calls) == 2)
    assert calls[-1] == ("discard", "token.X") and "token.X" not in relay.members


async def test_a_member_that_was_garbage_collected_drops_out(relays):
    import gc

    relay = relays()
    kept = Member()
    await relay.join("tokens.all", kept)
    await relay.join("tokens.all", Member())  # nothing else refers to it, like a dead consumer
    gc.collect()
    assert list(relay.members["tokens.all"]) == [kept]
    await relay.layer.group_send("tokens.all", {"type": "stream.batch", "group": "tokens.all"})
    await wait_until(lambda: kept.got)


async def test_after_a_receive_error_the_relay_rejoins_its_groups(monkeypatch, relays):
    """Redis restarted empty: group memberships are gone and the receive loop saw an error."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from tokens.infra.redis_clients import raw_redis

    relay = relays()
    member = Member()
    await relay.join("tokens.all", member)
    layer = relay.layer
    real_receive = layer.receive
    failures = [RedisConnectionError("Connection reset by peer")]

    async def receive(channel):
        if failures:
            await asyncio.sleep(0.05)
            raise failures.pop()
        return await real_receive(channel)

    monkeypatch.setattr(layer, "receive", receive, raising=False)
    monkeypatch.setattr("realtime.relay.RETRY_SECONDS", 0.05)
    await asyncio.to_thread(raw_redis().flushdb)  # the memberships are lost
    relay._spawn(relay._receive_loop())  # a loop that meets the failure
    await wait_until(lambda: not failures)
    await asyncio.sleep(0.3)  # rejoined
    await layer.group_send("tokens.all", {"type": "stream.batch", "group": "tokens.all", "n": 2})
    await wait_until(lambda: member.got)
    assert member.got[-1]["n"] == 2
