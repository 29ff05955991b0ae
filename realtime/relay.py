"""One channel-layer membership per process and group, fanned out to the process's consumers.

The channel layer delivers a group message once per process either way (RedisChannelLayer: one
Redis entry naming every local channel; RedisPubSubChannelLayer: one PUBLISH per group); what costs
is handing it to thousands of consumers through per-consumer queues, receive tasks and dispatch —
in bench/bench_ws.py that plumbing was most of the web process's CPU. So a process joins each
group once, with one relay channel and one receive loop, and calls its local members directly.
Members are held weakly, so a consumer that died without leaving drops out by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any, Protocol

from channels.layers import get_channel_layer

from tokens.infra.gc_tuning import raise_gen0_threshold

log = logging.getLogger(__name__)

# RedisChannelLayer forgets a group member after group_expiry (a day); re-join well before. The
# receive loop also re-joins after any receive error (e.g. Redis restarted without its data).
REJOIN_SECONDS = 3600.0
RETRY_SECONDS = 1.0
# Members served between two returns to the event loop (daphne writes queued frames meanwhile).
YIELD_EVERY = 100


class Member(Protocol):
    """A group member. It may also have `try_deliver(message) -> bool`: delivery done at once, with
    nothing awaited (False: the relay awaits deliver()), which spares a fan-out to thousands of
    members a coroutine per member."""

    async def deliver(self, message: dict[str, Any]) -> None: ...


class GroupRelay:
    """The relay of one event loop (one web process)."""

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.members: dict[str, weakref.WeakSet[Any]] = {}
        self._ready = asyncio.Lock()
        self._membership = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        """Stop the relay's loops (tests; a web process keeps its relay for its whole life)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    async def _ensure_channel(self) -> str:
        async with self._ready:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self._spawn(self._receive_loop())
                self._spawn(self._rejoin_loop())
            return self.channel

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def join(self, group: str, member: Member) -> None:
        """Add a member; returns once the process is in the channel-layer group."""
        channel = await self._ensure_channel()
        members = self.members.get(group)
        if members is None:
            async with self._membership:  # one add/discard at a time: they never cross
                members = self.members.get(group)
                if members is None:
                    await self.layer.group_add(group, channel)
                    members = self.members[group] = weakref.WeakSet()
        members.add(member)

    def leave(self, group: str, member: Member) -> None:
        """Forget a member; the last one out leaves the channel-layer group (in the background)."""
        members = self.members.get(group)
        if members is None:
            return
        members.discard(member)
        if not members and self.channel is not None:
            del self.members[group]
            self._spawn(self._discard(group, self.channel))

    async def _discard(self, group: str, channel: str) -> None:
        async with self._membership:
            if group in self.members:  # re-joined meanwhile
                return
            try:
                await self.layer.group_discard(group, channel)
            except Exception:
                log.warning("relay group_discard(%s) failed", group, exc_info=True)

    async def _receive_loop(self) -> None:
        assert self.channel is not None
        rejoin = False
        while True:
            try:
                if rejoin:  # Redis may have restarted empty: the groups forgot this process
                    await self._rejoin()
                    rejoin = False
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("relay receive failed; rejoining its groups and retrying", exc_info=True)
                rejoin = True
                await asyncio.sleep(RETRY_SECONDS)
                continue
            await self.fan_out(message)

    async def _rejoin(self) -> None:
        async with self._membership:
            for group in list(self.members):
                await self.layer.group_add(group, self.channel)

    async def fan_out(self, message: dict[str, Any]) -> None:
        members = self.members.get(message.get("group", ""))
        if not members:
            return
        for i, member in enumerate(list(members), 1):
            try:
                offer = getattr(member, "try_deliver", None)  # at once, nothing awaited: the common case
                if offer is None or not offer(message):
                    await member.deliver(message)
            except Exception:
                log.exception("delivery to a consumer failed")
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the server write out the frames queued so far

    async def _rejoin_loop(self) -> None:
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            with contextlib.suppress(Exception):
                await self._rejoin()


_relays: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, GroupRelay] = weakref.WeakKeyDictionary()


def group_relay() -> GroupRelay:
    """The relay of the running event loop."""
    loop = asyncio.get_running_loop()
    relay = _relays.get(loop)
    if relay is None:
        relay = _relays[loop] = GroupRelay()
        raise_gen0_threshold()  # also where the relay runs outside config.asgi (tests, benches)
    return relay


async def close_relay() -> None:
    """Stop and forget the running loop's relay (tests, before their event loop closes)."""
    relay = _relays.pop(asyncio.get_running_loop(), None)
    if relay is not None:
        await relay.close()
