"""A test WebSocket client of the `all` stream that behaves like a careful real one: it checks seq
continuity, asks `resume` on a gap, reconnects (subscribe + resume) when the server closes, and
records everything it saw."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake


@dataclass
class AllStream:
    url: str  # http://127.0.0.1:port of a web process
    last_seq: int | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)  # types of every frame received, in order
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (expected, got) seen live
    resyncs: list[int] = field(default_factory=list)
    reconnects: int = 0
    errors: list[str] = field(default_factory=list)
    closes: list[int | None] = field(default_factory=list)
    _conn: ClientConnection | None = None
    _task: asyncio.Task | None = None
    _resuming: bool = False

    async def start(self) -> None:
        await self._connect()
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()

    async def _connect(self) -> None:
        ws_url = self.url.replace("http://", "ws://") + "/ws/tokens/"
        self._conn = await connect(ws_url, origin=self.url, max_size=None, open_timeout=5)
        welcome = orjson.loads(await asyncio.wait_for(self._conn.recv(), 5))
        assert welcome["type"] == "welcome", welcome
        await self._send({"action": "subscribe", "all": True})
        if self.last_seq is not None:
            self._resuming = True
            await self._send({"action": "resume", "since": self.last_seq})

    async def _send(self, payload: dict[str, Any]) -> None:
        assert self._conn is not None
        await self._conn.send(orjson.dumps(payload).decode())

    async def _run(self) -> None:
        while True:
            try:
                assert self._conn is not None
                frame = orjson.loads(await self._conn.recv())
                resume_from = self._handle(frame)
                if resume_from is not None:
                    if frame["type"] == "error":
                        await asyncio.sleep(1.0)  # "Temporarily unavailable; retry."
                    await self._send({"action": "resume", "since": resume_from})
            except ConnectionClosed as closed:
                self.closes.append(closed.rcvd.code if closed.rcvd else None)
                await self._reconnect()
            except Exception as exc:  # recorded for the test's report, then the client goes on
                self.errors.append(repr(exc))

    async def _reconnect(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            try:
                await self._connect()
                self.reconnects += 1
                return
            except (OSError, InvalidHandshake, TimeoutError, ConnectionClosed, AssertionError):
                continue

    def _handle(self, frame: dict[str, Any]) -> int | None:
        """Record a frame; returns the seq to resume from when it revealed a gap."""
        self.frames.append(frame["type"])
        if frame["type"] == "resync_required":
            self.resyncs.append(frame["seq"])
            self.last_seq = frame["seq"]
            self._resuming = False
        elif frame["type"] == "error":
            self.errors.append(f"{frame['code']}: {frame['message']}")
            if frame["code"] == "unavailable" and self._resuming:
                return self.last_seq  # the resume failed on the server's side: ask again
        elif frame["type"] == "snapshot" and self.last_seq is None:
            self.last_seq = frame["seq"]
        elif frame["type"] == "batch":
            for event in frame["events"]:
                if self._event(event):
                    return self.last_seq
        return None

    def _event(self, event: dict[str, Any]) -> bool:
        """Take one event in seq order; True when it shows a gap (or a seq counter that went back)."""
        seq = event["seq"]
        if self.last_seq is None or seq == self.last_seq + 1:
            self.last_seq = seq
            self._resuming = False
            self.events.append({**event, "received_at": time.time()})
            return False
        if self._resuming:
            return False  # before the replay: its events arrive in order after this
        self.gaps.append((self.last_seq + 1, seq))
        self._resuming = True
        return True

    def seqs(self) -> list[int]:
        return [e["seq"] for e in self.events]

    async def wait_events(self, count: int, timeout: float) -> None:
        """Until `count` events (in total) have arrived in order."""
        async with asyncio.timeout(timeout):
            while len(self.events) < count:
                await asyncio.sleep(0.1)
