"""Load clients of the soak (bench/soak.py), each run in its own process.

ws_clients: N WebSocket clients in one asyncio process, each subscribed to `all`. Every client
checks seq continuity: on a gap it sends `resume`, on a close it reconnects, subscribes and resumes
from its last seq, as the live page does. It reports per client the seqs it holds, its gaps,
reconnects and resyncs, and per batch the spread of arrival times over the clients.

rest_load: an open-loop, paced HTTP load (default 200 req/s) over keep-alive connections in
threads; latency is measured from each request's scheduled time, so a stall shows up in full.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import queue
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass
class ClientStats:
    first: int | None = None
    last: int | None = None
    received: int = 0
    gaps: int = 0
    reconnects: int = 0
    resyncs: int = 0
    closes: list[int | None] = field(default_factory=list)
    resuming: bool = False


class StreamClient:
    def __init__(self, url: str, stats: ClientStats, arrivals: dict[int, list[float]]) -> None:
        self.url, self.stats, self.arrivals = url, stats, arrivals
        self.conn: Any = None

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        ws_url = self.url.replace("http://", "ws://") + "/ws/tokens/"
        self.conn = await connect(ws_url, origin=self.url, max_size=None, open_timeout=30, ping_interval=None)
        await self.conn.recv()  # welcome
        await self.conn.send('{"action":"subscribe","all":true}')
        if self.stats.last is not None:
            self.stats.resuming = True
            await self.conn.send(orjson.dumps({"action": "resume", "since": self.stats.last}).decode())

    async def run(self, stop: asyncio.Event) -> None:
        from websockets.exceptions import ConnectionClosed

        while not stop.is_set():
            try:
                frame = orjson.loads(await self.conn.recv())
            except ConnectionClosed as closed:
                self.stats.closes.append(closed.rcvd.code if closed.rcvd else None)
                await self._reconnect(stop)
                continue
            resume = self.handle(frame, time.time())
            if resume is not None:
                await self.conn.send(orjson.dumps({"action": "resume", "since": resume}).decode())

    async def _reconnect(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(0.5 + random.random())
            with contextlib.suppress(Exception):
                await self.connect()
                self.stats.reconnects += 1
                return

    def handle(self, frame: dict[str, Any], now: float) -> int | None:
        st = self.stats
        if frame["type"] == "snapshot" and st.last is None:
            st.first = st.last = frame["seq"]
        elif frame["type"] == "resync_required":
            st.resyncs += 1
            st.last, st.resuming = frame["seq"], False
        elif frame["type"] == "batch" and frame["events"]:
            self.arrivals.setdefault(frame["events"][0]["seq"], []).append(now)
            for event in frame["events"]:
                seq = event["seq"]
                if st.last is None or seq == st.last + 1:
                    st.last, st.resuming = seq, False
                    st.received += 1
                elif seq > st.last + 1 and not st.resuming:
                    st.gaps += 1
                    st.resuming = True
                    return st.last
        return None


async def _ws_main(url: str, count: int, seconds: float, redis_url: str) -> dict[str, Any]:
    import redis.asyncio as aioredis

    stop = asyncio.Event()
    arrivals: dict[int, list[float]] = {}
    clients = [StreamClient(url, ClientStats(), arrivals) for _ in range(count)]
    for i in range(0, count, 50):  # connect in waves, as a crowd would
        await asyncio.gather(*(c.connect() for c in clients[i : i + 50]))
    tasks = [asyncio.ensure_future(c.run(stop)) for c in clients]
    await asyncio.sleep(seconds)
    # Every client must reach the newest seq (refreshes have stopped by now): nothing lost.
    head = int(await aioredis.Redis.from_url(redis_url).get("mds:1:events:seq") or 0)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any((c.stats.last or 0) < head for c in clients):
        await asyncio.sleep(0.2)
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for c in clients:
        with contextlib.suppress(Exception):
            await c.conn.close()
    spreads = [max(t) - min(t) for t in arrivals.values() if len(t) >= count // 2]
    stats = [c.stats for c in clients]
    return {
        "head": head,
        "clients": count,
        "behind_head": sum((s.last or 0) < head for s in stats),
        "events_received": sum(s.received for s in stats),
        "events_expected": sum(head - (s.first or 0) for s in stats),
        "gaps_resumed": sum(s.gaps for s in stats),
        "reconnects": sum(s.reconnects for s in stats),
        "resyncs": sum(s.resyncs for s in stats),
        "close_codes": sorted({code for s in stats for code in s.closes}, key=str),
        "batch_spread_s": spreads,
    }


def ws_clients(url: str, count: int, seconds: float, redis_url: str, out: Any) -> None:
    """Process entry: run the clients for `seconds`, then send the report through `out` (a Pipe)."""
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    out.send(asyncio.run(_ws_main(url, count, seconds, redis_url)))


def _paths(url: str) -> list[str]:
    """The request mix: first pages, sorted/filtered lists, token details, health."""
    host = url.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=10)
    conn.request("GET", "/api/tokens/?limit=200")
    mints = [t["token_address"] for t in orjson.loads(conn.getresponse().read())["results"]]
    conn.close()
    lists = [
        "/api/tokens/?limit=50",
        "/api/tokens/?timeframe=1h&ordering=-price_change&limit=50",
        "/api/tokens/?timeframe=5m&ordering=-txns&min_liquidity=10000&protocol=raydium,pumpswap",
        "/api/tokens/?q=frog",
    ]
    return lists * 6 + [f"/api/tokens/{m}/" for m in mints[:40]] + ["/api/health/"]


def rest_load(url: str, rate: float, seconds: float, out: Any, threads: int = 16) -> None:
    """Process entry: `rate` requests/s for `seconds`; sends {latencies_ms, statuses, errors}."""
    paths = _paths(url)
    host = url.removeprefix("http://")
    jobs: queue.Queue = queue.Queue()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection(host, timeout=10)
        while (job := jobs.get()) is not None:
            scheduled, path = job
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                status = str(response.status)
            except Exception as exc:
                status = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection(host, timeout=10)
            with lock:
                latencies.append((time.monotonic() - scheduled) * 1000)
                statuses[status] = statuses.get(status, 0) + 1

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    start = time.monotonic()
    rng = random.Random(7)
    for i in range(int(rate * seconds)):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        jobs.put((due, rng.choice(paths)))
    for _ in pool:
        jobs.put(None)
    for t in pool:
        t.join(30)
    out.send({"latencies_ms": latencies, "statuses": statuses, "seconds": time.monotonic() - start})
